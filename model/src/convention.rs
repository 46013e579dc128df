//! Counting conventions: what torchvision, fvcore, thop and ptflops each call
//! "FLOPs", reproduced layer by layer.
//!
//! Every tool counts something different and most call multiply-accumulates
//! "FLOPs". [`count`] gives one layer's count under a [`Convention`], exactly
//! as the tool computes it, from the layer's operation, shapes and whether it
//! is a named module (`module: true`, an `nn.Module` attribute that hooks
//! see) or a functional call (`module: false`: `F.relu`, `+`, `torch.cat`).
//!
//! The rules were read in the tools' sources and checked by running each tool
//! on single layers and on the zoo models (`docs/conventions.md` has the full
//! table with the source of each rule):
//!
//! | layer | torchvision | fvcore | thop | ptflops (module) | ptflops (functional) |
//! | --- | --- | --- | --- | --- | --- |
//! | Conv2d | MACs | MACs | MACs | MACs + out (bias) | 0 |
//! | Linear | in·out | in·out | in·out | in·out + out (bias) | 0 |
//! | BatchNorm2d | 0 | 2/elem | 4/elem | 2/elem | 0 |
//! | ReLU | 0 | 0 | 0 | 2/elem (hook + `F.relu`) | 1/elem |
//! | ReLU6, LeakyReLU | 0 | 0 | 0 | 1/elem | 1/elem (`F.relu6`), 0 (`F.leaky_relu`) |
//! | GELU | 0 | 0 | 0 | 2/elem (hook + `F.gelu`) | 1/elem |
//! | SiLU | 0 | 0 | 0 | 1/elem (`F.silu`) | 1/elem |
//! | Sigmoid, Tanh, Hardsigmoid, Hardswish | 0 | 0 | 0 | 0 | 0 |
//! | Softmax | 0 | 0 | `(3C − 1)` per position | 1/elem (`F.softmax`) | 1/elem |
//! | MaxPool2d | 0 | 0 | 0 | 2/input elem | 1/input elem |
//! | AvgPool2d | 0 | 0 | 1/output | 2/input elem | 1/input elem |
//! | AdaptiveAvgPool2d | 0 | 1/input elem | `(H/h·W/w + 1)`/output | 2/input elem | 1/input elem |
//! | everything else | 0 | 0 | 0 | 0 | 0 |
//!
//! thop sees modules only: every functional operation counts 0 there.

use crate::cost::costs;
use crate::op::{Activation, Op};
use crate::shape::numel;

