//! The harness of the operator-surface tests: a real `coffer` server process (S3 and admin
//! listeners on ephemeral ports, a temporary data directory, a known operator API key), and
//! clients for its management API, its S3 listener and its metrics.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use aws_sdk_s3::Client;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use serde_json::Value;

/// Root S3 credentials every test server starts with.
pub const ACCESS_KEY: &str = "AKIACOFFERADMINROOT1";
/// Secret of [`ACCESS_KEY`].
pub const SECRET_KEY: &str = "coffer-admin-test-secret-0123456789";
/// The operator API key every test server starts with.
pub const OPERATOR_KEY: &str = "coffer-test-operator-key-0123456789abcdef";

/// A running server; killed when dropped.
pub struct TestServer {
    child: Child,
    /// `http://127.0.0.1:PORT` of the S3 listener.
    pub s3: String,
    /// `http://127.0.0.1:PORT` of the admin listener.
    pub admin: String,
    data_dir: tempfile::TempDir,
}

impl TestServer {
    /// Starts a server on a fresh data directory.
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// Starts a server with extra `coffer server` flags.
    pub fn start_with(extra: &[&str]) -> Self {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let (child, s3, admin) = spawn(data_dir.path(), extra);
        Self {
            child,
            s3,
            admin,
            data_dir,
        }
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        self.data_dir.path()
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits (at most `timeout`) for the process to exit; its exit code.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// The management API as the operator.
    pub fn operator(&self) -> Api {
        Api::new(&self.admin, OPERATOR_KEY)
    }

    /// An S3 client signed with `key`/`secret`.
    pub fn s3_client(&self, key: &str, secret: &str) -> Client {
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(&self.s3)
            .credentials_provider(Credentials::new(key, secret, None, None, "test"))
            .force_path_style(true)
            .build();
        Client::from_conf(config)
    }

    /// The text of `/metrics`.
    pub async fn metrics(&self) -> String {
        let response = reqwest::get(format!("{}/metrics", self.admin))
            .await
            .expect("scrape /metrics");
        assert_eq!(response.status(), 200);
        response.text().await.expect("metrics text")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(data_dir: &Path, extra: &[&str]) -> (Child, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_coffer"))
        .arg("server")
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--address", "127.0.0.1:0"])
        .args(extra)
        .env("COFFER_ROOT_ACCESS_KEY", ACCESS_KEY)
        .env("COFFER_ROOT_SECRET_KEY", SECRET_KEY)
        .env("COFFER_OPERATOR_API_KEY", OPERATOR_KEY)
        .env("COFFER_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the coffer binary");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut admin = None;
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(endpoint) = line.strip_prefix("Admin endpoint: ") {
                admin = Some(endpoint.to_owned());
            }
            if let Some(endpoint) = line.strip_prefix("S3 endpoint: ") {
                let _ = tx.send((endpoint.to_owned(), admin.clone().unwrap_or_default()));
            }
        }
    });
    let (s3, admin) = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the server announces its endpoints within 30 s");
    (child, s3, admin)
}

/// An answer of the management API.
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The JSON body (`Null` when not JSON).
    pub body: Value,
    /// The `x-request-id` header.
    pub request_id: String,
}

impl Answer {
    /// Asserts the status and returns the body.
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(self.status, status, "unexpected answer: {:?}", self.body);
        self.body
    }

    /// Asserts an error answer of `status` and `code`, shaped `{code, message, request_id}`.
    #[track_caller]
    pub fn expect_error(self, status: u16, code: &str) -> Value {
        assert_eq!(self.status, status, "unexpected answer: {:?}", self.body);
        assert_eq!(self.body["code"], code, "{:?}", self.body);
        assert!(self.body["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert_eq!(self.body["request_id"], self.request_id.as_str());
        self.body
    }
}

/// The management API with one API key.
#[derive(Clone)]
pub struct Api {
    base: String,
    key: Option<String>,
    client: reqwest::Client,
}

impl Api {
    /// `base` is the admin listener's URL.
    pub fn new(base: &str, key: &str) -> Self {
        Self {
            base: base.to_owned(),
            key: Some(key.to_owned()),
            client: reqwest::Client::new(),
        }
    }

    /// Without any key.
    pub fn anonymous(base: &str) -> Self {
        Self {
            base: base.to_owned(),
            key: None,
            client: reqwest::Client::new(),
        }
    }

    /// Sends a request (`path` under the admin listener, already encoded).
    pub async fn send(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        let mut request = self.client.request(
            reqwest::Method::from_bytes(method.as_bytes()).expect("method"),
            format!("{}{path}", self.base),
        );
        if let Some(key) = &self.key {
            request = request.bearer_auth(key);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("send a management request");
        let status = response.status().as_u16();
        let request_id = response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = response.text().await.unwrap_or_default();
        Answer {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
            request_id,
        }
    }

    /// GET.
    pub async fn get(&self, path: &str) -> Answer {
        self.send("GET", path, None).await
    }

    /// POST with a JSON body.
    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.send("POST", path, Some(body)).await
    }

    /// PATCH with a JSON body.
    pub async fn patch(&self, path: &str, body: Value) -> Answer {
        self.send("PATCH", path, Some(body)).await
    }

    /// DELETE.
    pub async fn delete(&self, path: &str) -> Answer {
        self.send("DELETE", path, None).await
    }

    /// Creates an account; its id.
    pub async fn account(&self, name: &str) -> String {
        let body = self
            .post("/api/v1/accounts", serde_json::json!({ "name": name }))
            .await
            .expect(201);
        body["id"].as_str().expect("account id").to_owned()
    }

    /// Creates a credential for `account`; (numeric id, access key, secret).
    pub async fn credential(&self, account: &str, extra: Value) -> (i64, String, String) {
        let mut body = serde_json::json!({ "account_id": account });
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        let created = self.post("/api/v1/credentials", body).await.expect(201);
        (
            created["id"].as_i64().expect("credential id"),
            created["access_key"]
                .as_str()
                .expect("access key")
                .to_owned(),
            created["secret_key"].as_str().expect("secret").to_owned(),
        )
    }

    /// Creates an account API key; the key.
    pub async fn account_key(&self, account: &str) -> String {
        let created = self
            .post(
                "/api/v1/api-keys",
                serde_json::json!({ "name": "test", "account_id": account }),
            )
            .await
            .expect(201);
        created["key"].as_str().expect("key").to_owned()
    }
}

/// The value of one sample line of a Prometheus exposition, as an integer (0 when absent).
pub fn sample(metrics: &str, series: &str) -> u64 {
    metrics
        .lines()
        .find_map(|line| {
            line.strip_prefix(series)
                .and_then(|rest| rest.strip_prefix(' '))
                .and_then(|v| v.trim().parse::<f64>().ok())
        })
        .map_or(0, |v| v as u64)
}
