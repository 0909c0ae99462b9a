//! QoE_lin: the linear per-segment quality of experience of Pensieve and MPC.
//!
//! `bitrate_Mbps − 4.3 × rebuffer_s − |bitrate_Mbps − previous_bitrate_Mbps|`: one second
//! of stall costs as much as one segment at 4.3 Mbit/s, and a switch costs its size.

/// Penalty per second of rebuffering, in Mbit/s-equivalents.
pub const REBUFFER_PENALTY_PER_S: f64 = 4.3;

/// QoE_lin of one segment.
pub fn segment_qoe_lin(bitrate_mbps: f64, rebuffer_s: f64, previous_bitrate_mbps: f64) -> f64 {
    bitrate_mbps
        - REBUFFER_PENALTY_PER_S * rebuffer_s
        - (bitrate_mbps - previous_bitrate_mbps).abs()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_published_definition() {
        assert_eq!(segment_qoe_lin(4.3, 0.0, 4.3), 4.3);
        assert!((segment_qoe_lin(1.2, 0.5, 2.85) - (1.2 - 2.15 - 1.65)).abs() < 1e-12);
        assert!((segment_qoe_lin(0.75, 0.0, 0.3) - 0.3).abs() < 1e-12);
    }
}
