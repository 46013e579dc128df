//! `assert_budget!`: the `#[budget(...)]` check of `network!`, usable from any
//! crate on any network type, as a compile-time assertion.

use netspec_model::format::Text;
use netspec_model::metric::{
    exceeded, over, push_limit, str_eq, train_memory_exceeded, unknown_metric, Unit,
    ASSERT_WITH_ARGUMENTS, MESSAGE,
};
use netspec_model::{Metric, Optimizer, Precision, Totals};

/// Unit multipliers for budget limits: `macs <= 320 * M`, `weight_bytes <= 16 * MiB`.
pub mod units {
    /// Thousand.
    pub const K: u64 = 1_000;
    /// Million.
    pub const M: u64 = 1_000_000;
    /// Billion.
    pub const G: u64 = 1_000_000_000;
    /// Trillion.
    pub const T: u64 = 1_000_000_000_000;
    /// 1024 bytes.
    pub const KIB: u64 = 1 << 10;
    /// 1024² bytes.
    pub const MIB: u64 = 1 << 20;
    /// 1024³ bytes.
    pub const GIB: u64 = 1 << 30;
}

/// The message of a failed budget clause, built at compile time:
/// "budget exceeded: `ResNet50` MACs are 4,089,184,256 (4.089 G), the budget is 320,000,000 (1177.9 % over)".
/// The metrics, their labels and the number formatting are
/// `netspec_model::metric`'s, shared with `#[budget]`.
#[doc(hidden)]
pub const fn budget_message(
    network: &str,
    metric: Metric,
    value: u64,
    limit: u64,
    strict: bool,
) -> Text<MESSAGE> {
    let mut limit_text = Text::<64>::new();
    push_limit(&mut limit_text, metric.unit(), limit);
    exceeded(network, metric, value, limit, limit_text.as_str(), strict)
}

/// The message of a clause `metric (<= | <) limit` that `totals` break, or
/// of a metric that does not exist; `None` when the clause holds.
#[doc(hidden)]
pub const fn budget_check(
    network: &str,
    metric: &str,
    totals: &Totals,
    limit: u64,
    strict: bool,
) -> Option<Text<MESSAGE>> {
    let Some(metric) = Metric::from_name(metric) else {
        return Some(unknown_metric(metric, "", ASSERT_WITH_ARGUMENTS));
    };
    let value = metric.get(totals);
    if over(value, limit, strict) {
        Some(budget_message(network, metric, value, limit, strict))
    } else {
        None
    }
}

/// A message naming what is wrong with a `train_memory(...)` argument.
const fn argument_error(what: &str, found: &str, expected: &str) -> Text<MESSAGE> {
    let mut t = Text::new();
    t.push_str(what);
    t.push_str(found);
    t.push_str(expected);
    t
}

/// `"64"` as 64; `None` unless it is a positive integer (`_` separators allowed).
const fn positive(text: &str) -> Option<u64> {
    let bytes = text.as_bytes();
    let mut n: u64 = 0;
    let mut i = 0;
    let mut digits = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_digit() {
            n = match n.checked_mul(10) {
                Some(v) => match v.checked_add((b - b'0') as u64) {
                    Some(v) => v,
                    None => return None,
                },
                None => return None,
            };
            digits += 1;
        } else if b != b'_' {
            return None;
        }
        i += 1;
    }
    if digits == 0 || n == 0 {
        None
    } else {
        Some(n)
    }
}

/// The message of a clause `train_memory(args) (<= | <) limit` that
/// `totals` break, or of a malformed argument; `None` when it holds.
/// `args` are `(name, value)` as written (`("optimizer", "adam")`).
#[doc(hidden)]
pub const fn train_memory_check(
    network: &str,
    args: &[(&str, &str)],
    totals: &Totals,
    limit: u64,
    strict: bool,
) -> Option<Text<MESSAGE>> {
    let (mut batch, mut optimizer, mut precision) = (None, None, Precision::F32);
    let mut i = 0;
    while i < args.len() {
        let (name, value) = args[i];
        if str_eq(name, "batch") {
            batch = positive(value);
            if batch.is_none() {
                return Some(argument_error(
                    "the batch must be a positive integer, found ",
                    value,
                    "",
                ));
            }
        } else if str_eq(name, "optimizer") {
            optimizer = Optimizer::from_name(value);
            if optimizer.is_none() {
                return Some(argument_error(
                    "unknown optimizer `",
                    value,
                    "`; expected one of: sgd, sgd_momentum, adam, adamw",
                ));
            }
        } else if str_eq(name, "precision") {
            precision = match Precision::from_name(value) {
                Some(p) => p,
                None => {
                    return Some(argument_error(
                        "unknown precision `",
                        value,
                        "`; expected f32 or mixed",
                    ))
                }
            };
        } else {
            return Some(argument_error(
                "`train_memory` has no argument `",
                name,
                "`; it takes batch, optimizer and precision",
            ));
        }
        i += 1;
    }
    let (Some(batch), Some(optimizer)) = (batch, optimizer) else {
        return Some(argument_error(
            "`train_memory` needs a batch and an optimizer, as in ",
            "`train_memory(batch = 64, optimizer = adam) <= 16 * GIB`",
            "",
        ));
    };
    let value = totals.train_memory(batch, optimizer, precision);
    if !over(value, limit, strict) {
        return None;
    }
    let mut limit_text = Text::<64>::new();
    push_limit(&mut limit_text, Unit::Bytes, limit);
    Some(train_memory_exceeded(
        network,
        batch,
        optimizer,
        precision,
        value,
        limit,
        limit_text.as_str(),
        strict,
    ))
}

