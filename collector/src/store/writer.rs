//! Group commit: one writer per store takes every batch waiting in its queue, applies
//! them in one transaction and commits once, so concurrent requests share one fsync.
//! Each request is answered only after that commit returned (its batch is durable).
//!
//! A group whose transaction fails is retried (PostgreSQL may abort one under
//! contention), then batch by batch, so one bad batch cannot fail its neighbours.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{mpsc, oneshot};

use super::StoreError;
use super::apply::{self, Outcome, Prepared, Tx, ViewCache};
use crate::metrics::Metrics;

/// Most batches in one transaction.
pub const MAX_GROUP: usize = 512;

/// Work for the writer.
#[derive(Debug)]
pub(crate) enum Job {
    Batch {
        prepared: Box<Prepared>,
        reply: oneshot::Sender<Result<Outcome, StoreError>>,
    },
    /// One step of retention: prune up to `limit` views, and old rollups.
    Prune {
        events_before_ms: i64,
        rollups_before_ms: i64,
        limit: i64,
        reply: oneshot::Sender<Result<usize, StoreError>>,
    },
}

/// Takes the first job, then whatever else is already queued, up to [`MAX_GROUP`].
pub(crate) fn drain(first: Job, queue: &mut mpsc::Receiver<Job>) -> Vec<Job> {
    let mut jobs = vec![first];
    while jobs.len() < MAX_GROUP {
        match queue.try_recv() {
            Ok(job) => jobs.push(job),
            Err(_) => break,
        }
    }
    jobs
}

/// Applies and commits a group of jobs, answering each.
pub(crate) async fn run_group<T: Tx>(
    tx: &mut T,
    cache: &mut ViewCache,
    jobs: Vec<Job>,
    metrics: &Arc<Metrics>,
) {
    let mut batches = Vec::new();
    let mut prunes = Vec::new();
    for job in jobs {
        match job {
            Job::Batch { prepared, reply } => batches.push((prepared, reply)),
            prune @ Job::Prune { .. } => prunes.push(prune),
        }
    }
    if !batches.is_empty() {
        let prepared: Vec<&Prepared> = batches.iter().map(|(p, _)| p.as_ref()).collect();
        let mut result = commit(tx, cache, &prepared, metrics).await;
        for _ in 0..2 {
            match &result {
                Err(e) if e.is_transient() => {
                    result = commit(tx, cache, &prepared, metrics).await;
                }
                _ => break,
            }
        }
        match result {
            Ok(outcomes) => {
                for ((_, reply), outcome) in batches.into_iter().zip(outcomes) {
                    let _ = reply.send(Ok(outcome));
                }
            }
            Err(error) if batches.len() == 1 => {
                tracing::error!(%error, "storing a batch failed");
                if let Some((_, reply)) = batches.pop() {
                    let _ = reply.send(Err(error));
                }
            }
            Err(error) => {
                tracing::warn!(%error, batches = batches.len(), "group commit failed: batch by batch");
                for (prepared, reply) in batches {
                    let result = commit(tx, cache, &[prepared.as_ref()], metrics).await;
                    if let Err(error) = &result {
                        let view = &prepared.incoming.batch.view.id;
                        tracing::error!(%error, %view, "storing a batch failed");
                    }
                    let _ = reply.send(result.map(|mut o| o.pop().unwrap_or(Outcome::Duplicate)));
                }
            }
        }
    }
    for prune in prunes {
        if let Job::Prune {
            events_before_ms,
            rollups_before_ms,
            limit,
            reply,
        } = prune
        {
            let _ = reply.send(prune_step(tx, events_before_ms, rollups_before_ms, limit).await);
        }
    }
}

async fn commit<T: Tx>(
    tx: &mut T,
    cache: &mut ViewCache,
    prepared: &[&Prepared],
    metrics: &Arc<Metrics>,
) -> Result<Vec<Outcome>, StoreError> {
    let started = Instant::now();
    let result = async {
        tx.begin().await?;
        let outcomes = apply::apply_group(tx, cache, prepared).await?;
        tx.commit().await?;
        Ok(outcomes)
    }
    .await;
    match result {
        Ok(outcomes) => {
            cache.commit();
            metrics.commit(prepared.len(), started.elapsed());
            Ok(outcomes)
        }
        Err(error) => {
            tx.rollback().await;
            cache.rollback();
            metrics
                .commit_failures
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Err(error)
        }
    }
}

async fn prune_step<T: Tx>(
    tx: &mut T,
    events_before_ms: i64,
    rollups_before_ms: i64,
    limit: i64,
) -> Result<usize, StoreError> {
    tx.begin().await?;
    let result = async {
        let views = apply::prune_views(tx, events_before_ms, limit).await?;
        apply::prune_rollups(tx, rollups_before_ms).await?;
        Ok(views)
    }
    .await;
    match result {
        Ok(views) => {
            if let Err(error) = tx.commit().await {
                tx.rollback().await;
                return Err(error);
            }
            Ok(views)
        }
        Err(error) => {
            tx.rollback().await;
            Err(error)
        }
    }
}
