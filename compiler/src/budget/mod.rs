//! Budgets: `#[budget(params <= 4M, macs <= 320M, memory_access <= 64MiB)]`.
//!
//! Two steps: [`parse`] reads every `#[budget]` attribute of a network into
//! a [`Budget`], the IR (each clause with its target, relation, limit in base
//! units and spans), reporting malformed clauses; [`check`] compares the IR
//! with the network's counts and reports each broken clause under it.
//!
//! ```text
//! $BUDGET := "budget" "(" $CLAUSE ("," $CLAUSE)* ","? ")"
//! $CLAUSE := $METRIC ("<=" | "<") $LIMIT
//! $METRIC := params | macs | flops | memory_access | activations
//!          | weight_bytes | peak_activation | buffers
//!          | backward_macs | train_macs | train_flops
//!          | latency "(" $DEVICE ")"
//!          | train_memory "(" "batch" "=" $INT "," "optimizer" "=" $OPTIMIZER
//!                           ("," "precision" "=" ("f32" | "mixed"))? ")"
//! $DEVICE := a preset id as an identifier or a string: raspberry_pi_5, "h100-sxm", ...
//! $OPTIMIZER := sgd | sgd_momentum | adam | adamw
//! $LIMIT  := an integer or float literal with an optional unit suffix:
//!            counts K M G T (decimal); bytes B KB MB GB TB (decimal) or KiB MiB GiB TiB (binary);
//!            latency s ms us ns; train_memory takes bytes
//! ```
//!
//! The metrics, their units and labels are `netspec_model::metric`'s, shared
//! with `assert_budget!`. `latency(<device>)` is the roofline lower bound of
//! one sample on a preset device (`netspec_model::presets`): the sum over
//! layers of `max(FLOPs / peak f32 FLOP/s, bytes / bandwidth)`.

mod check;
mod parse;

pub use check::check;
pub use parse::parse;

use netspec_model::presets::Preset;
use netspec_model::{Metric, Optimizer, Precision};
use proc_macro2::{Span, TokenStream};

/// Every clause of a network's `#[budget]` attributes that parsed, in order.
#[derive(Clone, Debug, Default)]
pub struct Budget {
    /// The clauses.
    pub clauses: Vec<Clause>,
}

/// One clause: `target (<= | <) limit`.
#[derive(Clone, Debug)]
pub struct Clause {
    /// What is bounded.
    pub target: Target,
    /// `<` rather than `<=`.
    pub strict: bool,
    /// The limit.
    pub limit: Limit,
    /// The clause's tokens: an error about the clause spans them all.
    pub tokens: TokenStream,
}

/// What a clause bounds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Target {
    /// A metric of the totals.
    Metric(Metric),
    /// The roofline latency of one sample on a preset device, in seconds.
    Latency(&'static Preset),
    /// The memory of a training step, in bytes.
    TrainMemory {
        /// Samples per step.
        batch: u64,
        /// What the optimizer keeps.
        optimizer: Optimizer,
        /// f32 or mixed precision.
        precision: Precision,
    },
}

/// A clause's limit.
#[derive(Clone, Debug)]
pub struct Limit {
    /// In base units: a count, bytes (both whole numbers), or seconds.
    pub value: f64,
    /// The limit as messages show it (`1 M`, `4,096 B`, `20.00 us`).
    pub text: String,
    /// The literal's span.
    pub span: Span,
}
