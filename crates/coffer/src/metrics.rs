//! Prometheus metrics: S3 requests by operation and status, latency histograms, bytes in and
//! out (from the S3 listener's request records), connections per listener, management API
//! requests, and, read at scrape time, storage per account from the metadata usage counters.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use coffer_api_s3::http::{RequestObserver, RequestRecord};

/// Upper bounds of the latency histogram buckets, in seconds.
const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The listeners connections are counted for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenerKind {
    /// The S3 listener.
    S3,
    /// The admin listener.
    Admin,
}

impl ListenerKind {
    fn index(self) -> usize {
        match self {
            Self::S3 => 0,
            Self::Admin => 1,
        }
    }
}

#[derive(Debug, Default)]
struct OperationStats {
    by_status: BTreeMap<u16, u64>,
    buckets: [u64; LATENCY_BUCKETS.len()],
    count: u64,
    seconds: f64,
    bytes_in: u64,
    bytes_out: u64,
}

/// One account's figures for a scrape.
#[derive(Debug, Clone)]
pub struct AccountSample {
    /// 15-digit id.
    pub id: String,
    /// State (`active`, `suspended`, `migrating`).
    pub status: &'static str,
    /// Bytes stored.
    pub bytes: i64,
    /// Object versions stored.
    pub objects: i64,
    /// Quota, when set.
    pub quota_bytes: Option<u64>,
}

/// Every counter the process keeps.
#[derive(Debug, Default)]
pub struct Metrics {
    operations: Mutex<BTreeMap<String, OperationStats>>,
    admin_requests: Mutex<BTreeMap<u16, u64>>,
    open_connections: [AtomicI64; 2],
    connections_total: [AtomicU64; 2],
}

impl RequestObserver for Metrics {
    fn record(&self, record: &RequestRecord<'_>) {
        let Ok(mut operations) = self.operations.lock() else {
            return;
        };
        // The name is allocated once per operation, not once per request.
        if !operations.contains_key(record.operation) {
            operations.insert(record.operation.to_owned(), OperationStats::default());
        }
        let Some(stats) = operations.get_mut(record.operation) else {
            return;
        };
        *stats.by_status.entry(record.status).or_default() += 1;
        let seconds = record.elapsed.as_secs_f64();
        for (bucket, bound) in stats.buckets.iter_mut().zip(LATENCY_BUCKETS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
        stats.count += 1;
        stats.seconds += seconds;
        stats.bytes_in += record.bytes_in;
        stats.bytes_out += record.bytes_out;
    }
}

/// Counts a connection while it is open.
pub struct ConnectionGuard {
    metrics: Arc<Metrics>,
    kind: ListenerKind,
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.metrics.open_connections[self.kind.index()].fetch_sub(1, Ordering::Relaxed);
    }
}

