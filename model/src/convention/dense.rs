//! How the tools count the layers of dense prediction and of 1-D and 3-D
//! data: transposed convolutions, `Conv3d`, `BatchNorm1d`/`BatchNorm3d`,
//! the 1-D and 3-D poolings, interpolation (`nn.Upsample`, `F.interpolate`)
//! and `PReLU` (Hardtanh and ELU are activations, counted with the others in
//! the parent module).
//!
//! Measured with `scripts/measure_dense_conventions.py` (torch 2.15, fvcore
//! 0.1.5.post20221221, thop 0.1.1.post2209072238, ptflops 0.7.5, batch 1,
//! eval) and read in the tools' sources. Per sample; `K` the product of the
//! kernel sizes, `S_in`, `S_out` the products of the spatial sizes,
//! "element" an element of the input:
//!
//! | layer | fvcore | thop (module) | ptflops (module) | ptflops (functional) |
//! | --- | --- | --- | --- | --- |
//! | Conv3d | MACs | MACs | MACs + 1/output with bias | 0 |
//! | ConvTranspose1d/2d/3d | MACs = `C_in·S_in·(C_out/g)·K` | `C_out·S_out·(C_in/g)·K` | MACs + 1/output with bias | 0 |
//! | BatchNorm1d, BatchNorm3d | 2/element | 4/element | 2/element | 0 |
//! | MaxPool1d/3d | 0 | 0 | 2/element | 1/element |
//! | AvgPool1d/3d | 0 | 1/output | 2/element | 1/element |
//! | AdaptiveAvgPool1d/3d | 0 | `int((Π L_in/L_out + 1)·numel(out))` | 2/element | 1/element |
//! | Upsample / interpolate, nearest | 1/output in 2-D, else 0 | 1/output | 1/output + functional | `numel(out)` (size) or `numel(in)·scale^r` |
//! | bilinear | 4/output | 11/output | as nearest | as nearest |
//! | linear, bicubic, trilinear, nearest-exact | 0 | 5, 259, 0, 0 /output | as nearest | as nearest |
//! | PReLU | 0 | 1/element | 2/element | 1/element (`F.prelu`) |
//!
//! Sources (inside `site-packages/`):
//!
//! - fvcore `fvcore/nn/jit_handles.py` `conv_flop_count`: `batch ·
//!   prod(w_shape) · prod((x_shape if transposed else out_shape)[2:])`, for a
//!   transposed convolution (weight `[C_in, C_out/g, k...]`) the true
//!   products; `_DEFAULT_SUPPORTED_OPS` (`fvcore/nn/flop_count.py`) has
//!   `aten::upsample_nearest2d` (`elementwise_flop_counter(0, 1)`),
//!   `aten::upsample_bilinear2d` (`(0, 4)`) and `aten::adaptive_avg_pool2d`
//!   only: the 1-D and 3-D upsamplings and adaptive poolings,
//!   `upsample_bicubic2d`, `_upsample_nearest_exact2d`, `aten::prelu`, the
//!   max and average poolings are unsupported (0).
//! - thop `thop/vision/basic_hooks.py`: `count_convNd` (for every
//!   `ConvTranspose*d` too) → `calculate_conv2d_flops`:
//!   `prod(y.shape) · (x.shape[1] // groups) · prod(w.shape[2:])`, the
//!   *output* positions, which is not what a transposed convolution does;
//!   `count_normalization` for `BatchNorm1d/3d` (4 per element affine);
//!   `count_prelu`: `numel(x)` in eval mode; `count_upsample` →
//!   `calculate_upsample`: `numel(y)` times 1 (nearest), 5 (linear),
//!   11 (bilinear), 259 (bicubic); trilinear and nearest-exact are not in
//!   its mode list (a warning, 0); `count_avgpool`, `count_adap_avgpool` and
//!   `zero_ops` for every rank. No rule for `Hardtanh` or `ELU`.
//! - ptflops `ptflops/pytorch_ops.py`: `conv_flops_counter_hook` with
//!   `transpose=True` for `ConvTranspose*d`: `prod(k) · C_in · (C_out // g)
//!   · prod(input spatial)`, the true products, plus `numel(out)` with a
//!   bias; `upsample_flops_counter_hook`: `numel(output[0])`, the first
//!   sample's output; and `_interpolate_functional_flops_hook` for the
//!   patched `F.interpolate` (which `nn.Upsample.forward` calls): with a
//!   size, `prod(size) · N · C` (= `numel(out)`); with a scalar scale
//!   factor `numel(in) · scale ** rank` (a float, the total truncated once
//!   at the end); with a tuple, `numel(in) · int(np.prod(scale, dtype =
//!   np.int64))`, each factor truncated to an integer first;
//!   `relu_flops_counter_hook` for `PReLU` and `ELU`, whose `forward` calls
//!   the patched `F.prelu` / `F.elu`: 2 per element; `pool_flops_counter_hook`
//!   plus the patched `F.{max,avg,adaptive_avg}_pool{1,3}d`: 2 per input
//!   element. `nn.Hardtanh` has no hook and `F.hardtanh` is not patched.
//!
//! What the graph does not carry: whether a scale factor was written as a
//! number (`scale_factor = 1.5`) or as a tuple (`(1.5, 1.5)`): ptflops
//! counts `numel(in) · 2.25` for the first and `numel(in) · 1` for the
//! second. Equal factors along every axis are read as a number, different
//! ones as a tuple; the two agree when the factors are integers. And
//! ptflops truncates its float total once, netspec each layer's count.

use super::{elements, thop_adaptive_avg, Convention};
use crate::cost::kernel_volume;
use crate::op::{right_aligned, ConvNd, Interpolate, InterpolationMode, Op};

/// Whether `op` is one of the operations this module counts for fvcore,
/// thop and ptflops.
pub(super) const fn handles(op: &Op) -> bool {
    matches!(
        op,
        Op::Conv3d(_)
            | Op::ConvTranspose(_)
            | Op::BatchNorm1d(_)
            | Op::BatchNorm3d(_)
            | Op::MaxPoolNd(_)
            | Op::AvgPoolNd(_)
            | Op::AdaptiveAvgPoolNd { .. }
            | Op::Interpolate(_)
            | Op::PReLU { .. }
    )
}

