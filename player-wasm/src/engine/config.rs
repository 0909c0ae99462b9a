//! The engine's options, validated once so the rest of the engine can trust them.

use super::cmcd::{CmcdSession, MAX_CMCD_ID};
use crate::abr::AbrKind;

/// How failed requests are retried.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Retries of one request before giving up on it.
    pub max_retries: u32,
    /// Delay before the first retry, in seconds; doubles on each further retry.
    pub initial_delay_s: f64,
    /// Upper bound of the delay between retries, in seconds.
    pub max_delay_s: f64,
    /// A request with no response headers after this long is abandoned as failed.
    pub timeout_s: f64,
}

/// `value` as JavaScript would print it for the usual cases (`1.5`, `-2`, `NaN`,
/// `Infinity`), to three decimals, without the float formatting machinery (kilobytes of
/// the browser package for two error messages).
pub fn number_text(value: f64) -> String {
    if value.is_nan() {
        return "NaN".into();
    }
    if value.is_infinite() {
        return if value > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let sign = if value < 0.0 { "-" } else { "" };
    let thousandths = (value.abs() * 1000.0).round();
    if thousandths >= 1e18 {
        return format!("{sign}1e18 or more");
    }
    let thousandths = thousandths as u64;
    let (whole, fraction) = (thousandths / 1000, thousandths % 1000);
    if fraction == 0 {
        return format!("{sign}{whole}");
    }
    let fraction = format!("{fraction:03}");
    format!("{sign}{whole}.{}", fraction.trim_end_matches('0'))
}

impl RetryPolicy {
    /// Delay before retry number `attempt` (1 for the first retry).
    pub fn delay_s(&self, attempt: u32) -> f64 {
        let exponent = attempt.saturating_sub(1).min(30) as i32;
        (self.initial_delay_s * 2f64.powi(exponent)).min(self.max_delay_s)
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            initial_delay_s: 0.5,
            max_delay_s: 8.0,
            timeout_s: 20.0,
        }
    }
}

/// Every option of the engine. Construct with `Default` and change fields, then let
/// [`EngineConfig::validate`] (called by the engine) check them.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineConfig {
    /// Adaptive-bitrate algorithm.
    pub abr: AbrKind,
    /// Level of the first segment (index into the ladder sorted by ascending bitrate);
    /// `None` lets the ABR choose.
    pub start_level: Option<usize>,
    /// Where playback begins, in seconds from the start of the stream (negative: from
    /// its end, like `EXT-X-START`); `None` uses the playlist's `EXT-X-START`, else the
    /// start for VOD and the live sync point for live. Clamped to the playlist.
    pub start_position_s: Option<f64>,
    /// Stop fetching when this much media is buffered ahead of the playhead, in seconds.
    pub max_buffer_s: f64,
    /// While the buffer is full, look again in steps of this many seconds.
    pub buffer_full_step_s: f64,
    /// Keep at most this much media behind the playhead, in seconds (`None`: keep all).
    pub back_buffer_s: Option<f64>,
    /// Never choose a level taller than the player (needs the element size in
    /// [`MediaSnapshot`](super::MediaSnapshot)).
    pub cap_level_to_player_size: bool,
    /// Start playing as soon as possible.
    pub autoplay: bool,
    /// Abort a segment that will not arrive before the buffer runs dry and refetch it
    /// at a level that will.
    pub abandon_slow_downloads: bool,
    /// Holes in the buffer up to this long (seconds) are jumped over when playback stalls at them.
    pub max_gap_jump_s: f64,
    /// Live: start this many target durations behind the live edge.
    pub live_sync_target_durations: f64,
    /// Retries of playlist requests.
    pub playlist_retry: RetryPolicy,
    /// Retries of segment requests.
    pub segment_retry: RetryPolicy,
    /// Upcoming segments described to the ABR.
    pub abr_lookahead_segments: usize,
    /// VOD with byte ranges: load every level's playlist in the background, so the ABR
    /// knows the exact size of every upcoming segment at every level.
    pub preload_playlists: bool,
    /// CMCD v1 on every request (a `CMCD=` query argument) for this session; `None`
    /// sends none.
    pub cmcd: Option<CmcdSession>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            abr: AbrKind::Default,
            start_level: None,
            start_position_s: None,
            // 60 s: the cap the default ABR was measured with; 30 s cost it 5 % of
            // QoE on the volatile trace sets (`abr-lab --buffer-cap`, BENCHMARKS.md).
            max_buffer_s: 60.0,
            buffer_full_step_s: 0.5,
            back_buffer_s: Some(30.0),
            cap_level_to_player_size: false,
            autoplay: true,
            abandon_slow_downloads: true,
            max_gap_jump_s: 2.0,
            live_sync_target_durations: 3.0,
            playlist_retry: RetryPolicy::default(),
            segment_retry: RetryPolicy::default(),
            abr_lookahead_segments: 48,
            preload_playlists: true,
            cmcd: None,
        }
    }
}

/// An option with a value the engine cannot work with.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid option {option}: {problem}")]
pub struct ConfigError {
    /// The option's name, as the JS API spells it.
    pub option: &'static str,
    /// What is wrong with it.
    pub problem: String,
}

