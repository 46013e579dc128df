//! The cost model: parameters, MACs, FLOPs, bytes moved and activations of one
//! operation, per sample, with checked arithmetic.
//!
//! | kind | MACs | FLOPs (per sample) |
//! | --- | --- | --- |
//! | Conv2d, Conv1d | `C_out·H_out·W_out·(C_in/groups)·k_h·k_w` (`k_h = H_out = 1` in 1-D) | `2·MACs` + `C_out·H_out·W_out` with bias |
//! | Conv3d | `C_out·D_out·H_out·W_out·(C_in/groups)·k_d·k_h·k_w` | `2·MACs` + `C_out·S_out` with bias |
//! | ConvTranspose1d/2d/3d | `C_in·S_in·(C_out/groups)·K` (the true products: each input element times each weight of its group; `S` the spatial elements, `K` the kernel's) | `2·MACs` + `C_out·S_out` with bias |
//! | Linear (and attention's in-projection) | `rows·in·out` (`rows`: the product of the leading dimensions) | `2·MACs` + `rows·out` with bias |
//! | Matmul `[.., M, K] @ [.., K, N]` | `batch·M·N·K` | `2·MACs` + `batch·M·N` when scaled (`alpha ≠ 1`) |
//! | LayerNorm, GroupNorm | 0 | 5 per element (sum, subtract the mean, square, sum, scale by `1/σ`) + 2 with affine (weight, bias) |
//! | BatchNorm1d, BatchNorm2d, BatchNorm3d | 0 | 2 per element (folded scale and shift) |
//! | ReLU | 0 | 1 per element (max) |
//! | ReLU6, LeakyReLU, Hardtanh | 0 | 2 per element (max and min; mul and max; max and min) |
//! | PReLU | 0 | 2 per element (as LeakyReLU, the slope read per channel) |
//! | Sigmoid | 0 | 4 per element (neg, exp, add, div) |
//! | ELU | 0 | 4 per element (compare, exp, subtract 1, multiply by α) |
//! | Tanh | 0 | 1 per element (one transcendental) |
//! | SiLU | 0 | 5 per element (sigmoid and mul) |
//! | Hardsigmoid | 0 | 4 per element (add, max, min, mul) |
//! | Hardswish | 0 | 5 per element (hard sigmoid and mul) |
//! | GELU | 0 | 5 per element exact (mul, erf, add, mul, mul); 9 with tanh |
//! | Softmax (any dim, causal too) | 0 | 5 per element (max, sub, exp, sum, div) |
//! | MaxPool1d/2d/3d | 0 | `K − 1` comparisons per output element (`K` the window's elements) |
//! | AvgPool1d/2d/3d | 0 | `K` per output element (adds and one divide) |
//! | AdaptiveAvgPool1d/2d/3d | 0 | the bin's volume per output element (adds and one divide): per axis, the bins' lengths sum to `L + out − gcd(L, out)` |
//! | Upsample, interpolate | 0 | per output element: 0 for "nearest" and "nearest-exact", `2·taps^rank − 1` otherwise (the weighted sum of `taps^rank` inputs; linear 3, bilinear 7, trilinear 15, bicubic 31; the weights are computed once per output row and column, not counted) |
//! | Add of n inputs | 0 | `n − 1` per output element |
//! | Sub, Mul, Div, Maximum, Minimum | 0 | 1 per output element |
//! | Affine `scale·x + shift` | 0 | 1 per element for each of `scale ≠ 1`, `shift ≠ 0` |
//! | Mean (any dims) | 0 | one per input element (adds and one divide per output) |
//! | Flatten, Reshape, Permute, Dropout, StochasticDepth, Identity, Concat, Slice, Select, Roll, Pad, ChannelShuffle, Parameter, Constant, Gather | 0 | 0 |
//!
//! Memory access is `4 · (input elements + output elements + params)` bytes:
//! every layer reads its inputs and parameters and writes its output once, as
//! f32; layers that hand their input on unchanged (Identity, Dropout,
//! StochasticDepth, Flatten, Reshape: views in PyTorch) move nothing, and a
//! Parameter or a Constant moves nothing itself (the layers that read it
//! count it; a Gather reads its table and writes its output, its indices
//! are part of the graph). Activations are the elements of the layer's
//! output (none for a Parameter, which is a weight, or a Constant, which is
//! data the network carries).

