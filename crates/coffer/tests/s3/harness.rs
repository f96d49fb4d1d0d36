//! The shared test harness: a real `coffer` server process on an ephemeral port with a
//! temporary data directory, and real clients for it.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use aws_sdk_s3::Client;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::error::SdkError;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

/// Root credentials every test server starts with.
pub const ACCESS_KEY: &str = "AKIACOFFERTESTROOT01";
/// Secret of [`ACCESS_KEY`].
pub const SECRET_KEY: &str = "coffer-test-secret-key-0123456789abcdef";

/// The operator key of the management API of every test server.
pub const OPERATOR_KEY: &str = "coffer-s3-test-operator-key-0123456789";

/// A running server; killed when dropped.
pub struct TestServer {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub endpoint: String,
    /// `http://127.0.0.1:PORT` of the management API.
    pub admin: String,
    /// The data directory, removed when the server is dropped.
    data_dir_guard: tempfile::TempDir,
}

impl TestServer {
    /// Starts a server on a fresh data directory.
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// Starts a server with extra `coffer server` flags.
    pub fn start_with(extra: &[&str]) -> Self {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let (child, endpoint, admin) = spawn(data_dir.path(), extra);
        Self {
            child,
            endpoint,
            admin,
            data_dir_guard: data_dir,
        }
    }

    /// Calls the management API as the operator (`path` under `/api/v1`); the status, and
    /// panics unless it is 2xx.
    pub async fn manage(&self, method: &str, path: &str, body: Option<serde_json::Value>) {
        let mut request = reqwest::Client::new()
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).expect("method"),
                format!("{}/api/v1{path}", self.admin),
            )
            .bearer_auth(OPERATOR_KEY);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("send a management request");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert!(status.is_success(), "{method} {path}: {status} {text}");
    }

    /// An S3 client signed with the root key.
    pub fn client(&self) -> Client {
        client_for(&self.endpoint, ACCESS_KEY, SECRET_KEY, |b| b)
    }
}

impl TestServer {
    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        self.data_dir_guard.path()
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
        let mut admin = String::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(endpoint) = line.strip_prefix("Admin endpoint: ") {
                endpoint.clone_into(&mut admin);
            }
            if let Some(endpoint) = line.strip_prefix("S3 endpoint: ") {
                let _ = tx.send((endpoint.to_owned(), admin.clone()));
            }
        }
    });
    let (endpoint, admin) = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the server announces its endpoints within 30 s");
    (child, endpoint, admin)
}

/// An S3 client for `endpoint` with the given key (path style, us-east-1).
pub fn client_for(
    endpoint: &str,
    access_key: &str,
    secret_key: &str,
    customize: impl FnOnce(aws_sdk_s3::config::Builder) -> aws_sdk_s3::config::Builder,
) -> Client {
    let builder = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(access_key, secret_key, None, None, "test"))
        .force_path_style(true);
    Client::from_conf(customize(builder).build())
}

/// The S3 error code and HTTP status of a failed SDK call.
pub fn error_of<E>(err: &SdkError<E, HttpResponse>) -> (String, u16)
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::fmt::Debug,
{
    let status = err.raw_response().map_or(0, |r| r.status().as_u16());
    let code = match err {
        SdkError::ServiceError(e) => e.err().code().map(str::to_owned),
        _ => None,
    };
    (code.unwrap_or_else(|| format!("<{err:?}>")), status)
}

