//! `listing`: a bucket of N keys in a 3-level prefix tree `aXX/bYY/cNNNNNNN` (10 × 10 folders),
//! then a full listing without delimiter (pages of 1000), delimiter listings at the top and one
//! level down, and ONE delimiter page deep inside the tree. Every listed key is checked.
//!
//! The point: the deep page costs the time of its page, not of the bucket, and the top-level
//! delimiter listing skips each folded prefix instead of scanning under it.

use std::sync::Arc;
use std::time::Instant;

use crate::client::ListRequest;
use crate::error::OpError;
use crate::pattern::Pattern;
use crate::phase::OpOutcome;
use crate::stats::{Meter, PhaseReport, Samples};

use super::{Context, Scenario, Target};

const SCENARIO: Scenario = Scenario::Listing;
const FILL_CONCURRENCY: usize = 32;
const PAGE: u32 = 1000;
/// How often the delimiter listings are repeated (for their percentiles).
const REPEATS: u64 = 20;
const MIDDLE_PREFIX: &str = "a05/";
const DEEP_PREFIX: &str = "a05/b05/";

fn key(index: u64) -> String {
    format!("a{:02}/b{:02}/c{index:07}", index % 10, (index / 10) % 10)
}

/// Runs the scenario.
pub async fn run(context: &Context) -> Vec<PhaseReport> {
    let target = match context.create_bucket(SCENARIO).await {
        Ok(target) => target,
        Err(report) => return vec![*report],
    };
    let fill = crate::phase::run(
        &context.fixed_spec(
            SCENARIO,
            "PUT 0B (fill)",
            FILL_CONCURRENCY,
            context.options.listing_keys,
            context.options.fill_timeout,
        ),
        target.op(|t, c| async move {
            t.client
                .put_object(&t.bucket, &key(c.index), Pattern::new(c.index), 0)
                .await
        }),
    )
    .await;
    let mut reports = fill.reports;
    let mut expected: Vec<String> = (0..fill.ops).map(key).collect();
    expected.sort_unstable();
    let expected = Arc::new(expected);

    let mut full = list_everything(context, &target, &expected).await;
    full.items = Some(expected.len() as u64);
    reports.push(full);

    for (phase, prefix) in [
        ("list delimiter, top", ""),
        ("list delimiter, a05/", MIDDLE_PREFIX),
    ] {
        let folders = Arc::new(expected_folders(&expected, prefix));
        let items = folders.len() as u64;
        let outcome = crate::phase::run(
            &repeated(context, phase),
            target.op(move |t, _| {
                let folders = Arc::clone(&folders);
                async move { list_folders(&t, prefix, &folders).await }
            }),
        )
        .await;
        reports.extend(outcome.reports.into_iter().map(|mut r| {
            r.items = Some(items * r.ops);
            r
        }));
    }

    let deep: Vec<String> = expected
        .iter()
        .filter(|k| k.starts_with(DEEP_PREFIX))
        .cloned()
        .collect();
    let deep_total = deep.len();
    let first_page = Arc::new(deep.into_iter().take(PAGE as usize).collect::<Vec<_>>());
    let items = first_page.len() as u64;
    let outcome = crate::phase::run(
        &repeated(context, "list one deep page, a05/b05/"),
        target.op(move |t, _| {
            let first_page = Arc::clone(&first_page);
            async move { deep_page(&t, &first_page, deep_total).await }
        }),
    )
    .await;
    reports.extend(outcome.reports.into_iter().map(|mut r| {
        r.items = Some(items * r.ops);
        r
    }));
    reports
}

/// A phase repeating one listing, sequentially, a few times.
fn repeated(context: &Context, phase: &str) -> crate::phase::PhaseSpec {
    let mut spec = context.spec(SCENARIO, phase, 1);
    spec.max_ops = spec.max_ops.min(REPEATS);
    spec
}

/// Lists the whole bucket without delimiter, page after page, checking every key in order.
async fn list_everything(context: &Context, target: &Target, expected: &[String]) -> PhaseReport {
    let meter = Meter::start(context.server);
    let mut samples = Samples::default();
    let max_pages = expected.len() / PAGE as usize + 2;
    let deadline = Instant::now() + context.options.fill_timeout;
    let mut token: Option<String> = None;
    let mut position = 0usize;
    let mut failed = false;
    for _ in 0..max_pages {
        if Instant::now() >= deadline {
            break;
        }
        let started = Instant::now();
        let request = ListRequest {
            prefix: "",
            delimiter: None,
            continuation_token: token.as_deref(),
            max_keys: PAGE,
        };
        let result = tokio::time::timeout(
            context.options.op_timeout,
            target.client.list_objects_v2(&target.bucket, &request),
        )
        .await
        .unwrap_or(Err(OpError::Timeout(context.options.op_timeout)));
        let page = result.and_then(|page| {
            check_run(&page.keys, expected, position)?;
            Ok(page)
        });
        let outcome = page
            .as_ref()
            .map(|_| OpOutcome::default())
            .map_err(Clone::clone);
        samples.record(started.elapsed(), &outcome);
        let Ok(page) = page else {
            failed = true;
            break;
        };
        position += page.keys.len();
        token = page.next_token;
        if token.is_none() {
            break;
        }
    }
    if !failed && (position != expected.len() || token.is_some()) {
        samples.record_error(&OpError::WrongBytes(format!(
            "full listing returned {position} of {} keys{}",
            expected.len(),
            if token.is_some() {
                " and did not end"
            } else {
                ""
            }
        )));
    }
    meter.finish(SCENARIO.name(), "list full, no delimiter", 1, samples)
}