/// The spatial sizes of a per-sample `[C, spatial...]` shape.
fn spatial(shape: &[usize]) -> &[usize] {
    shape.get(1..).unwrap_or(&[])
}

fn u(v: usize) -> Option<u64> {
    u64::try_from(v).ok()
}

/// fvcore's `conv_flop_count`: `prod(w_shape) · prod(spatial)`, the spatial
/// sizes of the input for a transposed convolution and of the output
/// otherwise.
fn fvcore_conv(c: &ConvNd, input: &[usize], output: &[usize]) -> Option<u64> {
    let positions = if c.transposed { input } else { output };
    elements(&c.weight_shape())?.checked_mul(elements(spatial(positions))?)
}

/// thop's `calculate_conv2d_flops`: `numel(out) · (C_in // g) · K`.
fn thop_conv(c: &ConvNd, input: &[usize], output: &[usize]) -> Option<u64> {
    let channels = *input.first()?;
    let per_group = u(channels.checked_div(c.groups)?)?;
    elements(output)?
        .checked_mul(per_group)?
        .checked_mul(kernel_volume(&c.kernel, c.rank)?)
}

/// ptflops' `conv_flops_counter_hook`: `K · C_in · (C_out // g) · positions`
/// (input positions when transposed, output positions otherwise), plus
/// `numel(out)` with a bias.
fn ptflops_conv(c: &ConvNd, input: &[usize], output: &[usize]) -> Option<u64> {
    let positions = if c.transposed { input } else { output };
    let filters = u(c.out_channels.checked_div(c.groups)?)?;
    let products = kernel_volume(&c.kernel, c.rank)?
        .checked_mul(u(c.in_channels)?.checked_mul(filters)?)?
        .checked_mul(elements(spatial(positions))?)?;
    let bias = if c.bias { elements(output)? } else { 0 };
    products.checked_add(bias)
}

/// The scale factors along the interpolation's axes, if it was given
/// scale factors rather than a size.
fn scales(i: &Interpolate) -> Option<&[f64]> {
    let axes = right_aligned(&i.scale, i.rank.clamp(1, 3)).unwrap_or(&[]);
    if axes.iter().any(|&s| s != 0.0) {
        Some(axes)
    } else {
        None
    }
}

/// ptflops' `_interpolate_functional_flops_hook`, the patched
/// `F.interpolate`: `numel(out)` with a size; with scale factors
/// `numel(in) · scale^rank` (one number, in float64, truncated) or
/// `numel(in) · Π int(scale_i)` (a tuple of different factors).
fn ptflops_interpolate(i: &Interpolate, input: &[usize], output: &[usize]) -> Option<u64> {
    let Some(axes) = scales(i) else {
        return elements(output);
    };
    let n = elements(input)?;
    let first = *axes.first()?;
    if axes.iter().all(|&s| s == first) {
        // `as f64` is exact below 2^53, the sizes a network can have.
        let exponent = f64::from(u32::try_from(axes.len()).ok()?);
        let total = (n as f64 * first.powf(exponent)).trunc();
        if total.is_finite() && total >= 0.0 && total < u64::MAX as f64 {
            Some(total as u64)
        } else {
            None
        }
    } else {
        // np.prod(scale_factor, dtype=np.int64) truncates each factor.
        let factor = axes.iter().try_fold(1u64, |acc, &s| {
            let t = s.trunc();
            if t.is_finite() && t >= 0.0 && t < u64::MAX as f64 {
                acc.checked_mul(t as u64)
            } else {
                None
            }
        })?;
        n.checked_mul(factor)
    }
}

/// thop's `calculate_upsample` factor per output element of an
/// `nn.Upsample`, by PyTorch's mode name.
const fn thop_upsample(i: &Interpolate) -> u64 {
    match (i.mode, i.rank) {
        (InterpolationMode::Nearest, _) => 1,
        (InterpolationMode::Linear, 1) => 5,
        (InterpolationMode::Linear, 2) => 11,
        (InterpolationMode::Bicubic, _) => 259,
        // "trilinear" and "nearest-exact" are not in its list of modes.
        (InterpolationMode::Linear, _) | (InterpolationMode::NearestExact, _) => 0,
    }
}

/// fvcore's count per output element of an interpolation: only
/// `aten::upsample_nearest2d` (1) and `aten::upsample_bilinear2d` (4) have
/// handles.
const fn fvcore_interpolate(i: &Interpolate) -> u64 {
    match (i.mode, i.rank) {
        (InterpolationMode::Nearest, 2) => 1,
        (InterpolationMode::Linear, 2) => 4,
        _ => 0,
    }
}

/// Whether the hooks see an `nn.Upsample` module: a named stage written as
/// `Upsample` (an `interpolate(...)` call or an unnamed stage is
/// `F.interpolate`).
const fn upsample_module(i: &Interpolate, module: bool) -> bool {
    module && i.upsample
}

/// The count of `op` (one of [`handles`]) under fvcore, thop or ptflops;
/// the other conventions are the cost model's own numbers, counted by the
/// parent module.
pub(super) fn count(
    convention: Convention,
    op: &Op,
    inputs: &[&[usize]],
    output: &[usize],
    module: bool,
) -> Option<u64> {
    let x: &[usize] = inputs.first().copied().unwrap_or(&[]);
    let input = elements(x)?;
    let out = elements(output)?;
    match convention {
        Convention::Fvcore => match op {
            Op::Conv3d(c) | Op::ConvTranspose(c) => fvcore_conv(c, x, output),
            Op::BatchNorm1d(_) | Op::BatchNorm3d(_) => input.checked_mul(2),
            Op::Interpolate(i) => out.checked_mul(fvcore_interpolate(i)),
            Op::AdaptiveAvgPoolNd { rank: 2, .. } => Some(input),
            _ => Some(0),
        },
        Convention::Thop if !module => Some(0),
        Convention::Thop => match op {
            Op::Conv3d(c) | Op::ConvTranspose(c) => thop_conv(c, x, output),
            Op::BatchNorm1d(_) | Op::BatchNorm3d(_) => input.checked_mul(4),
            Op::AvgPoolNd(_) => Some(out),
            Op::AdaptiveAvgPoolNd { .. } => thop_adaptive_avg(x, output),
            Op::Interpolate(i) if upsample_module(i, module) => out.checked_mul(thop_upsample(i)),
            Op::PReLU { .. } => Some(input),
            _ => Some(0),
        },
        Convention::Ptflops => match (op, module) {
            (Op::Conv3d(c) | Op::ConvTranspose(c), true) => ptflops_conv(c, x, output),
            (Op::BatchNorm1d(_) | Op::BatchNorm3d(_), true) => input.checked_mul(2),
            // The hook and the patched functional the module calls.
            (Op::MaxPoolNd(_) | Op::AvgPoolNd(_) | Op::AdaptiveAvgPoolNd { .. }, true)
            | (Op::PReLU { .. }, true) => input.checked_mul(2),
            (Op::MaxPoolNd(_) | Op::AvgPoolNd(_) | Op::AdaptiveAvgPoolNd { .. }, false)
            | (Op::PReLU { .. }, false) => Some(input),
            (Op::Interpolate(i), _) => {
                let hook = if upsample_module(i, module) { out } else { 0 };
                hook.checked_add(ptflops_interpolate(i, x, output)?)
            }
            // F.conv3d, F.conv_transpose*d, F.batch_norm: not patched.
            _ => Some(0),
        },
        // Torchvision, Flops, TorchFlopCounter: the parent counts these.
        Convention::Torchvision | Convention::Flops | Convention::TorchFlopCounter => None,
    }
}

