//! `assert_budget!`: the `#[budget(...)]` check of `network!`, usable from any
//! crate on any network type, as a compile-time assertion.

use netspec_model::format::Text;
use netspec_model::metric::{exceeded, over, push_limit, unknown_metric, MESSAGE};
use netspec_model::{Metric, Totals};

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
        return Some(unknown_metric(metric, "", &[]));
    };
    let value = metric.get(totals);
    if over(value, limit, strict) {
        Some(budget_message(network, metric, value, limit, strict))
    } else {
        None
    }
}

/// Asserts at compile time that a network type stays within a budget.
///
/// Metrics: those of `#[budget]` without arguments (`params`, `macs`,
/// `flops`, `activations`, `buffers`, `memory_access`, `weight_bytes`,
/// `peak_activation`: [`netspec_model::Metric`]); relations `<=` and `<`;
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
/// use netspec::budget::units::K;
/// netspec::network! { pub struct Tiny(x: [4]) { x -> fc: Linear(10) } }
/// netspec::assert_budget!(Tiny, params <= 50, macs < 1 * K);
/// ```
#[macro_export]
macro_rules! assert_budget {
    ($ty:ty, $($metric:ident $op:tt $limit:expr),+ $(,)?) => {
        $( $crate::__budget_clause!($ty, $metric $op $limit); )+
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __budget_clause {
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
