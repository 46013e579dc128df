//! The budget metrics, listed once: their names in `#[budget(...)]` and
//! `assert_budget!`, their labels in messages and reports, their units and
//! how to read them from a network's [`Totals`] (in `const` context).
//!
//! Both budget checks, the macro attribute (in the compiler) and
//! `assert_budget!` (in the runtime, evaluated by the compiler's const
//! evaluator), read metrics and write their messages through this module,
//! so they accept the same names and say the same thing.

use crate::format::Text;
use crate::info::Totals;
use crate::training::{Optimizer, Precision};

/// What a metric measures, which decides its limit's units and how values print.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// A count: limits take K, M, G, T (decimal); values print as `1,555,200 (1.555 M)`.
    Count,
    /// Bytes: limits take B, KB, MB, GB, TB (decimal) or KiB, MiB, GiB, TiB
    /// (binary); values print as `7,168 B (7.000 KiB)`.
    Bytes,
}

impl Unit {
    /// The unit suffixes a limit may carry, with their scale.
    pub const fn suffixes(self) -> &'static [(&'static str, u64)] {
        match self {
            Unit::Count => &[
                ("", 1),
                ("K", 1_000),
                ("M", 1_000_000),
                ("G", 1_000_000_000),
                ("T", 1_000_000_000_000),
            ],
            Unit::Bytes => &[
                ("", 1),
                ("B", 1),
                ("KB", 1_000),
                ("MB", 1_000_000),
                ("GB", 1_000_000_000),
                ("TB", 1_000_000_000_000),
                ("KiB", 1 << 10),
                ("MiB", 1 << 20),
                ("GiB", 1 << 30),
                ("TiB", 1 << 40),
            ],
        }
    }

    /// The suffixes in words, for error messages.
    pub const fn expected(self) -> &'static str {
        match self {
            Unit::Count => "K, M, G or T",
            Unit::Bytes => "B, KB, MB, GB, TB, KiB, MiB, GiB or TiB",
        }
    }
}

/// A quantity a budget can bound, read from the totals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Metric {
    /// Learnable parameters (`PARAMS`).
    Params,
    /// Conv and linear multiply-accumulates (`MACS`).
    Macs,
    /// FLOPs (`FLOPS`).
    Flops,
    /// Elements of all layer outputs (`ACTIVATIONS`).
    Activations,
    /// Buffer elements (`BUFFERS`).
    Buffers,
    /// Bytes moved (`MEMORY_ACCESS_BYTES`).
    MemoryAccess,
    /// `WEIGHT_BYTES`.
    WeightBytes,
    /// `PEAK_ACTIVATION_BYTES`.
    PeakActivation,
    /// Backward MACs of a training step (`BACKWARD_MACS`).
    BackwardMacs,
    /// Forward + backward MACs (`TRAIN_MACS`).
    TrainMacs,
    /// Forward + backward FLOPs (`TRAIN_FLOPS`).
    TrainFlops,
}

/// Metrics that take arguments, as `#[budget]` lists them after the others
/// (the compiler's budget parser reads them).
pub const WITH_ARGUMENTS: &[&str] = &[
    "latency(<device>)",
    "train_memory(batch = <n>, optimizer = <optimizer>)",
];

/// The metrics with arguments `assert_budget!` reads.
pub const ASSERT_WITH_ARGUMENTS: &[&str] = &["train_memory(batch = <n>, optimizer = <optimizer>)"];

impl Metric {
    /// Every metric, in the order error messages list them.
    pub const ALL: [Metric; 11] = [
        Metric::Params,
        Metric::Macs,
        Metric::Flops,
        Metric::Activations,
        Metric::Buffers,
        Metric::MemoryAccess,
        Metric::WeightBytes,
        Metric::PeakActivation,
        Metric::BackwardMacs,
        Metric::TrainMacs,
        Metric::TrainFlops,
    ];

    /// The metrics in the order of the report's totals.
    pub const REPORT: [Metric; 8] = [
        Metric::Params,
        Metric::Macs,
        Metric::Flops,
        Metric::MemoryAccess,
        Metric::Activations,
        Metric::WeightBytes,
        Metric::Buffers,
        Metric::PeakActivation,
    ];

