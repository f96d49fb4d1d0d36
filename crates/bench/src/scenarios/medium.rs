//! `medium`: 1 MiB PUT, then GET of the keys written (every byte checked), at concurrency 8.

use crate::pattern::Pattern;
use crate::stats::PhaseReport;

use super::{Context, Scenario};

const SIZE: u64 = 1 << 20;
const CONCURRENCY: usize = 8;
const SCENARIO: Scenario = Scenario::Medium;

fn key(index: u64) -> String {
    format!("medium{index:08}")
}

/// Runs the scenario.
pub async fn run(context: &Context) -> Vec<PhaseReport> {
    let target = match context.create_bucket(SCENARIO).await {
        Ok(target) => target,
        Err(report) => return vec![*report],
    };
    let put = crate::phase::run(
        &context.spec(SCENARIO, "PUT 1MiB", CONCURRENCY),
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
        &context.spec(SCENARIO, "GET 1MiB", CONCURRENCY),
        target.op(move |t, c| async move {
            let index = c.index % written;
            t.client
                .get_object(&t.bucket, &key(index), Pattern::new(index), SIZE)
                .await
        }),
    )
    .await;
    reports.extend(get.reports);
    reports
}
