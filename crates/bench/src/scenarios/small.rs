//! `small`: 4 KiB PUT, then GET, HEAD and DELETE of the keys written, at concurrency 32.

use crate::pattern::Pattern;
use crate::stats::PhaseReport;

use super::{Context, Scenario};

const SIZE: u64 = 4 << 10;
const CONCURRENCY: usize = 32;
const SCENARIO: Scenario = Scenario::Small;

fn key(index: u64) -> String {
    format!("small{index:08}")
}

/// Runs the scenario.
pub async fn run(context: &Context) -> Vec<PhaseReport> {
    let target = match context.create_bucket(SCENARIO).await {
        Ok(target) => target,
        Err(report) => return vec![*report],
    };
    let put = crate::phase::run(
        &context.spec(SCENARIO, "PUT 4KiB", CONCURRENCY),
        target.op(|t, c| async move {
            t.client
                .put_object(&t.bucket, &key(c.index), Pattern::new(c.index), SIZE)
                .await
        }),
    )
    .await;
    let written = put.ops;
    let mut reports = put.reports;
    if written == 0 {
        return reports;
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
