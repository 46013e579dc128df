//! What a training step costs, per layer and per sample: the backward pass's
//! MACs and FLOPs (grad-input and grad-weight apart), what autograd keeps for
//! the backward pass, and the memory of a step with an optimizer.
//!
//! # Backward
//!
//! A layer's grad-input is computed only when its input needs a gradient: a
//! value needs one when a layer with parameters, or a layer reading a value
//! that needs one, produced it. The network input needs none, so the first
//! layer with weights has no grad-input, and layers before it have no
//! backward at all. Per sample, with `E` the output elements:
//!
//! | layer | grad-input MACs / FLOPs | grad-weight MACs / FLOPs |
//! | --- | --- | --- |
//! | Conv2d, Conv1d, Conv3d | `MACs` / `2·MACs` (a transposed convolution, grouped like the forward) | `MACs` / `2·MACs` (`+ E` with bias: the bias gradient sums `dy`) |
//! | ConvTranspose1d/2d/3d | `MACs` / `2·MACs` (a convolution, the same products as the forward) | `MACs` / `2·MACs` (`+ E` with bias) |
//! | Linear | `in·out` / `2·in·out` | `in·out` / `2·in·out` (`+ out` with bias) |
//! | BatchNorm1d/2d/3d (training) | 0 / `4·E` (`γσ⁻¹·(dy − mean(dy) − x̂·mean(dy·x̂))`) | 0 / `5·E` (recompute `x̂`: 2, `dβ = Σ dy`: 1, `dγ = Σ dy·x̂`: 2) |
//! | ReLU, ReLU6, LeakyReLU, Hardtanh | 0 / 1, 2, 2, 2 per element (select; two compares; compare and multiply; two compares) | — |
//! | PReLU | 0 / 2 per element (compare and multiply) | 0 / 2 per element (`dw = Σ dy·x` over `x < 0`) |
//! | ELU | 0 / 4 per element (compare, exp, `·α`, `·dy`) | — |
//! | Sigmoid, Tanh | 0 / 3 per element (`dy·y·(1 − y)`, `dy·(1 − y²)`) | — |
//! | SiLU | 0 / 9 per element (the sigmoid again: 4, then `dy·s·(1 + x·(1 − s))`: 5) | — |
//! | Hardsigmoid, Hardswish | 0 / 2, 4 per element (window test and scale; window tests and `dy·(2x + 3)/6`) | — |
//! | GELU | 0 / 11 per element exact (`Φ(x)`: 4, `φ(x)`: 4, `Φ + x·φ`: 2, `·dy`: 1), 17 with tanh | — |
//! | Softmax | 0 / 4 per element (`y·(dy − Σ dy·y)`) | — |
//! | MaxPool1d/2d/3d | 0 / 1 per output element (added at its argmax) | — |
//! | AvgPool1d/2d/3d, AdaptiveAvgPool1d/2d/3d | 0 / the forward FLOPs (each output's gradient spread over its window) | — |
//! | Upsample, interpolate | 0 / `2·taps^rank − 1` per output element (its gradient weighted into its taps; nearest: 1, one add) | — |
//! | mean | 0 / 1 per input element | — |
//! | a · b | 0 / per input needing a gradient: `E` (`dy·other`) + `E − numel(input)` (summing over broadcast dimensions) | — |
//! | `table[idx]` (gather by a constant index) | 0 / 1 per output element (added back into the table) | — |
//! | add, cat, chunk, narrow, flatten, channel shuffle, identity | 0 (gradients are copied or routed) | — |
//!
//! Dropout and stochastic depth are counted as at inference (identity): their
//! masks' multiplications are not counted (the references are measured with
//! dropout off).
//!
//! PyTorch's `FlopCounterMode` counts only convolutions and matrix products,
//! and its convolution backward formula counts a grouped convolution's
//! grad-weight as if it were not grouped (`groups` times the true count);
//! [`Training::torch_backward_macs`] reproduces its number.
//!
//! # Saved for backward
//!
//! What each operation keeps, as PyTorch's autograd does (measured with
//! `saved_tensors_hooks`), when its output needs a gradient:
//!
//! | operation | saves |
//! | --- | --- |
//! | Conv1d/2d/3d, ConvTranspose1d/2d/3d, Linear | the input (and the weight, a parameter: not counted) |
//! | PReLU | the input (and the weight) |
//! | BatchNorm1d/2d/3d (training) | the input, and per channel the running mean and variance and the batch mean and inverse standard deviation (`4·C` f32, whatever the batch) |
//! | ReLU, LeakyReLU | the output (in place: the input's storage) / the input (in place: the output, the same storage) |
//! | ReLU6, Hardtanh, SiLU, Hardsigmoid, Hardswish | the input; in place, a copy of the input (autograd clones it before overwriting) |
//! | GELU | the input |
//! | ELU | the input; in place the output (the same storage) |
//! | Sigmoid, Tanh, Softmax | the output |
//! | MaxPool1d/2d/3d | the input and the int64 index of each output's maximum |
//! | AvgPool1d/2d/3d, AdaptiveAvgPool1d/2d/3d | the input (not for an adaptive output of one element: PyTorch computes it as a mean, which keeps nothing) |
//! | Upsample, interpolate (every mode) | nothing (only the sizes) |
//! | a · b | each input whose partner needs a gradient |
//! | matmul | each operand whose partner needs a gradient, as `torch.matmul` reads it: the operand itself, or a copy when folding its batch and leading axes into one is not a view (or it is broadcast) |
//! | attention's `q @ kᵀ` (math backend) | new `q·√s` and `k·√s` (the backend scales both before the product); `A @ v` as matmul, with the views of torchvision's in-projection (laid out sequence-first) folding without a copy |
//! | LayerNorm, GroupNorm | the input, and a mean and `1/σ` per normalised group (per sample: `2·E / numel(shape)`, `2·G`) |
//! | `table[idx]` | its int64 indices, whatever the batch (two f32 statistics each), once per gather |
//! | stochastic depth with `p > 0` | its noise, one value per sample |
//! | add, mean, cat, chunk, narrow, flatten, channel shuffle, identity, dropout, constants, `s·x + t`, `a − b` | nothing |
//!
//! Views (`Flatten`, `chunk`, `narrow`, reshapes, permutes, selects, identity
//! layers) and in-place activations share their input's storage; a reshape
//! that cannot be a view of its input's strides (PyTorch's `computeStride`)
//! copies, as `reshape` does. A storage saved several times counts once,
//! with its full size (a saved `chunk` keeps its whole parent). Each storage
//! is attributed to the first layer that saves it. Strides are followed
//! through views; every other operation writes a contiguous tensor (PyTorch's
//! element-wise operations can keep a permuted layout instead: a reshape of
//! such a result is a copy here and may be a view there).

