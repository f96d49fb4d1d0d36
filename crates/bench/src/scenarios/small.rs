//! `small`: 4 KiB PUT, then GET, HEAD and DELETE of the keys written, at concurrency 32.
//!
//! Every server works on the same data set: the PUT phase writes at most `--small-keys`
//! objects, and when it ends (its time bound) with fewer, a fill phase writes the rest. GET
//! and HEAD read those keys for the phase's time, and DELETE removes them. Without the fill, a
//! server that PUTs six times faster would DELETE six times more keys from a bucket six times
//! larger than a slower peer, and the DELETE rates would not compare.

use crate::error::OpError;
use crate::pattern::Pattern;
use crate::phase::OpOutcome;
use crate::stats::PhaseReport;

use super::{Context, Scenario, Target};

const SIZE: u64 = 4 << 10;
const CONCURRENCY: usize = 32;
const SCENARIO: Scenario = Scenario::Small;

fn key(index: u64) -> String {
    format!("small{index:08}")
}

/// PUTs the object numbered `index`.
async fn put_one(t: Target, index: u64) -> Result<OpOutcome, OpError> {
    t.client
        .put_object(&t.bucket, &key(index), Pattern::new(index), SIZE)
        .await
}

/// Runs the scenario.
pub async fn run(context: &Context) -> Vec<PhaseReport> {
    let target = match context.create_bucket(SCENARIO).await {
        Ok(target) => target,
        Err(report) => return vec![*report],
    };
    let keys = context.options.small_data_set();
    let mut put_spec = context.spec(SCENARIO, "PUT 4KiB", CONCURRENCY);
    put_spec.max_ops = keys;
    let put = crate::phase::run(&put_spec, target.op(|t, c| put_one(t, c.index))).await;
    let mut written = put.ops;
    let mut reports = put.reports;
    if written == 0 {
        return reports;
    }
    if written < keys {
        let fill = crate::phase::run(
            &context.fixed_spec(
                SCENARIO,
                "PUT 4KiB (fill)",
                CONCURRENCY,
                keys - written,
                context.options.fill_timeout,
            ),
            target.op(move |t, c| put_one(t, written + c.index)),
        )
        .await;
        written += fill.ops;
        reports.extend(fill.reports);
    }
    let get = crate::phase::run(
        &context.spec(SCENARIO, "GET 4KiB", CONCURRENCY),
        target.op(move |t, c| async move {
            let index = c.index % written;
            t.client
                .get_object(&t.bucket, &key(index), Pattern::new(index), SIZE)
                .await
        }),
    )
    .await;
    reports.extend(get.reports);
    let head = crate::phase::run(
        &context.spec(SCENARIO, "HEAD", CONCURRENCY),
        target.op(move |t, c| async move {
            t.client
                .head_object(&t.bucket, &key(c.index % written), SIZE)
                .await
        }),
    )
    .await;
    reports.extend(head.reports);
    let mut delete_spec = context.spec(SCENARIO, "DELETE", CONCURRENCY);
    delete_spec.max_ops = delete_spec.max_ops.min(written);
    let delete = crate::phase::run(
        &delete_spec,
        target.op(|t, c| async move { t.client.delete_object(&t.bucket, &key(c.index)).await }),
    )
    .await;
    reports.extend(delete.reports);
    reports
}
