//! The virtual player: the engine, an origin, a network and a media element, run in
//! virtual time from one event to the next.

use super::media::SimulatedMedia;
use super::network::{Network, TransferPlan};
use super::origin::{Origin, Resource};
use crate::engine::{
    Action, Engine, Event, FetchRequest, Input, RequestId, RequestKind, TimeRange, TrackId, ranges,
};
use std::collections::{BTreeMap, VecDeque};

/// One append the shell carried out.
#[derive(Debug, Clone, PartialEq)]
pub struct Appended {
    pub at: f64,
    pub track: TrackId,
    pub request: RequestId,
    pub start: f64,
    pub duration: f64,
    /// The level of the request, for segments.
    pub level: Option<usize>,
    /// Seconds stalled after the first frame, up to this append.
    pub stalled_before_s: f64,
}

#[derive(Debug, Clone)]
struct Transfer {
    plan: TransferPlan,
    kind: RequestKind,
    resource: Resource,
    first_byte_sent: bool,
    progress_sent: usize,
}

impl Transfer {
    /// The time of this transfer's next event.
    fn next_time(&self) -> f64 {
        if let Resource::Fail(_) = self.resource {
            return self.plan.first_byte_at;
        }
        if !self.first_byte_sent {
            return self.plan.first_byte_at;
        }
        self.plan
            .progress
            .get(self.progress_sent)
            .map_or(self.plan.finished_at, |(at, _)| *at)
    }
}

/// The engine in a simulated browser. See the module documentation.
#[derive(Debug)]
pub struct VirtualPlayer<O: Origin, N: Network> {
    pub engine: Engine,
    pub origin: O,
    pub network: N,
    pub media: SimulatedMedia,
    now: f64,
    transfers: BTreeMap<RequestId, Transfer>,
    /// Request kinds by id, for every request ever made.
    kinds: BTreeMap<RequestId, RequestKind>,
    inputs: VecDeque<Input>,
    /// Everything the engine emitted, with the time.
    pub events: Vec<(f64, Event)>,
    /// Every request the engine made, with the time.
    pub fetches: Vec<(f64, FetchRequest)>,
    /// Every append, in order.
    pub appends: Vec<Appended>,
    /// Actions the real browser would reject (append to a track never created, ...).
    pub violations: Vec<String>,
    /// After every input: the engine's view of a track's buffer differed from the shell's.
    pub accounting_mismatches: usize,
    last_input_was_timer_at: Option<f64>,
    /// The next append fails with this instead of landing.
    pub fail_next_append: Option<crate::engine::AppendFailure>,
}

impl<O: Origin, N: Network> VirtualPlayer<O, N> {
    /// A virtual player around `engine`.
    pub fn new(engine: Engine, origin: O, network: N) -> Self {
        VirtualPlayer {
            engine,
            origin,
            network,
            media: SimulatedMedia::default(),
            now: 0.0,
            transfers: BTreeMap::new(),
            kinds: BTreeMap::new(),
            inputs: VecDeque::new(),
            events: Vec::new(),
            fetches: Vec::new(),
            appends: Vec::new(),
            violations: Vec::new(),
            accounting_mismatches: 0,
            last_input_was_timer_at: None,
            fail_next_append: None,
        }
    }

    /// Virtual time now.
    pub fn now(&self) -> f64 {
        self.now
    }

    /// Gives the engine an input now and carries out everything that follows at this instant.
    pub fn input(&mut self, input: Input) {
        self.inputs.push_back(input);
        self.settle();
    }

    /// Delivers queued inputs and carries out actions until both are exhausted.
    fn settle(&mut self) {
        let mut guard = 0usize;
        loop {
            while let Some(action) = self.engine.poll_action() {
                self.execute(action);
            }
            let Some(input) = self.inputs.pop_front() else {
                break;
            };
            self.last_input_was_timer_at = None;
            self.engine.handle(self.now, input);
            self.check_accounting();
            guard += 1;
            if guard > 100_000 {
                self.violations
                    .push(format!("input storm at t={}", self.now));
                break;
            }
        }
    }