mod backward;

use crate::op::Op;

/// The optimizer of a training step: what it keeps per parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Optimizer {
    /// Plain SGD: no state.
    Sgd,
    /// SGD with momentum: one momentum buffer per parameter.
    SgdMomentum,
    /// Adam: first and second moments per parameter.
    Adam,
    /// AdamW: as Adam (the decoupled weight decay keeps no state).
    AdamW,
}

impl Optimizer {
    /// Every optimizer.
    pub const ALL: [Optimizer; 4] = [
        Optimizer::Sgd,
        Optimizer::SgdMomentum,
        Optimizer::Adam,
        Optimizer::AdamW,
    ];

    /// The name in budgets (`sgd_momentum`).
    pub const fn name(self) -> &'static str {
        match self {
            Optimizer::Sgd => "sgd",
            Optimizer::SgdMomentum => "sgd_momentum",
            Optimizer::Adam => "adam",
            Optimizer::AdamW => "adamw",
        }
    }

    /// The name in reports (`SGD momentum`).
    pub const fn label(self) -> &'static str {
        match self {
            Optimizer::Sgd => "SGD",
            Optimizer::SgdMomentum => "SGD momentum",
            Optimizer::Adam => "Adam",
            Optimizer::AdamW => "AdamW",
        }
    }

    /// f32 values of state per parameter (`torch.optim`'s buffers).
    pub const fn state_per_param(self) -> u64 {
        match self {
            Optimizer::Sgd => 0,
            Optimizer::SgdMomentum => 1,
            Optimizer::Adam | Optimizer::AdamW => 2,
        }
    }

    /// The optimizer called `name`, if any.
    pub const fn from_name(name: &str) -> Option<Optimizer> {
        let mut i = 0;
        while i < Optimizer::ALL.len() {
            if crate::metric::str_eq(Optimizer::ALL[i].name(), name) {
                return Some(Optimizer::ALL[i]);
            }
            i += 1;
        }
        None
    }
}