/// Deterministic pseudo-random bytes (xorshift), so payloads differ without a rand crate.
pub fn payload(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A fresh bucket name unique within the server.
pub fn bucket_name(tag: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!("{tag}-{}", N.fetch_add(1, Ordering::Relaxed))
}

/// A raw HTTP response.
#[derive(Debug)]
pub struct Raw {
    /// Status code.
    pub status: u16,
    /// Response headers.
    pub headers: reqwest::header::HeaderMap,
    /// Body as text.
    pub body: String,
}

impl Raw {
    /// The text of one XML element of the body (`<Code>` and the like).
    pub fn xml(&self, element: &str) -> Option<String> {
        let open = format!("<{element}>");
        let close = format!("</{element}>");
        let start = self.body.find(&open)? + open.len();
        let end = self.body[start..].find(&close)? + start;
        Some(self.body[start..end].to_owned())
    }
}

/// How to sign a raw request.
#[derive(Debug, Clone)]
pub struct Signing {
    /// Region of the credential scope.
    pub region: String,
    /// Signing time.
    pub time: std::time::SystemTime,
    /// Presign (query string) with this lifetime instead of an Authorization header.
    pub presign: Option<Duration>,
    /// Access key and secret.
    pub key: (String, String),
}

impl Default for Signing {
    fn default() -> Self {
        Self {
            region: "us-east-1".into(),
            time: std::time::SystemTime::now(),
            presign: None,
            key: (ACCESS_KEY.into(), SECRET_KEY.into()),
        }
    }
}

impl TestServer {
    /// Signs a request and returns its headers (the given ones plus the signature's) and
    /// the signature, without sending it. `payload` replaces the body hash in the signature
    /// (e.g. `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`).
    pub fn sign(
        &self,
        method: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        payload: Option<&str>,
        signing: &Signing,
    ) -> (String, Vec<(String, String)>, String) {
        use aws_sigv4::http_request::{
            PayloadChecksumKind, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
            sign,
        };
        let url = format!("{}{}", self.endpoint, path_and_query);
        let mut request = http::Request::builder().method(method).uri(&url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let mut request = request.body(()).expect("request");
        let identity =
            aws_credential_types::Credentials::new(&signing.key.0, &signing.key.1, None, None, "t")
                .into();
        let mut settings = SigningSettings::default();
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        let signable_body = match (signing.presign, payload) {
            (Some(expires), _) => {
                settings.signature_location = SignatureLocation::QueryParams;
                settings.expires_in = Some(expires);
                SignableBody::UnsignedPayload
            }
            (None, Some(hash)) => SignableBody::Precomputed(hash.to_owned()),
            (None, None) => SignableBody::Bytes(body),
        };
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region(&signing.region)
            .name("s3")
            .time(signing.time)
            .settings(settings)
            .build()
            .expect("signing params")
            .into();
        let header_pairs: Vec<(String, String)> = request
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    v.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let signable = SignableRequest::new(
            method,
            url,
            header_pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            signable_body,
        )
        .expect("signable request");
        let (instructions, signature) = sign(signable, &params).expect("sign").into_parts();
        instructions.apply_to_request_http1x(&mut request);
        let signed_headers = request
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    v.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let path = request
            .uri()
            .path_and_query()
            .map_or_else(|| "/".to_owned(), ToString::to_string);
        (path, signed_headers, signature)
    }

    /// Sends a request as given and returns what a client sees.
    pub async fn send(
        &self,
        method: &str,
        path_and_query: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
    ) -> Raw {
        let client = reqwest::Client::new();
        let mut builder = client.request(
            reqwest::Method::from_bytes(method.as_bytes()).expect("method"),
            format!("{}{}", self.endpoint, path_and_query),
        );
        for (name, value) in headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let response = builder.body(body).send().await.expect("send raw request");
        Raw {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.text().await.unwrap_or_default(),
        }
    }

    /// Sends a raw request (`path_and_query` already URL-encoded), signed when `signing` is
    /// given, and returns what a client sees.
    pub async fn raw(
        &self,
        method: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
        signing: Option<Signing>,
    ) -> Raw {
        let (path, headers) = match signing {
            Some(signing) => {
                let (path, headers, _) =
                    self.sign(method, path_and_query, headers, &body, None, &signing);
                (path, headers)
            }
            None => (
                path_and_query.to_owned(),
                headers
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            ),
        };
        self.send(method, &path, &headers, body).await
    }

    /// A signed GET returning (status, body).
    pub async fn raw_get(&self, path_and_query: &str) -> (u16, String) {
        let raw = self
            .raw(
                "GET",
                path_and_query,
                &[],
                Vec::new(),
                Some(Signing::default()),
            )
            .await;
        (raw.status, raw.body)
    }
}

/// Tenancy set-up through the metadata store's own interface (the management API will do
/// this for operators); the server sees each change on its next request.
pub mod tenancy {
    use coffer_core::AccountId;
    use coffer_meta::{
        AccessKey, Account, AccountStatus, ManagedPolicy, MetaStore, Principal, SqliteMeta, User,
    };

    use super::TestServer;

    /// A key's credentials.
    #[derive(Debug, Clone)]
    pub struct Key {
        /// Access key id.
        pub id: String,
        /// Secret.
        pub secret: String,
    }

    impl TestServer {
        /// The server's metadata store, opened beside it.
        pub fn meta(&self) -> SqliteMeta {
            SqliteMeta::open(&self.data_dir().join("meta.sqlite")).expect("open metadata")
        }
    }

    /// Creates account number `n` with a root key.
    pub async fn account(meta: &SqliteMeta, n: u64) -> (AccountId, Key) {
        let id = AccountId::from_number(n).unwrap();
        meta.create_account(Account {
            id: id.clone(),
            name: format!("account-{n}"),
            status: AccountStatus::Active,
            quota_bytes: None,
            bucket_limit: 100,
            created_at: 0,
        })
        .await
        .unwrap();
        let key = access_key(meta, &id, None, None, &format!("R{n}")).await;
        (id, key)
    }

    /// Creates a key for the account root (`user` `None`) or a user, optionally bound.
    pub async fn access_key(
        meta: &SqliteMeta,
        account: &AccountId,
        user: Option<&str>,
        binding: Option<Vec<String>>,
        tag: &str,
    ) -> Key {
        let id = format!("AKIATEST{:0>12}", tag.to_ascii_uppercase());
        let secret = format!("secret-for-{tag}-0123456789");
        meta.create_access_key(AccessKey {
            id: 0,
            access_key_id: id.clone(),
            secret_key: secret.clone(),
            account_id: account.clone(),
            user_name: user.map(str::to_owned),
            active: true,
            bucket_binding: binding,
            created_at: 0,
            last_used_at: None,
        })
        .await
        .unwrap();
        Key { id, secret }
    }

    /// Creates a user with the given policies attached (AWS managed names or JSON documents).
    pub async fn user(meta: &SqliteMeta, account: &AccountId, name: &str, policies: &[&str]) {
        meta.create_user(User {
            account_id: account.clone(),
            user_name: name.to_owned(),
            user_id: format!("AIDA{}", name.to_ascii_uppercase()),
            path: "/".into(),
            created_at: 0,
        })
        .await
        .unwrap();
        for (i, policy) in policies.iter().enumerate() {
            let arn = if policy.starts_with('{') {
                let managed = ManagedPolicy {
                    account_id: account.clone(),
                    policy_name: format!("{name}-policy-{i}"),
                    policy_id: format!("ANPA{}{i}", name.to_ascii_uppercase()),
                    path: "/".into(),
                    description: None,
                    document: (*policy).to_owned(),
                    created_at: 0,
                    updated_at: 0,
                };
                let arn = managed.arn();
                meta.create_policy(managed).await.unwrap();
                arn
            } else {
                format!("arn:aws:iam::aws:policy/{policy}")
            };
            meta.attach_policy(account, Principal::User, name, &arn)
                .await
                .unwrap();
        }
    }
}
