//! `assert_budget!`: the `#[budget(...)]` check of `network!`, usable from any
//! crate on any network type, as a compile-time assertion.

use const_format::{writec, StrWriter};

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

/// Capacity of a budget message.
const CAP: usize = 384;

/// Whether `value` breaks a `<=` (or, with `strict`, a `<`) limit.
#[doc(hidden)]
pub const fn over(value: u64, limit: u64, strict: bool) -> bool {
    if strict {
        value >= limit
    } else {
        value > limit
    }
}

/// Writes `n` with thousands separators.
const fn write_thousands(w: &mut StrWriter<[u8; CAP]>, n: u64) {
    let mut digits = [0u8; 20];
    let mut len = 0;
    let mut v = n;
    loop {
        digits[len] = b'0' + (v % 10) as u8;
        len += 1;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    let mut out = [0u8; 27];
    let mut o = 0;
    let mut i = len;
    while i > 0 {
        i -= 1;
        out[o] = digits[i];
        o += 1;
        if i > 0 && i % 3 == 0 {
            out[o] = b',';
            o += 1;
        }
    }
    let (head, _) = out.split_at(o);
    if let Ok(s) = core::str::from_utf8(head) {
        let _ = w.as_mut().write_str(s);
    }
}

/// Writes `value / 10^decimals` rounded, with `decimals` digits after the point.
const fn write_fixed(
    w: &mut StrWriter<[u8; CAP]>,
    numerator: u128,
    denominator: u128,
    decimals: u32,
) {
    let scale = 10u128.pow(decimals);
    let scaled = (numerator * scale + denominator / 2) / denominator;
    let int = (scaled / scale) as u64;
    let frac = (scaled % scale) as u64;
    let _ = writec!(w, "{}", int);
    if decimals > 0 {
        let _ = w.as_mut().write_str(".");
        let mut p = 10u64.pow(decimals - 1);
        while p > 0 {
            let digit = (frac / p) % 10;
            let _ = writec!(w, "{}", digit);
            p /= 10;
        }
    }
}

/// Writes `n` with a decimal unit and four significant digits (`300.8 M`).
const fn write_si(w: &mut StrWriter<[u8; CAP]>, n: u64) {
    let units: [(u64, &str); 4] = [
        (1_000_000_000_000, "T"),
        (1_000_000_000, "G"),
        (1_000_000, "M"),
        (1_000, "K"),
    ];
    let mut i = 0;
    while i < units.len() {
        let (scale, unit) = units[i];
        if n >= scale {
            let whole = n / scale;
            let decimals = if whole >= 100 {
                1
            } else if whole >= 10 {
                2
            } else {
                3
            };
            write_fixed(w, n as u128, scale as u128, decimals);
            let _ = writec!(w, " {}", unit);
            return;
        }
        i += 1;
    }
    let _ = writec!(w, "{}", n);
}

/// The message of a failed budget clause, built at compile time:
/// "budget exceeded: `ResNet50` MACs are 4,089,184,256 (4.089 G), the budget is 320,000,000 (1177.9 % over)".
#[doc(hidden)]
pub const fn budget_message(
    network: &str,
    label: &str,
    value: u64,
    limit: u64,
    strict: bool,
) -> StrWriter<[u8; CAP]> {
    let mut w = StrWriter::new([0; CAP]);
    let _ = writec!(w, "budget exceeded: `{}` {} are ", network, label);
    write_thousands(&mut w, value);
    let _ = w.as_mut().write_str(" (");
    write_si(&mut w, value);
    let relation = if strict { "must stay below" } else { "is" };
    let _ = writec!(w, "), the budget {} ", relation);
    write_thousands(&mut w, limit);
    if limit > 0 && value >= limit {
        let _ = w.as_mut().write_str(" (");
        write_fixed(&mut w, (value - limit) as u128 * 100, limit as u128, 1);
        let _ = w.as_mut().write_str(" % over)");
    }
    w
}

/// Asserts at compile time that a network type stays within a budget.
///
/// Metrics: `params`, `buffers`, `macs`, `flops`, `memory_access`,
/// `activations`, `weight_bytes`, `peak_activation`; relations `<=` and `<`;
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
            const __METRIC: (u64, &str) = $crate::__budget_metric!($ty, $metric);
            const __VALUE: u64 = __METRIC.0;
            const __LABEL: &str = __METRIC.1;
            const __LIMIT: u64 = $limit;
            if $crate::__private::over(__VALUE, __LIMIT, $strict) {
                const __MESSAGE: $crate::__private::const_format::StrWriter<[u8; 384]> =
                    $crate::__private::budget_message(
                        <$ty as $crate::Network>::NAME, __LABEL, __VALUE, __LIMIT, $strict,
                    );
                ::core::panic!("{}", __MESSAGE.unsize().as_str());
            }
        };
    };
    ($ty:ty, $metric:ident $op:tt $limit:expr) => {
        ::core::compile_error!(::core::concat!(
            "expected `<=` or `<` after `", ::core::stringify!($metric), "`, found `", ::core::stringify!($op), "`"
        ));
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __budget_metric {
    ($ty:ty, params) => { (<$ty as $crate::Network>::PARAMS, "params") };
    ($ty:ty, buffers) => { (<$ty as $crate::Network>::BUFFERS, "buffers") };
    ($ty:ty, macs) => { (<$ty as $crate::Network>::MACS, "MACs") };
    ($ty:ty, flops) => { (<$ty as $crate::Network>::FLOPS, "FLOPs") };
    ($ty:ty, memory_access) => { (<$ty as $crate::Network>::MEMORY_ACCESS_BYTES, "memory access bytes") };
    ($ty:ty, activations) => { (<$ty as $crate::Network>::ACTIVATIONS, "activations") };
    ($ty:ty, weight_bytes) => { (<$ty as $crate::Network>::WEIGHT_BYTES, "weight bytes") };
    ($ty:ty, peak_activation) => { (<$ty as $crate::Network>::PEAK_ACTIVATION_BYTES, "peak activation bytes") };
    ($ty:ty, $other:ident) => {
        ::core::compile_error!(::core::concat!(
            "unknown budget metric `", ::core::stringify!($other),
            "`; expected one of: params, buffers, macs, flops, memory_access, activations, weight_bytes, peak_activation"
        ))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_has_the_numbers() {
        let w = budget_message("MobileNetV2", "MACs", 300_774_272, 250_000_000, false);
        // 50,774,272 / 250,000,000 = 20.3 %
        assert_eq!(
            w.unsize().as_str(),
            "budget exceeded: `MobileNetV2` MACs are 300,774,272 (300.8 M), the budget is 250,000,000 (20.3 % over)"
        );
    }
}