/// The number formats of a training step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Precision {
    /// Everything in f32.
    F32,
    /// Mixed precision: bf16 weights, gradients and saved activations, f32
    /// master weights and optimizer state (max-pool indices stay int64 and
    /// batch-norm statistics f32).
    Mixed,
}

impl Precision {
    /// The name in budgets.
    pub const fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::Mixed => "mixed",
        }
    }

    /// The precision called `name`, if any.
    pub const fn from_name(name: &str) -> Option<Precision> {
        if crate::metric::str_eq(name, "f32") {
            Some(Precision::F32)
        } else if crate::metric::str_eq(name, "mixed") {
            Some(Precision::Mixed)
        } else {
            None
        }
    }

    /// Bytes of a saved activation value.
    const fn activation_bytes(self) -> u64 {
        match self {
            Precision::F32 => 4,
            Precision::Mixed => 2,
        }
    }
}

/// One layer's (or a network's) training costs, per sample.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Training {
    /// MACs of the gradient with respect to the layer's input (0 when the
    /// input needs no gradient).
    pub grad_input_macs: u64,
    /// MACs of the gradient with respect to the layer's weights.
    pub grad_weight_macs: u64,
    /// FLOPs of the gradient with respect to the input.
    pub grad_input_flops: u64,
    /// FLOPs of the gradient with respect to the weights (and bias).
    pub grad_weight_flops: u64,
    /// What PyTorch's `FlopCounterMode` reports for the backward pass, in
    /// MACs (its FLOPs / 2): a grouped convolution's grad-weight counted
    /// `groups` times.
    pub torch_backward_macs: u64,
    /// Floating-point values kept for backward, per sample.
    pub saved_floats: u64,
    /// int64 values kept for backward (max-pool indices), per sample.
    pub saved_indices: u64,
    /// f32 values kept for backward whatever the batch (batch-norm statistics;
    /// a gather's int64 indices count two each).
    pub saved_stats: u64,
}

impl Training {
    /// All zero.
    pub const ZERO: Training = Training::new(0, 0, 0, 0, 0, 0, 0, 0);

    /// The costs in field order (what the `network!` macro emits, `T::new(...)`).
    #[allow(clippy::too_many_arguments)]
    pub const fn new(
        grad_input_macs: u64,
        grad_weight_macs: u64,
        grad_input_flops: u64,
        grad_weight_flops: u64,
        torch_backward_macs: u64,
        saved_floats: u64,
        saved_indices: u64,
        saved_stats: u64,
    ) -> Training {
        Training {
            grad_input_macs,
            grad_weight_macs,
            grad_input_flops,
            grad_weight_flops,
            torch_backward_macs,
            saved_floats,
            saved_indices,
            saved_stats,
        }
    }