/// Escapes a label value.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    /// Notes a new connection; it counts as open until the guard drops.
    pub fn connection_opened(self: &Arc<Self>, kind: ListenerKind) -> ConnectionGuard {
        self.open_connections[kind.index()].fetch_add(1, Ordering::Relaxed);
        self.connections_total[kind.index()].fetch_add(1, Ordering::Relaxed);
        ConnectionGuard {
            metrics: self.clone(),
            kind,
        }
    }

    /// Notes one management API answer.
    pub fn admin_request(&self, status: u16) {
        if let Ok(mut requests) = self.admin_requests.lock() {
            *requests.entry(status).or_default() += 1;
        }
    }

    /// The exposition text (Prometheus format 0.0.4).
    pub fn render(&self, accounts: &[AccountSample], presigned_active: u64) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP coffer_build_info Build of the running server.\n# TYPE coffer_build_info gauge\ncoffer_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        );
        self.render_operations(&mut out);
        out.push_str(
            "# HELP coffer_open_connections Client connections open now.\n# TYPE coffer_open_connections gauge\n",
        );
        for kind in [ListenerKind::S3, ListenerKind::Admin] {
            let _ = writeln!(
                out,
                "coffer_open_connections{{listener=\"{}\"}} {}",
                listener_name(kind),
                self.open_connections[kind.index()].load(Ordering::Relaxed)
            );
        }
        out.push_str(
            "# HELP coffer_connections_total Client connections accepted.\n# TYPE coffer_connections_total counter\n",
        );
        for kind in [ListenerKind::S3, ListenerKind::Admin] {
            let _ = writeln!(
                out,
                "coffer_connections_total{{listener=\"{}\"}} {}",
                listener_name(kind),
                self.connections_total[kind.index()].load(Ordering::Relaxed)
            );
        }
        out.push_str(
            "# HELP coffer_admin_requests_total Management API requests by status.\n# TYPE coffer_admin_requests_total counter\n",
        );
        if let Ok(requests) = self.admin_requests.lock() {
            for (status, n) in requests.iter() {
                let _ = writeln!(
                    out,
                    "coffer_admin_requests_total{{status=\"{status}\"}} {n}"
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP coffer_presigned_urls_active Presigned URLs handed out by the management API and not yet expired.\n# TYPE coffer_presigned_urls_active gauge\ncoffer_presigned_urls_active {presigned_active}"
        );
        render_accounts(&mut out, accounts);
        out
    }

    fn render_operations(&self, out: &mut String) {
        let Ok(operations) = self.operations.lock() else {
            return;
        };
        out.push_str(
            "# HELP coffer_s3_requests_total S3 requests by operation and response status.\n# TYPE coffer_s3_requests_total counter\n",
        );
        for (operation, stats) in operations.iter() {
            for (status, n) in &stats.by_status {
                let _ = writeln!(
                    out,
                    "coffer_s3_requests_total{{operation=\"{}\",status=\"{status}\"}} {n}",
                    label(operation)
                );
            }
        }
        out.push_str(
            "# HELP coffer_s3_request_duration_seconds Time to the response head of S3 requests.\n# TYPE coffer_s3_request_duration_seconds histogram\n",
        );
        for (operation, stats) in operations.iter() {
            let op = label(operation);
            for (n, bound) in stats.buckets.iter().zip(LATENCY_BUCKETS) {
                let _ = writeln!(
                    out,
                    "coffer_s3_request_duration_seconds_bucket{{operation=\"{op}\",le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "coffer_s3_request_duration_seconds_bucket{{operation=\"{op}\",le=\"+Inf\"}} {}\n\
                 coffer_s3_request_duration_seconds_sum{{operation=\"{op}\"}} {}\n\
                 coffer_s3_request_duration_seconds_count{{operation=\"{op}\"}} {}",
                stats.count, stats.seconds, stats.count
            );
        }
        out.push_str(
            "# HELP coffer_s3_received_bytes_total Request body bytes of S3 requests.\n# TYPE coffer_s3_received_bytes_total counter\n",
        );
        for (operation, stats) in operations.iter() {
            let _ = writeln!(
                out,
                "coffer_s3_received_bytes_total{{operation=\"{}\"}} {}",
                label(operation),
                stats.bytes_in
            );
        }
        out.push_str(
            "# HELP coffer_s3_sent_bytes_total Response body bytes of S3 requests.\n# TYPE coffer_s3_sent_bytes_total counter\n",
        );
        for (operation, stats) in operations.iter() {
            let _ = writeln!(
                out,
                "coffer_s3_sent_bytes_total{{operation=\"{}\"}} {}",
                label(operation),
                stats.bytes_out
            );
        }
    }
}

fn listener_name(kind: ListenerKind) -> &'static str {
    match kind {
        ListenerKind::S3 => "s3",
        ListenerKind::Admin => "admin",
    }
}

fn render_accounts(out: &mut String, accounts: &[AccountSample]) {
    out.push_str(
        "# HELP coffer_account_storage_bytes Bytes an account stores (objects, versions, parts).\n# TYPE coffer_account_storage_bytes gauge\n",
    );
    for a in accounts {
        let _ = writeln!(
            out,
            "coffer_account_storage_bytes{{account_id=\"{}\"}} {}",
            a.id, a.bytes
        );
    }
    out.push_str(
        "# HELP coffer_account_objects Object versions an account stores.\n# TYPE coffer_account_objects gauge\n",
    );
    for a in accounts {
        let _ = writeln!(
            out,
            "coffer_account_objects{{account_id=\"{}\"}} {}",
            a.id, a.objects
        );
    }
    out.push_str(
        "# HELP coffer_account_quota_bytes Storage quota of accounts that have one.\n# TYPE coffer_account_quota_bytes gauge\n",
    );
    for a in accounts {
        if let Some(quota) = a.quota_bytes {
            let _ = writeln!(
                out,
                "coffer_account_quota_bytes{{account_id=\"{}\"}} {quota}",
                a.id
            );
        }
    }
    out.push_str(
        "# HELP coffer_account_status Account state (1 for the current one).\n# TYPE coffer_account_status gauge\n",
    );
    for a in accounts {
        let _ = writeln!(
            out,
            "coffer_account_status{{account_id=\"{}\",status=\"{}\"}} 1",
            a.id, a.status
        );
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn records_show_up_in_the_exposition() {
        let metrics = Arc::new(Metrics::default());
        metrics.record(&RequestRecord {
            operation: "PutObject",
            status: 200,
            elapsed: Duration::from_millis(3),
            bytes_in: 10,
            bytes_out: 0,
        });
        let _guard = metrics.connection_opened(ListenerKind::S3);
        let text = metrics.render(
            &[AccountSample {
                id: "000000000000001".into(),
                status: "active",
                bytes: 10,
                objects: 1,
                quota_bytes: Some(100),
            }],
            2,
        );
        for line in [
            "coffer_s3_requests_total{operation=\"PutObject\",status=\"200\"} 1",
            "coffer_s3_request_duration_seconds_bucket{operation=\"PutObject\",le=\"0.005\"} 1",
            "coffer_s3_request_duration_seconds_bucket{operation=\"PutObject\",le=\"0.0025\"} 0",
            "coffer_s3_request_duration_seconds_count{operation=\"PutObject\"} 1",
            "coffer_s3_received_bytes_total{operation=\"PutObject\"} 10",
            "coffer_open_connections{listener=\"s3\"} 1",
            "coffer_account_storage_bytes{account_id=\"000000000000001\"} 10",
            "coffer_account_quota_bytes{account_id=\"000000000000001\"} 100",
            "coffer_presigned_urls_active 2",
        ] {
            assert!(text.contains(line), "{line} missing from\n{text}");
        }
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
