//! `mixed`: 70 % GET / 25 % PUT / 5 % DELETE of 64 KiB objects at concurrency 16 over a
//! pre-filled key set. Each worker owns a disjoint slice of the keys, so it knows which
//! version each of its keys holds and every GET is checked against the latest PUT.

use std::sync::{Arc, Mutex, PoisonError};

use crate::pattern::{Pattern, splitmix64};
use crate::phase::{OpContext, PhaseSpec};
use crate::stats::PhaseReport;

use super::{Context, Scenario};

const SCENARIO: Scenario = Scenario::Mixed;
const SIZE: u64 = 64 << 10;
const CONCURRENCY: usize = 16;
const GET: usize = 0;
const PUT: usize = 1;
const DELETE: usize = 2;

fn key(index: u64) -> String {
    format!("mixed{index:08}")
}

/// The object id of version `version` of key `index`.
fn object_id(index: u64, version: u64) -> u64 {
    (index << 32) | version
}

/// The keys one worker owns and the version each holds (`None`: deleted).
#[derive(Debug, Default)]
struct OwnedKeys {
    keys: Vec<(u64, Option<u64>)>,
    next_version: u64,
}

impl OwnedKeys {
    /// The slot of a present key at or after `start`, if any key is present.
    fn present_from(&self, start: usize) -> Option<usize> {
        let len = self.keys.len();
        (0..len)
            .map(|step| (start + step) % len)
            .find(|&slot| self.keys[slot].1.is_some())
    }
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
            "PUT 64KiB (fill)",
            CONCURRENCY,
            context.options.mixed_keys,
            context.options.fill_timeout,
        ),
        target.op(|t, c| async move {
            t.client
                .put_object(
                    &t.bucket,
                    &key(c.index),
                    Pattern::new(object_id(c.index, 0)),
                    SIZE,
                )
                .await
        }),
    )
    .await;
    let mut reports = fill.reports;
    let filled = fill.ops;
    if filled == 0 {
        return reports;
    }
    let owners: Arc<Vec<Mutex<OwnedKeys>>> = Arc::new(
        (0..CONCURRENCY as u64)
            .map(|worker| {
                let keys = (worker..filled)
                    .step_by(CONCURRENCY)
                    .map(|index| (index, Some(0)))
                    .collect();
                Mutex::new(OwnedKeys {
                    keys,
                    next_version: 1,
                })
            })
            .collect(),
    );
    let spec = PhaseSpec {
        kinds: vec!["GET 64KiB".into(), "PUT 64KiB".into(), "DELETE".into()],
        ..context.spec(SCENARIO, "", CONCURRENCY)
    };
    let mixed = crate::phase::run(&spec, move |c: OpContext| {
        let owners = Arc::clone(&owners);
        let target = target.clone();
        let (kind, slot, index, version) = choose(&owners, c);
        let request = async move {
            let result = match kind {
                GET => {
                    let pattern = Pattern::new(object_id(index, version));
                    target
                        .client
                        .get_object(&target.bucket, &key(index), pattern, SIZE)
                        .await
                }
                PUT => {
                    let pattern = Pattern::new(object_id(index, version));
                    target
                        .client
                        .put_object(&target.bucket, &key(index), pattern, SIZE)
                        .await
                }
                _ => {
                    target
                        .client
                        .delete_object(&target.bucket, &key(index))
                        .await
                }
            };
            if result.is_ok() && kind != GET {
                let mut owned = owners[c.worker]
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                if let Some(entry) = owned.keys.get_mut(slot) {
                    entry.1 = (kind == PUT).then_some(version);
                }
            }
            result
        };
        (kind, request)
    })
    .await;
    reports.extend(mixed.reports);
    reports
}

/// Picks the request kind and key for request `c`: (kind, slot, key index, version to read or
/// write). Falls back to a PUT when the worker has no present key to read or delete.
fn choose(owners: &[Mutex<OwnedKeys>], c: OpContext) -> (usize, usize, u64, u64) {
    let mut random = c.index ^ 0x6d_6978_6564;
    let roll = splitmix64(&mut random) % 100;
    let pick = splitmix64(&mut random);
    let mut owned = owners[c.worker]
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if owned.keys.is_empty() {
        // Fewer keys were filled than there are workers: write a key of this worker's own.
        return (PUT, usize::MAX, u64::MAX - c.worker as u64, 0);
    }
    let start = (pick % owned.keys.len() as u64) as usize;
    let wanted = match roll {
        0..70 => GET,
        70..95 => PUT,
        _ => DELETE,
    };
    match (wanted, owned.present_from(start)) {
        (GET | DELETE, Some(slot)) => {
            let (index, version) = owned.keys[slot];
            (wanted, slot, index, version.unwrap_or(0))
        }
        _ => {
            let version = owned.next_version;
            owned.next_version += 1;
            (PUT, start, owned.keys[start].0, version)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_follow_the_mix_and_never_read_deleted_keys() {
        let owners = vec![Mutex::new(OwnedKeys {
            keys: (0..50)
                .map(|i| (i, if i % 2 == 0 { Some(0) } else { None }))
                .collect(),
            next_version: 1,
        })];
        let mut counts = [0u32; 3];
        for index in 0..10_000 {
            let (kind, slot, key, _) = choose(&owners, OpContext { worker: 0, index });
            counts[kind] += 1;
            let owned = owners[0].lock().expect("lock");
            assert_eq!(owned.keys[slot].0, key);
            if kind != PUT {
                assert!(owned.keys[slot].1.is_some());
            }
        }
        assert!((6_600..7_400).contains(&counts[GET]), "{counts:?}");
        assert!((2_200..2_800).contains(&counts[PUT]), "{counts:?}");
        assert!((350..650).contains(&counts[DELETE]), "{counts:?}");
    }
}
