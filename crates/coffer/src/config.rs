//! Server configuration: one typed struct, from defaults, a TOML file, environment variables
//! and flags (later sources win: flag > environment > file > default).

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

/// Flags of `coffer server`. Each may also come from its environment variable.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServerArgs {
    /// TOML configuration file (keys as in the README's table).
    #[arg(long, env = "COFFER_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address of the S3 listener [default: 127.0.0.1:9000].
    #[arg(long, env = "COFFER_ADDRESS")]
    pub address: Option<SocketAddr>,
    /// Address of the admin listener: management API, metrics, health [default:
    /// 127.0.0.1:9001; an ephemeral port when the S3 address has port 0].
    #[arg(long, env = "COFFER_ADMIN_ADDRESS")]
    pub admin_address: Option<SocketAddr>,
    /// Base URL clients use to reach the S3 listener, for presigned URLs [default: the S3
    /// listener's own address].
    #[arg(long, env = "COFFER_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// PEM certificate chain: serve TLS on both listeners (with --tls-key). Reloaded on SIGHUP
    /// and when the file changes.
    #[arg(long, env = "COFFER_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, env = "COFFER_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// With TLS configured, refuse plain HTTP ("HTTPS required") instead of serving it on the
    /// same port [default: false].
    #[arg(long, env = "COFFER_REQUIRE_HTTPS")]
    pub require_https: Option<bool>,
    /// Data directory for metadata and blobs [default: ./data].
    #[arg(long, env = "COFFER_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Region the server answers for [default: us-east-1].
    #[arg(long, env = "COFFER_REGION")]
    pub region: Option<String>,
    /// Base domains for virtual-host-style requests, comma separated (e.g. s3.example.com).
    #[arg(long, env = "COFFER_DOMAINS", value_delimiter = ',')]
    pub domains: Option<Vec<String>>,
    /// Accept SigV2-signed requests from legacy clients [default: false].
    #[arg(long, env = "COFFER_ACCEPT_SIGV2")]
    pub accept_sigv2: Option<bool>,
    /// Longest `/`-separated key segment in bytes (unset: no segment limit).
    #[arg(long, env = "COFFER_MAX_KEY_SEGMENT_BYTES")]
    pub max_key_segment_bytes: Option<usize>,
    /// Objects up to this many bytes are stored inline in metadata [default: 65536].
    #[arg(long, env = "COFFER_INLINE_THRESHOLD")]
    pub inline_threshold: Option<usize>,
    /// Seconds a client may take to send request headers [default: 30].
    #[arg(long, env = "COFFER_HEADER_TIMEOUT_SECS")]
    pub header_timeout_secs: Option<u64>,
    /// Seconds a request body may stall between chunks [default: 60].
    #[arg(long, env = "COFFER_BODY_IDLE_TIMEOUT_SECS")]
    pub body_idle_timeout_secs: Option<u64>,
    /// Most client connections served at once; more wait to be accepted [default: 4096].
    #[arg(long, env = "COFFER_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Log filter, `tracing` syntax [default: info].
    #[arg(long, env = "COFFER_LOG")]
    pub log: Option<String>,
    /// Log format: text or json [default: text].
    #[arg(long, env = "COFFER_LOG_FORMAT")]
    pub log_format: Option<String>,
}

/// The same settings as read from a TOML file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    address: Option<SocketAddr>,
    admin_address: Option<SocketAddr>,
    public_url: Option<String>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    require_https: Option<bool>,
    data_dir: Option<PathBuf>,
    region: Option<String>,
    domains: Option<Vec<String>>,
    accept_sigv2: Option<bool>,
    max_key_segment_bytes: Option<usize>,
    inline_threshold: Option<usize>,
    header_timeout_secs: Option<u64>,
    body_idle_timeout_secs: Option<u64>,
    max_connections: Option<usize>,
    log: Option<String>,
    log_format: Option<String>,
}

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// S3 listener address.
    pub address: SocketAddr,
    /// Admin listener address.
    pub admin_address: SocketAddr,
    /// Base URL of the S3 listener for presigned URLs (`None`: derived from the bound address).
    pub public_url: Option<String>,
    /// Certificate and key files when TLS is on.
    pub tls: Option<TlsFiles>,
    /// Refuse plain HTTP when TLS is on.
    pub require_https: bool,
    /// Data directory.
    pub data_dir: PathBuf,
    /// Region.
    pub region: String,
    /// Virtual-host base domains.
    pub domains: Vec<String>,
    /// Accept SigV2.
    pub accept_sigv2: bool,
    /// Per-segment key limit.
    pub max_key_segment_bytes: Option<usize>,
    /// Inline threshold in bytes.
    pub inline_threshold: usize,
    /// Header read timeout in seconds.
    pub header_timeout_secs: u64,
    /// Body idle timeout in seconds.
    pub body_idle_timeout_secs: u64,
    /// Connection cap.
    pub max_connections: usize,
    /// Log filter.
    pub log: String,
    /// Log as JSON lines.
    pub log_json: bool,
}

/// The certificate chain and private key of the TLS listeners (PEM files).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// Certificate chain, leaf first.
    pub cert: PathBuf,
    /// Private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

