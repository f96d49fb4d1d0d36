//! TLS on both listeners with a generated CA: S3 clients trusting the CA work, plain HTTP is
//! refused when HTTPS is required, and a replaced certificate is served after SIGHUP.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::primitives::ByteStream;
use aws_smithy_http_client::tls;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, ServerName};

use crate::harness::{ACCESS_KEY, SECRET_KEY, TestServer};

/// A CA (its PEM) and a certificate it issued for 127.0.0.1, written to `dir`.
fn issue(dir: &Path, name: &str) -> String {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, format!("Coffer test CA {name}"));
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let params =
        CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    let cert = params.signed_by(&key, &ca).unwrap();
    // Written to temporary names and renamed, as a certificate manager does.
    std::fs::write(dir.join("cert.pem.tmp"), cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem.tmp"), key.serialize_pem()).unwrap();
    std::fs::rename(dir.join("key.pem.tmp"), dir.join("key.pem")).unwrap();
    std::fs::rename(dir.join("cert.pem.tmp"), dir.join("cert.pem")).unwrap();
    ca.pem()
}

fn s3_client(endpoint: &str, ca_pem: &str) -> aws_sdk_s3::Client {
    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::AwsLc,
        ))
        .tls_context(
            tls::TlsContext::builder()
                .with_trust_store(tls::TrustStore::empty().with_pem_certificate(ca_pem.as_bytes()))
                .build()
                .unwrap(),
        )
        .build_https();
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "t"))
        .force_path_style(true)
        .http_client(http_client)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// Whether a TLS handshake with `address` succeeds trusting only `ca_pem`.
async fn handshake_trusting(address: &str, ca_pem: &str) -> bool {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let Ok(stream) = tokio::net::TcpStream::connect(address).await else {
        return false;
    };
    let name = ServerName::try_from("127.0.0.1").unwrap();
    connector.connect(name, stream).await.is_ok()
}

/// A plain HTTP/1.1 GET over TCP; the raw answer.
async fn plain_get(address: &str, path: &str) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer).await;
    answer
}

fn host_port(url: &str) -> &str {
    url.split("://").nth(1).unwrap()
}

#[tokio::test]
async fn tls_required_serves_trusting_clients_refuses_plain_and_reloads() {
    let dir = tempfile::tempdir().unwrap();
    let ca = issue(dir.path(), "one");
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    let server = TestServer::start_with(&[
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
        "--require-https",
        "true",
    ]);
    assert!(server.s3.starts_with("https://"), "{}", server.s3);
    assert!(server.admin.starts_with("https://"), "{}", server.admin);

    let s3 = s3_client(&server.s3, &ca);
    s3.create_bucket().bucket("secure").send().await.unwrap();
    s3.put_object()
        .bucket("secure")
        .key("k")
        .body(ByteStream::from_static(b"over tls"))
        .send()
        .await
        .unwrap();
    let got = s3
        .get_object()
        .bucket("secure")
        .key("k")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        b"over tls"
    );
    // A client without the CA does not get in.
    let stranger = s3_client(
        &server.s3,
        &issue(tempfile::tempdir().unwrap().path(), "stranger"),
    );
    assert!(stranger.list_buckets().send().await.is_err());

    let answer = plain_get(host_port(&server.s3), "/").await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("HTTPS required"), "{answer}");
    let answer = plain_get(host_port(&server.admin), "/health/live").await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("\"HttpsRequired\""), "{answer}");
    assert!(handshake_trusting(host_port(&server.admin), &ca).await);

    // A new certificate from another CA, then SIGHUP: served without a restart.
    let new_ca = issue(dir.path(), "two");
    let status = std::process::Command::new("kill")
        .args(["-HUP", &server.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if handshake_trusting(host_port(&server.s3), &new_ca).await {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the new certificate was not served"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!handshake_trusting(host_port(&server.s3), &ca).await);
    let s3 = s3_client(&server.s3, &new_ca);
    s3.head_bucket().bucket("secure").send().await.unwrap();
}

#[tokio::test]
async fn tls_without_requirement_also_serves_plain_http_on_the_same_port() {
    let dir = tempfile::tempdir().unwrap();
    let ca = issue(dir.path(), "one");
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    let server = TestServer::start_with(&[
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ]);
    let answer = plain_get(host_port(&server.admin), "/health/live").await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let plain_s3 = server.s3_client(ACCESS_KEY, SECRET_KEY);
    let plain_s3 = {
        let endpoint = server.s3.replace("https://", "http://");
        let config = plain_s3
            .config()
            .to_builder()
            .endpoint_url(endpoint)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    };
    plain_s3.list_buckets().send().await.unwrap();
    s3_client(&server.s3, &ca)
        .list_buckets()
        .send()
        .await
        .unwrap();
}
