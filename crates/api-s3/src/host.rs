//! Virtual-host-style addressing: `bucket.<domain>` names the bucket, anything else is
//! path style.
//!
//! The port is ignored when matching and domains compare case-insensitively, so
//! `bucket.s3.example.com:9000` works with the domain `s3.example.com`. A host that is not
//! under a configured domain (an IP, `localhost`, a load balancer name) is path style: Coffer
//! does not treat arbitrary host names as bucket names.

use s3s::S3Result;
use s3s::host::{S3Host, VirtualHost};

/// The configured base domains.
#[derive(Debug, Clone)]
pub struct Domains {
    domains: Vec<String>,
}

impl Domains {
    /// Base domains, lower-cased, without ports.
    pub fn new(domains: &[String]) -> Self {
        Self {
            domains: domains
                .iter()
                .map(|d| strip_port(d.trim()).to_ascii_lowercase())
                .filter(|d| !d.is_empty())
                .collect(),
        }
    }

    /// The bucket a host names, if it is `<bucket>.<domain>` for a configured domain.
    pub fn bucket_of<'h>(&self, host: &'h str) -> Option<&'h str> {
        let host = strip_port(host);
        self.domains.iter().find_map(|domain| {
            let split = host.len().checked_sub(domain.len() + 1)?;
            let (bucket, rest) = host.split_at(split);
            let rest = rest.strip_prefix('.')?;
            (rest.eq_ignore_ascii_case(domain) && !bucket.is_empty()).then_some(bucket)
        })
    }
}

fn strip_port(host: &str) -> &str {
    // An IPv6 literal keeps its brackets; a port follows the last ':' after them.
    match host.rfind(':') {
        Some(i)
            if !host[i..].contains(']') && host[i + 1..].bytes().all(|b| b.is_ascii_digit()) =>
        {
            &host[..i]
        }
        _ => host,
    }
}

impl S3Host for Domains {
    fn parse_host_header<'a>(&'a self, host: &'a str) -> S3Result<VirtualHost<'a>> {
        Ok(match self.bucket_of(host) {
            Some(bucket) => VirtualHost::new(host).with_bucket(bucket),
            None => VirtualHost::new(host),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_found_under_configured_domains_only() {
        let d = Domains::new(&["S3.Example.com".to_owned(), "s3.local:9000".to_owned()]);
        assert_eq!(d.bucket_of("photos.s3.example.com"), Some("photos"));
        assert_eq!(d.bucket_of("photos.s3.example.com:9000"), Some("photos"));
        assert_eq!(
            d.bucket_of("my.dotted.bucket.s3.local"),
            Some("my.dotted.bucket")
        );
        assert_eq!(d.bucket_of("s3.example.com"), None);
        assert_eq!(d.bucket_of("s3.example.com:9000"), None);
        assert_eq!(d.bucket_of("localhost:9000"), None);
        assert_eq!(d.bucket_of("xs3.example.com"), None);
        assert_eq!(d.bucket_of("[::1]:9000"), None);
    }
}