    fn check_accounting(&mut self) {
        for (track, (_, shell_ranges)) in &self.media.tracks {
            if self.engine.buffered(*track) != ranges::normalize(shell_ranges) {
                // The shell sends `Buffered` right after each append, so the two agree
                // once every queued input was delivered.
                if self
                    .inputs
                    .iter()
                    .all(|input| !matches!(input, Input::Buffered { track: t, .. } if t == track))
                {
                    self.accounting_mismatches += 1;
                }
            }
        }
    }

    fn queue_media_snapshot(&mut self) {
        self.inputs.push_back(Input::Media(self.media.snapshot()));
    }

    fn execute(&mut self, action: Action) {
        match action {
            Action::Fetch(request) => self.start_fetch(request),
            Action::Abort { request } => {
                if let Some(transfer) = self.transfers.remove(&request) {
                    self.network.abort(self.now, &transfer.plan);
                }
            }
            Action::CreateTrack { track, mime } => {
                // Creating an existing track recreates it empty (decode-error recovery).
                if self
                    .media
                    .tracks
                    .insert(track, (mime, Vec::new()))
                    .is_some()
                {
                    self.inputs.push_back(Input::Buffered {
                        track,
                        ranges: Vec::new(),
                    });
                }
            }
            Action::Append {
                track,
                request,
                start,
                duration,
            } => {
                let Some((_, buffered)) = self.media.tracks.get_mut(&track) else {
                    self.violations
                        .push(format!("append to track {track:?} before it was created"));
                    return;
                };
                if duration > 0.0
                    && let Some(failure) = self.fail_next_append.take()
                {
                    self.inputs.push_back(Input::AppendFailed {
                        track,
                        request,
                        failure,
                    });
                    return;
                }
                if duration > 0.0 {
                    ranges::insert(buffered, TimeRange::new(start, start + duration));
                }
                let ranges = buffered.clone();
                let level = match self.kinds.get(&request) {
                    Some(RequestKind::Segment { level, .. }) => Some(*level),
                    _ => None,
                };
                self.appends.push(Appended {
                    at: self.now,
                    track,
                    request,
                    start,
                    duration,
                    level,
                    stalled_before_s: self.media.stalled_s,
                });
                self.inputs.push_back(Input::Buffered { track, ranges });
                self.media.refresh();
                self.queue_media_snapshot();
            }
            Action::Evict { track, start, end } => {
                if let Some((_, buffered)) = self.media.tracks.get_mut(&track) {
                    ranges::remove(buffered, start, end);
                    let ranges = buffered.clone();
                    self.inputs.push_back(Input::Buffered { track, ranges });
                    if self.media.refresh() {
                        self.queue_media_snapshot();
                    }
                } else {
                    self.violations
                        .push(format!("evict on track {track:?} before it was created"));
                }
            }
            Action::SetDuration { seconds } => self.media.duration = Some(seconds),
            Action::EndOfStream => {
                self.media.end_of_stream = true;
                if self.media.refresh() {
                    self.queue_media_snapshot();
                }
            }
            Action::SeekMedia { position } => {
                self.media.position = position.max(0.0);
                self.media.seeking = true;
                self.media.ended = false;
                self.media.refresh();
                self.queue_media_snapshot();
            }
            Action::PlayMedia => {
                self.media.paused = false;
                self.media.refresh();
                self.queue_media_snapshot();
            }
            Action::PauseMedia => {
                self.media.paused = true;
                self.media.refresh();
                self.queue_media_snapshot();
            }
            Action::Emit(event) => self.events.push((self.now, event)),
        }
    }

    fn start_fetch(&mut self, request: FetchRequest) {
        let resource = self.origin.get(self.now, &request.url, request.range);
        let bytes = match &resource {
            Resource::Text(text) => text.len() as u64,
            Resource::Bytes(bytes) => *bytes,
            Resource::Fail(_) => 0,
        };
        let plan = self.network.transfer(self.now, bytes, &request.kind);
        self.kinds.insert(request.id, request.kind);
        self.transfers.insert(
            request.id,
            Transfer {
                plan,
                kind: request.kind,
                resource,
                first_byte_sent: false,
                progress_sent: 0,
            },
        );
        self.fetches.push((self.now, request));
    }