    /// The label of the metric's line in the report's totals (`weights (f32)`).
    pub const fn report_label(self) -> &'static str {
        match self {
            Metric::Params => "params",
            Metric::Macs => "MACs",
            Metric::Flops => "FLOPs",
            Metric::Activations => "activations",
            Metric::Buffers => "buffers (f32)",
            Metric::MemoryAccess => "memory access",
            Metric::WeightBytes => "weights (f32)",
            Metric::PeakActivation => "peak activations",
            Metric::BackwardMacs => "backward MACs",
            Metric::TrainMacs => "train MACs",
            Metric::TrainFlops => "train FLOPs",
        }
    }

    /// The name in a budget (`memory_access`).
    pub const fn name(self) -> &'static str {
        match self {
            Metric::Params => "params",
            Metric::Macs => "macs",
            Metric::Flops => "flops",
            Metric::Activations => "activations",
            Metric::Buffers => "buffers",
            Metric::MemoryAccess => "memory_access",
            Metric::WeightBytes => "weight_bytes",
            Metric::PeakActivation => "peak_activation",
            Metric::BackwardMacs => "backward_macs",
            Metric::TrainMacs => "train_macs",
            Metric::TrainFlops => "train_flops",
        }
    }

    /// The label in messages and reports (`memory access bytes`).
    pub const fn label(self) -> &'static str {
        match self {
            Metric::Params => "params",
            Metric::Macs => "MACs",
            Metric::Flops => "FLOPs",
            Metric::Activations => "activations",
            Metric::Buffers => "buffers",
            Metric::MemoryAccess => "memory access bytes",
            Metric::WeightBytes => "weight bytes",
            Metric::PeakActivation => "peak activation bytes",
            Metric::BackwardMacs => "backward MACs",
            Metric::TrainMacs => "training-step MACs",
            Metric::TrainFlops => "training-step FLOPs",
        }
    }

    /// Count or bytes.
    pub const fn unit(self) -> Unit {
        match self {
            Metric::MemoryAccess | Metric::WeightBytes | Metric::PeakActivation => Unit::Bytes,
            _ => Unit::Count,
        }
    }

    /// The metric's value in `totals`.
    pub const fn get(self, totals: &Totals) -> u64 {
        match self {
            Metric::Params => totals.costs.params,
            Metric::Macs => totals.costs.macs,
            Metric::Flops => totals.costs.flops,
            Metric::Activations => totals.costs.activations,
            Metric::Buffers => totals.costs.buffers,
            Metric::MemoryAccess => totals.costs.memory_access_bytes,
            Metric::WeightBytes => totals.weight_bytes,
            Metric::PeakActivation => totals.peak_activation_bytes,
            Metric::BackwardMacs => totals.backward_macs(),
            Metric::TrainMacs => totals.train_macs(),
            Metric::TrainFlops => totals.train_flops(),
        }
    }

    /// The metric called `name`, if any.
    pub const fn from_name(name: &str) -> Option<Metric> {
        let mut i = 0;
        while i < Metric::ALL.len() {
            if str_eq(Metric::ALL[i].name(), name) {
                return Some(Metric::ALL[i]);
            }
            i += 1;
        }
        None
    }
}

/// Whether two strings are equal (usable in const context).
pub const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Capacity of a budget message.
pub const MESSAGE: usize = 512;

/// "unknown budget metric `weights`; expected one of: params, macs, ...",
/// listing every metric of [`Metric::ALL`], then `with_arguments` (the
/// metrics with arguments the caller reads); `hint` goes before the `;`
/// (the compiler's "did you mean").
pub const fn unknown_metric(name: &str, hint: &str, with_arguments: &[&str]) -> Text<MESSAGE> {
    let mut t = Text::new();
    t.push_str("unknown budget metric `");
    t.push_str(name);
    t.push_str("`");
    t.push_str(hint);
    t.push_str("; expected one of: ");
    let mut i = 0;
    while i < Metric::ALL.len() {
        if i > 0 {
            t.push_str(", ");
        }
        t.push_str(Metric::ALL[i].name());
        i += 1;
    }
    let mut j = 0;
    while j < with_arguments.len() {
        t.push_str(", ");
        t.push_str(with_arguments[j]);
        j += 1;
    }
    t
}

/// Writes a value of `unit`: `1,555,200 (1.555 M)` or `7,168 B (7.000 KiB)`.
pub const fn push_value<const N: usize>(t: &mut Text<N>, unit: Unit, value: u64) {
    t.push_thousands(value);
    match unit {
        Unit::Count => {
            t.push_str(" (");
            t.push_si(value);
        }
        Unit::Bytes => {
            t.push_str(" B (");
            t.push_bytes(value);
        }
    }
    t.push_str(")");
}

/// Writes a limit given as a plain number: `1,000` or `4,096 B`.
pub const fn push_limit<const N: usize>(t: &mut Text<N>, unit: Unit, limit: u64) {
    t.push_thousands(limit);
    if let Unit::Bytes = unit {
        t.push_str(" B");
    }
}