fn positive(option: &'static str, value: f64) -> Result<(), ConfigError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(ConfigError {
            option,
            problem: format!(
                "must be a positive number of seconds, got {}",
                number_text(value)
            ),
        })
    }
}

fn non_negative(option: &'static str, value: f64) -> Result<(), ConfigError> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(ConfigError {
            option,
            problem: format!("must be zero or more seconds, got {}", number_text(value)),
        })
    }
}

impl RetryPolicy {
    fn validate(&self, option: &'static str) -> Result<(), ConfigError> {
        if self.max_retries > 100 {
            return Err(ConfigError {
                option,
                problem: format!("maxRetries must be at most 100, got {}", self.max_retries),
            });
        }
        positive(option, self.initial_delay_s)?;
        positive(option, self.max_delay_s)?;
        positive(option, self.timeout_s)?;
        if self.max_delay_s < self.initial_delay_s {
            return Err(ConfigError {
                option,
                problem: "maxDelay must not be below the initial delay".into(),
            });
        }
        Ok(())
    }
}

impl EngineConfig {
    /// Checks every option; the error names the first bad one.
    pub fn validate(&self) -> Result<(), ConfigError> {
        positive("maxBufferSeconds", self.max_buffer_s)?;
        if let Some(start) = self.start_position_s
            && !start.is_finite()
        {
            return Err(ConfigError {
                option: "startPosition",
                problem: format!(
                    "must be a finite number of seconds, got {}",
                    number_text(start)
                ),
            });
        }
        positive("bufferFullStepSeconds", self.buffer_full_step_s)?;
        if let Some(back) = self.back_buffer_s {
            non_negative("backBufferSeconds", back)?;
        }
        non_negative("maxGapJumpSeconds", self.max_gap_jump_s)?;
        positive("liveSyncTargetDurations", self.live_sync_target_durations)?;
        self.playlist_retry.validate("playlistRetry")?;
        self.segment_retry.validate("segmentRetry")?;
        if self.abr_lookahead_segments == 0 || self.abr_lookahead_segments > 1000 {
            return Err(ConfigError {
                option: "abrLookaheadSegments",
                problem: format!(
                    "must be between 1 and 1000, got {}",
                    self.abr_lookahead_segments
                ),
            });
        }
        if let Some(session) = &self.cmcd {
            let bad = |id: &str| id.is_empty() || id.len() > MAX_CMCD_ID;
            if bad(&session.sid) || session.cid.as_deref().is_some_and(bad) {
                return Err(ConfigError {
                    option: "cmcd",
                    problem: format!("sid and cid must be 1 to {MAX_CMCD_ID} characters"),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_in_messages_read_like_javascript() {
        assert_eq!(number_text(1.5), "1.5");
        assert_eq!(number_text(-2.0), "-2");
        assert_eq!(number_text(0.125), "0.125");
        assert_eq!(number_text(0.1), "0.1");
        assert_eq!(number_text(f64::NAN), "NaN");
        assert_eq!(number_text(f64::NEG_INFINITY), "-Infinity");
        assert_eq!(number_text(1e300), "1e18 or more");
    }

    use super::*;

    #[test]
    fn defaults_are_valid() {
        EngineConfig::default().validate().unwrap();
    }

    #[test]
    fn bad_values_name_the_option() {
        let cases: Vec<(EngineConfig, &str)> = vec![
            (
                EngineConfig {
                    max_buffer_s: 0.0,
                    ..Default::default()
                },
                "maxBufferSeconds",
            ),
            (
                EngineConfig {
                    max_buffer_s: f64::NAN,
                    ..Default::default()
                },
                "maxBufferSeconds",
            ),
            (
                EngineConfig {
                    back_buffer_s: Some(-1.0),
                    ..Default::default()
                },
                "backBufferSeconds",
            ),
            (
                EngineConfig {
                    max_gap_jump_s: f64::INFINITY,
                    ..Default::default()
                },
                "maxGapJumpSeconds",
            ),
            (
                EngineConfig {
                    segment_retry: RetryPolicy {
                        initial_delay_s: 4.0,
                        max_delay_s: 1.0,
                        ..Default::default()
                    },
                    ..Default::default()
                },
                "segmentRetry",
            ),
            (
                EngineConfig {
                    abr_lookahead_segments: 0,
                    ..Default::default()
                },
                "abrLookaheadSegments",
            ),
            (
                EngineConfig {
                    cmcd: Some(CmcdSession {
                        sid: "x".repeat(65),
                        cid: None,
                    }),
                    ..Default::default()
                },
                "cmcd",
            ),
        ];
        for (config, option) in cases {
            let error = config.validate().unwrap_err();
            assert_eq!(error.option, option);
            assert!(error.to_string().contains(option));
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.delay_s(1), 0.5);
        assert_eq!(policy.delay_s(2), 1.0);
        assert_eq!(policy.delay_s(3), 2.0);
        assert_eq!(policy.delay_s(10), 8.0);
        assert_eq!(policy.delay_s(u32::MAX), 8.0);
    }
}
