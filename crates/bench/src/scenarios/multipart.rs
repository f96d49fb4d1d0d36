//! `multipart`: a large object (1 GiB unless `--large-size`) uploaded in 16 MiB parts at
//! concurrency 4 (create, parts, complete), then downloaded with every byte checked.

use std::sync::{Arc, Mutex, PoisonError};

use crate::client::PartUpload;
use crate::pattern::Pattern;
use crate::phase::OpOutcome;
use crate::stats::PhaseReport;

use super::{Context, Scenario, size_label};

const SCENARIO: Scenario = Scenario::Multipart;
const CONCURRENCY: usize = 4;
const KEY: &str = "multipart-object";
const OBJECT_ID: u64 = 0x3a27;

/// Runs the scenario.
pub async fn run(context: &Context) -> Vec<PhaseReport> {
    let target = match context.create_bucket(SCENARIO).await {
        Ok(target) => target,
        Err(report) => return vec![*report],
    };
    let size = context.options.large_size;
    let part_size = context.options.part_size.max(1);
    let part_count = size.div_ceil(part_size);
    let (create, upload_id) = context
        .timed(
            SCENARIO,
            "create upload",
            target.client.create_multipart_upload(&target.bucket, KEY),
        )
        .await;
    let mut reports = vec![create];
    let Some(upload_id) = upload_id else {
        return reports;
    };
    let upload_id: Arc<str> = upload_id.into();
    let etags: Arc<Mutex<Vec<Option<String>>>> =
        Arc::new(Mutex::new(vec![None; part_count as usize]));
    let spec = context.fixed_spec(
        SCENARIO,
        &format!("PUT parts of {}", size_label(part_size)),
        CONCURRENCY,
        part_count,
        context.options.op_timeout,
    );
    let parts = crate::phase::run(&spec, {
        let (upload_id, etags) = (Arc::clone(&upload_id), Arc::clone(&etags));
        target.op(move |t, c| {
            let (upload_id, etags) = (Arc::clone(&upload_id), Arc::clone(&etags));
            async move {
                let offset = c.index * part_size;
                let length = part_size.min(size - offset);
                let part_number = c.index as u32 + 1;
                let part = PartUpload {
                    upload_id: &upload_id,
                    part_number,
                    offset,
                    length,
                };
                let etag = t
                    .client
                    .upload_part(&t.bucket, KEY, &part, Pattern::new(OBJECT_ID))
                    .await?;
                etags.lock().unwrap_or_else(PoisonError::into_inner)[c.index as usize] = Some(etag);
                Ok(OpOutcome::transferred(length))
            }
        })
    })
    .await;
    reports.extend(parts.reports);
    // Complete with the parts that arrived in order; a failed part is already counted.
    let uploaded: Vec<(u32, String)> = etags
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .map_while(Clone::clone)
        .enumerate()
        .map(|(index, etag)| (index as u32 + 1, etag))
        .collect();
    if uploaded.is_empty() {
        return reports;
    }
    let object_size = (uploaded.len() as u64 * part_size).min(size);
    let (complete, completed) = context
        .timed(
            SCENARIO,
            &format!("complete ({} parts)", uploaded.len()),
            target
                .client
                .complete_multipart_upload(&target.bucket, KEY, &upload_id, &uploaded),
        )
        .await;
    reports.push(complete);
    if completed.is_none() {
        return reports;
    }
    let get = crate::phase::run(
        &context.fixed_spec(
            SCENARIO,
            &format!("GET {}", size_label(object_size)),
            1,
            1,
            context.options.op_timeout,
        ),
        target.op(move |t, _| async move {
            t.client
                .get_object(&t.bucket, KEY, Pattern::new(OBJECT_ID), object_size)
                .await
        }),
    )
    .await;
    reports.extend(get.reports);
    reports
}