/// Who counts, and by which rules. Every variant documents its rules, the
/// tool version they were read from and the source file and function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Convention {
    /// torchvision's `_ops` column ("GFLOPS" in its model tables) and what
    /// papers call "FLOPs" or "MAdds": multiply-accumulates of convolutions
    /// and linear layers, bias excluded; every other layer counts 0. This is
    /// netspec's `MACS`.
    ///
    /// Conv: `C_out·H_out·W_out·(C_in/groups)·k_h·k_w`; linear: `in·out`.
    /// Source: the `_ops` field of torchvision's weight metadata, in GFLOPS
    /// (torchvision 0.29 `torchvision/models/resnet.py`:
    /// `ResNet18_Weights.IMAGENET1K_V1.meta["_ops"] == 1.814`), which these
    /// MACs reproduce to its three decimals.
    Torchvision,
    /// fvcore's `FlopCountAnalysis` (fvcore 0.1.5.post20221221): it traces
    /// the model with `torch.jit`, so modules and functional calls are seen
    /// alike, and counts "one fused multiply-add as one flop".
    ///
    /// - conv (`aten::_convolution`): `batch·prod(w_shape)·prod(out spatial)`,
    ///   the MACs, bias excluded (`fvcore/nn/jit_handles.py`, `conv_flop_count`);
    /// - linear (`aten::linear`): `prod(input)·out_features`, bias excluded
    ///   (`linear_flop_jit`);
    /// - batch norm in eval mode (`aten::batch_norm`): 2 per input element
    ///   with affine, 1 without (`batchnorm_flop_jit`);
    /// - adaptive average pooling (`aten::adaptive_avg_pool2d`): 1 per
    ///   *input* element (`elementwise_flop_counter(1, 0)` in
    ///   `fvcore/nn/flop_count.py`, `_DEFAULT_SUPPORTED_OPS`);
    /// - everything else counts 0: activations, max and average pooling,
    ///   add, mul, mean and softmax are "unsupported" (a warning, no count)
    ///   and cat, chunk, narrow, flatten, dropout are in `_IGNORED_OPS`
    ///   (`fvcore/nn/jit_analysis.py`).
    Fvcore,
    /// thop's `profile` (thop 0.1.1.post2209072238, "pytorch-OpCounter"):
    /// forward hooks on leaf modules, so functional calls (`F.relu`, `+`,
    /// `torch.cat`, `F.adaptive_avg_pool2d`) are invisible and count 0.
    /// Module rules (`thop/profile.py` `register_hooks`,
    /// `thop/vision/basic_hooks.py`, `thop/vision/calc_func.py`):
    ///
    /// - `Conv2d` (`count_convNd`, `calculate_conv2d_flops`):
    ///   `numel(out)·(C_in/groups)·k_h·k_w`, the MACs, bias excluded;
    /// - `Linear` (`count_linear`): `in_features·numel(out)`;
    /// - `BatchNorm2d` (`count_normalization`): `2·numel(in)`, doubled when
    ///   affine: 4 per element;
    /// - `AvgPool2d` (`count_avgpool`): 1 per output element;
    /// - `AdaptiveAvgPool2d` (`count_adap_avgpool`):
    ///   `int((H_in/H_out · W_in/W_out + 1) · numel(out))` in float64;
    /// - `Softmax` (`count_softmax`): `(3·C − 1)` per position over the
    ///   softmax dimension of size `C`;
    /// - `ReLU`, `ReLU6`, `MaxPool2d`, `Dropout` (`zero_ops`) and
    ///   `LeakyReLU` (`count_relu`, returns 0): 0;
    /// - modules without a rule (Sigmoid, Tanh, SiLU, Hardsigmoid,
    ///   Hardswish, GELU, Identity, Flatten, ChannelShuffle, torchvision's
    ///   StochasticDepth): 0.
    Thop,
    /// ptflops' `get_model_complexity_info` with its default pytorch backend
    /// (ptflops 0.7.5): forward hooks on modules in `MODULES_MAPPING`
    /// (`ptflops/pytorch_ops.py`) *plus*, by default
    /// (`count_functional=True`), patched functionals
    /// (`patch_functional` in `ptflops/pytorch_engine.py`) that add
    /// `numel(input)` for `F.relu`, `F.relu6`, `F.gelu`, `F.silu`,
    /// `F.softmax`, `F.max_pool2d`, `F.avg_pool2d`, `F.adaptive_avg_pool2d`.
    /// Since `nn.ReLU`, `nn.GELU`, `nn.MaxPool2d`, `nn.AvgPool2d` and
    /// `nn.AdaptiveAvgPool2d` call those functionals inside their
    /// `forward`, those modules are counted twice.
    ///
    /// - `Conv2d` (`conv_flops_counter_hook`): MACs, plus `numel(out)` with
    ///   bias;
    /// - `Linear` (`linear_flops_counter_hook`): `in·out`, plus `out` with bias;
    /// - `BatchNorm2d` (`bn_flops_counter_hook`): `numel(in)`, doubled when
    ///   affine: 2 per element;
    /// - `ReLU`, `GELU`: `numel(out)` (`relu_flops_counter_hook`) +
    ///   `numel(in)` (functional): 2 per element;
    /// - `ReLU6`, `LeakyReLU`: 1 per element (the hook; their `forward` calls
    ///   `F.hardtanh` / `F.leaky_relu`, not patched);
    /// - `SiLU`, `Softmax`: 1 per element (no hook, but `F.silu` /
    ///   `F.softmax` are patched);
    /// - `MaxPool2d`, `AvgPool2d`, `AdaptiveAvgPool2d`: `numel(in)`
    ///   (`pool_flops_counter_hook`) + `numel(in)` (functional): 2 per
    ///   *input* element;
    /// - Sigmoid, Tanh, Hardsigmoid, Hardswish, Dropout, Flatten, Identity,
    ///   ChannelShuffle, StochasticDepth: 0;
    /// - functional calls (`module: false`): 1 per input element for the
    ///   patched functionals above (ReLU as `F.relu`, ReLU6 as `F.relu6`,
    ///   GELU, SiLU, Softmax, the three poolings), 0 for the rest: `+` and
    ///   `*` are Python operators (only `torch.add` / `torch.mul` are
    ///   patched), and `F.conv2d`, `F.linear`, `F.batch_norm`, `x.mean`,
    ///   `torch.cat`, `torch.sigmoid` are not patched.
    Ptflops,
    /// netspec's own FLOP count (`FLOPS`): two per multiply-accumulate and
    /// every layer's arithmetic, by the table in `netspec::cost`.
    Flops,
    /// PyTorch's `torch.utils.flop_counter.FlopCounterMode` (PyTorch 2.15):
    /// it counts only convolutions (`aten.convolution`) and matrix products
    /// (`aten.mm`, `aten.addmm`, ...), 2 FLOPs per multiply-accumulate, bias
    /// excluded: forward, `2 · MACS`.
    ///
    /// Its interest is the backward pass, which it counts too
    /// (`conv_backward_flop` in `torch/utils/flop_counter.py`): for a
    /// grouped convolution it computes the grad-weight as a convolution of
    /// the input with the output gradient over all `C_in` input channels
    /// instead of `C_in / groups`, so the grad-weight of a convolution with
    /// `g` groups counts `g` times the multiply-accumulates done (grad-input
    /// is right). `backward_macs_as(Convention::TorchFlopCounter)` gives its
    /// backward count in MACs (its FLOPs / 2, as the reference data keeps
    /// them). Not in [`Convention::ALL`]: the forward report does not list it.
    TorchFlopCounter,
}