impl Config {
    /// Resolves flags and environment (already merged by clap) over the file over defaults.
    pub fn load(args: ServerArgs) -> Result<Self, String> {
        let file = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                toml::from_str::<FileConfig>(&text)
                    .map_err(|e| format!("invalid {}: {e}", path.display()))?
            }
            None => FileConfig::default(),
        };
        let log_format = args
            .log_format
            .or(file.log_format)
            .unwrap_or_else(|| "text".to_owned());
        if log_format != "text" && log_format != "json" {
            return Err(format!("log format must be text or json, not {log_format}"));
        }
        let default_address: SocketAddr = ([127, 0, 0, 1], 9000).into();
        let address = args.address.or(file.address).unwrap_or(default_address);
        // Side-by-side servers (tests) ask for an ephemeral S3 port; the admin port follows.
        let default_admin: SocketAddr = if address.port() == 0 {
            ([127, 0, 0, 1], 0).into()
        } else {
            ([127, 0, 0, 1], 9001).into()
        };
        let tls = match (
            args.tls_cert.or(file.tls_cert),
            args.tls_key.or(file.tls_key),
        ) {
            (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
            (None, None) => None,
            _ => return Err("--tls-cert and --tls-key must be given together".to_owned()),
        };
        let require_https = args.require_https.or(file.require_https).unwrap_or(false);
        if require_https && tls.is_none() {
            return Err("--require-https needs --tls-cert and --tls-key".to_owned());
        }
        let public_url = args.public_url.or(file.public_url);
        if let Some(url) = &public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(format!(
                "public URL must start with http:// or https://, not {url}"
            ));
        }
        Ok(Self {
            address,
            admin_address: args
                .admin_address
                .or(file.admin_address)
                .unwrap_or(default_admin),
            public_url,
            tls,
            require_https,
            data_dir: args
                .data_dir
                .or(file.data_dir)
                .unwrap_or_else(|| PathBuf::from("data")),
            region: args
                .region
                .or(file.region)
                .unwrap_or_else(|| "us-east-1".to_owned()),
            domains: args.domains.or(file.domains).unwrap_or_default(),
            accept_sigv2: args.accept_sigv2.or(file.accept_sigv2).unwrap_or(false),
            max_key_segment_bytes: args.max_key_segment_bytes.or(file.max_key_segment_bytes),
            inline_threshold: args
                .inline_threshold
                .or(file.inline_threshold)
                .unwrap_or(64 * 1024),
            header_timeout_secs: args
                .header_timeout_secs
                .or(file.header_timeout_secs)
                .unwrap_or(30),
            body_idle_timeout_secs: args
                .body_idle_timeout_secs
                .or(file.body_idle_timeout_secs)
                .unwrap_or(60),
            max_connections: args
                .max_connections
                .or(file.max_connections)
                .unwrap_or(4096)
                .max(1),
            log: args.log.or(file.log).unwrap_or_else(|| "info".to_owned()),
            log_json: log_format == "json",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> ServerArgs {
        ServerArgs::default()
    }

    #[test]
    fn admin_address_follows_an_ephemeral_s3_port_and_tls_needs_both_files() {
        let config = Config::load(args()).unwrap();
        assert_eq!(config.admin_address, ([127, 0, 0, 1], 9001).into());
        assert!(config.tls.is_none() && !config.require_https);

        let mut ephemeral = args();
        ephemeral.address = Some(([127, 0, 0, 1], 0).into());
        assert_eq!(Config::load(ephemeral).unwrap().admin_address.port(), 0);

        let mut explicit = args();
        explicit.address = Some(([127, 0, 0, 1], 0).into());
        explicit.admin_address = Some(([127, 0, 0, 1], 7000).into());
        assert_eq!(Config::load(explicit).unwrap().admin_address.port(), 7000);

        let mut half = args();
        half.tls_cert = Some("cert.pem".into());
        assert!(Config::load(half).is_err());
        let mut required = args();
        required.require_https = Some(true);
        assert!(
            Config::load(required).is_err(),
            "HTTPS required needs a certificate"
        );
        let mut bad_url = args();
        bad_url.public_url = Some("s3.example.com".into());
        assert!(Config::load(bad_url).is_err());
    }

    #[test]
    fn flags_win_over_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("coffer.toml");
        std::fs::write(
            &path,
            "admin_address = \"127.0.0.1:7001\"\ntls_cert = \"c.pem\"\ntls_key = \"k.pem\"\nrequire_https = true\n",
        )
        .unwrap();
        let mut from_file = args();
        from_file.config = Some(path.clone());
        let config = Config::load(from_file).unwrap();
        assert_eq!(config.admin_address.port(), 7001);
        assert!(config.require_https);
        assert_eq!(
            config.tls,
            Some(TlsFiles {
                cert: "c.pem".into(),
                key: "k.pem".into()
            })
        );
        let mut flagged = args();
        flagged.config = Some(path);
        flagged.admin_address = Some(([127, 0, 0, 1], 7002).into());
        flagged.require_https = Some(false);
        let config = Config::load(flagged).unwrap();
        assert_eq!(config.admin_address.port(), 7002);
        assert!(!config.require_https);
    }
}
