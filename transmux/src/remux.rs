//! From one segment's samples to fMP4 fragments, keeping each track's timeline
//! continuous across segments.
//!
//! Decode times are the stream's own (PTS/DTS on the continuous 90 kHz timeline, audio
//! rescaled to its sample rate), so a segment lands where its timestamps say and a
//! missing segment leaves a gap. Across a segment boundary the first sample is moved
//! onto the end of the previous segment when they are off by a little (the previous
//! segment's last duration is a guess; audio timestamps are rounded to 90 kHz), so
//! consecutive segments join without a gap or an overlap. A larger jump without a
//! signalled discontinuity is kept, with a warning.

use crate::audio::{AudioConfig, AudioSample};
use crate::error::{Error, Track, Warning, Warnings};
use crate::h264::VideoSample;
use crate::mp4::{self, FLAGS_NON_SYNC, FLAGS_SYNC, Kind, TrunSample};
use crate::timestamp::{CLOCK, rescale};

/// A presentation interval in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeRange {
    /// Earliest presentation time.
    pub start: f64,
    /// End of the latest sample.
    pub end: f64,
}

/// Largest offset (90 kHz) at which a segment's first video frame is moved onto the
/// previous segment's end: 100 ms.
const VIDEO_JOIN: i64 = 9_000;
/// Offset past which a jump between segments is reported: 1 s.
const JUMP: i64 = CLOCK;
/// Frame duration assumed when nothing else tells it (90 kHz): 30 fps.
const DEFAULT_FRAME: i64 = 3_000;

/// The video track's timeline.
#[derive(Debug, Default)]
pub(crate) struct VideoTimeline {
    /// Decode time right after the last frame written.
    next_dts: Option<i64>,
    /// Duration of the last frame written.
    last_duration: Option<i64>,
    /// Whether a keyframe was written since the start or the last discontinuity.
    keyframe_seen: bool,
}

impl VideoTimeline {
    /// Forgets the timeline (a discontinuity); leading frames up to a keyframe will be
    /// dropped again.
    pub(crate) fn reset(&mut self) {
        *self = VideoTimeline::default();
    }

    /// Appends the fragment of `samples` (bytes in `data`) to `out`; returns its
    /// presentation interval, or `None` when there was nothing to write.
    pub(crate) fn remux(
        &mut self,
        samples: &[VideoSample],
        data: &[u8],
        sequence: u32,
        out: &mut Vec<u8>,
        warnings: &mut Warnings,
    ) -> Result<Option<TimeRange>, Error> {
        let first = if self.keyframe_seen {
            0
        } else {
            samples.iter().position(|s| s.key).unwrap_or(samples.len())
        };
        if first > 0 {
            warnings.push(Warning::LeadingNonKeyframes { frames: first });
        }
        let samples = samples.get(first..).unwrap_or(&[]);
        let (Some(head), Some(tail)) = (samples.first(), samples.last()) else {
            return Ok(None);
        };
        self.keyframe_seen = true;

        // Decode times: strictly increasing.
        let mut dts: Vec<i64> = samples.iter().map(|s| s.dts).collect();
        let mut fixed = false;
        let mut previous: Option<i64> = None;
        for current in dts.iter_mut() {
            if let Some(previous) = previous
                && *current <= previous
            {
                *current = previous + 1;
                fixed = true;
            }
            previous = Some(*current);
        }
        if fixed {
            warnings.push(Warning::NonMonotonicDts);
        }
        // Join the previous segment.
        if let (Some(next), Some(first_dts)) = (self.next_dts, dts.first().copied()) {
            let delta = first_dts - next;
            let before_second = dts.get(1).is_none_or(|&second| next < second);
            if delta.abs() <= VIDEO_JOIN && before_second && next >= 0 {
                if let Some(first) = dts.first_mut() {
                    *first = next;
                }
            } else if delta.abs() > JUMP {
                warnings.push(Warning::TimestampJump {
                    track: Track::Video,
                    delta_ms: delta / 90,
                });
            }
        }

        let mut trun = Vec::with_capacity(samples.len());
        let mut start = i64::MAX;
        let mut end = i64::MIN;
        let mut clamped = false;
        let mut previous_duration = self.last_duration.unwrap_or(DEFAULT_FRAME);
        for (i, sample) in samples.iter().enumerate() {
            let decode = dts.get(i).copied().unwrap_or(sample.dts);
            let duration = match dts.get(i + 1) {
                Some(next) => next - decode,
                None => previous_duration,
            };
            previous_duration = duration;
            let mut offset = sample.pts - decode;
            if offset < 0 {
                offset = 0;
                clamped = true;
            }
            start = start.min(decode + offset);
            end = end.max(decode + offset + duration);
            trun.push(TrunSample {
                duration: u32::try_from(duration).unwrap_or(u32::MAX),
                size: u32::try_from(sample.size)
                    .map_err(|_| Error::TooLarge { bytes: sample.size })?,
                flags: if sample.key {
                    FLAGS_SYNC
                } else {
                    FLAGS_NON_SYNC
                },
                composition_offset: u32::try_from(offset).unwrap_or(u32::MAX),
            });
        }
        if clamped {
            warnings.push(Warning::PtsBeforeDts);
        }
        let last_dts = dts.last().copied().unwrap_or(tail.dts);
        self.next_dts = Some(last_dts + previous_duration);
        self.last_duration = Some(previous_duration);

        let payload = data
            .get(head.offset..tail.offset + tail.size)
            .unwrap_or(&[]);
        let base = u64::try_from(dts.first().copied().unwrap_or(0)).unwrap_or(0);
        mp4::fragment(
            out,
            sequence,
            mp4::VIDEO_TRACK_ID,
            Kind::Video,
            base,
            &trun,
            payload,
        )?;
        Ok(Some(TimeRange {
            start: start as f64 / CLOCK as f64,
            end: end as f64 / CLOCK as f64,
        }))
    }
}