impl Convention {
    /// Every convention, in report order.
    pub const ALL: [Convention; 5] = [
        Convention::Torchvision,
        Convention::Fvcore,
        Convention::Thop,
        Convention::Ptflops,
        Convention::Flops,
    ];

    /// Short lowercase name (`fvcore`), as in reports and JSON.
    pub const fn name(self) -> &'static str {
        match self {
            Convention::Torchvision => "torchvision",
            Convention::Fvcore => "fvcore",
            Convention::Thop => "thop",
            Convention::Ptflops => "ptflops",
            Convention::Flops => "flops",
            Convention::TorchFlopCounter => "torch_flop_counter",
        }
    }

    /// The tool and version the rules come from, and what its number means.
    pub const fn source(self) -> &'static str {
        match self {
            Convention::Torchvision => "conv and linear MACs, bias excluded (netspec MACS)",
            Convention::Fvcore => {
                "fvcore 0.1.5 FlopCountAnalysis: 1 per fused multiply-add, traced ops"
            }
            Convention::Thop => "thop 0.1.1 profile: MACs and norms, leaf modules only",
            Convention::Ptflops => {
                "ptflops 0.7.5 pytorch backend: MACs + bias, norms, activations, pooling"
            }
            Convention::Flops => "netspec FLOPS: 2 per MAC, every layer",
            Convention::TorchFlopCounter => {
                "PyTorch 2.15 FlopCounterMode: 2 per MAC of convolutions and matrix products"
            }
        }
    }

    /// The rule this convention applies to `op`, in a few words, for the
    /// report (`module: false` for a functional call).
    pub fn rule(self, op: &Op, module: bool) -> &'static str {
        match self {
            Convention::Torchvision => match op {
                _ if is_product(op) => "MACs",
                _ => "0",
            },
            Convention::TorchFlopCounter => match op {
                _ if is_product(op) => "2/MAC",
                _ => "0",
            },
            Convention::Fvcore => match op {
                Op::Conv2d(_) | Op::Linear(_) => "MACs",
                Op::BatchNorm2d(_) => "2/element",
                Op::AdaptiveAvgPool2d { .. } => "1/input element",
                _ => "0",
            },
            Convention::Thop if !module => "0 unseen",
            Convention::Thop => match op {
                Op::Conv2d(_) | Op::Linear(_) => "MACs",
                Op::BatchNorm2d(_) => "4/element",
                Op::AvgPool2d(_) => "1/output",
                Op::AdaptiveAvgPool2d { .. } => "(H/h*W/w+1)/output",
                Op::Softmax { .. } => "(3C-1)/position",
                _ => "0",
            },
            Convention::Ptflops => match ptflops_per_element(op, module) {
                Some(2) if pools(op) => "2/input element",
                Some(1) if pools(op) => "1/input element",
                Some(2) => "2/element",
                Some(1) => "1/element",
                Some(_) => "0",
                None => match op {
                    Op::Conv2d(c) if c.bias => "MACs + 1/output",
                    Op::Linear(l) if l.bias => "MACs + 1/output",
                    Op::Conv2d(_) | Op::Linear(_) => "MACs",
                    _ => "0",
                },
            },
            Convention::Flops => match op {
                Op::Conv2d(c) if c.bias => "2/MAC + 1/output",
                Op::Linear(l) if l.bias => "2/MAC + 1/output",
                Op::Conv2d(_) | Op::Linear(_) => "2/MAC",
                Op::BatchNorm2d(_) => "2/element",
                Op::Activation(a) => match crate::cost::activation_flops(a) {
                    1 => "1/element",
                    2 => "2/element",
                    4 => "4/element",
                    5 => "5/element",
                    _ => "9/element",
                },
                Op::Softmax { .. } => "5/element",
                Op::MaxPool2d(_) => "(k*k-1)/output",
                Op::AvgPool2d(_) => "k*k/output",
                Op::AdaptiveAvgPool2d { .. } => "bin area/output",
                Op::Add => "(n-1)/output",
                Op::Mul => "1/output",
                Op::Mean { .. } => "1/input element",
                _ => "0",
            },
        }
    }
}