    /// Field-wise checked sum; `None` on overflow.
    pub fn checked_add(&self, o: &Training) -> Option<Training> {
        Some(Training {
            grad_input_macs: self.grad_input_macs.checked_add(o.grad_input_macs)?,
            grad_weight_macs: self.grad_weight_macs.checked_add(o.grad_weight_macs)?,
            grad_input_flops: self.grad_input_flops.checked_add(o.grad_input_flops)?,
            grad_weight_flops: self.grad_weight_flops.checked_add(o.grad_weight_flops)?,
            torch_backward_macs: self
                .torch_backward_macs
                .checked_add(o.torch_backward_macs)?,
            saved_floats: self.saved_floats.checked_add(o.saved_floats)?,
            saved_indices: self.saved_indices.checked_add(o.saved_indices)?,
            saved_stats: self.saved_stats.checked_add(o.saved_stats)?,
        })
    }

    /// Backward MACs: grad-input + grad-weight.
    pub const fn backward_macs(&self) -> u64 {
        self.grad_input_macs.saturating_add(self.grad_weight_macs)
    }

    /// Backward FLOPs: grad-input + grad-weight.
    pub const fn backward_flops(&self) -> u64 {
        self.grad_input_flops.saturating_add(self.grad_weight_flops)
    }

    /// Bytes kept for backward at `batch` samples, in f32.
    pub const fn saved_bytes(&self, batch: u64) -> u64 {
        self.saved_bytes_in(batch, Precision::F32)
    }

    /// Bytes kept for backward at `batch` samples in `precision`:
    /// `batch · (b · floats + 8 · indices) + 4 · stats`, `b` 4 in f32 and 2 in
    /// mixed precision. Saturates at `u64::MAX`.
    pub const fn saved_bytes_in(&self, batch: u64, precision: Precision) -> u64 {
        let per_sample = self
            .saved_floats
            .saturating_mul(precision.activation_bytes())
            .saturating_add(self.saved_indices.saturating_mul(8));
        per_sample
            .saturating_mul(batch)
            .saturating_add(self.saved_stats.saturating_mul(4))
    }
}

/// The memory of a training step, in bytes, for `params` parameters and
/// what `training` keeps for backward, at `batch` samples:
///
/// - f32: weights `4·P` + gradients `4·P` + optimizer state `4·s·P` + saved
///   activations ([`Training::saved_bytes_in`]);
/// - mixed: f32 master weights `4·P` + bf16 weights `2·P` + bf16 gradients
///   `2·P` + f32 optimizer state `4·s·P` + saved activations in bf16;
///
/// `s` is [`Optimizer::state_per_param`]. Batch-norm running statistics
/// (the buffers) are part of the saved tensors, since batch norm saves them.
/// Not included: the input batch unless a layer saves it, the gradients of
/// activations alive during backward, the loss, workspaces of convolution
/// algorithms, allocator slack and the framework's own memory. Saturates at
/// `u64::MAX`.
pub const fn train_memory(
    params: u64,
    training: &Training,
    batch: u64,
    optimizer: Optimizer,
    precision: Precision,
) -> u64 {
    let per_param = match precision {
        Precision::F32 => 4 + 4,
        Precision::Mixed => 4 + 2 + 2,
    } + 4 * optimizer.state_per_param();
    params
        .saturating_mul(per_param)
        .saturating_add(training.saved_bytes_in(batch, precision))
}

/// One layer as the training analysis reads it.
#[derive(Clone, Copy, Debug)]
pub struct Layer<'a> {
    /// The operation.
    pub op: &'a Op,
    /// Value ids it reads (0 the network input, `i + 1` the output of layer `i`).
    pub inputs: &'a [usize],
    /// Declared `inplace = true`.
    pub inplace: bool,
    /// Its forward MACs.
    pub macs: u64,
    /// Its forward FLOPs.
    pub flops: u64,
}

pub use backward::training;

#[cfg(test)]
mod tests {
    use super::backward::{folds_as_view, view_strides, Layout};
    use super::*;
    use crate::op::{Activation, BatchNorm2d, Conv2d, Dims, LayerNorm, Pool2d};