/// The rule `convention` applies to `op` (one of [`handles`]), in a few
/// words, for the report; `None` for the conventions the parent module
/// words itself.
pub(super) fn rule(convention: Convention, op: &Op, module: bool) -> Option<&'static str> {
    Some(match convention {
        Convention::Fvcore => match op {
            Op::Conv3d(_) | Op::ConvTranspose(_) => "MACs",
            Op::BatchNorm1d(_) | Op::BatchNorm3d(_) => "2/element",
            Op::AdaptiveAvgPoolNd { rank: 2, .. } => "1/input element",
            Op::Interpolate(i) => match fvcore_interpolate(i) {
                1 => "1/output",
                4 => "4/output",
                _ => "0",
            },
            _ => "0",
        },
        Convention::Thop if !module => "0 unseen",
        Convention::Thop => match op {
            Op::Conv3d(_) => "MACs",
            Op::ConvTranspose(_) => "output*(C_in/g)*K",
            Op::BatchNorm1d(_) | Op::BatchNorm3d(_) => "4/element",
            Op::AvgPoolNd(_) => "1/output",
            Op::AdaptiveAvgPoolNd { rank: 1, .. } => "(L/l+1)/output",
            Op::AdaptiveAvgPoolNd { .. } => "(D/d*H/h*W/w+1)/output",
            Op::Interpolate(i) if upsample_module(i, module) => match thop_upsample(i) {
                1 => "1/output",
                5 => "5/output",
                11 => "11/output",
                259 => "259/output",
                _ => "0 (mode without a rule)",
            },
            Op::PReLU { .. } => "1/element",
            _ => "0",
        },
        Convention::Ptflops => match (op, module) {
            (Op::Conv3d(c) | Op::ConvTranspose(c), true) if c.bias => "MACs + 1/output",
            (Op::Conv3d(_) | Op::ConvTranspose(_), true) => "MACs",
            (Op::BatchNorm1d(_) | Op::BatchNorm3d(_), true) => "2/element",
            (Op::MaxPoolNd(_) | Op::AvgPoolNd(_) | Op::AdaptiveAvgPoolNd { .. }, true) => {
                "2/input element"
            }
            (Op::MaxPoolNd(_) | Op::AvgPoolNd(_) | Op::AdaptiveAvgPoolNd { .. }, false) => {
                "1/input element"
            }
            (Op::PReLU { .. }, true) => "2/element",
            (Op::PReLU { .. }, false) => "1/element",
            (Op::Interpolate(i), _) => match (upsample_module(i, module), scales(i).is_some()) {
                (true, false) => "2/output",
                (true, true) => "1/output + input*scale^rank",
                (false, false) => "1/output",
                (false, true) => "input*scale^rank",
            },
            _ => "0",
        },
        Convention::Flops => match op {
            Op::Conv3d(c) | Op::ConvTranspose(c) if c.bias => "2/MAC + 1/output",
            Op::Conv3d(_) | Op::ConvTranspose(_) => "2/MAC",
            Op::BatchNorm1d(_) | Op::BatchNorm3d(_) | Op::PReLU { .. } => "2/element",
            Op::MaxPoolNd(_) => "(K-1)/output",
            Op::AvgPoolNd(_) => "K/output",
            Op::AdaptiveAvgPoolNd { .. } => "bin volume/output",
            Op::Interpolate(i) => match (i.mode, i.rank) {
                (InterpolationMode::Nearest | InterpolationMode::NearestExact, _) => "0",
                (InterpolationMode::Linear, 1) => "3/output",
                (InterpolationMode::Linear, 2) => "7/output",
                (InterpolationMode::Linear, _) => "15/output",
                (InterpolationMode::Bicubic, _) => "31/output",
            },
            _ => "0",
        },
        Convention::Torchvision | Convention::TorchFlopCounter => return None,
    })
}

