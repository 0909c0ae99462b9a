//! Why the player chose a rendition: the `reason` field of level switches.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Why an adaptive-bitrate decision picked the level it did.
///
/// Serialised in kebab-case (`"buffer-low"`), the names the JS API and the telemetry use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SwitchReason {
    /// First choice of a session, before any throughput was measured.
    Startup,
    /// The application pinned a level (`setLevel(n)`).
    Manual,
    /// The buffer is below the safety level: go down (or stay low) to refill it.
    BufferLow,
    /// The buffer is comfortably full: a buffer-based rule allows going up.
    BufferHigh,
    /// Measured throughput supports a higher level.
    ThroughputUp,
    /// Measured throughput no longer supports the current level.
    ThroughputDown,
    /// Nothing justified a change: keep the current level.
    Hold,
    /// A download was abandoned because it would not finish before the buffer ran dry.
    Abandon,
    /// A model-predictive plan over the next segments chose this level.
    Plan,
    /// The level failed (retries exhausted) and the player fell back to another one.
    Failover,
    /// The level is capped by the player size or by an option.
    Capped,
}

impl SwitchReason {
    /// Every reason, in declaration order.
    pub const ALL: [SwitchReason; 11] = [
        SwitchReason::Startup,
        SwitchReason::Manual,
        SwitchReason::BufferLow,
        SwitchReason::BufferHigh,
        SwitchReason::ThroughputUp,
        SwitchReason::ThroughputDown,
        SwitchReason::Hold,
        SwitchReason::Abandon,
        SwitchReason::Plan,
        SwitchReason::Failover,
        SwitchReason::Capped,
    ];

    /// The wire name, e.g. `"buffer-low"`.
    pub fn as_str(self) -> &'static str {
        match self {
            SwitchReason::Startup => "startup",
            SwitchReason::Manual => "manual",
            SwitchReason::BufferLow => "buffer-low",
            SwitchReason::BufferHigh => "buffer-high",
            SwitchReason::ThroughputUp => "throughput-up",
            SwitchReason::ThroughputDown => "throughput-down",
            SwitchReason::Hold => "hold",
            SwitchReason::Abandon => "abandon",
            SwitchReason::Plan => "plan",
            SwitchReason::Failover => "failover",
            SwitchReason::Capped => "capped",
        }
    }
}

impl fmt::Display for SwitchReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that names no [`SwitchReason`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown switch reason {0:?}")]
pub struct ParseReasonError(pub String);

impl FromStr for SwitchReason {
    type Err = ParseReasonError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SwitchReason::ALL
            .into_iter()
            .find(|reason| reason.as_str() == s)
            .ok_or_else(|| ParseReasonError(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip_through_serde_and_from_str() {
        for reason in SwitchReason::ALL {
            let json = serde_json::to_string(&reason).unwrap();
            assert_eq!(json, format!("\"{}\"", reason.as_str()));
            let back: SwitchReason = serde_json::from_str(&json).unwrap();
            assert_eq!(back, reason);
            assert_eq!(reason.as_str().parse::<SwitchReason>().unwrap(), reason);
        }
    }

    #[test]
    fn unknown_names_are_rejected_with_the_name() {
        let err = "sideways".parse::<SwitchReason>().unwrap_err();
        assert!(err.to_string().contains("sideways"));
        assert!(serde_json::from_str::<SwitchReason>("\"BUFFER_LOW\"").is_err());
    }
}