/// Whether `op` is a matrix product (convolution, linear layer, matmul):
/// what torchvision's `_ops` and PyTorch's `FlopCounterMode` count.
pub const fn is_product(op: &Op) -> bool {
    matches!(
        op,
        Op::Conv2d(_) | Op::Conv1d(_) | Op::Linear(_) | Op::MhaInProj { .. } | Op::Matmul { .. }
    )
}

fn pools(op: &Op) -> bool {
    matches!(
        op,
        Op::MaxPool2d(_) | Op::AvgPool2d(_) | Op::AdaptiveAvgPool2d { .. }
    )
}

/// ptflops' count per element (of the input, which for these layers has as
/// many elements as the output except pooling) for every layer but conv and
/// linear (`None`).
fn ptflops_per_element(op: &Op, module: bool) -> Option<u64> {
    // Module: hook count + patched functional called inside `forward`.
    // Functional: the patched functional alone.
    let (hook, functional) = match op {
        Op::Conv2d(_) | Op::Linear(_) => return None,
        Op::BatchNorm2d(_) => (2, 0),
        Op::Activation(a) => match a {
            Activation::ReLU | Activation::GELU { .. } => (1, 1),
            // nn.ReLU6 calls F.hardtanh (unpatched); F.relu6 itself is patched.
            Activation::ReLU6 => (1, if module { 0 } else { 1 }),
            Activation::LeakyReLU { .. } => (1, 0),
            Activation::SiLU => (0, 1),
            Activation::Sigmoid
            | Activation::Tanh
            | Activation::HardSigmoid
            | Activation::HardSwish => (0, 0),
        },
        Op::Softmax { .. } => (0, 1),
        Op::MaxPool2d(_) | Op::AvgPool2d(_) | Op::AdaptiveAvgPool2d { .. } => (1, 1),
        _ => (0, 0),
    };
    Some(if module {
        hook + functional
    } else {
        functional
    })
}