/// The key fvcore's `by_operator()` files `op` (one of [`handles`]) under,
/// or `None` where fvcore counts 0.
pub(super) const fn fvcore_operator(op: &Op) -> Option<&'static str> {
    match op {
        Op::Conv3d(_) | Op::ConvTranspose(_) => Some("conv"),
        Op::BatchNorm1d(_) | Op::BatchNorm3d(_) => Some("batch_norm"),
        Op::AdaptiveAvgPoolNd { rank: 2, .. } => Some("adaptive_avg_pool2d"),
        Op::Interpolate(i) => match fvcore_interpolate(i) {
            1 => Some("upsample_nearest2d"),
            4 => Some("upsample_bilinear2d"),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convention::{count, Counts};
    use crate::op::{Activation, BatchNorm2d, Conv2d, Linear, PoolNd};

    // Every number below was measured with scripts/measure_dense_conventions.py
    // (torch 2.15, fvcore 0.1.5.post20221221, thop 0.1.1.post2209072238,
    // ptflops 0.7.5, batch 1, eval); the case is the script's, shapes per
    // sample. Tuples are (fvcore, thop, ptflops).

    fn tools(op: &Op, x: &[usize], y: &[usize], module: bool) -> (u64, u64, u64) {
        let c = |convention| count(convention, op, &[x], y, module).unwrap();
        (
            c(Convention::Fvcore),
            c(Convention::Thop),
            c(Convention::Ptflops),
        )
    }

    /// `ConvTranspose{r}d(cin, cout, groups)` with `[cin, cout, groups]` =
    /// `io`, its rank the length of `k`; `s`, `p`, `op`, `d` per axis.
    fn ct(
        io: [usize; 3],
        k: &[usize],
        s: &[usize],
        p: &[usize],
        o: &[usize],
        d: &[usize],
        bias: bool,
    ) -> Op {
        let rank = k.len();
        let [cin, cout, groups] = io;
        let mut c = ConvNd::new(
            rank,
            true,
            cin,
            cout,
            [1; 3],
            [1; 3],
            [[0, 0]; 3],
            [0; 3],
            [1; 3],
            groups,
            bias,
        );
        let lead = 3 - rank;
        for i in 0..rank {
            c.kernel[lead + i] = k[i];
            c.stride[lead + i] = s[i];
            c.padding[lead + i] = [p[i], p[i]];
            c.output_padding[lead + i] = o[i];
            c.dilation[lead + i] = d[i];
        }
        Op::ConvTranspose(c)
    }

    #[test]
    fn transposed_convolutions() {
        // ConvTranspose1d(4, 6, 3) on [4, 5] -> [6, 7]: true products
        // 4·5·6·3 = 360 (FlopCounterMode/2 and fvcore 360); thop the output
        // positions, 6·7·4·3 = 504; ptflops 360 + 42 bias = 402.
        let op = ct([4, 6, 1], &[3], &[1], &[0], &[0], &[1], true);
        assert_eq!(tools(&op, &[4, 5], &[6, 7], true), (360, 504, 402));
        // ConvTranspose1d(4, 6, 3, stride=2, padding=1, output_padding=1,
        // bias=False) on [4, 5] -> [6, 10]: (360, 720, 360).
        let op = ct([4, 6, 1], &[3], &[2], &[1], &[1], &[1], false);
        assert_eq!(tools(&op, &[4, 5], &[6, 10], true), (360, 720, 360));
        // ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1,
        // groups=2) on [4, 5, 5] -> [6, 10, 10]: 4·25·3·9 = 2700; thop
        // 600·2·9 = 10,800; ptflops 2700 + 600.
        let op = ct([4, 6, 2], &[3, 3], &[2, 2], &[1, 1], &[1, 1], &[1, 1], true);
        assert_eq!(
            tools(&op, &[4, 5, 5], &[6, 10, 10], true),
            (2_700, 10_800, 3_300)
        );
        // ConvTranspose2d(4, 6, (3, 2), stride=(2, 1), dilation=2,
        // bias=False) on [4, 5, 4] -> [6, 13, 6]: (2880, 11232, 2880).
        let op = ct(
            [4, 6, 1],
            &[3, 2],
            &[2, 1],
            &[0, 0],
            &[0, 0],
            &[2, 2],
            false,
        );
        assert_eq!(
            tools(&op, &[4, 5, 4], &[6, 13, 6], true),
            (2_880, 11_232, 2_880)
        );
        // ConvTranspose2d(4, 4, 4, stride=2, padding=1, groups=4) on
        // [4, 3, 3] -> [4, 6, 6]: (576, 2304, 720).
        let op = ct([4, 4, 4], &[4, 4], &[2, 2], &[1, 1], &[0, 0], &[1, 1], true);
        assert_eq!(tools(&op, &[4, 3, 3], &[4, 6, 6], true), (576, 2_304, 720));
        // ConvTranspose2d(4, 6, 3, dilation=2, output_padding=1) on
        // [4, 4, 4] -> [6, 9, 9]: (3456, 17496, 3942).
        let op = ct([4, 6, 1], &[3, 3], &[1, 1], &[0, 0], &[1, 1], &[2, 2], true);
        assert_eq!(
            tools(&op, &[4, 4, 4], &[6, 9, 9], true),
            (3_456, 17_496, 3_942)
        );
        // ConvTranspose3d(4, 6, 3, stride=2, padding=1, output_padding=1,
        // groups=2) on [4, 3, 4, 5] -> [6, 6, 8, 10]: (19440, 155520, 22320).
        let op = ct(
            [4, 6, 2],
            &[3, 3, 3],
            &[2, 2, 2],
            &[1, 1, 1],
            &[1, 1, 1],
            &[1, 1, 1],
            true,
        );
        assert_eq!(
            tools(&op, &[4, 3, 4, 5], &[6, 6, 8, 10], true),
            (19_440, 155_520, 22_320)
        );
        // ConvTranspose3d(2, 4, 2, stride=2, bias=False) on [2, 3, 3, 3] ->
        // [4, 6, 6, 6]: (1728, 13824, 1728).
        let op = ct(
            [2, 4, 1],
            &[2, 2, 2],
            &[2, 2, 2],
            &[0, 0, 0],
            &[0, 0, 0],
            &[1, 1, 1],
            false,
        );
        assert_eq!(
            tools(&op, &[2, 3, 3, 3], &[4, 6, 6, 6], true),
            (1_728, 13_824, 1_728)
        );
        assert_eq!(super::super::fvcore_operator(&op), Some("conv"));
        // F.conv_transpose2d(x, w [4, 3, 3, 3], stride=2) on [4, 5, 5] ->
        // [3, 11, 11]: fvcore traces it (2700), no hook sees it.
        let op = ct(
            [4, 3, 1],
            &[3, 3],
            &[2, 2],
            &[0, 0],
            &[0, 0],
            &[1, 1],
            false,
        );
        assert_eq!(tools(&op, &[4, 5, 5], &[3, 11, 11], false), (2_700, 0, 0));
    }

    #[test]
    fn three_d_convolutions() {
        let conv3d = |k: [usize; 3], s: usize, p: usize, groups, bias| {
            Op::Conv3d(ConvNd::new(
                3,
                false,
                4,
                6,
                k,
                [s; 3],
                [[p, p]; 3],
                [0; 3],
                [1; 3],
                groups,
                bias,
            ))
        };
        // Conv3d(4, 6, 3, padding=1, groups=2) on [4, 4, 5, 6]: MACs
        // 6·120·2·27 = 38,880; ptflops + 720 bias.
        let op = conv3d([3; 3], 1, 1, 2, true);
        assert_eq!(
            tools(&op, &[4, 4, 5, 6], &[6, 4, 5, 6], true),
            (38_880, 38_880, 39_600)
        );
        // Conv3d(4, 6, (1, 3, 3), stride=2, bias=False) -> [6, 2, 2, 2]: 1728.
        let op = conv3d([1, 3, 3], 2, 0, 1, false);
        assert_eq!(
            tools(&op, &[4, 4, 5, 6], &[6, 2, 2, 2], true),
            (1_728, 1_728, 1_728)
        );
        // F.conv3d: fvcore only.
        assert_eq!(
            tools(&op, &[4, 4, 5, 6], &[6, 2, 2, 2], false),
            (1_728, 0, 0)
        );
    }

    #[test]
    fn one_and_three_d_batch_norms() {
        let bn = BatchNorm2d {
            channels: 6,
            eps: 1e-5,
        };
        // BatchNorm1d(6) on [6]: (12, 24, 12); on [6, 10]: (120, 240, 120).
        let op = Op::BatchNorm1d(bn);
        assert_eq!(tools(&op, &[6], &[6], true), (12, 24, 12));
        assert_eq!(tools(&op, &[6, 10], &[6, 10], true), (120, 240, 120));
        assert_eq!(super::super::fvcore_operator(&op), Some("batch_norm"));
        // BatchNorm3d(4) on [4, 3, 4, 5]: (480, 960, 480).
        let op = Op::BatchNorm3d(BatchNorm2d { channels: 4, ..bn });
        assert_eq!(
            tools(&op, &[4, 3, 4, 5], &[4, 3, 4, 5], true),
            (480, 960, 480)
        );
        // F.batch_norm: fvcore only.
        assert_eq!(tools(&op, &[4, 3, 4, 5], &[4, 3, 4, 5], false), (480, 0, 0));
    }

    fn pool(rank: usize, k: usize, s: usize, p: usize, ceil_mode: bool) -> PoolNd {
        let lead = 3 - rank;
        let mut w = PoolNd::new(rank, [1; 3], [1; 3], [0; 3], [1; 3], ceil_mode, true);
        for i in lead..3 {
            w.kernel[i] = k;
            w.stride[i] = s;
            w.padding[i] = p;
        }
        w
    }

    #[test]
    fn one_and_three_d_poolings() {
        let (x1, y1): (&[usize], &[usize]) = (&[4, 11], &[4, 6]);
        // MaxPool1d(3, 2, 1) and MaxPool1d(2, ceil_mode=True) on [4, 11]:
        // (0, 0, 88); F.max_pool1d: (0, 0, 44).
        let op = Op::MaxPoolNd(pool(1, 3, 2, 1, false));
        assert_eq!(tools(&op, x1, y1, true), (0, 0, 88));
        assert_eq!(tools(&op, x1, y1, false), (0, 0, 44));
        let op = Op::MaxPoolNd(pool(1, 2, 2, 0, true));
        assert_eq!(tools(&op, x1, y1, true), (0, 0, 88));
        // AvgPool1d(3, 2, 1): (0, 24, 88); F.avg_pool1d: (0, 0, 44).
        let op = Op::AvgPoolNd(pool(1, 3, 2, 1, false));
        assert_eq!(tools(&op, x1, y1, true), (0, 24, 88));
        assert_eq!(tools(&op, x1, y1, false), (0, 0, 44));
        // MaxPool3d(2) on [4, 4, 6, 6] -> [4, 2, 3, 3]: (0, 0, 1152);
        // AvgPool3d(2): (0, 72, 1152); F.max_pool3d, F.avg_pool3d: 576.
        let (x3, y3): (&[usize], &[usize]) = (&[4, 4, 6, 6], &[4, 2, 3, 3]);
        let max = Op::MaxPoolNd(pool(3, 2, 2, 0, false));
        let avg = Op::AvgPoolNd(pool(3, 2, 2, 0, false));
        assert_eq!(tools(&max, x3, y3, true), (0, 0, 1_152));
        assert_eq!(tools(&avg, x3, y3, true), (0, 72, 1_152));
        assert_eq!(tools(&max, x3, y3, false), (0, 0, 576));
        assert_eq!(tools(&avg, x3, y3, false), (0, 0, 576));
        // MaxPool3d(3, 2, 1) on [4, 5, 6, 7] -> [4, 3, 3, 4]: (0, 0, 1680);
        // AvgPool3d(3, 2, 1, count_include_pad=False): (0, 144, 1680).
        let (x, y): (&[usize], &[usize]) = (&[4, 5, 6, 7], &[4, 3, 3, 4]);
        let op = Op::MaxPoolNd(pool(3, 3, 2, 1, false));
        assert_eq!(tools(&op, x, y, true), (0, 0, 1_680));
        let mut w = pool(3, 3, 2, 1, false);
        w.count_include_pad = false;
        assert_eq!(tools(&Op::AvgPoolNd(w), x, y, true), (0, 144, 1_680));
        assert_eq!(super::super::fvcore_operator(&Op::AvgPoolNd(w)), None);
    }

    #[test]
    fn one_and_three_d_adaptive_poolings() {
        let a1 = |o| Op::AdaptiveAvgPoolNd {
            rank: 1,
            output: [1, 1, o],
        };
        // AdaptiveAvgPool1d(3) on [4, 7]: thop int((7/3 + 1)·12) = 40,
        // ptflops 2·28; F.adaptive_avg_pool1d: ptflops 28. fvcore has no
        // handle for aten::adaptive_avg_pool1d: 0.
        assert_eq!(tools(&a1(3), &[4, 7], &[4, 3], true), (0, 40, 56));
        assert_eq!(tools(&a1(3), &[4, 7], &[4, 3], false), (0, 0, 28));
        // AdaptiveAvgPool1d(1) on [4, 10]: (10 + 1)·4 = 44; ptflops 80.
        assert_eq!(tools(&a1(1), &[4, 10], &[4, 1], true), (0, 44, 80));
        // AdaptiveAvgPool3d((2, 3, 2)) on [4, 5, 7, 5]: thop
        // int((2.5·(7/3)·2.5 + 1)·48) = int(15.583…·48) = 748; ptflops 1400;
        // F.adaptive_avg_pool3d 700.
        let op = Op::AdaptiveAvgPoolNd {
            rank: 3,
            output: [2, 3, 2],
        };
        assert_eq!(
            tools(&op, &[4, 5, 7, 5], &[4, 2, 3, 2], true),
            (0, 748, 1_400)
        );
        assert_eq!(tools(&op, &[4, 5, 7, 5], &[4, 2, 3, 2], false), (0, 0, 700));
        // AdaptiveAvgPool3d(1) on [4, 3, 4, 5]: (60 + 1)·4 = 244; 480.
        let op = Op::AdaptiveAvgPoolNd {
            rank: 3,
            output: [1, 1, 1],
        };
        assert_eq!(
            tools(&op, &[4, 3, 4, 5], &[4, 1, 1, 1], true),
            (0, 244, 480)
        );
        assert_eq!(super::super::fvcore_operator(&op), None);
    }

    /// An interpolation of `[C, spatial...]` to `size` (its rank = the
    /// length of `size`), with the scale factors `scale` (empty: by size).
    fn interp(mode: InterpolationMode, size: &[usize], scale: &[f64], upsample: bool) -> Op {
        let rank = size.len();
        let mut i = Interpolate {
            mode,
            rank,
            size: [1; 3],
            scale: [0.0; 3],
            align_corners: false,
            upsample,
        };
        for (a, &s) in size.iter().enumerate() {
            i.size[3 - rank + a] = s;
        }
        for (a, &s) in scale.iter().enumerate() {
            i.scale[3 - rank + a] = s;
        }
        Op::Interpolate(i)
    }

    /// An operation, its output on the test's input, and (fvcore, thop,
    /// ptflops).
    type Case<'a> = (Op, &'a [usize], (u64, u64, u64));

    const NEAREST: InterpolationMode = InterpolationMode::Nearest;
    const LINEAR: InterpolationMode = InterpolationMode::Linear;
    const CUBIC: InterpolationMode = InterpolationMode::Bicubic;
    const EXACT: InterpolationMode = InterpolationMode::NearestExact;

    #[test]
    fn upsample_modules() {
        let x: &[usize] = &[4, 5, 6];
        let up = |mode, size: &[usize], scale: &[f64]| interp(mode, size, scale, true);
        let cases: &[Case] = &[
            // nn.Upsample(scale_factor=2): ptflops numel(out) (hook) +
            // numel(in)·2² (F.interpolate) = 480 + 480.
            (
                up(NEAREST, &[10, 12], &[2.0, 2.0]),
                &[4, 10, 12],
                (480, 480, 960),
            ),
            // size=(7, 9): hook 252 + prod(size)·C 252.
            (up(NEAREST, &[7, 9], &[]), &[4, 7, 9], (252, 252, 504)),
            // size=7: 7²·4 = 196, twice.
            (up(NEAREST, &[7, 7], &[]), &[4, 7, 7], (196, 196, 392)),
            // scale_factor=(2, 3): 720 + 120·6.
            (
                up(NEAREST, &[10, 18], &[2.0, 3.0]),
                &[4, 10, 18],
                (720, 720, 1_440),
            ),
            // scale_factor=1.5: 252 + 120·2.25 = 522.
            (
                up(NEAREST, &[7, 9], &[1.5, 1.5]),
                &[4, 7, 9],
                (252, 252, 522),
            ),
            // scale_factor=(1.5, 2.5): 420 + 120·(1·2) = 660.
            (
                up(NEAREST, &[7, 15], &[1.5, 2.5]),
                &[4, 7, 15],
                (420, 420, 660),
            ),
            // nearest-exact: no fvcore handle, not in thop's modes.
            (up(EXACT, &[10, 12], &[2.0, 2.0]), &[4, 10, 12], (0, 0, 960)),
            // bilinear, either align_corners: fvcore 4, thop 11 per output.
            (
                up(LINEAR, &[10, 12], &[2.0, 2.0]),
                &[4, 10, 12],
                (1_920, 5_280, 960),
            ),
            (up(LINEAR, &[8, 8], &[]), &[4, 8, 8], (1_024, 2_816, 512)),
            (
                up(LINEAR, &[7, 9], &[1.5, 1.5]),
                &[4, 7, 9],
                (1_008, 2_772, 522),
            ),
            // bicubic: thop 259 per output, fvcore none.
            (
                up(CUBIC, &[10, 12], &[2.0, 2.0]),
                &[4, 10, 12],
                (0, 124_320, 960),
            ),
            (up(CUBIC, &[7, 9], &[]), &[4, 7, 9], (0, 65_268, 504)),
        ];
        for (op, y, expected) in cases {
            assert_eq!(tools(op, x, y, true), *expected, "{op:?}");
        }
        // 1-D on [4, 5]: linear scale 2 (0, 200, 80), linear size 9
        // (0, 180, 72), nearest scale 2 (0, 40, 80).
        let x: &[usize] = &[4, 5];
        let op = up(LINEAR, &[10], &[2.0]);
        assert_eq!(tools(&op, x, &[4, 10], true), (0, 200, 80));
        let op = up(LINEAR, &[9], &[]);
        assert_eq!(tools(&op, x, &[4, 9], true), (0, 180, 72));
        let op = up(NEAREST, &[10], &[2.0]);
        assert_eq!(tools(&op, x, &[4, 10], true), (0, 40, 80));
        // 3-D on [2, 3, 4, 5]: trilinear scale 2 (0, 0, 1920), trilinear
        // size (4, 5, 6) (0, 0, 480), nearest scale 2 (0, 960, 1920).
        let x: &[usize] = &[2, 3, 4, 5];
        let op = up(LINEAR, &[6, 8, 10], &[2.0; 3]);
        assert_eq!(tools(&op, x, &[2, 6, 8, 10], true), (0, 0, 1_920));
        let op = up(LINEAR, &[4, 5, 6], &[]);
        assert_eq!(tools(&op, x, &[2, 4, 5, 6], true), (0, 0, 480));
        let op = up(NEAREST, &[6, 8, 10], &[2.0; 3]);
        assert_eq!(tools(&op, x, &[2, 6, 8, 10], true), (0, 960, 1_920));
    }

    #[test]
    fn interpolate_functionals() {
        let x: &[usize] = &[4, 5, 6];
        let f = |mode, size: &[usize], scale: &[f64]| interp(mode, size, scale, false);
        let cases: &[Case] = &[
            (
                f(NEAREST, &[10, 12], &[2.0, 2.0]),
                &[4, 10, 12],
                (480, 0, 480),
            ),
            (f(NEAREST, &[7, 9], &[]), &[4, 7, 9], (252, 0, 252)),
            (f(NEAREST, &[7, 7], &[]), &[4, 7, 7], (196, 0, 196)),
            (
                f(NEAREST, &[10, 18], &[2.0, 3.0]),
                &[4, 10, 18],
                (720, 0, 720),
            ),
            // scale_factor=1.5: ptflops numel(in)·1.5² = 270, not 252.
            (f(NEAREST, &[7, 9], &[1.5, 1.5]), &[4, 7, 9], (252, 0, 270)),
            // scale_factor=(1.5, 2.5): 120·int(np.prod(.., dtype=int64)) = 240.
            (
                f(NEAREST, &[7, 15], &[1.5, 2.5]),
                &[4, 7, 15],
                (420, 0, 240),
            ),
            (f(EXACT, &[10, 12], &[2.0, 2.0]), &[4, 10, 12], (0, 0, 480)),
            (
                f(LINEAR, &[10, 12], &[2.0, 2.0]),
                &[4, 10, 12],
                (1_920, 0, 480),
            ),
            (f(LINEAR, &[8, 8], &[]), &[4, 8, 8], (1_024, 0, 256)),
            (f(LINEAR, &[7, 9], &[1.5, 1.5]), &[4, 7, 9], (1_008, 0, 270)),
            (f(CUBIC, &[10, 12], &[2.0, 2.0]), &[4, 10, 12], (0, 0, 480)),
        ];
        for (op, y, expected) in cases {
            assert_eq!(tools(op, x, y, false), *expected, "{op:?}");
        }
        // An nn.Upsample written as an unnamed stage is F.interpolate too.
        let op = interp(LINEAR, &[10, 12], &[2.0, 2.0], true);
        assert_eq!(tools(&op, x, &[4, 10, 12], false), (1_920, 0, 480));
        // 1-D linear size 9 on [4, 5] (0, 0, 36), nearest scale 2 (0, 0, 40);
        // 3-D trilinear scale 2 on [2, 3, 4, 5] (0, 0, 960), nearest size
        // (4, 5, 6) (0, 0, 240).
        assert_eq!(
            tools(&f(LINEAR, &[9], &[]), &[4, 5], &[4, 9], false),
            (0, 0, 36)
        );
        assert_eq!(
            tools(&f(NEAREST, &[10], &[2.0]), &[4, 5], &[4, 10], false),
            (0, 0, 40)
        );
        let x: &[usize] = &[2, 3, 4, 5];
        assert_eq!(
            tools(&f(LINEAR, &[6, 8, 10], &[2.0; 3]), x, &[2, 6, 8, 10], false),
            (0, 0, 960)
        );
        assert_eq!(
            tools(&f(NEAREST, &[4, 5, 6], &[]), x, &[2, 4, 5, 6], false),
            (0, 0, 240)
        );
        // fvcore's operator keys.
        let key = super::super::fvcore_operator;
        assert_eq!(key(&f(NEAREST, &[7, 9], &[])), Some("upsample_nearest2d"));
        assert_eq!(key(&f(LINEAR, &[7, 9], &[])), Some("upsample_bilinear2d"));
        assert_eq!(key(&f(CUBIC, &[7, 9], &[])), None);
        assert_eq!(key(&f(LINEAR, &[9], &[])), None);
    }

    #[test]
    fn prelu_hardtanh_elu() {
        let x: &[usize] = &[4, 5, 5];
        // nn.PReLU() and nn.PReLU(4): (0, 100, 200); F.prelu: (0, 0, 100).
        for n in [1, 4] {
            let op = Op::PReLU {
                num_parameters: n,
                init: 0.25,
            };
            assert_eq!(tools(&op, x, x, true), (0, 100, 200));
            assert_eq!(tools(&op, x, x, false), (0, 0, 100));
        }
        // nn.Hardtanh(), nn.Hardtanh(-2, 3), F.hardtanh: 0 everywhere.
        for (min, max) in [(-1.0, 1.0), (-2.0, 3.0)] {
            let op = Op::Activation(Activation::Hardtanh { min, max });
            assert_eq!(tools(&op, x, x, true), (0, 0, 0));
            assert_eq!(tools(&op, x, x, false), (0, 0, 0));
        }
        // nn.ELU(), nn.ELU(0.5): (0, 0, 200); F.elu: (0, 0, 100).
        for alpha in [1.0, 0.5] {
            let op = Op::Activation(Activation::ELU { alpha });
            assert_eq!(tools(&op, x, x, true), (0, 0, 200));
            assert_eq!(tools(&op, x, x, false), (0, 0, 100));
        }
    }

    #[test]
    fn a_module_applied_twice_counts_twice() {
        // Each application is its own node; the tools count every call.
        let sum = |op: &Op, shapes: &[(&[usize], &[usize])]| {
            shapes.iter().fold(Counts::ZERO, |acc, (x, y)| {
                acc.checked_add(&Counts::of(op, &[x], y, true).unwrap())
                    .unwrap()
            })
        };
        let t = |c: Counts| (c.fvcore, c.thop, c.ptflops);
        let x: &[usize] = &[4, 5, 5];
        // Conv2d(4, 4, 3, padding=1) twice, m(m(x)): (7200, 7200, 7400)
        // (once: 3600, 3600, 3700).
        let conv = Op::Conv2d(Conv2d::new(
            4,
            4,
            [3, 3],
            [1, 1],
            [[1, 1], [1, 1]],
            [1, 1],
            1,
            true,
        ));
        assert_eq!(t(sum(&conv, &[(x, x), (x, x)])), (7_200, 7_200, 7_400));
        // Conv2d(2, 3, 3, padding=1) on both halves of [4, 5, 5]: (2700,
        // 2700, 2850).
        let half = Op::Conv2d(Conv2d::new(
            2,
            3,
            [3, 3],
            [1, 1],
            [[1, 1], [1, 1]],
            [1, 1],
            1,
            true,
        ));
        let (h, o): (&[usize], &[usize]) = (&[2, 5, 5], &[3, 5, 5]);
        assert_eq!(t(sum(&half, &[(h, o), (h, o)])), (2_700, 2_700, 2_850));
        // BatchNorm2d(4) twice (400, 800, 400); ReLU twice ptflops 400;
        // Linear(6, 6) twice on [4, 6] (288, 288, 336).
        let bn = Op::BatchNorm2d(BatchNorm2d {
            channels: 4,
            eps: 1e-5,
        });
        assert_eq!(t(sum(&bn, &[(x, x), (x, x)])), (400, 800, 400));
        let relu = Op::Activation(Activation::ReLU);
        assert_eq!(t(sum(&relu, &[(x, x), (x, x)])), (0, 0, 400));
        let lin = Op::Linear(Linear {
            in_features: 6,
            out_features: 6,
            bias: true,
        });
        let r: &[usize] = &[4, 6];
        assert_eq!(t(sum(&lin, &[(r, r), (r, r)])), (288, 288, 336));
        // ConvTranspose2d(4, 4, 2, stride=2) twice on [4, 3, 3]:
        // [4, 6, 6] then [4, 12, 12]: (2880, 11520, 3600).
        let up = ct([4, 4, 1], &[2, 2], &[2, 2], &[0, 0], &[0, 0], &[1, 1], true);
        let steps: &[(&[usize], &[usize])] =
            &[(&[4, 3, 3], &[4, 6, 6]), (&[4, 6, 6], &[4, 12, 12])];
        assert_eq!(t(sum(&up, steps)), (2_880, 11_520, 3_600));
        // PReLU(4) twice: (0, 200, 400).
        let prelu = Op::PReLU {
            num_parameters: 4,
            init: 0.25,
        };
        assert_eq!(t(sum(&prelu, &[(x, x), (x, x)])), (0, 200, 400));
        // Upsample(scale_factor=2, mode='bilinear') twice on [4, 3, 3]:
        // (2880, 7920, 1440).
        let first = interp(LINEAR, &[6, 6], &[2.0, 2.0], true);
        let second = interp(LINEAR, &[12, 12], &[2.0, 2.0], true);
        let a = Counts::of(&first, &[&[4, 3, 3]], &[4, 6, 6], true).unwrap();
        let b = Counts::of(&second, &[&[4, 6, 6]], &[4, 12, 12], true).unwrap();
        assert_eq!(t(a.checked_add(&b).unwrap()), (2_880, 7_920, 1_440));
    }

    #[test]
    fn the_true_products_are_the_macs() {
        // FlopCounterMode / 2 (netspec's MACs, the Torchvision convention)
        // for the measured transposed and 3-D convolutions: it counts the
        // true products, as fvcore does.
        let macs = |op: &Op, x: &[usize], y: &[usize]| {
            count(Convention::Torchvision, op, &[x], y, true).unwrap()
        };
        let op = ct([4, 6, 1], &[3], &[1], &[0], &[0], &[1], true);
        assert_eq!(macs(&op, &[4, 5], &[6, 7]), 360);
        let op = ct([4, 6, 2], &[3, 3], &[2, 2], &[1, 1], &[1, 1], &[1, 1], true);
        assert_eq!(macs(&op, &[4, 5, 5], &[6, 10, 10]), 2_700);
        let op = ct(
            [4, 6, 1],
            &[3, 2],
            &[2, 1],
            &[0, 0],
            &[0, 0],
            &[2, 2],
            false,
        );
        assert_eq!(macs(&op, &[4, 5, 4], &[6, 13, 6]), 2_880);
        let op = ct(
            [4, 6, 2],
            &[3, 3, 3],
            &[2, 2, 2],
            &[1, 1, 1],
            &[1, 1, 1],
            &[1, 1, 1],
            true,
        );
        assert_eq!(macs(&op, &[4, 3, 4, 5], &[6, 6, 8, 10]), 19_440);
        let op = Op::Conv3d(ConvNd::new(
            3,
            false,
            4,
            6,
            [3; 3],
            [1; 3],
            [[1, 1]; 3],
            [0; 3],
            [1; 3],
            2,
            true,
        ));
        assert_eq!(macs(&op, &[4, 4, 5, 6], &[6, 4, 5, 6]), 38_880);
    }

    #[test]
    fn rules_name_the_tools_arithmetic() {
        let op = ct([4, 6, 2], &[3, 3], &[2, 2], &[1, 1], &[1, 1], &[1, 1], true);
        assert_eq!(Convention::Thop.rule(&op, true), "output*(C_in/g)*K");
        assert_eq!(Convention::Ptflops.rule(&op, true), "MACs + 1/output");
        assert_eq!(Convention::Fvcore.rule(&op, false), "MACs");
        assert_eq!(Convention::Torchvision.rule(&op, true), "MACs");
        let up = interp(CUBIC, &[10, 12], &[2.0, 2.0], true);
        assert_eq!(Convention::Thop.rule(&up, true), "259/output");
        assert_eq!(Convention::Thop.rule(&up, false), "0 unseen");
        assert_eq!(
            Convention::Ptflops.rule(&up, true),
            "1/output + input*scale^rank"
        );
        assert_eq!(Convention::Flops.rule(&up, true), "31/output");
    }

    #[test]
    fn huge_interpolations_do_not_wrap() {
        // numel(in) · scale² beyond u64: None, not a wrapped count.
        // 2^42 input elements times 10^18.
        let op = interp(NEAREST, &[7, 7], &[1e9, 1e9], false);
        let big = 1usize << 20;
        let x: &[usize] = &[4, big, big];
        assert_eq!(
            count(Convention::Ptflops, &op, &[x], &[4, 7, 7], false),
            None
        );
        // Different integer factors multiply exactly: 2^42 · 6.
        let op = interp(NEAREST, &[7, 7], &[2.0, 3.0], false);
        assert_eq!(
            count(Convention::Ptflops, &op, &[x], &[4, 7, 7], false),
            Some(6 << 42)
        );
    }
}