use crate::op::{
    right_aligned, Activation, GroupNorm, Interpolate, InterpolationMode, LayerNorm, Op,
};
use crate::shape::numel;

/// The costs of one layer for one sample.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Costs {
    /// Learnable parameters.
    pub params: u64,
    /// Buffer elements (batch-norm running statistics).
    pub buffers: u64,
    /// Multiply-accumulates of every matrix product (convolutions, linear layers, matmuls), bias excluded.
    pub macs: u64,
    /// Floating-point operations, by the table in this module's docs.
    pub flops: u64,
    /// Bytes read and written as f32.
    pub memory_access_bytes: u64,
    /// Elements of the output.
    pub activations: u64,
}

impl Costs {
    /// All zero (usable in const context, unlike `Default`).
    pub const ZERO: Costs = Costs::new(0, 0, 0, 0, 0, 0);

    /// The costs from their values in field order. The `network!` macro
    /// emits one such call per layer (`C::new(...)`), which keeps the
    /// generated code short.
    pub const fn new(
        params: u64,
        buffers: u64,
        macs: u64,
        flops: u64,
        memory_access_bytes: u64,
        activations: u64,
    ) -> Costs {
        Costs {
            params,
            buffers,
            macs,
            flops,
            memory_access_bytes,
            activations,
        }
    }

    /// Field-wise checked sum; `None` on overflow.
    pub fn checked_add(&self, other: &Costs) -> Option<Costs> {
        Some(Costs {
            params: self.params.checked_add(other.params)?,
            buffers: self.buffers.checked_add(other.buffers)?,
            macs: self.macs.checked_add(other.macs)?,
            flops: self.flops.checked_add(other.flops)?,
            memory_access_bytes: self
                .memory_access_bytes
                .checked_add(other.memory_access_bytes)?,
            activations: self.activations.checked_add(other.activations)?,
        })
    }

    /// Field-wise sum that stops at `u64::MAX` (for report sums, whose
    /// totals were checked when counting).
    pub const fn saturating_add(&self, other: &Costs) -> Costs {
        Costs {
            params: self.params.saturating_add(other.params),
            buffers: self.buffers.saturating_add(other.buffers),
            macs: self.macs.saturating_add(other.macs),
            flops: self.flops.saturating_add(other.flops),
            memory_access_bytes: self
                .memory_access_bytes
                .saturating_add(other.memory_access_bytes),
            activations: self.activations.saturating_add(other.activations),
        }
    }

    /// FLOPs per byte moved (0 for a layer that moves nothing).
    pub const fn arithmetic_intensity(&self) -> f64 {
        if self.memory_access_bytes == 0 {
            0.0
        } else {
            self.flops as f64 / self.memory_access_bytes as f64
        }
    }

    /// Bytes moved for a batch of `batch` samples: activations scale with the
    /// batch, parameters are read once: `N · (bytes − 4 · params) + 4 · params`.
    pub const fn batch_bytes(&self, batch: u64) -> u64 {
        self.batch_bytes_reading(self.params, batch)
    }

    /// [`Costs::batch_bytes`] for a layer that reads `params` weights (its
    /// own, or, for a later application of a shared module, which carries
    /// none, its owner's): `N · (bytes − 4 · params) + 4 · params`.
    pub const fn batch_bytes_reading(&self, params: u64, batch: u64) -> u64 {
        let weights = params.saturating_mul(4);
        let weights = if weights < self.memory_access_bytes {
            weights
        } else {
            self.memory_access_bytes
        };
        (self.memory_access_bytes - weights)
            .saturating_mul(batch)
            .saturating_add(weights)
    }
}

/// FLOPs per output element of an activation.
pub const fn activation_flops(a: &Activation) -> u64 {
    match a {
        Activation::ReLU | Activation::Tanh => 1,
        Activation::ReLU6 | Activation::LeakyReLU { .. } | Activation::Hardtanh { .. } => 2,
        Activation::Sigmoid | Activation::HardSigmoid | Activation::ELU { .. } => 4,
        Activation::SiLU | Activation::HardSwish => 5,
        Activation::GELU { tanh: false } => 5,
        Activation::GELU { tanh: true } => 9,
    }
}