    fn conv(cin: usize, cout: usize, k: usize, groups: usize) -> Op {
        Op::Conv2d(Conv2d {
            in_channels: cin,
            out_channels: cout,
            kernel: [k, k],
            stride: [1, 1],
            padding: [[k / 2, k / 2], [k / 2, k / 2]],
            dilation: [1, 1],
            groups,
            bias: false,
        })
    }

    #[test]
    fn conv_bn_relu_pool_conv_by_hand() {
        // x [3, 8, 8] -> conv 16 (3x3) -> bn -> relu -> maxpool 2 -> depthwise conv 3x3
        let c1 = conv(3, 16, 3, 1);
        let bn = Op::BatchNorm2d(BatchNorm2d {
            channels: 16,
            eps: 1e-5,
        });
        let relu = Op::Activation(Activation::ReLU);
        let pool = Op::MaxPool2d(Pool2d {
            kernel: [2, 2],
            stride: [2, 2],
            padding: [0, 0],
            dilation: [1, 1],
            ceil_mode: false,
            count_include_pad: true,
        });
        let dw = conv(16, 16, 3, 16);
        let shapes: [&[usize]; 6] = [
            &[3, 8, 8],
            &[16, 8, 8],
            &[16, 8, 8],
            &[16, 8, 8],
            &[16, 4, 4],
            &[16, 4, 4],
        ];
        // conv MACs: 16·64·27 = 27,648; depthwise: 16·16·9 = 2,304
        let layers = [
            Layer {
                op: &c1,
                inputs: &[0],
                inplace: false,
                macs: 27_648,
                flops: 55_296,
            },
            Layer {
                op: &bn,
                inputs: &[1],
                inplace: false,
                macs: 0,
                flops: 2_048,
            },
            Layer {
                op: &relu,
                inputs: &[2],
                inplace: true,
                macs: 0,
                flops: 1_024,
            },
            Layer {
                op: &pool,
                inputs: &[3],
                inplace: false,
                macs: 0,
                flops: 768,
            },
            Layer {
                op: &dw,
                inputs: &[4],
                inplace: false,
                macs: 2_304,
                flops: 4_608,
            },
        ];
        let t = training(&shapes, &layers).unwrap();
        // The first conv: no grad-input; saves the network input (192 values).
        assert_eq!((t[0].grad_input_macs, t[0].grad_weight_macs), (0, 27_648));
        assert_eq!(t[0].saved_floats, 192);
        // Batch norm: its input (1,024) and 4·16 statistics; grad-input 4/element.
        assert_eq!((t[1].saved_floats, t[1].saved_stats), (1_024, 64));
        assert_eq!(
            (t[1].grad_input_flops, t[1].grad_weight_flops),
            (4_096, 5_120)
        );
        // In-place ReLU: its output is batch norm's output storage (1,024).
        assert_eq!(t[2].saved_floats, 1_024);
        // Max pool: its input is the ReLU's (already saved); 256 int64 indices.
        assert_eq!((t[3].saved_floats, t[3].saved_indices), (0, 256));
        // Depthwise: true grad-input = grad-weight = 2,304; FlopCounterMode
        // counts the grad-weight 16 times: 16·2,304 + 2,304.
        assert_eq!(t[4].backward_macs(), 4_608);
        assert_eq!(t[4].torch_backward_macs, 17 * 2_304);
        assert_eq!(t[4].saved_floats, 256);
        let total = t
            .iter()
            .try_fold(Training::ZERO, |a, b| a.checked_add(b))
            .unwrap();
        // Batch 2: 2·(4·(192 + 1,024 + 1,024 + 256) + 8·256) + 4·64
        assert_eq!(total.saved_bytes(2), 2 * (4 * 2_496 + 8 * 256) + 256);
        // Mixed precision halves the float activations only.
        assert_eq!(
            total.saved_bytes_in(2, Precision::Mixed),
            2 * (2 * 2_496 + 8 * 256) + 256
        );
        // Adam, f32: (4 + 4 + 8)·P + saved.
        assert_eq!(
            train_memory(100, &total, 2, Optimizer::Adam, Precision::F32),
            1_600 + total.saved_bytes(2)
        );
    }

