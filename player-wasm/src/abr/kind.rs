//! Choosing an algorithm by name.

use super::{Abr, Bola, BufferBased, DefaultAbr, RobustMpc, ThroughputRule};
use std::fmt;
use std::str::FromStr;

/// The adaptive-bitrate algorithms the player ships.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AbrKind {
    /// Ours.
    #[default]
    Default,
    /// EWMA throughput (hls.js style).
    Throughput,
    /// BOLA-E (dash.js).
    Bola,
    /// BBA buffer-based.
    Bb,
    /// RobustMPC.
    RobustMpc,
}

impl AbrKind {
    /// Every algorithm, in a stable order.
    pub const ALL: [AbrKind; 5] = [
        AbrKind::Default,
        AbrKind::Throughput,
        AbrKind::Bola,
        AbrKind::Bb,
        AbrKind::RobustMpc,
    ];

    /// The name accepted by `from_str` and shown in reports.
    pub fn name(self) -> &'static str {
        match self {
            AbrKind::Default => "default",
            AbrKind::Throughput => "throughput",
            AbrKind::Bola => "bola",
            AbrKind::Bb => "bb",
            AbrKind::RobustMpc => "robust-mpc",
        }
    }

    /// A fresh instance of the algorithm.
    pub fn build(self) -> Box<dyn Abr> {
        match self {
            AbrKind::Default => Box::new(DefaultAbr::default()),
            AbrKind::Throughput => Box::new(ThroughputRule::default()),
            AbrKind::Bola => Box::new(Bola::default()),
            AbrKind::Bb => Box::new(BufferBased::default()),
            AbrKind::RobustMpc => Box::new(RobustMpc::default()),
        }
    }
}

impl fmt::Display for AbrKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not one of [`AbrKind::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown ABR algorithm {0:?} (expected one of: default, throughput, bola, bb, robust-mpc)")]
pub struct UnknownAbr(pub String);

impl FromStr for AbrKind {
    type Err = UnknownAbr;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AbrKind::ALL
            .into_iter()
            .find(|kind| kind.name() == s)
            .ok_or_else(|| UnknownAbr(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_build_the_named_algorithm() {
        for kind in AbrKind::ALL {
            assert_eq!(kind.name().parse::<AbrKind>().unwrap(), kind);
            assert_eq!(kind.build().name(), kind.name());
        }
        let error = "fastest".parse::<AbrKind>().unwrap_err().to_string();
        assert!(
            error.contains("fastest") && error.contains("robust-mpc"),
            "{error}"
        );
    }
}