/// The counts of one layer under every convention.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Counts {
    /// [`Convention::Torchvision`]: conv and linear MACs (= `macs`).
    pub torchvision: u64,
    /// [`Convention::Fvcore`].
    pub fvcore: u64,
    /// [`Convention::Thop`].
    pub thop: u64,
    /// [`Convention::Ptflops`].
    pub ptflops: u64,
    /// [`Convention::Flops`]: netspec FLOPs (= `flops`).
    pub flops: u64,
}

impl Counts {
    /// All zero.
    pub const ZERO: Counts = Counts {
        torchvision: 0,
        fvcore: 0,
        thop: 0,
        ptflops: 0,
        flops: 0,
    };

    /// The counts in [`Convention::ALL`] order. The `network!` macro emits
    /// one such call per layer (`K::new(...)`).
    pub const fn new(torchvision: u64, fvcore: u64, thop: u64, ptflops: u64, flops: u64) -> Counts {
        Counts {
            torchvision,
            fvcore,
            thop,
            ptflops,
            flops,
        }
    }

    /// The count under `convention`.
    pub const fn get(&self, convention: Convention) -> u64 {
        match convention {
            Convention::Torchvision => self.torchvision,
            Convention::Fvcore => self.fvcore,
            Convention::Thop => self.thop,
            Convention::Ptflops => self.ptflops,
            Convention::Flops => self.flops,
            Convention::TorchFlopCounter => self.torchvision.saturating_mul(2),
        }
    }

    /// Field-wise checked sum; `None` on overflow.
    pub const fn checked_add(&self, other: &Counts) -> Option<Counts> {
        // `?` is not allowed in const fn: spell the checks out.
        let (Some(torchvision), Some(fvcore), Some(thop), Some(ptflops), Some(flops)) = (
            self.torchvision.checked_add(other.torchvision),
            self.fvcore.checked_add(other.fvcore),
            self.thop.checked_add(other.thop),
            self.ptflops.checked_add(other.ptflops),
            self.flops.checked_add(other.flops),
        ) else {
            return None;
        };
        Some(Counts {
            torchvision,
            fvcore,
            thop,
            ptflops,
            flops,
        })
    }

    /// The counts of `op` under every convention, or `None` on overflow.
    pub fn of(op: &Op, inputs: &[&[usize]], output: &[usize], module: bool) -> Option<Counts> {
        let c = |convention| count(convention, op, inputs, output, module);
        Some(Counts {
            torchvision: c(Convention::Torchvision)?,
            fvcore: c(Convention::Fvcore)?,
            thop: c(Convention::Thop)?,
            ptflops: c(Convention::Ptflops)?,
            flops: c(Convention::Flops)?,
        })
    }
}

fn elements(shape: &[usize]) -> Option<u64> {
    u64::try_from(numel(shape)?).ok()
}

/// thop's `count_adap_avgpool`, in float64 as thop computes it:
/// `int((H_in/H_out · W_in/W_out + 1) · numel(out))`.
fn thop_adaptive_avg(input: &[usize], output: &[usize]) -> Option<u64> {
    let out = elements(output)?;
    if out == 0 {
        return Some(0);
    }
    let (&[_, h, w], &[_, oh, ow]) = (input, output) else {
        return None;
    };
    // `as f64` is exact for the sizes a network can have (below 2^53).
    let kernel = (h as f64 / oh as f64) * (w as f64 / ow as f64);
    let total = ((kernel + 1.0) * out as f64).trunc();
    // Truncation as Python's int(); reject what u64 cannot hold.
    if total.is_finite() && total >= 0.0 && total < u64::MAX as f64 {
        Some(total as u64)
    } else {
        None
    }
}

