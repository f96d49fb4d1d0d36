//! `coffer admin`: the management API from the shell, as tables or JSON.

use std::process::{Command, Output};

use crate::harness::{OPERATOR_KEY, TestServer};

fn admin(server: &TestServer, key: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_coffer"))
        .arg("admin")
        .args(["--endpoint", &server.admin])
        .args(args)
        .env("COFFER_API_KEY", key)
        .output()
        .expect("run coffer admin")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "coffer admin failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn the_admin_cli_runs_an_account_from_creation_to_suspension() {
    let server = TestServer::start();
    let run = |args: &[&str]| admin(&server, OPERATOR_KEY, args);

    let created: serde_json::Value = serde_json::from_str(&stdout(&run(&[
        "--json", "account", "create", "acme", "--quota", "1000",
    ])))
    .unwrap();
    let account = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["quota_bytes"], 1000);

    let table = stdout(&run(&["account", "list"]));
    let header = table.lines().next().unwrap();
    assert!(
        header.starts_with("ID") && header.contains("STATUS"),
        "{table}"
    );
    assert!(
        table
            .lines()
            .any(|l| l.contains(&account) && l.contains("acme") && l.contains("active"))
    );

    stdout(&run(&[
        "bucket",
        "create",
        "cli-bucket",
        "--account",
        &account,
    ]));
    let key: serde_json::Value = serde_json::from_str(&stdout(&run(&[
        "--json",
        "key",
        "create",
        "--account",
        &account,
        "--bucket",
        "cli-bucket",
    ])))
    .unwrap();
    assert_eq!(key["bucket_binding"], serde_json::json!(["cli-bucket"]));
    let access_key = key["access_key"].as_str().unwrap();
    let presigned = stdout(&run(&[
        "presign",
        "create",
        "cli-bucket",
        "a.txt",
        "--access-key",
        access_key,
    ]));
    assert!(presigned.contains("X-Amz-Signature="), "{presigned}");

    let detail = stdout(&run(&["bucket", "get", "cli-bucket"]));
    assert!(
        detail
            .lines()
            .any(|l| l.starts_with("owner:") && l.ends_with("acme")),
        "{detail}"
    );
    let stats = stdout(&run(&["stats"]));
    assert!(
        stats
            .lines()
            .any(|l| l.starts_with("buckets:") && l.ends_with(" 1")),
        "{stats}"
    );

    let suspended = stdout(&run(&["account", "suspend", &account]));
    assert!(
        suspended
            .lines()
            .any(|l| l.starts_with("status:") && l.ends_with("suspended"))
    );
    stdout(&run(&["account", "resume", &account]));

    // Failures: the API's error on stderr and a failing exit code.
    let missing = run(&["bucket", "get", "no-such-bucket"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("NoSuchBucket"));
    let unauthorized = admin(&server, "wrong-key", &["stats"]);
    assert_eq!(unauthorized.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unauthorized.stderr).contains("Unauthorized"));
    let no_key = Command::new(env!("CARGO_BIN_EXE_coffer"))
        .args(["admin", "--endpoint", &server.admin, "stats"])
        .env_remove("COFFER_API_KEY")
        .output()
        .unwrap();
    assert_eq!(no_key.status.code(), Some(2));
}
