//! A response body sent through a session's link: the body's bytes, cut into chunks sized
//! to the link's current rate, each released once the link can have carried it.

use std::io;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt, stream};
use tokio::time::Instant;

use super::session::{InFlight, MAX_CHUNK};
use crate::origin::respond::{BodySource, ByteStream};

/// How late a response that is still sending may ask for its next chunk without losing
/// link time: absorbs timer rounding and scheduling delays. A reader that stalls longer
/// gets no more than this much saved-up capacity.
const CONTINUATION_GRACE: Duration = Duration::from_millis(50);

struct Throttle {
    source: ByteStream,
    pending: Bytes,
    flight: InFlight,
    /// When the response was due to start sending; `None` once it has sent a chunk.
    due: Option<Instant>,
}

/// `body` as it crosses the link of `flight`'s session, from `due` (when its headers were
/// due) on. The session counts the response in flight until the stream ends or is dropped
/// (client gone).
pub fn throttled(
    body: BodySource,
    flight: InFlight,
    due: Instant,
) -> impl Stream<Item = io::Result<Bytes>> {
    let state = Throttle {
        source: body.into_stream(MAX_CHUNK),
        pending: Bytes::new(),
        flight,
        due: Some(due),
    };
    stream::unfold(Some(state), |state| async move {
        let mut state = state?;
        while state.pending.is_empty() {
            match state.source.next().await? {
                Ok(bytes) => state.pending = bytes,
                Err(error) => return Some((Err(error), None)),
            }
        }
        let session = state.flight.session().clone();
        let now = Instant::now();
        let since = match state.due.take() {
            Some(due) => due.min(now),
            None => now.checked_sub(CONTINUATION_GRACE).unwrap_or(now),
        };
        let slot = session.reserve(state.pending.len(), since);
        let chunk = state.pending.split_to(slot.len.min(state.pending.len()));
        tokio::time::sleep_until(slot.at).await;
        session.sent(chunk.len());
        Some((Ok(chunk), Some(state)))
    })
}