/// The audio track's timeline, in samples of its rate.
#[derive(Debug, Default)]
pub(crate) struct AudioTimeline {
    /// Time right after the last frame written, and the rate it is counted in.
    next: Option<(i64, u32)>,
}

impl AudioTimeline {
    /// Forgets the timeline (a discontinuity).
    pub(crate) fn reset(&mut self) {
        self.next = None;
    }

    /// Appends the fragments of `samples` to `out`: one, or one per contiguous run when
    /// the frames' timestamps break inside the segment. Returns the interval covered.
    pub(crate) fn remux(
        &mut self,
        samples: &[AudioSample],
        data: &[u8],
        config: &AudioConfig,
        sequence: &mut u32,
        out: &mut Vec<u8>,
        warnings: &mut Warnings,
    ) -> Result<Option<TimeRange>, Error> {
        let rate = config.sample_rate.max(1);
        let mut range: Option<TimeRange> = None;
        // The run being collected: its start time, expected next time, first sample.
        let mut run: Option<(i64, i64, usize)> = None;
        for (index, sample) in samples.iter().enumerate() {
            let time = rescale(sample.pts, CLOCK as u32, rate);
            let duration = i64::from(sample.duration);
            match run {
                Some((start, expected, first)) => {
                    let delta = time - expected;
                    if delta.abs() * 2 <= duration {
                        run = Some((start, expected + duration, first));
                        continue;
                    }
                    warnings.push(Warning::AudioGap {
                        at_ms: time * 1000 / i64::from(rate),
                        delta_ms: delta * 1000 / i64::from(rate),
                    });
                    self.write(
                        samples.get(first..index).unwrap_or(&[]),
                        data,
                        start,
                        rate,
                        sequence,
                        out,
                        &mut range,
                    )?;
                    run = Some((time, time + duration, index));
                }
                None => {
                    let mut start = time;
                    if let Some((next, next_rate)) = self.next
                        && next_rate == rate
                    {
                        let delta = time - next;
                        if delta.abs() <= duration {
                            start = next;
                        } else if delta.abs() > i64::from(rate) {
                            warnings.push(Warning::TimestampJump {
                                track: Track::Audio,
                                delta_ms: delta * 1000 / i64::from(rate),
                            });
                        }
                    }
                    run = Some((start, start + duration, index));
                }
            }
        }
        if let Some((start, _, first)) = run {
            self.write(
                samples.get(first..).unwrap_or(&[]),
                data,
                start,
                rate,
                sequence,
                out,
                &mut range,
            )?;
        }
        Ok(range)
    }