/// Checks that `keys` are `expected[position..]`, in order.
fn check_run(keys: &[String], expected: &[String], position: usize) -> Result<(), OpError> {
    for (offset, listed) in keys.iter().enumerate() {
        let wanted = expected.get(position + offset);
        if wanted != Some(listed) {
            return Err(OpError::WrongBytes(format!(
                "listed key #{} is {listed:?}, expected {wanted:?}",
                position + offset
            )));
        }
    }
    Ok(())
}

/// The common prefixes a delimiter listing under `prefix` must return.
fn expected_folders(expected: &[String], prefix: &str) -> Vec<String> {
    let mut folders: Vec<String> = expected
        .iter()
        .filter_map(|k| {
            let rest = k.strip_prefix(prefix)?;
            let end = rest.find('/')?;
            Some(format!("{prefix}{}", &rest[..=end]))
        })
        .collect();
    folders.dedup();
    folders
}

/// A full delimiter listing under `prefix` (all pages) must return exactly `folders`, no keys.
async fn list_folders(
    target: &Target,
    prefix: &str,
    folders: &[String],
) -> Result<OpOutcome, OpError> {
    let mut listed = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..=folders.len() / PAGE as usize + 1 {
        let request = ListRequest {
            prefix,
            delimiter: Some("/"),
            continuation_token: token.as_deref(),
            max_keys: PAGE,
        };
        let page = target
            .client
            .list_objects_v2(&target.bucket, &request)
            .await?;
        if let Some(key) = page.keys.first() {
            return Err(OpError::WrongBytes(format!(
                "delimiter listing returned key {key:?}"
            )));
        }
        listed.extend(page.prefixes);
        token = page.next_token;
        if token.is_none() {
            break;
        }
    }
    if listed == folders && token.is_none() {
        Ok(OpOutcome::default())
    } else {
        Err(OpError::WrongBytes(format!(
            "delimiter listing under {prefix:?} returned {} prefixes, expected {}",
            listed.len(),
            folders.len()
        )))
    }
}

/// One delimiter page deep in the tree must return the first keys under it, in order.
async fn deep_page(
    target: &Target,
    first_page: &[String],
    total: usize,
) -> Result<OpOutcome, OpError> {
    let request = ListRequest {
        prefix: DEEP_PREFIX,
        delimiter: Some("/"),
        continuation_token: None,
        max_keys: PAGE,
    };
    let page = target
        .client
        .list_objects_v2(&target.bucket, &request)
        .await?;
    check_run(&page.keys, first_page, 0)?;
    let truncated = page.next_token.is_some();
    if page.keys.len() != first_page.len() || truncated != (total > first_page.len()) {
        return Err(OpError::WrongBytes(format!(
            "deep page returned {} keys (truncated: {truncated}), expected {} of {total}",
            page.keys.len(),
            first_page.len()
        )));
    }
    Ok(OpOutcome::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_layout_and_expected_folders() {
        assert_eq!(key(1234), "a04/b03/c0001234");
        let mut keys: Vec<String> = (0..300).map(key).collect();
        keys.sort_unstable();
        let top = expected_folders(&keys, "");
        assert_eq!(top.len(), 10);
        assert_eq!(top[5], "a05/");
        let middle = expected_folders(&keys, MIDDLE_PREFIX);
        assert_eq!(middle.len(), 10);
        assert_eq!(middle[5], "a05/b05/");
        let deep = keys.iter().filter(|k| k.starts_with(DEEP_PREFIX)).count();
        assert_eq!(deep, 3);
    }

    #[test]
    fn check_run_reports_the_first_difference() {
        let expected: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        assert!(check_run(&expected[1..], &expected, 1).is_ok());
        assert!(check_run(&["b".to_owned()], &expected, 0).is_err());
        assert!(check_run(&["d".to_owned()], &expected, 3).is_err());
    }
}