/// The message of a budget clause that a value breaks:
/// "budget exceeded: `Net` MACs are 1,555,200 (1.555 M), the budget is 1 M (55.5 % over)".
///
/// `network` is the type's name (empty to leave it out, as under a
/// `#[budget]` attribute, which sits on the network), `limit_text` the limit
/// as the user wrote it (or [`push_limit`]'s rendering), `strict` a `<` clause.
pub const fn exceeded(
    network: &str,
    metric: Metric,
    value: u64,
    limit: u64,
    limit_text: &str,
    strict: bool,
) -> Text<MESSAGE> {
    let mut t = Text::new();
    t.push_str("budget exceeded: ");
    if !network.is_empty() {
        t.push_str("`");
        t.push_str(network);
        t.push_str("` ");
    }
    t.push_str(metric.label());
    t.push_str(" are ");
    push_value(&mut t, metric.unit(), value);
    t.push_str(if strict {
        ", the budget must stay below "
    } else {
        ", the budget is "
    });
    t.push_str(limit_text);
    push_over(&mut t, value as f64, limit as f64);
    t
}

/// The message of a `train_memory(...)` clause that a value breaks:
/// "budget exceeded: `Net` training memory at batch 64 with Adam in f32 is
/// 1,234 B (1.205 KiB), the budget is 1 KiB (20.5 % over)".
#[allow(clippy::too_many_arguments)]
pub const fn train_memory_exceeded(
    network: &str,
    batch: u64,
    optimizer: Optimizer,
    precision: Precision,
    value: u64,
    limit: u64,
    limit_text: &str,
    strict: bool,
) -> Text<MESSAGE> {
    let mut t = Text::new();
    t.push_str("budget exceeded: ");
    if !network.is_empty() {
        t.push_str("`");
        t.push_str(network);
        t.push_str("` ");
    }
    t.push_str("training memory at batch ");
    t.push_u64(batch);
    t.push_str(" with ");
    t.push_str(optimizer.label());
    t.push_str(" in ");
    t.push_str(precision.name());
    t.push_str(" is ");
    push_value(&mut t, Unit::Bytes, value);
    t.push_str(if strict {
        ", the budget must stay below "
    } else {
        ", the budget is "
    });
    t.push_str(limit_text);
    push_over(&mut t, value as f64, limit as f64);
    t
}

/// Writes ` (55.5 % over)` for a positive `limit`, nothing otherwise.
pub const fn push_over<const N: usize>(t: &mut Text<N>, value: f64, limit: f64) {
    if limit > 0.0 && value >= limit {
        t.push_str(" (");
        t.push_fixed((value - limit) / limit * 100.0, 1);
        t.push_str(" % over)");
    }
}

/// Whether `value` breaks a `<=` (or, with `strict`, a `<`) limit.
pub const fn over(value: u64, limit: u64, strict: bool) -> bool {
    if strict {
        value >= limit
    } else {
        value > limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost::Costs;

    #[test]
    fn names_round_trip_and_values_come_from_the_totals() {
        let totals = Totals {
            costs: Costs::new(1, 2, 3, 4, 5, 6),
            weight_bytes: 7,
            buffer_bytes: 8,
            peak_activation_bytes: 9,
            training: crate::training::Training::new(10, 20, 30, 40, 0, 0, 0, 0),
            ..Totals::ZERO
        };
        let values: Vec<u64> = Metric::ALL.iter().map(|m| m.get(&totals)).collect();
        // params, macs, flops, activations, buffers, memory access, weights,
        // peak, backward MACs 10 + 20, train MACs 3 + 30, train FLOPs 4 + 70
        assert_eq!(values, [1, 3, 4, 6, 2, 5, 7, 9, 30, 33, 74]);
        for m in Metric::ALL {
            assert_eq!(Metric::from_name(m.name()), Some(m));
        }
        assert_eq!(Metric::from_name("weights"), None);
    }

    #[test]
    fn messages() {
        let m = exceeded("", Metric::Macs, 1_555_200, 1_000_000, "1 M", false);
        assert_eq!(
            m.as_str(),
            "budget exceeded: MACs are 1,555,200 (1.555 M), the budget is 1 M (55.5 % over)"
        );
        let mut limit = Text::<32>::new();
        push_limit(&mut limit, Unit::Bytes, 4096);
        let m = exceeded("Net", Metric::WeightBytes, 7168, 4096, limit.as_str(), true);
        assert_eq!(
            m.as_str(),
            "budget exceeded: `Net` weight bytes are 7,168 B (7.000 KiB), the budget must stay below 4,096 B (75.0 % over)"
        );
        assert_eq!(
            unknown_metric("weights", "", WITH_ARGUMENTS).as_str(),
            "unknown budget metric `weights`; expected one of: params, macs, flops, activations, buffers, memory_access, weight_bytes, peak_activation, backward_macs, train_macs, train_flops, latency(<device>), train_memory(batch = <n>, optimizer = <optimizer>)"
        );
    }
}