    /// Writes one contiguous run starting at `start` (in samples of `rate`).
    #[allow(clippy::too_many_arguments)]
    fn write(
        &mut self,
        run: &[AudioSample],
        data: &[u8],
        start: i64,
        rate: u32,
        sequence: &mut u32,
        out: &mut Vec<u8>,
        range: &mut Option<TimeRange>,
    ) -> Result<(), Error> {
        let (Some(head), Some(tail)) = (run.first(), run.last()) else {
            return Ok(());
        };
        let mut trun = Vec::with_capacity(run.len());
        let mut length = 0i64;
        for sample in run {
            length += i64::from(sample.duration);
            trun.push(TrunSample {
                duration: sample.duration,
                size: u32::try_from(sample.size)
                    .map_err(|_| Error::TooLarge { bytes: sample.size })?,
                flags: FLAGS_SYNC,
                composition_offset: 0,
            });
        }
        let payload = data
            .get(head.offset..tail.offset + tail.size)
            .unwrap_or(&[]);
        let base = u64::try_from(start).unwrap_or(0);
        mp4::fragment(
            out,
            *sequence,
            mp4::AUDIO_TRACK_ID,
            Kind::Audio,
            base,
            &trun,
            payload,
        )?;
        *sequence = sequence.wrapping_add(1);
        self.next = Some((start + length, rate));
        let seconds = |t: i64| t as f64 / f64::from(rate);
        let (run_start, run_end) = (seconds(start), seconds(start + length));
        *range = Some(match *range {
            Some(r) => TimeRange {
                start: r.start.min(run_start),
                end: r.end.max(run_end),
            },
            None => TimeRange {
                start: run_start,
                end: run_end,
            },
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::AudioCodec;
    use crate::mp4::{children, find};

    fn video(pts: i64, dts: i64, key: bool, index: usize) -> VideoSample {
        VideoSample {
            pts,
            dts,
            offset: index * 10,
            size: 10,
            key,
        }
    }

    /// (base decode time, per-sample (duration, flags, composition offset)) of a video
    /// fragment.
    fn read_video(fragment: &[u8]) -> (u64, Vec<(u32, u32, u32)>) {
        let moof = children(fragment)[0].1;
        let tfdt = find(moof, &[b"traf", b"tfdt"]).unwrap();
        let base = u64::from_be_bytes(tfdt[4..12].try_into().unwrap());
        let trun = find(moof, &[b"traf", b"trun"]).unwrap();
        let word = |at: usize| u32::from_be_bytes(trun[at..at + 4].try_into().unwrap());
        let count = word(4) as usize;
        let samples = (0..count)
            .map(|i| (word(12 + 16 * i), word(20 + 16 * i), word(24 + 16 * i)))
            .collect();
        (base, samples)
    }

    #[test]
    fn b_frames_durations_and_join_across_segments() {
        let mut timeline = VideoTimeline::default();
        let mut warnings = Warnings::default();
        // I P B B in decode order; 25 fps (3600 ticks).
        let first = [
            video(10_800, 3_600, true, 0),
            video(25_200, 7_200, false, 1),
            video(18_000, 10_800, false, 2),
            video(21_600, 14_400, false, 3),
        ];
        let mut out = Vec::new();
        let range = timeline
            .remux(&first, &[7; 40], 1, &mut out, &mut warnings)
            .unwrap()
            .unwrap();
        let (base, samples) = read_video(&out);
        assert_eq!(base, 3_600);
        assert_eq!(
            samples,
            vec![
                (3_600, FLAGS_SYNC, 7_200),
                (3_600, FLAGS_NON_SYNC, 18_000),
                (3_600, FLAGS_NON_SYNC, 7_200),
                (3_600, FLAGS_NON_SYNC, 7_200)
            ]
        );
        assert_eq!(
            (range.start, range.end),
            (10_800.0 / 90_000.0, 28_800.0 / 90_000.0)
        );
        // The next segment starts 40 ticks late: moved onto the end of the first.
        let second = [
            video(25_240, 18_040, true, 0),
            video(28_800, 21_600, false, 1),
        ];
        let mut out = Vec::new();
        timeline
            .remux(&second, &[7; 20], 2, &mut out, &mut warnings)
            .unwrap();
        let (base, samples) = read_video(&out);
        assert_eq!(base, 18_000);
        assert_eq!(
            samples,
            vec![(3_600, FLAGS_SYNC, 7_240), (3_600, FLAGS_NON_SYNC, 7_200)]
        );
        assert!(warnings.finish().is_empty());
        // A segment 4 s later (a gap): kept where it is, reported.
        let mut warnings = Warnings::default();
        let third = [video(400_000, 400_000, true, 0)];
        let mut out = Vec::new();
        timeline
            .remux(&third, &[7; 10], 3, &mut out, &mut warnings)
            .unwrap();
        assert_eq!(read_video(&out), (400_000, vec![(3_600, FLAGS_SYNC, 0)]));
        assert!(matches!(
            warnings.finish().as_slice(),
            [Warning::TimestampJump {
                track: Track::Video,
                ..
            }]
        ));
    }

    #[test]
    fn leading_non_keyframes_dropped_until_a_keyframe() {
        let mut timeline = VideoTimeline::default();
        let mut warnings = Warnings::default();
        let samples = [
            video(0, 0, false, 0),
            video(3000, 3000, false, 1),
            video(6000, 6000, true, 2),
            video(9000, 9000, false, 3),
        ];
        let data: Vec<u8> = (0..40).collect();
        let mut out = Vec::new();
        timeline
            .remux(&samples, &data, 1, &mut out, &mut warnings)
            .unwrap();
        let (base, trun) = read_video(&out);
        assert_eq!((base, trun.len()), (6000, 2));
        assert_eq!(children(&out)[1].1, &data[20..]);
        assert_eq!(
            warnings.finish(),
            vec![Warning::LeadingNonKeyframes { frames: 2 }]
        );
        // Only non-keyframes: nothing.
        let mut timeline = VideoTimeline::default();
        let mut out = Vec::new();
        assert_eq!(
            timeline
                .remux(&samples[..2], &data, 1, &mut out, &mut Warnings::default())
                .unwrap(),
            None
        );
        assert!(out.is_empty());
    }

    #[test]
    fn broken_timestamps_repaired() {
        let mut timeline = VideoTimeline::default();
        let mut warnings = Warnings::default();
        let samples = [
            video(0, 0, true, 0),
            video(3000, 0, false, 1),
            video(1000, 3000, false, 2),
        ];
        let mut out = Vec::new();
        timeline
            .remux(&samples, &[0; 30], 1, &mut out, &mut warnings)
            .unwrap();
        let (_, trun) = read_video(&out);
        assert_eq!(
            trun,
            vec![
                (1, FLAGS_SYNC, 0),
                (2999, FLAGS_NON_SYNC, 2999),
                (2999, FLAGS_NON_SYNC, 0)
            ]
        );
        assert_eq!(
            warnings.finish(),
            vec![Warning::NonMonotonicDts, Warning::PtsBeforeDts]
        );
    }

    fn aac() -> AudioConfig {
        AudioConfig {
            codec: AudioCodec::Aac {
                object_type: 2,
                rate_index: 3,
                channel_config: 2,
            },
            sample_rate: 48_000,
            channels: 2,
        }
    }

    fn audio(pts: i64, index: usize) -> AudioSample {
        AudioSample {
            pts,
            offset: index * 4,
            size: 4,
            duration: 1024,
        }
    }

    fn bases(out: &[u8]) -> Vec<u64> {
        children(out)
            .into_iter()
            .filter(|c| &c.0 == b"moof")
            .map(|(_, moof)| {
                let tfdt = find(moof, &[b"traf", b"tfdt"]).unwrap();
                u64::from_be_bytes(tfdt[4..12].try_into().unwrap())
            })
            .collect()
    }

    #[test]
    fn audio_runs_and_segment_joins() {
        let mut timeline = AudioTimeline::default();
        let mut sequence = 1;
        let mut warnings = Warnings::default();
        // 1024 samples at 48 kHz = 1920 ticks of 90 kHz; timestamps rounded.
        let first = [audio(90_000, 0), audio(91_921, 1), audio(93_839, 2)];
        let mut out = Vec::new();
        let range = timeline
            .remux(
                &first,
                &[0; 12],
                &aac(),
                &mut sequence,
                &mut out,
                &mut warnings,
            )
            .unwrap()
            .unwrap();
        assert_eq!(bases(&out), vec![48_000]);
        assert_eq!(sequence, 2);
        assert_eq!(range.start, 1.0);
        assert_eq!(range.end, 1.0 + 3.0 * 1024.0 / 48_000.0);
        // The next segment joins exactly even though its PTS is 2 ticks off.
        let second = [audio(95_762, 0), audio(97_680, 1)];
        let mut out = Vec::new();
        timeline
            .remux(
                &second,
                &[0; 8],
                &aac(),
                &mut sequence,
                &mut out,
                &mut warnings,
            )
            .unwrap();
        assert_eq!(bases(&out), vec![48_000 + 3 * 1024]);
        assert!(warnings.finish().is_empty());
        // A hole of 10 frames inside a segment: two fragments.
        let mut warnings = Warnings::default();
        let third = [
            audio(99_600, 0),
            audio(99_600 + 11 * 1920, 1),
            audio(99_600 + 12 * 1920, 2),
        ];
        let mut out = Vec::new();
        timeline
            .remux(
                &third,
                &[0; 12],
                &aac(),
                &mut sequence,
                &mut out,
                &mut warnings,
            )
            .unwrap();
        assert_eq!(bases(&out), vec![48_000 + 5 * 1024, 48_000 + 16 * 1024]);
        assert!(matches!(
            warnings.finish().as_slice(),
            [Warning::AudioGap { delta_ms: 213, .. }]
        ));
    }
}
