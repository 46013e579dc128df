//! The cost model: parameters, MACs, FLOPs, bytes moved and activations of one
//! operation, per sample, with checked arithmetic.
//!
//! | kind | MACs | FLOPs (per sample) |
//! | --- | --- | --- |
//! | Conv2d, Conv1d | `C_out·H_out·W_out·(C_in/groups)·k_h·k_w` (`k_h = H_out = 1` in 1-D) | `2·MACs` + `C_out·H_out·W_out` with bias |
//! | Linear (and attention's in-projection) | `rows·in·out` (`rows`: the product of the leading dimensions) | `2·MACs` + `rows·out` with bias |
//! | Matmul `[.., M, K] @ [.., K, N]` | `batch·M·N·K` | `2·MACs` + `batch·M·N` when scaled (`alpha ≠ 1`) |
//! | LayerNorm, GroupNorm | 0 | 5 per element (sum, subtract the mean, square, sum, scale by `1/σ`) + 2 with affine (weight, bias) |
//! | BatchNorm2d | 0 | 2 per element (folded scale and shift) |
//! | ReLU | 0 | 1 per element (max) |
//! | ReLU6, LeakyReLU | 0 | 2 per element (max and min; mul and max) |
//! | Sigmoid | 0 | 4 per element (neg, exp, add, div) |
//! | Tanh | 0 | 1 per element (one transcendental) |
//! | SiLU | 0 | 5 per element (sigmoid and mul) |
//! | Hardsigmoid | 0 | 4 per element (add, max, min, mul) |
//! | Hardswish | 0 | 5 per element (hard sigmoid and mul) |
//! | GELU | 0 | 5 per element exact (mul, erf, add, mul, mul); 9 with tanh |
//! | Softmax (any dim, causal too) | 0 | 5 per element (max, sub, exp, sum, div) |
//! | MaxPool2d | 0 | `k_h·k_w − 1` comparisons per output element |
//! | AvgPool2d | 0 | `k_h·k_w` per output element (adds and one divide) |
//! | AdaptiveAvgPool2d | 0 | the bin's area per output element (adds and one divide) |
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

use crate::op::{Activation, GroupNorm, LayerNorm, Op};
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
        let weights = self.params.saturating_mul(4);
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
        Activation::ReLU6 | Activation::LeakyReLU { .. } => 2,
        Activation::Sigmoid | Activation::HardSigmoid => 4,
        Activation::SiLU | Activation::HardSwish => 5,
        Activation::GELU { tanh: false } => 5,
        Activation::GELU { tanh: true } => 9,
        Activation::Hardtanh { .. } | Activation::ELU { .. } => 0, // ISSUE13-PLACEHOLDER
    }
}

fn u(v: usize) -> Option<u64> {
    u64::try_from(v).ok()
}

fn mul(values: &[u64]) -> Option<u64> {
    values.iter().try_fold(1u64, |acc, &v| acc.checked_mul(v))
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
        Op::BatchNorm1d(_) | Op::BatchNorm3d(_) | Op::Conv3d(_) | Op::ConvTranspose(_) | Op::MaxPoolNd(_) | Op::AvgPoolNd(_) | Op::AdaptiveAvgPoolNd { .. } | Op::Interpolate(_) | Op::PReLU { .. } => (0, 0), // ISSUE13-PLACEHOLDER
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
    use crate::op::Conv2d;

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