fn u(v: usize) -> Option<u64> {
    u64::try_from(v).ok()
}

fn mul(values: &[u64]) -> Option<u64> {
    values.iter().try_fold(1u64, |acc, &v| acc.checked_mul(v))
}

/// The product of the last `rank` kernel sizes (the right-aligned
/// arrays of [`crate::op::ConvNd`] and [`crate::op::PoolNd`]).
pub fn kernel_volume(kernel: &[usize; 3], rank: usize) -> Option<u64> {
    right_aligned(kernel, rank)?
        .iter()
        .try_fold(1u64, |acc, &k| acc.checked_mul(u(k)?))
}

/// FLOPs of a weighted sum of `taps^rank` input values, `2·taps^rank − 1`:
/// an interpolating mode's FLOPs per output element (linear 3, bilinear 7,
/// trilinear 15, bicubic 31), and every mode's backward per output element
/// (nearest: 1, the add of its gradient into its source).
pub fn interpolate_weighted_sum(i: &Interpolate) -> Option<u64> {
    let rank = u32::try_from(i.rank).ok()?;
    i.taps().checked_pow(rank)?.checked_mul(2)?.checked_sub(1)
}

/// Sum over the adaptive pooling bins of one axis of the bin lengths
/// (PyTorch's edges: `floor(i·L/out)` to `ceil((i+1)·L/out)`), in closed form:
/// `L + out − gcd(L, out)`.
///
/// The sum telescopes: `Σ ceil((i+1)·L/out) − floor(i·L/out)` over `i < out`
/// is `floor(out·L/out) − floor(0) = L` plus one for each `j` in `1..=out`
/// where `out` does not divide `j·L`; `out` divides `j·L` exactly when
/// `out / gcd(L, out)` divides `j`, which holds for `gcd(L, out)` of them.
pub fn adaptive_bin_total(len: usize, out: usize) -> Option<u64> {
    if out == 0 {
        return Some(0);
    }
    let g = gcd(len, out);
    u(len)?.checked_add(u(out)?)?.checked_sub(u(g)?)
}

fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// The costs of `op` mapping `inputs` to `output`, or `None` if a count overflows `u64`.
pub fn costs(op: &Op, inputs: &[&[usize]], output: &[usize]) -> Option<Costs> {
    let out_elems = u(numel(output)?)?;
    let mut in_elems = 0u64;
    for x in inputs {
        in_elems = in_elems.checked_add(u(numel(x)?)?)?;
    }
    let mut params = 0u64;
    let mut buffers = 0u64;
    for t in op.stored_tensors() {
        let n = u(numel(&t.shape)?)?;
        match t.role {
            crate::op::TensorRole::Param => params = params.checked_add(n)?,
            crate::op::TensorRole::Buffer => buffers = buffers.checked_add(n)?,
        }
    }
    let (macs, flops) = match op {
        Op::Conv3d(c) | Op::ConvTranspose(c) => {
            // A convolution: every output element sums (C_in/g)·K products.
            // A transposed one: every input element is multiplied by the
            // (C_out/g)·K weights it scatters to (the true products; the
            // output positions they land on overlap or are cropped).
            let g = c.groups.max(1);
            let (elems, per_group) = if matches!(op, Op::ConvTranspose(_)) {
                (u(numel(inputs.first()?)?)?, u(c.out_channels / g)?)
            } else {
                (out_elems, u(c.in_channels / g)?)
            };
            let macs = mul(&[elems, per_group, kernel_volume(&c.kernel, c.rank)?])?;
            let bias = if c.bias { out_elems } else { 0 };
            (macs, macs.checked_mul(2)?.checked_add(bias)?)
        }
        Op::BatchNorm1d(_) | Op::BatchNorm3d(_) => (0, out_elems.checked_mul(2)?),
        Op::PReLU { .. } => (0, out_elems.checked_mul(2)?),
        Op::MaxPoolNd(p) => (
            0,
            out_elems.checked_mul(kernel_volume(&p.kernel, p.rank)?.checked_sub(1)?)?,
        ),
        Op::AvgPoolNd(p) => (0, out_elems.checked_mul(kernel_volume(&p.kernel, p.rank)?)?),
        Op::AdaptiveAvgPoolNd { rank, output: size } => {
            // [C, *spatial]: the bins' volume is the product over the axes of
            // each axis's total bin length.
            let (c, spatial) = inputs.first()?.split_first()?;
            let sizes = right_aligned(size, *rank)?;
            if spatial.len() != sizes.len() {
                return None;
            }
            let mut volume = 1u64;
            for (&len, &out) in spatial.iter().zip(sizes) {
                volume = volume.checked_mul(adaptive_bin_total(len, out)?)?;
            }
            (0, u(*c)?.checked_mul(volume)?)
        }
        Op::Interpolate(i) => {
            let per = match i.mode {
                InterpolationMode::Nearest | InterpolationMode::NearestExact => 0,
                InterpolationMode::Linear | InterpolationMode::Bicubic => {
                    interpolate_weighted_sum(i)?
                }
            };
            (0, out_elems.checked_mul(per)?)
        }
        Op::Conv2d(c) => {
            let per_group_in = u(c.in_channels / c.groups.max(1))?;
            let macs = mul(&[out_elems, per_group_in, u(c.kernel[0])?, u(c.kernel[1])?])?;
            let bias = if c.bias { out_elems } else { 0 };
            (macs, macs.checked_mul(2)?.checked_add(bias)?)
        }
        Op::Conv1d(c) => {
            let per_group_in = u(c.in_channels / c.groups.max(1))?;
            let macs = mul(&[out_elems, per_group_in, u(c.kernel[1])?])?;
            let bias = if c.bias { out_elems } else { 0 };
            (macs, macs.checked_mul(2)?.checked_add(bias)?)
        }
        Op::Linear(l) | Op::MhaInProj { linear: l, .. } => {
            // Every leading position is one row: out_elems = rows · out.
            let rows = out_elems / u(l.out_features.max(1))?;
            let macs = mul(&[rows, u(l.in_features)?, u(l.out_features)?])?;
            let bias = if l.bias { out_elems } else { 0 };
            (macs, macs.checked_mul(2)?.checked_add(bias)?)
        }
        Op::Matmul { trans_b, alpha, .. } => {
            // out_elems = batch · M · N; K is the first operand's last size.
            let k = u(*inputs.first()?.last()?)?;
            let _ = trans_b;
            let macs = out_elems.checked_mul(k)?;
            let scale = if *alpha == 1.0 { 0 } else { out_elems };
            (macs, macs.checked_mul(2)?.checked_add(scale)?)
        }
        Op::LayerNorm(LayerNorm { affine, .. }) | Op::GroupNorm(GroupNorm { affine, .. }) => {
            (0, out_elems.checked_mul(if *affine { 7 } else { 5 })?)
        }
        Op::BatchNorm2d(_) => (0, out_elems.checked_mul(2)?),
        Op::Activation(a) => (0, out_elems.checked_mul(activation_flops(a))?),
        Op::Softmax { .. } => (0, out_elems.checked_mul(5)?),
        Op::MaxPool2d(p) => (
            0,
            out_elems.checked_mul(mul(&[u(p.kernel[0])?, u(p.kernel[1])?])?.checked_sub(1)?)?,
        ),
        Op::AvgPool2d(p) => (
            0,
            out_elems.checked_mul(mul(&[u(p.kernel[0])?, u(p.kernel[1])?])?)?,
        ),
        Op::AdaptiveAvgPool2d { output: size } => {
            let x = inputs.first()?;
            let (c, h, w) = (u(*x.first()?)?, *x.get(1)?, *x.get(2)?);
            let area =
                adaptive_bin_total(h, size[0])?.checked_mul(adaptive_bin_total(w, size[1])?)?;
            (0, c.checked_mul(area)?)
        }
        Op::Add => (
            0,
            out_elems.checked_mul(u(inputs.len().saturating_sub(1))?)?,
        ),
        Op::Sub | Op::Mul | Op::Div | Op::Maximum | Op::Minimum => (0, out_elems),
        Op::Affine { scale, shift } => {
            let per = u64::from(*scale != 1.0) + u64::from(*shift != 0.0);
            (0, out_elems.checked_mul(per)?)
        }
        Op::Mean { .. } => (0, in_elems),
        Op::Flatten
        | Op::Dropout { .. }
        | Op::StochasticDepth { .. }
        | Op::Identity
        | Op::Concat { .. }
        | Op::Slice { .. }
        | Op::Select { .. }
        | Op::Reshape { .. }
        | Op::Permute { .. }
        | Op::Roll { .. }
        | Op::Pad { .. }
        | Op::Parameter { .. }
        | Op::Constant { .. }
        | Op::Gather { .. }
        | Op::ChannelShuffle { .. } => (0, 0),
    };
    // Layers that hand their input on unchanged (as views in PyTorch, moves
    // in our runtime) read and write nothing.
    let pass_through = matches!(
        op,
        Op::Identity
            | Op::Dropout { .. }
            | Op::StochasticDepth { .. }
            | Op::Flatten
            | Op::Reshape { .. }
            | Op::Parameter { .. }
            | Op::Constant { .. }
    );
    let memory_access_bytes = if pass_through {
        0
    } else {
        in_elems
            .checked_add(out_elems)?
            .checked_add(params)?
            .checked_mul(4)?
    };
    let activations = if matches!(op, Op::Parameter { .. } | Op::Constant { .. }) {
        0
    } else {
        out_elems
    };
    Some(Costs {
        params,
        buffers,
        macs,
        flops,
        memory_access_bytes,
        activations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::op::{BatchNorm2d, Conv2d, ConvNd, PoolNd};

    #[test]
    fn biased_conv_follows_the_closed_form() {
        // (2·k·k·C_in + 1)·H_out·W_out·C_out = (2·9·16 + 1)·8·8·32 = 289·2048 = 591,872
        let op = Op::Conv2d(Conv2d {
            in_channels: 16,
            out_channels: 32,
            kernel: [3, 3],
            stride: [1, 1],
            padding: [[1, 1], [1, 1]],
            dilation: [1, 1],
            groups: 1,
            bias: true,
        });
        let c = costs(&op, &[&[16, 8, 8]], &[32, 8, 8]).unwrap();
        assert_eq!(c.flops, 591_872);
        assert_eq!(c.macs, 32 * 64 * 16 * 9);
        assert_eq!(c.params, 32 * 16 * 9 + 32);
        // bytes: 4·(1024 + 2048 + 4640)
        assert_eq!(c.memory_access_bytes, 4 * (1024 + 2048 + 4640));
    }

    /// A biased, unpadded, stride-1 convolution (or transposed one).
    fn conv_nd(
        transposed: bool,
        rank: usize,
        cin: usize,
        cout: usize,
        k: [usize; 3],
        g: usize,
    ) -> ConvNd {
        ConvNd::symmetric(
            rank, transposed, cin, cout, k, [1; 3], [0; 3], [0; 3], [1; 3], g,
        )
    }

    #[test]
    fn transposed_convolutions_count_the_true_products() {
        // ConvTranspose2d(16, 8, 2, stride=2) on [16, 4, 4] -> [8, 8, 8]:
        // C_in·S_in·(C_out/g)·K = 16·16·8·4 = 8,192 (FlopCounterMode: 16,384 FLOPs)
        let up = Op::ConvTranspose(conv_nd(true, 2, 16, 8, [1, 2, 2], 1));
        let c = costs(&up, &[&[16, 4, 4]], &[8, 8, 8]).unwrap();
        assert_eq!(c.macs, 8_192);
        // 2·MACs + the bias on each of the 512 outputs
        assert_eq!(c.flops, 2 * 8_192 + 512);
        // weight [16, 8, 2, 2] + bias 8
        assert_eq!(c.params, 512 + 8);
        assert_eq!(c.memory_access_bytes, 4 * (256 + 512 + 520));
        assert_eq!(c.activations, 512);
        // ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1,
        // dilation=2, groups=2) on [4, 5, 7] -> [6, 12, 16]: 4·35·3·9 = 3,780
        // (FlopCounterMode: 7,560 FLOPs); the output positions times the
        // kernel would be 6·192·2·9 = 20,736
        let up = Op::ConvTranspose(conv_nd(true, 2, 4, 6, [1, 3, 3], 2));
        let c = costs(&up, &[&[4, 5, 7]], &[6, 12, 16]).unwrap();
        assert_eq!(c.macs, 3_780);
        assert_eq!(c.params, 4 * 3 * 9 + 6);
        // ConvTranspose1d(4, 6, 3, stride=3, groups=2) on [4, 5] -> [6, 15]: 4·5·3·3 = 180
        let up = Op::ConvTranspose(conv_nd(true, 1, 4, 6, [1, 1, 3], 2));
        assert_eq!(costs(&up, &[&[4, 5]], &[6, 15]).unwrap().macs, 180);
        // ConvTranspose3d(4, 2, (2, 3, 1)) on [4, 3, 4, 5] -> [2, 6, 4, 13]: 4·60·2·6 = 2,880
        let up = Op::ConvTranspose(conv_nd(true, 3, 4, 2, [2, 3, 1], 1));
        let c = costs(&up, &[&[4, 3, 4, 5]], &[2, 6, 4, 13]).unwrap();
        assert_eq!(c.macs, 2_880);
        assert_eq!(c.flops, 2 * 2_880 + 2 * 6 * 4 * 13);
    }

    #[test]
    fn conv3d_counts_every_output_position() {
        // Conv3d(4, 6, 3, groups=2) on [4, 4, 6, 6] -> [6, 4, 3, 3]:
        // C_out·S_out·(C_in/g)·K = 6·36·2·27 = 11,664 (FlopCounterMode: 23,328 FLOPs)
        let c3 = Op::Conv3d(conv_nd(false, 3, 4, 6, [3; 3], 2));
        let c = costs(&c3, &[&[4, 4, 6, 6]], &[6, 4, 3, 3]).unwrap();
        assert_eq!(c.macs, 11_664);
        assert_eq!(c.flops, 2 * 11_664 + 216);
        // weight [6, 2, 3, 3, 3] + bias
        assert_eq!(c.params, 324 + 6);
    }

    #[test]
    fn pools_resampling_and_activations_of_the_new_layers() {
        let pool = |rank, k: [usize; 3]| PoolNd::new(rank, k, k, [0; 3], [1; 3], false, true);
        // MaxPool3d(2) on [4, 4, 4, 4] -> 32 outputs of 8 - 1 = 7 comparisons
        let m = Op::MaxPoolNd(pool(3, [2; 3]));
        assert_eq!(
            costs(&m, &[&[4, 4, 4, 4]], &[4, 2, 2, 2]).unwrap().flops,
            224
        );
        // AvgPool1d(3) on [2, 9] -> 6 outputs of 3 (two adds, one divide)
        let a = Op::AvgPoolNd(pool(1, [1, 1, 3]));
        let c = costs(&a, &[&[2, 9]], &[2, 3]).unwrap();
        assert_eq!((c.flops, c.memory_access_bytes), (18, 4 * (18 + 6)));
        // AdaptiveAvgPool1d(3) on [4, 7]: bins [0,3) [2,5) [4,7), 9 per channel
        let ad = Op::AdaptiveAvgPoolNd {
            rank: 1,
            output: [1, 1, 3],
        };
        assert_eq!(costs(&ad, &[&[4, 7]], &[4, 3]).unwrap().flops, 36);
        // AdaptiveAvgPool3d((3, 1, 5)) on [2, 7, 8, 5]: 2 · 9 · 8 · 5
        let ad = Op::AdaptiveAvgPoolNd {
            rank: 3,
            output: [3, 1, 5],
        };
        assert_eq!(
            costs(&ad, &[&[2, 7, 8, 5]], &[2, 3, 1, 5]).unwrap().flops,
            720
        );
        // Resampling, per output element: nearest 0, bilinear 2·4 − 1 = 7,
        // bicubic 2·16 − 1 = 31, trilinear 2·8 − 1 = 15, linear 2·2 − 1 = 3
        let interp = |mode, rank| {
            Op::Interpolate(Interpolate {
                mode,
                rank,
                size: [1; 3],
                scale: [0.0; 3],
                align_corners: false,
                upsample: false,
            })
        };
        let x: &[usize] = &[4, 5, 5];
        let y: &[usize] = &[4, 10, 10];
        let near = costs(&interp(InterpolationMode::Nearest, 2), &[x], y).unwrap();
        assert_eq!((near.macs, near.flops), (0, 0));
        assert_eq!(near.memory_access_bytes, 4 * (100 + 400));
        let f = |mode, rank, x: &[usize], y: &[usize]| {
            costs(&interp(mode, rank), &[x], y).unwrap().flops
        };
        assert_eq!(f(InterpolationMode::NearestExact, 2, x, y), 0);
        assert_eq!(f(InterpolationMode::Linear, 2, x, y), 2_800);
        assert_eq!(f(InterpolationMode::Bicubic, 2, x, y), 12_400);
        assert_eq!(
            f(InterpolationMode::Linear, 3, &[1, 2, 2, 2], &[1, 4, 4, 4]),
            960
        );
        assert_eq!(f(InterpolationMode::Linear, 1, &[2, 3], &[2, 5]), 30);
        // PReLU(4) on [4, 5, 5]: 2 per element, 4 weights
        let p = Op::PReLU {
            num_parameters: 4,
            init: 0.25,
        };
        let c = costs(&p, &[x], x).unwrap();
        assert_eq!((c.params, c.flops), (4, 200));
        assert_eq!(c.memory_access_bytes, 4 * (100 + 100 + 4));
        // Hardtanh 2 per element, ELU 4
        let ht = Op::Activation(Activation::Hardtanh {
            min: -1.0,
            max: 1.0,
        });
        assert_eq!(costs(&ht, &[x], x).unwrap().flops, 200);
        let elu = Op::Activation(Activation::ELU { alpha: 1.0 });
        assert_eq!(costs(&elu, &[x], x).unwrap().flops, 400);
        // BatchNorm1d(3) on [3, 4]: 2 per element, weight and bias, two buffers
        let bn = BatchNorm2d {
            channels: 3,
            eps: 1e-5,
        };
        let c = costs(&Op::BatchNorm1d(bn), &[&[3, 4]], &[3, 4]).unwrap();
        assert_eq!((c.params, c.buffers, c.flops), (6, 6, 24));
        let c = costs(&Op::BatchNorm3d(bn), &[&[3, 2, 2, 2]], &[3, 2, 2, 2]).unwrap();
        assert_eq!((c.params, c.buffers, c.flops), (6, 6, 48));
    }

    #[test]
    fn new_counts_overflow_to_none() {
        let big = usize::MAX / 2;
        let up = Op::ConvTranspose(conv_nd(true, 3, 4, 2, [big, 3, 1], 1));
        assert_eq!(costs(&up, &[&[4, 3, 4, 5]], &[2, 6, 4, 13]), None);
        assert_eq!(kernel_volume(&[big, big, 1], 2), Some(big as u64));
        assert_eq!(kernel_volume(&[big, big, 1], 3), None);
    }

    #[test]
    fn adaptive_bins_overlap_like_pytorch() {
        // 7 -> 3 bins: [0,3) [2,5) [4,7): lengths 3+3+3 = 9
        assert_eq!(adaptive_bin_total(7, 3), Some(9));
        // 8 -> 1: one bin of 8
        assert_eq!(adaptive_bin_total(8, 1), Some(8));
        // 5 -> 5: identity bins
        assert_eq!(adaptive_bin_total(5, 5), Some(5));
        // 10 -> 4 bins: [0,3) [2,5) [5,8) [7,10): 3+3+3+3 = 12 = 10 + 4 - gcd 2
        assert_eq!(adaptive_bin_total(10, 4), Some(12));
        // 3 -> 7 bins (more bins than elements), edges floor(3i/7)..ceil(3(i+1)/7): [0,1) [0,1) [0,2) [1,2) [1,3) [2,3) [2,3):
        // 1+1+2+1+2+1+1 = 9 = 3 + 7 - 1
        assert_eq!(adaptive_bin_total(3, 7), Some(9));
        // a billion bins: instant, and equal to the sum computed bin by bin
        assert_eq!(adaptive_bin_total(7, 1_000_000_000), Some(1_000_000_006));
        for len in 1..40usize {
            for out in 1..40 {
                let by_bins: u64 = (0..out)
                    .map(|i| ((i + 1) * len).div_ceil(out) as u64 - (i * len / out) as u64)
                    .sum();
                assert_eq!(
                    adaptive_bin_total(len, out),
                    Some(by_bins),
                    "{len} -> {out}"
                );
            }
        }
    }
}
