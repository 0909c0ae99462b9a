//! Bodies that fail on purpose: paused part-way ([`Plan::stall`]), cut short
//! ([`Plan::cut`]), or failing before anything is sent ([`reset`]).
//!
//! How they look on the wire (HTTP/1.1, hyper): the response head is only written out
//! when the body first has nothing ready. A body that fails on its very first poll
//! therefore takes the head down with it: the connection closes with no response at all.
//! A cut body first pauses briefly so that the head and the bytes before the cut reach the
//! socket, then fails, and the connection closes with the body incomplete (the
//! `Content-Length` announced the full length).

use std::io;
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use futures_util::{StreamExt, stream};

use super::super::respond::{BodySource, ByteStream};

/// Largest chunk sent at once.
const CHUNK: usize = 64 * 1024;

/// How long a cut body waits for the bytes before the cut to be flushed.
const FLUSH_PAUSE: Duration = Duration::from_millis(100);

/// What happens to a body on its way out, at byte offsets of the body.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Plan {
    /// Pause this long once this many bytes are sent.
    pub stall: Option<(u64, Duration)>,
    /// Abort the connection once this many bytes are sent.
    pub cut: Option<u64>,
}

/// The body of `source` delivered according to `plan`.
pub fn shaped(source: BodySource, plan: Plan) -> Body {
    if plan == Plan::default() {
        return source.into_body();
    }
    let state = State {
        inner: source.into_stream(CHUNK),
        pending: None,
        sent: 0,
        plan,
        done: false,
    };
    Body::from_stream(stream::unfold(state, step))
}

/// A body that fails at once: with HTTP/1.1 the connection closes before the response
/// head is written.
pub fn reset() -> Body {
    Body::from_stream(stream::once(async {
        Err::<Bytes, _>(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "fault injected: reset",
        ))
    }))
}

struct State {
    inner: ByteStream,
    pending: Option<Bytes>,
    sent: u64,
    plan: Plan,
    done: bool,
}

async fn step(mut state: State) -> Option<(io::Result<Bytes>, State)> {
    loop {
        if state.done {
            return None;
        }
        if let Some((at, pause)) = state.plan.stall
            && state.sent >= at
        {
            state.plan.stall = None;
            tokio::time::sleep(pause).await;
            continue;
        }
        if let Some(cut) = state.plan.cut
            && state.sent >= cut
        {
            state.done = true;
            tokio::time::sleep(FLUSH_PAUSE).await;
            let error =
                io::Error::new(io::ErrorKind::ConnectionAborted, "fault injected: truncate");
            return Some((Err(error), state));
        }
        let chunk = match state.pending.take() {
            Some(chunk) => chunk,
            None => match state.inner.next().await {
                Some(Ok(chunk)) => chunk,
                Some(Err(error)) => {
                    state.done = true;
                    return Some((Err(error), state));
                }
                None => return None,
            },
        };
        if chunk.is_empty() {
            continue;
        }
        let next_event = [state.plan.stall.map(|(at, _)| at), state.plan.cut]
            .into_iter()
            .flatten()
            .filter(|&offset| offset > state.sent)
            .min();
        let room = next_event.map_or(u64::MAX, |offset| offset - state.sent);
        let take = (chunk.len() as u64).min(room) as usize;
        let mut head = chunk;
        let rest = head.split_off(take);
        if !rest.is_empty() {
            state.pending = Some(rest);
        }
        state.sent += take as u64;
        return Some((Ok(head), state));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn collect(body: Body) -> (Vec<u8>, Option<String>) {
        let mut stream = body.into_data_stream();
        let mut bytes = Vec::new();
        while let Some(item) = stream.next().await {
            match item {
                Ok(chunk) => bytes.extend_from_slice(&chunk),
                Err(error) => return (bytes, Some(error.to_string())),
            }
        }
        (bytes, None)
    }

    fn source(len: usize) -> BodySource {
        BodySource::Memory(Bytes::from((0..len).map(|i| i as u8).collect::<Vec<_>>()))
    }

    #[tokio::test]
    async fn stall_pauses_at_its_offset_and_keeps_every_byte() {
        let plan = Plan {
            stall: Some((100_000, Duration::from_millis(200))),
            cut: None,
        };
        let started = std::time::Instant::now();
        let (bytes, error) = collect(shaped(source(200_000), plan)).await;
        assert_eq!(error, None);
        assert_eq!(bytes, (0..200_000).map(|i| i as u8).collect::<Vec<_>>());
        assert!(started.elapsed() >= Duration::from_millis(200));
    }

    #[tokio::test]
    async fn cut_sends_exactly_the_bytes_before_it() {
        for cut in [0, 1, 65_536, 150_001] {
            let plan = Plan {
                stall: Some((10, Duration::from_millis(5))),
                cut: Some(cut),
            };
            let (bytes, error) = collect(shaped(source(200_000), plan)).await;
            assert_eq!(bytes.len() as u64, cut);
            assert!(error.is_some_and(|e| e.contains("truncate")));
        }
        let (bytes, error) = collect(reset()).await;
        assert!(bytes.is_empty() && error.is_some());
        let (plain, error) = collect(shaped(source(10), Plan::default())).await;
        assert_eq!((plain.len(), error), (10, None));
    }
}
