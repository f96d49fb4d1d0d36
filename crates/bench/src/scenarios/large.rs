//! `large`: one object (1 GiB unless `--large-size`) streamed up, then down with every byte
//! checked. Throughput is the figure; memory on both sides must stay flat.

use crate::pattern::Pattern;
use crate::stats::PhaseReport;

use super::{Context, Scenario, size_label};

const SCENARIO: Scenario = Scenario::Large;
const KEY: &str = "large-object";
const OBJECT_ID: u64 = 0x1a26e;

/// Runs the scenario.
pub async fn run(context: &Context) -> Vec<PhaseReport> {
    let target = match context.create_bucket(SCENARIO).await {
        Ok(target) => target,
        Err(report) => return vec![*report],
    };
    let size = context.options.large_size;
    let label = size_label(size);
    let bound = context.options.op_timeout;
    let put = crate::phase::run(
        &context.fixed_spec(SCENARIO, &format!("PUT {label}"), 1, 1, bound),
        target.op(move |t, _| async move {
            t.client
                .put_object(&t.bucket, KEY, Pattern::new(OBJECT_ID), size)
                .await
        }),
    )
    .await;
    let mut reports = put.reports;
    let get = crate::phase::run(
        &context.fixed_spec(SCENARIO, &format!("GET {label}"), 1, 1, bound),
        target.op(move |t, _| async move {
            t.client
                .get_object(&t.bucket, KEY, Pattern::new(OBJECT_ID), size)
                .await
        }),
    )
    .await;
    reports.extend(get.reports);
    reports
}