    #[test]
    fn in_place_relu_shares_a_chunked_storage() {
        // x [4] -> fc Linear(8); (a, b) = chunk(fc, 2); a -> ReLU -> fc2; b -> fc3
        let fc = Op::Linear(crate::op::Linear {
            in_features: 4,
            out_features: 8,
            bias: true,
        });
        let a = Op::Slice {
            dim: 0,
            start: 0,
            len: 4,
        };
        let b = Op::Slice {
            dim: 0,
            start: 4,
            len: 4,
        };
        let relu = Op::Activation(Activation::ReLU);
        let fc2 = Op::Linear(crate::op::Linear {
            in_features: 4,
            out_features: 2,
            bias: false,
        });
        let shapes: [&[usize]; 7] = [&[4], &[8], &[4], &[4], &[4], &[2], &[2]];
        let run = |inplace| {
            let layers = [
                Layer {
                    op: &fc,
                    inputs: &[0],
                    inplace: false,
                    macs: 32,
                    flops: 72,
                },
                Layer {
                    op: &a,
                    inputs: &[1],
                    inplace: false,
                    macs: 0,
                    flops: 0,
                },
                Layer {
                    op: &b,
                    inputs: &[1],
                    inplace: false,
                    macs: 0,
                    flops: 0,
                },
                Layer {
                    op: &relu,
                    inputs: &[2],
                    inplace,
                    macs: 0,
                    flops: 4,
                },
                Layer {
                    op: &fc2,
                    inputs: &[4],
                    inplace: false,
                    macs: 8,
                    flops: 16,
                },
                Layer {
                    op: &fc2,
                    inputs: &[3],
                    inplace: false,
                    macs: 8,
                    flops: 16,
                },
            ];
            let t = training(&shapes, &layers).unwrap();
            t.iter().map(|t| t.saved_floats).collect::<Vec<_>>()
        };
        // fc saves the input (4). Out of place, the ReLU saves its own output
        // (4) and fc3 saves b, a view: fc's whole output (8).
        assert_eq!(run(false), [4, 0, 0, 4, 0, 8]);
        // In place, the ReLU's output is a view of fc's output: saved once (8).
        assert_eq!(run(true), [4, 0, 0, 8, 0, 0]);
    }

    #[test]
    fn in_place_relu6_saves_a_copy() {
        // x [4] -> fc Linear(8) -> ReLU6 -> fc2: out of place the ReLU6 keeps
        // its input; in place a copy of it, and fc2 keeps the shared storage.
        let fc = Op::Linear(crate::op::Linear {
            in_features: 4,
            out_features: 8,
            bias: false,
        });
        let relu6 = Op::Activation(Activation::ReLU6);
        let fc2 = Op::Linear(crate::op::Linear {
            in_features: 8,
            out_features: 2,
            bias: false,
        });
        let shapes: [&[usize]; 4] = [&[4], &[8], &[8], &[2]];
        let run = |inplace| {
            let layers = [
                Layer {
                    op: &fc,
                    inputs: &[0],
                    inplace: false,
                    macs: 32,
                    flops: 64,
                },
                Layer {
                    op: &relu6,
                    inputs: &[1],
                    inplace,
                    macs: 0,
                    flops: 16,
                },
                Layer {
                    op: &fc2,
                    inputs: &[2],
                    inplace: false,
                    macs: 16,
                    flops: 32,
                },
            ];
            let t = training(&shapes, &layers).unwrap();
            t.iter().map(|t| t.saved_floats).collect::<Vec<_>>()
        };
        assert_eq!(run(false), [4, 8, 8]);
        assert_eq!(run(true), [4, 8, 8]);
    }

