//! Shaped sessions: one link per (trace, session id), shared by all of the session's
//! requests, and the table that creates them on first use and forgets them when idle.
//!
//! A session's link is a FIFO pipe over its trace's cumulative capacity `C(t)`, `t` from
//! the session's first request. A response reserves each chunk on the pipe before sending
//! it: the reservation starts where the previous one ended, or at `C(since)` if the pipe
//! ran dry meanwhile (capacity nobody used is not banked; `since` is about now, see
//! [`super::body`]), and the chunk may leave once the link can have carried its last byte. Concurrent responses alternate reservations, so
//! they share the trace's rate. Locks are held only for that arithmetic, never across
//! an `await`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use tokio::time::Instant;

use super::traces::NamedTrace;

/// Target time on the wire of one chunk: fine enough to follow the trace closely.
const CHUNK_TIME_S: f64 = 0.010;
/// Smallest and largest chunk sent at once.
const MIN_CHUNK: usize = 1024;
pub const MAX_CHUNK: usize = 64 * 1024;

/// The link's bookkeeping, behind the session's lock.
#[derive(Debug)]
struct LinkState {
    /// Bytes reserved on the cumulative capacity scale so far.
    reserved_to: f64,
    /// Responses not yet finished (or dropped).
    in_flight: usize,
    /// When the last response finished, or the last request arrived.
    last_active: Instant,
    requests: u64,
}

/// One session's link.
#[derive(Debug)]
pub struct Session {
    pub trace: Arc<NamedTrace>,
    pub id: String,
    /// When the session's first request arrived: time 0 of its trace.
    pub started: Instant,
    /// Latency of requests that do not set their own.
    pub rtt: Duration,
    state: Mutex<LinkState>,
    bytes_sent: AtomicU64,
}

/// A reservation on the link: send `len` bytes at `at`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Slot {
    pub len: usize,
    pub at: Instant,
}

/// A snapshot of a session, for the stats endpoint.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SessionStats {
    pub trace: String,
    pub session: String,
    /// Seconds since the session's first request.
    pub age_s: f64,
    pub rtt_ms: f64,
    pub requests: u64,
    pub in_flight: usize,
    /// Body bytes sent so far.
    pub bytes_sent: u64,
    /// Bytes the trace could have carried since the session started.
    pub capacity_bytes: f64,
}

