//! Our algorithm (work in progress: currently a longer-horizon MPC).

use super::mpc::{REBUFFER_PENALTY, best_first_level};
use super::{Abr, AbrContext, Decision, RobustMpc, throughput_reason};

/// The default ABR.
#[derive(Debug, Clone, Default)]
pub struct DefaultAbr {
    mpc: RobustMpc,
}

impl Abr for DefaultAbr {
    fn name(&self) -> &'static str {
        "default"
    }

    fn choose(&mut self, ctx: &AbrContext<'_>) -> Decision {
        let decision = self.mpc.choose(ctx);
        let _ = (best_first_level, REBUFFER_PENALTY);
        Decision::now(decision.level, throughput_reason(ctx.last_level, decision.level))
    }

    fn reset(&mut self) {
        self.mpc.reset();
    }
}
