//! Retention: a background task that, every hour, deletes the raw events of views whose
//! last batch is older than `--retention-days` (their metrics stay in `views` and the
//! rollups) and rollup rows older than `--rollup-retention-days`.

use std::time::Duration;

use super::{Store, now_ms};

/// How long data is kept; 0 keeps it forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub raw_days: u64,
    pub rollup_days: u64,
}

/// Views pruned per transaction, so ingest is never held up for long.
const CHUNK: i64 = 200;
const PERIOD: Duration = Duration::from_secs(3600);
const DAY_MS: i64 = 86_400_000;

/// Starts the retention task (the first pass a minute after start).
pub fn spawn_retention(store: Store, retention: Retention) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(60)).await;
        loop {
            prune_once(&store, retention, now_ms()).await;
            tokio::time::sleep(PERIOD).await;
        }
    })
}

/// One full pass at time `now`.
pub async fn prune_once(store: &Store, retention: Retention, now: i64) {
    let cutoff = |days: u64| {
        if days == 0 {
            i64::MIN
        } else {
            now.saturating_sub((days as i64).saturating_mul(DAY_MS))
        }
    };
    let (events_before, rollups_before) =
        (cutoff(retention.raw_days), cutoff(retention.rollup_days));
    let mut pruned = 0;
    loop {
        match store.prune(events_before, rollups_before, CHUNK).await {
            Ok(views) => {
                pruned += views;
                if views < CHUNK as usize {
                    break;
                }
            }
            Err(error) => {
                tracing::warn!(%error, "retention pass failed");
                return;
            }
        }
    }
    if pruned > 0 {
        tracing::info!(views = pruned, "retention: raw events of old views deleted");
    }
}