/// Asserts at compile time that a network type stays within a budget.
///
/// Metrics: those of `#[budget]` without arguments (`params`, `macs`,
/// `flops`, `activations`, `buffers`, `memory_access`, `weight_bytes`,
/// `peak_activation`, `backward_macs`, `train_macs`, `train_flops`:
/// [`netspec_model::Metric`]) and `train_memory(batch = N, optimizer = adam)`
/// (optionally `precision = mixed`; optimizers `sgd`, `sgd_momentum`, `adam`,
/// `adamw`); relations `<=` and `<`;
/// limits are `u64` const expressions (see [`units`]). A breach fails the
/// build with the numbers:
///
/// ```compile_fail
/// netspec::network! { pub struct Tiny(x: [4]) { x -> fc: Linear(10) } }
/// // 4·10 + 10 = 50 params
/// netspec::assert_budget!(Tiny, params <= 40);
/// ```
///
/// ```
/// use netspec::budget::units::{GIB, K};
/// netspec::network! { pub struct Tiny(x: [4]) { x -> fc: Linear(10) } }
/// netspec::assert_budget!(Tiny, params <= 50, macs < 1 * K, train_flops <= 1 * K);
/// netspec::assert_budget!(Tiny, train_memory(batch = 64, optimizer = adam) <= 1 * GIB);
/// ```
#[macro_export]
macro_rules! assert_budget {
    ($ty:ty, $($clauses:tt)+) => {
        $crate::__budget_clauses!($ty; $($clauses)+);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __budget_clauses {
    ($ty:ty; $(,)?) => {};
    ($ty:ty; $metric:ident ( $($args:tt)* ) $op:tt $limit:expr $(, $($rest:tt)*)?) => {
        $crate::__budget_clause!($ty, $metric ( $($args)* ) $op $limit);
        $crate::__budget_clauses!($ty; $($($rest)*)?);
    };
    ($ty:ty; $metric:ident $op:tt $limit:expr $(, $($rest:tt)*)?) => {
        $crate::__budget_clause!($ty, $metric $op $limit);
        $crate::__budget_clauses!($ty; $($($rest)*)?);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __budget_clause {
    ($ty:ty, train_memory ( $($name:ident = $value:tt),* $(,)? ) <= $limit:expr) => {
        $crate::__budget_clause!(@train $ty, false, $limit, [$($name = $value),*]);
    };
    ($ty:ty, train_memory ( $($name:ident = $value:tt),* $(,)? ) < $limit:expr) => {
        $crate::__budget_clause!(@train $ty, true, $limit, [$($name = $value),*]);
    };
    (@train $ty:ty, $strict:expr, $limit:expr, [$($name:ident = $value:tt),*]) => {
        const _: () = {
            if let ::core::option::Option::Some(message) = $crate::__private::train_memory_check(
                <$ty as $crate::Network>::NAME,
                &[$((::core::stringify!($name), ::core::stringify!($value))),*],
                &<$ty as $crate::Network>::GRAPH.totals,
                $limit,
                $strict,
            ) {
                ::core::panic!("{}", message.as_str());
            }
        };
    };
    ($ty:ty, $metric:ident ( $($args:tt)* ) $op:tt $limit:expr) => {
        ::core::compile_error!(::core::concat!(
            "only `train_memory` takes arguments in `assert_budget!`, `", ::core::stringify!($metric), "` does not"
        ));
    };
    ($ty:ty, $metric:ident <= $limit:expr) => {
        $crate::__budget_clause!(@check $ty, $metric, false, $limit);
    };
    ($ty:ty, $metric:ident < $limit:expr) => {
        $crate::__budget_clause!(@check $ty, $metric, true, $limit);
    };
    (@check $ty:ty, $metric:ident, $strict:expr, $limit:expr) => {
        const _: () = {
            if let ::core::option::Option::Some(message) = $crate::__private::budget_check(
                <$ty as $crate::Network>::NAME,
                ::core::stringify!($metric),
                &<$ty as $crate::Network>::GRAPH.totals,
                $limit,
                $strict,
            ) {
                ::core::panic!("{}", message.as_str());
            }
        };
    };
    ($ty:ty, $metric:ident $op:tt $limit:expr) => {
        ::core::compile_error!(::core::concat!(
            "expected `<=` or `<` after `", ::core::stringify!($metric), "`, found `", ::core::stringify!($op), "`"
        ));
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_has_the_numbers() {
        let w = budget_message("MobileNetV2", Metric::Macs, 300_774_272, 250_000_000, false);
        // 50,774,272 / 250,000,000 = 20.3 %
        assert_eq!(
            w.as_str(),
            "budget exceeded: `MobileNetV2` MACs are 300,774,272 (300.8 M), the budget is 250,000,000 (20.3 % over)"
        );
    }
}