    #[test]
    fn reshape_views_follow_pytorch() {
        // [4, 2, 4] contiguous: any reshape is a view
        assert_eq!(
            view_strides(&[4, 2, 4], &[8, 4, 1], &[4, 8]),
            Some(vec![8, 1])
        );
        // transposed to [2, 4, 4] (strides 4, 8, 1): merging the first two copies,
        // splitting the last is a view
        assert_eq!(view_strides(&[2, 4, 4], &[4, 8, 1], &[8, 4]), None);
        assert_eq!(
            view_strides(&[2, 4, 4], &[4, 8, 1], &[2, 4, 2, 2]),
            Some(vec![4, 8, 2, 1])
        );
        let contiguous = Layout::contiguous(&[2, 4, 4], true).unwrap();
        assert!(folds_as_view(&[2, 4, 4], &contiguous));
        let heads_first = Layout {
            strides: vec![4, 8, 1],
            batch: 32,
        };
        assert!(!folds_as_view(&[2, 4, 4], &heads_first));
    }

    /// `x -> Linear(8)`, split into 2 heads of 4 (`reshape(4, 2, 4)`), heads
    /// first or not, and `q @ qᵀ` on it: what the product keeps.
    fn heads_product(permute: bool, fused: bool) -> Vec<u64> {
        let fc = Op::Linear(crate::op::Linear {
            in_features: 8,
            out_features: 8,
            bias: false,
        });
        let reshape = Op::Reshape {
            shape: Dims::new(&[4, 2, 4]),
        };
        let order = Op::Permute {
            dims: Dims::new(if permute { &[1, 0, 2] } else { &[0, 1, 2] }),
        };
        let mm = Op::Matmul {
            trans_b: true,
            alpha: if fused { 0.5 } else { 1.0 },
            fused,
            operator: false,
        };
        let (heads, out): (&[usize], &[usize]) = if permute {
            (&[2, 4, 4], &[2, 4, 4])
        } else {
            (&[4, 2, 4], &[4, 2, 2])
        };
        let shapes: [&[usize]; 5] = [&[4, 8], &[4, 8], &[4, 2, 4], heads, out];
        let layer = |op, inputs, macs| Layer {
            op,
            inputs,
            inplace: false,
            macs,
            flops: 2 * macs,
        };
        let layers = [
            layer(&fc, &[0], 256),
            layer(&reshape, &[1], 0),
            layer(&order, &[2], 0),
            layer(&mm, &[3, 3], 128),
        ];
        let t = training(&shapes, &layers).unwrap();
        t.iter().map(|t| t.saved_floats).collect()
    }

    #[test]
    fn matmul_keeps_its_operands_as_it_reads_them() {
        // batch and heads merge: the product reads the linear's output (32)
        assert_eq!(heads_product(false, false), [32, 0, 0, 32]);
        // heads first ([2, 4, 4] with strides 4, 8, 1): torch.matmul's fold
        // copies each operand
        assert_eq!(heads_product(true, false), [32, 0, 0, 64]);
        // scaled dot-product attention's math backend: q·√s and k·√s, new tensors
        assert_eq!(heads_product(false, true), [32, 0, 0, 64]);
    }

    #[test]
    fn layer_norm_statistics_are_per_sample() {
        let ln = Op::LayerNorm(LayerNorm {
            shape: Dims::new(&[8]),
            eps: 1e-5,
            affine: true,
            bias: true,
        });
        let fc = Op::Linear(crate::op::Linear {
            in_features: 8,
            out_features: 8,
            bias: true,
        });
        let shapes: [&[usize]; 3] = [&[4, 8], &[4, 8], &[4, 8]];
        let layers = [
            Layer {
                op: &fc,
                inputs: &[0],
                inplace: false,
                macs: 256,
                flops: 512,
            },
            Layer {
                op: &ln,
                inputs: &[1],
                inplace: false,
                macs: 0,
                flops: 0,
            },
        ];
        let t = training(&shapes, &layers).unwrap();
        // the input (32), and a mean and 1/σ per token (2·4), all per sample
        assert_eq!(t[1].saved_floats, 40);
        assert_eq!(t[1].saved_stats, 0);
    }
}