/// The count of one layer under `convention`: `op` maps `inputs` to
/// `output` (shapes per sample); `module` is true for a named module and
/// false for a functional call (which hook-based counters may not see).
/// `None` if the count overflows `u64`.
pub fn count(
    convention: Convention,
    op: &Op,
    inputs: &[&[usize]],
    output: &[usize],
    module: bool,
) -> Option<u64> {
    let own = costs(op, inputs, output)?;
    let out = elements(output)?;
    let input = match inputs.first() {
        Some(x) => elements(x)?,
        None => 0,
    };
    match convention {
        Convention::Torchvision => Some(own.macs),
        Convention::TorchFlopCounter => own.macs.checked_mul(2),
        Convention::Flops => Some(own.flops),
        Convention::Fvcore => match op {
            Op::Conv2d(_) | Op::Linear(_) => Some(own.macs),
            Op::BatchNorm2d(_) => input.checked_mul(2),
            Op::AdaptiveAvgPool2d { .. } => Some(input),
            _ => Some(0),
        },
        Convention::Thop if !module => Some(0),
        Convention::Thop => match op {
            Op::Conv2d(_) | Op::Linear(_) => Some(own.macs),
            Op::BatchNorm2d(_) => input.checked_mul(4),
            Op::AvgPool2d(_) => Some(out),
            Op::AdaptiveAvgPool2d { .. } => thop_adaptive_avg(inputs.first()?, output),
            Op::Softmax { dim, .. } => {
                // Softmax over a dimension of size C: C exps, C - 1 adds and
                // C divides per position.
                let c = u64::try_from(*inputs.first()?.get(*dim)?).ok()?;
                match input.checked_div(c) {
                    Some(positions) => c.checked_mul(3)?.checked_sub(1)?.checked_mul(positions),
                    None => Some(0),
                }
            }
            _ => Some(0),
        },
        Convention::Ptflops => match (op, module) {
            (Op::Conv2d(_) | Op::Linear(_), false) => Some(0),
            (Op::Conv2d(c), true) => own.macs.checked_add(if c.bias { out } else { 0 }),
            (Op::Linear(l), true) => {
                let bias = if l.bias {
                    u64::try_from(l.out_features).ok()?
                } else {
                    0
                };
                own.macs.checked_add(bias)
            }
            _ => input.checked_mul(ptflops_per_element(op, module)?),
        },
    }
}

