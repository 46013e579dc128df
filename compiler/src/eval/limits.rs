//! Limits that keep expansion bounded in time, memory and stack on any
//! input: one budget of steps that the whole expansion draws on (every
//! layer, scope, repetition and block call takes one), a cap on layers, and
//! caps on how deep blocks and evaluation nest.
//!
//! Once the budget is exhausted, expansion stops: every later step yields an
//! invalid value at once, and loops end.

use super::Ctx;
use crate::value::Range;

/// How deep blocks may call blocks.
pub const MAX_BLOCK_DEPTH: usize = 64;
/// How deep evaluation may recurse (expressions, stages and block bodies
/// together), so that no input overflows the compiler's stack.
pub const MAX_EVAL_DEPTH: usize = 512;
/// The most layers one network may expand to.
pub const MAX_NODES: usize = 100_000;
/// The most steps (layers, scopes, repetitions and block calls) one
/// network's expansion may take.
pub const MAX_STEPS: usize = 250_000;

/// What one network's expansion has used so far.
#[derive(Default)]
pub(super) struct Limits {
    steps: usize,
    /// Blocks being expanded, innermost last.
    pub(super) block_depth: usize,
    eval_depth: usize,
    /// Set once any limit is hit: everything after stops.
    pub(super) exhausted: bool,
}

impl Ctx<'_> {
    /// Draws one step for the construct at `span`: `false` (after
    /// reporting it once) when the budget is spent.
    pub(super) fn step(&mut self, span: Range) -> bool {
        if self.limits.exhausted {
            return false;
        }
        self.limits.steps += 1;
        if self.limits.steps > MAX_STEPS {
            self.limits.exhausted = true;
            self.errors.push(
                span,
                format!(
                    "the network expands to more than {MAX_STEPS} layers, scopes and repetitions"
                ),
            );
            return false;
        }
        true
    }

    /// Enters one level of evaluation for the construct at `span`: `false`
    /// (after reporting it) past [`MAX_EVAL_DEPTH`]. Pair with [`Ctx::leave`].
    pub(super) fn enter(&mut self, span: Range) -> bool {
        if self.limits.exhausted {
            return false;
        }
        if self.limits.eval_depth >= MAX_EVAL_DEPTH {
            self.limits.exhausted = true;
            self.errors.push(
                span,
                format!("the expansion nests deeper than {MAX_EVAL_DEPTH} levels (blocks within lists within blocks)"),
            );
            return false;
        }
        self.limits.eval_depth += 1;
        true
    }

    /// Leaves a level entered with [`Ctx::enter`].
    pub(super) fn leave(&mut self) {
        self.limits.eval_depth = self.limits.eval_depth.saturating_sub(1);
    }
}

#[cfg(test)]
mod tests {
    use crate::eval::tests::{errors_of, run};

    #[test]
    fn empty_repetitions_draw_on_the_budget() {
        let e = errors_of("pub struct N(x: [3]) { x -> [[]; 1000000] }");
        assert_eq!(
            e,
            ["the network expands to more than 250000 layers, scopes and repetitions"]
        );
    }

    #[test]
    fn an_empty_loop_draws_on_the_budget() {
        let e = errors_of("pub struct N(x: [3]) { x -> [for i in 0..9223372036854775807 => []] }");
        assert_eq!(
            e,
            ["the network expands to more than 250000 layers, scopes and repetitions"]
        );
    }

    #[test]
    fn a_failing_repetition_stops_at_once() {
        // The first batch norm fails (5 features given, 3 channels); the
        // other 9.2e18 repetitions are not tried.
        let e =
            errors_of("pub struct N(x: [3, 4, 4]) { x -> [BatchNorm2d(5); 9223372036854775807] }");
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].contains("BatchNorm2d is given 5 features"), "{e:?}");
    }

    #[test]
    fn layers_are_capped() {
        let e = errors_of("pub struct N(x: [3]) { x -> [ReLU; 100001] }");
        assert_eq!(e, ["the network expands to more than 100000 layers"]);
    }

    #[test]
    fn a_large_network_within_the_budget_expands() {
        // 90,000 layers, 90,000 repetitions and one scope: 180,001 steps.
        let i = run("pub struct N(x: [3]) { x -> r: [ReLU; 90000] }").unwrap();
        assert_eq!(i.nodes.len(), 90_000);
    }

    #[test]
    fn recursive_blocks_stop_at_the_block_depth() {
        let e = errors_of("block R(x) { x -> R } pub struct N(x: [3]) { x -> R }");
        assert_eq!(e, ["blocks nest deeper than 64 levels (is `R` recursive?)"]);
    }
}