impl Session {
    fn new(trace: Arc<NamedTrace>, id: &str, rtt: Duration, now: Instant) -> Session {
        Session {
            trace,
            id: id.to_string(),
            started: now,
            rtt,
            state: Mutex::new(LinkState {
                reserved_to: 0.0,
                in_flight: 0,
                last_active: now,
                requests: 0,
            }),
            bytes_sent: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, LinkState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Seconds of trace time at `at`.
    fn trace_time(&self, at: Instant) -> f64 {
        at.saturating_duration_since(self.started).as_secs_f64()
    }

    /// The instant `seconds` of trace time after the start (saturating far in the future).
    fn instant_at(&self, seconds: f64) -> Instant {
        const FAR: Duration = Duration::from_secs(100 * 365 * 86_400);
        let offset = Duration::try_from_secs_f64(seconds.max(0.0)).unwrap_or(FAR);
        self.started
            .checked_add(offset.min(FAR))
            .unwrap_or(self.started)
    }

    /// Reserves the next chunk of a response with `available` bytes ready (> 0). Link
    /// capacity before `since` that nobody reserved is lost; a response passes the moment
    /// it became ready to send, so its own small service delays cost it nothing.
    pub fn reserve(&self, available: usize, since: Instant) -> Slot {
        let capacity = &self.trace.capacity;
        let mut state = self.lock();
        let start = state
            .reserved_to
            .max(capacity.carried_by(self.trace_time(since)));
        let (_, rate) = capacity.delivery(start + 1.0);
        let len = chunk_len(rate).min(available.max(1));
        let end = start + len as f64;
        state.reserved_to = end;
        drop(state);
        Slot {
            len,
            at: self.instant_at(capacity.time_for(end)),
        }
    }

    /// Counts body bytes handed to the connection.
    pub fn sent(&self, bytes: usize) {
        self.bytes_sent.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    fn expired(state: &LinkState, idle: Duration, now: Instant) -> bool {
        state.in_flight == 0 && now.saturating_duration_since(state.last_active) >= idle
    }

    /// A snapshot at `now`.
    pub fn stats(&self, now: Instant) -> SessionStats {
        let state = self.lock();
        let age = self.trace_time(now);
        SessionStats {
            trace: self.trace.name.clone(),
            session: self.id.clone(),
            age_s: age,
            rtt_ms: self.rtt.as_secs_f64() * 1000.0,
            requests: state.requests,
            in_flight: state.in_flight,
            bytes_sent: self.bytes_sent.load(Ordering::Relaxed),
            capacity_bytes: self.trace.capacity.carried_by(age),
        }
    }
}

/// Bytes in one chunk at `rate` bytes per second.
fn chunk_len(rate: f64) -> usize {
    let bytes = rate * CHUNK_TIME_S;
    if bytes.is_finite() {
        (bytes as usize).clamp(MIN_CHUNK, MAX_CHUNK)
    } else {
        MIN_CHUNK
    }
}

/// A response in flight on a session; the session is idle once all are dropped.
#[derive(Debug)]
pub struct InFlight {
    session: Arc<Session>,
}

impl InFlight {
    pub fn session(&self) -> &Arc<Session> {
        &self.session
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut state = self.session.lock();
        state.in_flight = state.in_flight.saturating_sub(1);
        state.last_active = Instant::now();
    }
}

type Key = (String, String);
type Table = Mutex<HashMap<Key, Arc<Session>>>;

/// Every live session, by trace file name and session id.
pub struct Sessions {
    idle: Duration,
    table: Arc<Table>,
    sweeping: AtomicBool,
}

impl Sessions {
    /// Sessions forgotten after `idle` without a request in flight.
    pub fn new(idle: Duration) -> Sessions {
        Sessions {
            idle,
            table: Arc::new(Mutex::new(HashMap::new())),
            sweeping: AtomicBool::new(false),
        }
    }

    fn lock(table: &Table) -> MutexGuard<'_, HashMap<Key, Arc<Session>>> {
        table
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Starts a request on session `id` of `trace`, creating the session (with latency
    /// `rtt`) if it does not exist or has expired.
    pub fn begin(
        &self,
        trace: &Arc<NamedTrace>,
        id: &str,
        rtt: Duration,
        now: Instant,
    ) -> InFlight {
        self.start_sweeper();
        let key = (trace.name.clone(), id.to_string());
        let mut table = Self::lock(&self.table);
        let current = table
            .get(&key)
            .filter(|session| !Session::expired(&session.lock(), self.idle, now))
            .cloned();
        let session = current.unwrap_or_else(|| {
            let session = Arc::new(Session::new(trace.clone(), id, rtt, now));
            table.insert(key, session.clone());
            session
        });
        let mut state = session.lock();
        state.in_flight += 1;
        state.requests += 1;
        state.last_active = now;
        drop(state);
        drop(table);
        InFlight { session }
    }

    /// The live session `id` of `trace`, if any.
    pub fn get(&self, trace: &str, id: &str, now: Instant) -> Option<Arc<Session>> {
        let table = Self::lock(&self.table);
        table
            .get(&(trace.to_string(), id.to_string()))
            .filter(|session| !Session::expired(&session.lock(), self.idle, now))
            .cloned()
    }

    /// Number of sessions held (expired ones until the next sweep).
    pub fn len(&self) -> usize {
        Self::lock(&self.table).len()
    }

    /// True when no session is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets expired sessions.
    pub fn sweep(&self, now: Instant) {
        sweep(&self.table, self.idle, now);
    }

    /// Sweeps in the background, from the first request on, for as long as the table
    /// exists (needs a Tokio runtime; without one, expired sessions are only replaced
    /// when requested again).
    fn start_sweeper(&self) {
        if self.sweeping.swap(true, Ordering::Relaxed) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            self.sweeping.store(false, Ordering::Relaxed);
            return;
        };
        let period = (self.idle / 2).clamp(Duration::from_millis(100), Duration::from_secs(60));
        let table: Weak<Table> = Arc::downgrade(&self.table);
        let idle = self.idle;
        runtime.spawn(async move {
            loop {
                tokio::time::sleep(period).await;
                let Some(table) = table.upgrade() else { return };
                sweep(&table, idle, Instant::now());
            }
        });
    }
}

fn sweep(table: &Table, idle: Duration, now: Instant) {
    Sessions::lock(table).retain(|_, session| !Session::expired(&session.lock(), idle, now));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::origin::shaped::link::Capacity;
    use player_wasm::sim::trace::Trace;
    use std::path::Path;

    fn trace(text: &str) -> Arc<NamedTrace> {
        let trace = Trace::parse(Path::new("t"), text).unwrap();
        Arc::new(NamedTrace {
            name: "t".into(),
            capacity: Capacity::new(&trace).unwrap(),
            samples: trace,
            set: "s".into(),
        })
    }

    #[test]
    fn chunks_follow_the_rate_within_bounds() {
        assert_eq!(chunk_len(0.0), MIN_CHUNK);
        assert_eq!(chunk_len(250_000.0), 2_500);
        assert_eq!(chunk_len(1e9), MAX_CHUNK);
        assert_eq!(chunk_len(f64::NAN), MIN_CHUNK);
    }

    /// `a - b` is within a microsecond of `expected` (float-to-duration rounding).
    fn after(a: Instant, b: Instant, expected: Duration) -> bool {
        let got = a.saturating_duration_since(b);
        got.max(expected) - got.min(expected) <= Duration::from_micros(1)
    }

    #[test]
    fn reservations_queue_and_idle_time_is_not_banked() {
        // 8 Mbit/s: 1 MB/s, chunks of 10 000 bytes, 10 ms each.
        let start = Instant::now();
        let session = Session::new(trace("0 8\n100 8\n"), "s", Duration::ZERO, start);
        let a = session.reserve(1 << 20, start);
        let b = session.reserve(1 << 20, start);
        assert_eq!((a.len, b.len), (10_000, 10_000));
        assert!(after(a.at, start, Duration::from_millis(10)));
        assert!(after(b.at, start, Duration::from_millis(20)));
        // After a second of silence the link starts from now, not from 20 ms.
        let later = start + Duration::from_secs(1);
        let c = session.reserve(500, later);
        assert_eq!(c.len, 500);
        assert!(after(c.at, later, Duration::from_micros(500)));
        // Capacity since an earlier instant counts, but only what nobody reserved.
        let d = session.reserve(10_000, c.at - Duration::from_millis(5));
        assert!(after(d.at, c.at, Duration::from_millis(10)));
        let e = session.reserve(10_000, d.at + Duration::from_millis(30));
        assert!(after(e.at, d.at, Duration::from_millis(40)));
    }

    #[test]
    fn zero_bandwidth_waits() {
        let start = Instant::now();
        let session = Session::new(trace("0 8\n1 8\n3 0\n4 8\n"), "s", Duration::ZERO, start);
        let at_gap = start + Duration::from_millis(1500);
        let slot = session.reserve(10_000, at_gap);
        assert!(after(slot.at, start, Duration::from_millis(3010)));
    }

    #[tokio::test]
    async fn sessions_are_shared_then_expire() {
        let sessions = Sessions::new(Duration::from_secs(10));
        let t = trace("0 8\n10 8\n");
        let now = Instant::now();
        let first = sessions.begin(&t, "a", Duration::from_millis(40), now);
        let second = sessions.begin(&t, "a", Duration::from_millis(99), now);
        assert!(Arc::ptr_eq(first.session(), second.session()));
        assert_eq!(second.session().rtt, Duration::from_millis(40));
        let other = sessions.begin(&t, "b", Duration::ZERO, now);
        assert!(!Arc::ptr_eq(first.session(), other.session()));
        let kept = first.session().clone();
        drop((first, second, other));
        assert_eq!(sessions.len(), 2);
        // In flight: never expires. Idle past the limit: replaced and swept.
        let busy = sessions.begin(&t, "b", Duration::ZERO, now);
        let much_later = Instant::now() + Duration::from_secs(11);
        sessions.sweep(much_later);
        assert_eq!(sessions.len(), 1);
        assert!(sessions.get("t", "a", much_later).is_none());
        assert!(sessions.get("t", "b", much_later).is_some());
        let fresh = sessions.begin(&t, "a", Duration::ZERO, much_later);
        assert!(!Arc::ptr_eq(fresh.session(), &kept));
        assert_eq!(fresh.session().stats(much_later).requests, 1);
        drop(busy);
    }
}