/// The name fvcore's `by_operator()` files `op`'s count under (`conv`,
/// `linear`, `batch_norm`, `adaptive_avg_pool2d`), or `None` for an
/// operation fvcore counts as 0.
pub const fn fvcore_operator(op: &Op) -> Option<&'static str> {
    match op {
        Op::Conv2d(_) => Some("conv"),
        Op::Linear(_) => Some("linear"),
        Op::BatchNorm2d(_) => Some("batch_norm"),
        Op::AdaptiveAvgPool2d { .. } => Some("adaptive_avg_pool2d"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::op::{BatchNorm2d, Conv2d, Linear, Pool2d};

    fn conv(cin: usize, cout: usize, k: usize, groups: usize, bias: bool) -> Op {
        Op::Conv2d(Conv2d {
            in_channels: cin,
            out_channels: cout,
            kernel: [k, k],
            stride: [1, 1],
            padding: [[0, 0], [0, 0]],
            dilation: [1, 1],
            groups,
            bias,
        })
    }

    fn all(op: &Op, inputs: &[&[usize]], output: &[usize], module: bool) -> Counts {
        Counts::of(op, inputs, output, module).unwrap()
    }

    fn pool(k: usize, s: usize, p: usize) -> Pool2d {
        Pool2d {
            kernel: [k, k],
            stride: [s, s],
            padding: [p, p],
            dilation: [1, 1],
            ceil_mode: false,
            count_include_pad: true,
        }
    }

    #[test]
    fn grouped_biased_conv() {
        // 4 -> 6 channels, 3x3, 2 groups, 5x5 -> 3x3.
        // MACs = 6·3·3·(4/2)·3·3 = 54·18 = 972 (fvcore and thop measured 972)
        // ptflops: 972 + bias 6·3·3 = 54 -> 1,026 (measured)
        // flops: 2·972 + 54 = 1,998
        let c = all(&conv(4, 6, 3, 2, true), &[&[4, 5, 5]], &[6, 3, 3], true);
        assert_eq!(
            c,
            Counts {
                torchvision: 972,
                fvcore: 972,
                thop: 972,
                ptflops: 1_026,
                flops: 1_998
            }
        );
        // A functional conv (F.conv2d): fvcore traces it, the hooks do not.
        let f = all(&conv(4, 6, 3, 2, true), &[&[4, 5, 5]], &[6, 3, 3], false);
        assert_eq!((f.fvcore, f.thop, f.ptflops), (972, 0, 0));
    }

    #[test]
    fn linear_bias() {
        // 100 -> 7 with bias: MACs 700 everywhere, ptflops 700 + 7 (measured 707)
        let op = Op::Linear(Linear {
            in_features: 100,
            out_features: 7,
            bias: true,
        });
        let c = all(&op, &[&[100]], &[7], true);
        assert_eq!(
            (c.torchvision, c.fvcore, c.thop, c.ptflops),
            (700, 700, 700, 707)
        );
        assert_eq!(c.flops, 1_407);
    }

    #[test]
    fn batch_norm() {
        // 4x5x5 = 100 elements: fvcore 200, thop 400, ptflops 200 (measured)
        let op = Op::BatchNorm2d(BatchNorm2d {
            channels: 4,
            eps: 1e-5,
        });
        let c = all(&op, &[&[4, 5, 5]], &[4, 5, 5], true);
        assert_eq!(
            (c.torchvision, c.fvcore, c.thop, c.ptflops),
            (0, 200, 400, 200)
        );
    }

    #[test]
    fn activations_in_ptflops() {
        // 100 elements. Module / functional, measured with ptflops 0.7.5:
        // ReLU 200 / 100, ReLU6 100 / 100 (F.relu6), LeakyReLU 100 / 0,
        // GELU 200 / 100, SiLU 100 / 100, Sigmoid, Tanh, Hardswish 0 / 0.
        let x: &[usize] = &[4, 5, 5];
        let cases = [
            (Activation::ReLU, 200, 100),
            (Activation::ReLU6, 100, 100),
            (Activation::LeakyReLU { slope: 0.01 }, 100, 0),
            (Activation::GELU { tanh: false }, 200, 100),
            (Activation::GELU { tanh: true }, 200, 100),
            (Activation::SiLU, 100, 100),
            (Activation::Sigmoid, 0, 0),
            (Activation::Tanh, 0, 0),
            (Activation::HardSigmoid, 0, 0),
            (Activation::HardSwish, 0, 0),
        ];
        for (a, module, functional) in cases {
            let op = Op::Activation(a);
            let m = all(&op, &[x], x, true);
            let f = all(&op, &[x], x, false);
            assert_eq!((m.ptflops, f.ptflops), (module, functional), "{a:?}");
            // fvcore and thop never count activations.
            assert_eq!((m.fvcore, m.thop, f.fvcore, f.thop), (0, 0, 0, 0), "{a:?}");
        }
    }

    #[test]
    fn softmax() {
        // Over 4 channels of 4x5x5: thop (3·4 − 1)·25 = 275 (measured);
        // ptflops F.softmax 100; fvcore 0.
        let x: &[usize] = &[4, 5, 5];
        let c = all(&Op::Softmax { dim: 0, causal: false }, &[x], x, true);
        assert_eq!((c.fvcore, c.thop, c.ptflops), (0, 275, 100));
        // A vector of 10 features: one position, 29.
        let v: &[usize] = &[10];
        assert_eq!(all(&Op::Softmax { dim: 0, causal: false }, &[v], v, true).thop, 29);
        assert_eq!(all(&Op::Softmax { dim: 0, causal: false }, &[v], v, false).thop, 0);
    }

    #[test]
    fn pooling() {
        // 4x8x8 -> 4x4x4 (3x3, stride 2, padding 1): input 256, output 64.
        let (x, y): (&[usize], &[usize]) = (&[4, 8, 8], &[4, 4, 4]);
        let max = all(&Op::MaxPool2d(pool(3, 2, 1)), &[x], y, true);
        assert_eq!((max.fvcore, max.thop, max.ptflops), (0, 0, 512));
        let avg = all(&Op::AvgPool2d(pool(3, 2, 1)), &[x], y, true);
        assert_eq!((avg.fvcore, avg.thop, avg.ptflops), (0, 64, 512));
        let f = all(&Op::MaxPool2d(pool(3, 2, 1)), &[x], y, false);
        assert_eq!((f.fvcore, f.thop, f.ptflops), (0, 0, 256));
    }

    #[test]
    fn adaptive_average_pooling() {
        let op = |o: [usize; 2]| Op::AdaptiveAvgPool2d { output: o };
        // 4x7x7 -> 4x3x3: fvcore 196 (input); thop (7/3·7/3 + 1)·36 = 232.0
        // (float64: 6.444…·36 = 232); ptflops 2·196 (measured 232 and 392)
        let c = all(&op([3, 3]), &[&[4, 7, 7]], &[4, 3, 3], true);
        assert_eq!((c.fvcore, c.thop, c.ptflops), (196, 232, 392));
        // 4x8x5 -> 4x3x2: thop (8/3·5/2 + 1)·24 = 7.666…·24 = 184 (measured)
        let c = all(&op([3, 2]), &[&[4, 8, 5]], &[4, 3, 2], true);
        assert_eq!((c.fvcore, c.thop, c.ptflops), (160, 184, 320));
        // Functional (torchvision MobileNetV2's F.adaptive_avg_pool2d):
        // 1280x7x7 -> 1280: fvcore and ptflops 62,720, thop 0.
        let c = all(&op([1, 1]), &[&[1280, 7, 7]], &[1280, 1, 1], false);
        assert_eq!((c.fvcore, c.thop, c.ptflops), (62_720, 0, 62_720));
    }

    #[test]
    fn functional_arithmetic_counts_zero_in_every_tool() {
        let x: &[usize] = &[4, 5, 5];
        for op in [Op::Add, Op::Mul, Op::Concat { dim: 0 }, Op::Flatten] {
            let c = all(&op, &[x, x], x, false);
            assert_eq!((c.torchvision, c.fvcore, c.thop, c.ptflops), (0, 0, 0, 0));
        }
        // x.mean([2, 3]) on 4x5x5: 0 in the tools, 100 netspec FLOPs.
        let m = all(&Op::Mean { dims: crate::op::Dims::new(&[1, 2]), keepdim: false }, &[x], &[4], false);
        assert_eq!((m.fvcore, m.thop, m.ptflops, m.flops), (0, 0, 0, 100));
    }

    #[test]
    fn sums_are_checked() {
        let big = Counts {
            thop: u64::MAX,
            ..Counts::ZERO
        };
        let one = Counts {
            thop: 1,
            ..Counts::ZERO
        };
        assert_eq!(big.checked_add(&one), None);
        assert_eq!(
            one.checked_add(&one).map(|c| c.get(Convention::Thop)),
            Some(2)
        );
    }
}