    /// Time of the next event anywhere, if any.
    fn next_event_time(&self) -> Option<f64> {
        let transfers = self.transfers.values().map(Transfer::next_time);
        let media = self
            .media
            .time_to_next_event()
            .map(|seconds| self.now + seconds);
        let deadline = self.engine.next_deadline().filter(|deadline| {
            self.last_input_was_timer_at != Some(*deadline) || *deadline > self.now
        });
        transfers
            .chain(media)
            .chain(deadline)
            .filter(|time| time.is_finite())
            .min_by(f64::total_cmp)
            .map(|time| time.max(self.now))
    }

    /// Moves to the next event and delivers it. False when nothing is left to happen.
    pub fn step(&mut self) -> bool {
        let Some(next) = self.next_event_time() else {
            return false;
        };
        self.media.advance(next - self.now);
        self.now = next;
        // Transfers due now, in request order.
        let due: Vec<RequestId> = self
            .transfers
            .iter()
            .filter(|(_, transfer)| transfer.next_time() <= next)
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            self.deliver_transfer_event(id);
        }
        if self.media.refresh() {
            self.queue_media_snapshot();
        }
        if self
            .engine
            .next_deadline()
            .is_some_and(|deadline| deadline <= self.now)
            && self.inputs.is_empty()
        {
            self.inputs.push_back(Input::Timer);
            self.settle();
            self.last_input_was_timer_at = Some(self.now);
            return true;
        }
        self.settle();
        true
    }

    fn deliver_transfer_event(&mut self, id: RequestId) {
        let Some(transfer) = self.transfers.get_mut(&id) else {
            return;
        };
        if let Resource::Fail(failure) = &transfer.resource {
            let failure = failure.clone();
            self.transfers.remove(&id);
            self.inputs.push_back(Input::RequestFailed {
                request: id,
                failure,
            });
            return;
        }
        if !transfer.first_byte_sent {
            transfer.first_byte_sent = true;
            let total = match transfer.resource {
                Resource::Bytes(bytes) => Some(bytes),
                Resource::Text(ref text) => Some(text.len() as u64),
                Resource::Fail(_) => None,
            };
            self.inputs.push_back(Input::ResponseStarted {
                request: id,
                total_bytes: total,
            });
            if transfer.next_time() > self.now {
                return;
            }
        }
        if let Some((_, loaded)) = transfer.plan.progress.get(transfer.progress_sent).copied() {
            transfer.progress_sent += 1;
            self.inputs.push_back(Input::Progress {
                request: id,
                loaded,
            });
            return;
        }
        let transfer = self.transfers.remove(&id).expect("present");
        let input = match transfer.resource {
            Resource::Text(text) if transfer.kind.is_playlist() => Input::PlaylistLoaded {
                request: id,
                text,
                url: None,
            },
            Resource::Text(text) => Input::SegmentLoaded {
                request: id,
                bytes: text.len() as u64,
            },
            Resource::Bytes(bytes) => Input::SegmentLoaded { request: id, bytes },
            Resource::Fail(failure) => Input::RequestFailed {
                request: id,
                failure,
            },
        };
        self.inputs.push_back(input);
    }

    /// Runs until nothing is left to happen or `until` (virtual seconds) is reached.
    pub fn run_until(&mut self, until: f64) {
        let mut steps = 0usize;
        while self.next_event_time().is_some_and(|next| next <= until) && steps < 5_000_000 {
            if !self.step() {
                break;
            }
            steps += 1;
        }
        if until > self.now && until.is_finite() {
            self.media.advance(until - self.now);
            self.now = until;
            if self.media.refresh() {
                self.queue_media_snapshot();
                self.settle();
            }
        }
    }

    /// Runs until playback ended, the engine failed, or `limit` virtual seconds passed.
    pub fn run_to_end(&mut self, limit: f64) {
        let mut steps = 0usize;
        while !self.media.ended && !self.failed() && steps < 5_000_000 {
            match self.next_event_time() {
                Some(next) if next <= limit => {
                    self.step();
                }
                _ => break,
            }
            steps += 1;
        }
    }

    /// Whether the engine reported a fatal error.
    pub fn failed(&self) -> bool {
        self.events
            .iter()
            .any(|(_, event)| matches!(event, Event::Error { fatal: true, .. }))
    }

    /// Loads `url`.
    pub fn load(&mut self, url: &str) {
        self.input(Input::Load {
            url: url.to_owned(),
        });
    }
}
