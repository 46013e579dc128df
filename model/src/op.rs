//! Operations: one variant per layer kind, with every hyper-parameter resolved.
//!
//! The compiler builds these from the DSL (input channels inferred, defaults
//! applied) and emits them as `const` data; the runtime executes them. Shapes
//! here are per sample, of any rank: `[C, H, W]` for feature maps, `[F]` for
//! vectors, `[L, E]` for token sequences. Axis fields are per-sample axes
//! (0-based, normalised): PyTorch's dimension `d >= 1` is axis `d - 1`, and a
//! kernel on a full `[N, ...]` tensor uses axis `axis + 1`.

mod spatial;

pub use spatial::{right_aligned, ConvNd, Interpolate, InterpolationMode, PoolNd};

/// The most dimensions a per-sample shape written in an operation may have.
pub const MAX_RANK: usize = 8;

/// A short list of sizes or axes (up to [`MAX_RANK`]), `Copy` and buildable
/// in const context, so operations stay plain data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Dims {
    len: u8,
    dims: [usize; MAX_RANK],
}

impl Dims {
    /// No dimensions.
    pub const EMPTY: Dims = Dims {
        len: 0,
        dims: [0; MAX_RANK],
    };

    /// The first [`MAX_RANK`] entries of `values` (callers check the length
    /// with [`Dims::fits`] first; the macro never emits more).
    pub const fn new(values: &[usize]) -> Dims {
        let mut dims = [0usize; MAX_RANK];
        let mut i = 0;
        while i < values.len() && i < MAX_RANK {
            dims[i] = values[i];
            i += 1;
        }
        Dims { len: i as u8, dims }
    }

    /// Whether `values` fits in a `Dims`.
    pub const fn fits(values: &[usize]) -> bool {
        values.len() <= MAX_RANK
    }

    /// The entries.
    pub fn as_slice(&self) -> &[usize] {
        &self.dims[..usize::from(self.len).min(MAX_RANK)]
    }

    /// How many entries.
    pub const fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether there are none.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Padding of one spatial axis: elements added before and after.
pub type Pad = [usize; 2];

/// A 2-D convolution, PyTorch's `nn.Conv2d`.
///
/// Weight shape `[out_channels, in_channels / groups, kernel[0], kernel[1]]`,
/// bias shape `[out_channels]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2d {
    /// Input channels (inferred from the incoming tensor).
    pub in_channels: usize,
    /// Output channels.
    pub out_channels: usize,
    /// Kernel `[k_h, k_w]`.
    pub kernel: [usize; 2],
    /// Stride `[s_h, s_w]`.
    pub stride: [usize; 2],
    /// Padding `[[top, bottom], [left, right]]`.
    pub padding: [Pad; 2],
    /// Dilation `[d_h, d_w]`.
    pub dilation: [usize; 2],
    /// Groups: 1 standard, `in_channels` depthwise.
    pub groups: usize,
    /// Whether the layer adds a bias.
    pub bias: bool,
}

impl Conv2d {
    /// A convolution from its fields in declaration order (what the
    /// `network!` macro emits: shorter to write and to parse than a literal).
    #[allow(clippy::too_many_arguments)]
    pub const fn new(
        in_channels: usize,
        out_channels: usize,
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [Pad; 2],
        dilation: [usize; 2],
        groups: usize,
        bias: bool,
    ) -> Conv2d {
        Conv2d {
            in_channels,
            out_channels,
            kernel,
            stride,
            padding,
            dilation,
            groups,
            bias,
        }
    }
}

/// A fully connected layer, PyTorch's `nn.Linear`: weight `[out, in]`, bias `[out]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Linear {
    /// Input features (inferred).
    pub in_features: usize,
    /// Output features.
    pub out_features: usize,
    /// Whether the layer adds a bias.
    pub bias: bool,
}

/// Layer normalisation over the trailing dimensions, PyTorch's `nn.LayerNorm`:
/// weight and bias shaped like `shape` (if `affine`, the bias only with `bias`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayerNorm {
    /// The normalised (trailing) shape.
    pub shape: Dims,
    /// Added to the variance before the square root.
    pub eps: f64,
    /// `elementwise_affine`: learnable weight (and bias).
    pub affine: bool,
    /// Whether an affine layer norm has a bias.
    pub bias: bool,
}

/// Group normalisation, PyTorch's `nn.GroupNorm`, on `[C, *]`: weight and
/// bias `[C]` if `affine`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GroupNorm {
    /// Groups the channels are split into.
    pub groups: usize,
    /// Channels (inferred, checked).
    pub channels: usize,
    /// Added to the variance before the square root.
    pub eps: f64,
    /// Learnable per-channel weight and bias.
    pub affine: bool,
}

/// Inference-mode batch norm, PyTorch's `nn.BatchNorm2d`.
///
/// Parameters `weight` and `bias` (`[channels]`, learnable) and buffers
/// `running_mean` and `running_var` (`[channels]`, not learnable).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchNorm2d {
    /// Channels (inferred).
    pub channels: usize,
    /// Added to the variance before the square root.
    pub eps: f64,
}

/// Max or average pooling over a window, `nn.MaxPool2d` / `nn.AvgPool2d`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool2d {
    /// Window `[k_h, k_w]`.
    pub kernel: [usize; 2],
    /// Stride `[s_h, s_w]` (PyTorch's default is the kernel size).
    pub stride: [usize; 2],
    /// Symmetric padding `[p_h, p_w]`.
    pub padding: [usize; 2],
    /// Dilation `[d_h, d_w]` (max pooling only; 1 for average pooling).
    pub dilation: [usize; 2],
    /// Round the output size up instead of down.
    pub ceil_mode: bool,
    /// Average pooling: whether padded zeros count in the divisor.
    pub count_include_pad: bool,
}

impl Pool2d {
    /// A pooling window from its fields in declaration order (what the
    /// `network!` macro emits).
    pub const fn new(
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
        dilation: [usize; 2],
        ceil_mode: bool,
        count_include_pad: bool,
    ) -> Pool2d {
        Pool2d {
            kernel,
            stride,
            padding,
            dilation,
            ceil_mode,
            count_include_pad,
        }
    }
}

/// Elementwise activation functions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    /// `max(x, 0)`.
    ReLU,
    /// `min(max(x, 0), 6)`.
    ReLU6,
    /// `x` if `x >= 0` else `slope * x`.
    LeakyReLU {
        /// Negative slope.
        slope: f64,
    },
    /// `1 / (1 + exp(-x))`.
    Sigmoid,
    /// `tanh(x)`.
    Tanh,
    /// `x * sigmoid(x)`.
    SiLU,
    /// `relu6(x + 3) / 6`.
    HardSigmoid,
    /// `x * relu6(x + 3) / 6`.
    HardSwish,
    /// `x * Φ(x)`, exact (erf) or with the tanh approximation.
    GELU {
        /// Use the tanh approximation.
        tanh: bool,
    },
    /// `min(max(x, min), max)`, PyTorch's `nn.Hardtanh`.
    Hardtanh {
        /// Lower bound.
        min: f64,
        /// Upper bound.
        max: f64,
    },
    /// `x` if `x > 0` else `alpha · (exp(x) − 1)`, PyTorch's `nn.ELU`.
    ELU {
        /// Scale of the negative part.
        alpha: f64,
    },
}

impl Activation {
    /// The PyTorch module name.
    pub const fn kind(&self) -> &'static str {
        match self {
            Activation::ReLU => "ReLU",
            Activation::ReLU6 => "ReLU6",
            Activation::LeakyReLU { .. } => "LeakyReLU",
            Activation::Sigmoid => "Sigmoid",
            Activation::Tanh => "Tanh",
            Activation::SiLU => "SiLU",
            Activation::HardSigmoid => "Hardsigmoid",
            Activation::HardSwish => "Hardswish",
            Activation::GELU { .. } => "GELU",
            Activation::Hardtanh { .. } => "Hardtanh",
            Activation::ELU { .. } => "ELU",
        }
    }
}

/// One operation of a network graph.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Op {
    /// Convolution.
    Conv2d(Conv2d),
    /// 1-D convolution on `[C, L]`, described as a 2-D one of height 1
    /// (`kernel[0] = stride[0] = dilation[0] = 1`, no padding along it);
    /// weight `[out, in / groups, k]`.
    Conv1d(Conv2d),
    /// Fully connected layer on the last dimension (`[..., in]` to `[..., out]`).
    Linear(Linear),
    /// Layer norm over the trailing dimensions.
    LayerNorm(LayerNorm),
    /// Group norm.
    GroupNorm(GroupNorm),
    /// Batch norm (inference).
    BatchNorm2d(BatchNorm2d),
    /// Batch norm (inference) on `[C]` or `[C, L]`, `nn.BatchNorm1d`.
    BatchNorm1d(BatchNorm2d),
    /// Batch norm (inference) on `[C, D, H, W]`, `nn.BatchNorm3d`.
    BatchNorm3d(BatchNorm2d),
    /// A 3-D convolution, `nn.Conv3d` (`rank` 3, not transposed).
    Conv3d(ConvNd),
    /// A transposed convolution, `nn.ConvTranspose1d/2d/3d` (by `rank`).
    ConvTranspose(ConvNd),
    /// Max pooling over 1 or 3 spatial axes (`MaxPool1d`, `MaxPool3d`).
    MaxPoolNd(PoolNd),
    /// Average pooling over 1 or 3 spatial axes (`AvgPool1d`, `AvgPool3d`).
    AvgPoolNd(PoolNd),
    /// Adaptive average pooling over 1 or 3 spatial axes
    /// (`AdaptiveAvgPool1d`, `AdaptiveAvgPool3d`), PyTorch's bin edges.
    AdaptiveAvgPoolNd {
        /// Spatial axes: 1 or 3.
        rank: usize,
        /// Output size, right-aligned (1 beyond `rank`).
        output: [usize; 3],
    },
    /// Resampling (`nn.Upsample`, `F.interpolate`).
    Interpolate(Interpolate),
    /// `max(0, x) + weight · min(0, x)` with a learnable `weight` of
    /// `num_parameters` entries: one, or one per channel (axis 0).
    PReLU {
        /// 1 or the channels.
        num_parameters: usize,
        /// The weight's initial value (PyTorch's `init`, 0.25).
        init: f64,
    },
    /// Elementwise activation.
    Activation(Activation),
    /// Max pooling.
    MaxPool2d(Pool2d),
    /// Average pooling.
    AvgPool2d(Pool2d),
    /// Adaptive average pooling to `[out_h, out_w]`, PyTorch's bin edges.
    AdaptiveAvgPool2d {
        /// Output `[h, w]`.
        output: [usize; 2],
    },
    /// `[C, H, W]` to `[C * H * W]`.
    Flatten,
    /// Identity at inference; `p` kept for the report.
    Dropout {
        /// Drop probability during training.
        p: f64,
    },
    /// Returns its input.
    Identity,
    /// Stochastic depth (torchvision's `StochasticDepth`): identity at inference; `p` kept for the report.
    StochasticDepth {
        /// Drop probability during training.
        p: f64,
    },
    /// Mean over `dims` (`x.mean([2, 3])` is axes `[1, 2]`), dropping them
    /// or, with `keepdim`, keeping them as size 1.
    Mean {
        /// The reduced axes, ascending.
        dims: Dims,
        /// Keep the reduced dimensions as size 1.
        keepdim: bool,
    },
    /// Softmax along one axis.
    Softmax {
        /// The axis.
        dim: usize,
        /// Mask the upper triangle of the last two axes first (PyTorch's
        /// `is_causal`, top-left aligned).
        causal: bool,
        /// Part of a scaled dot-product attention (`attention(...)`,
        /// `MultiheadAttention`): inside PyTorch's one
        /// `F.scaled_dot_product_attention` call, which tracers and hooks see
        /// whole, not as a softmax.
        fused: bool,
    },
    /// Elementwise sum of two or more tensors, broadcasting (right-aligned,
    /// size-1 dimensions stretch).
    Add,
    /// Elementwise difference of two tensors, broadcasting.
    Sub,
    /// Elementwise product of two tensors, broadcasting.
    Mul,
    /// Elementwise quotient of two tensors, broadcasting.
    Div,
    /// Elementwise maximum of two tensors, broadcasting (`torch.maximum`).
    Maximum,
    /// Elementwise minimum of two tensors, broadcasting (`torch.minimum`).
    Minimum,
    /// `scale · x + shift` with scalars (`x * 0.125`, `x + 1.0`, `1.0 - x`).
    Affine {
        /// Multiplier.
        scale: f64,
        /// Added after the multiplication.
        shift: f64,
    },
    /// Concatenation along an axis.
    Concat {
        /// The axis.
        dim: usize,
    },
    /// Entries `start .. start + len` along an axis (`narrow`, one output of
    /// `chunk`, `x[:, a:b]`).
    Slice {
        /// The axis.
        dim: usize,
        /// First index.
        start: usize,
        /// Number of entries.
        len: usize,
    },
    /// One index along an axis, which is removed (`x[:, 0]`).
    Select {
        /// The axis.
        dim: usize,
        /// The index.
        index: usize,
    },
    /// The same elements in a new shape (`reshape`, `view`, `flatten(a, b)`,
    /// `unsqueeze`, `squeeze`).
    Reshape {
        /// The output shape.
        shape: Dims,
    },
    /// Axes reordered: output axis `i` is input axis `dims[i]` (`permute`,
    /// `transpose`).
    Permute {
        /// The permutation.
        dims: Dims,
    },
    /// Matrix product with batch broadcasting, `alpha · (a @ b)` (`a @ bᵀ`
    /// over the last two axes with `trans_b`), PyTorch's `torch.matmul`.
    Matmul {
        /// Use the second operand's last two axes transposed.
        trans_b: bool,
        /// Scale of the product (attention's `1/√d`).
        alpha: f64,
        /// One of the two products of a scaled dot-product attention (see
        /// [`Op::Softmax`]'s `fused`): counted in MACs (`FlopCounterMode`
        /// counts it with the math backend), invisible to fvcore, thop and
        /// ptflops as a matrix product.
        fused: bool,
        /// Written `a @ b` (Python's operator, `Tensor.__matmul__`) rather
        /// than called (`matmul(a, b)`, `a.matmul(b)`: `torch.matmul`):
        /// ptflops patches the call, not the operator.
        operator: bool,
    },
    /// `torch.roll`: each axis in `dims` shifted by the matching `shifts`
    /// entry (normalised to `0..size`).
    Roll {
        /// Shift per rolled axis.
        shifts: Dims,
        /// The rolled axes.
        dims: Dims,
    },
    /// Constant padding (`F.pad`): each axis grows by `before[i] + after[i]`.
    Pad {
        /// Entries added before, per axis.
        before: Dims,
        /// Entries added after, per axis.
        after: Dims,
        /// The padding value.
        value: f64,
    },
    /// A learnable tensor declared in the network (class token, position
    /// embedding, layer scale). It reads nothing; its value is unbatched
    /// (its shape is its full PyTorch shape) and its state-dict name is the
    /// node's path.
    Parameter {
        /// The tensor's shape.
        shape: Dims,
    },
    /// The input projection of `nn.MultiheadAttention` (`[L, E]` to
    /// `[L, 3E]`): a linear layer whose tensors are `in_proj_weight`
    /// `[3E, E]` and `in_proj_bias` `[3E]` at the attention module's path.
    MhaInProj {
        /// `E` to `3E`.
        linear: Linear,
        /// Heads (kept for the conventions that count the module whole).
        heads: usize,
    },
    /// ShuffleNet's channel shuffle: `[g, C/g]` channels transposed to `[C/g, g]`.
    ChannelShuffle {
        /// Groups.
        groups: usize,
    },
    /// A constant tensor computed at compile time from the network's
    /// configuration (an attention mask): entry `index` of the graph's
    /// constants table ([`crate::info::Graph::constants`]). It reads nothing;
    /// like a [`Op::Parameter`], its value is unbatched (its shape is its full
    /// shape), but it is not learnable and not in the state dict.
    Constant {
        /// Entry of the constants table.
        index: usize,
        /// The tensor's shape.
        shape: Dims,
    },
    /// `table[idx]` by a constant integer array: the entries of the input
    /// along axis `dim` picked by the indices of entry `index` of the
    /// constants table (of shape `shape`), PyTorch's advanced indexing with
    /// one index tensor. The output replaces axis `dim` by `shape`. `dim` is
    /// an axis of the input as the shape rule sees it: per sample for a
    /// batched input, the full shape of an unbatched one (a learnable table);
    /// a kernel counts it from the last axis, which both agree on.
    Gather {
        /// The gathered axis.
        dim: usize,
        /// Entry of the constants table holding the indices.
        index: usize,
        /// The shape of the indices.
        shape: Dims,
    },
}

/// Whether a stored tensor is learnable (counted in `PARAMS`) or a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TensorRole {
    /// A learnable parameter (`weight`, `bias`).
    Param,
    /// A buffer (`running_mean`, `running_var`).
    Buffer,
}

/// A tensor a layer stores, named as in a PyTorch state dict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredTensor {
    /// Suffix after the layer path: `weight`, `bias`, `running_mean`,
    /// `running_var`; empty for a [`Op::Parameter`], whose name is the path.
    pub suffix: &'static str,
    /// Shape in PyTorch layout.
    pub shape: Vec<usize>,
    /// Parameter or buffer.
    pub role: TensorRole,
}

impl Op {
    /// The PyTorch module name (or the functional operation's name).
    pub const fn kind(&self) -> &'static str {
        match self {
            Op::Conv2d(_) => "Conv2d",
            Op::Conv1d(_) => "Conv1d",
            Op::Linear(_) => "Linear",
            Op::LayerNorm(_) => "LayerNorm",
            Op::GroupNorm(_) => "GroupNorm",
            Op::BatchNorm2d(_) => "BatchNorm2d",
            Op::BatchNorm1d(_) => "BatchNorm1d",
            Op::BatchNorm3d(_) => "BatchNorm3d",
            Op::Conv3d(_) => "Conv3d",
            Op::ConvTranspose(c) => match c.rank {
                1 => "ConvTranspose1d",
                3 => "ConvTranspose3d",
                _ => "ConvTranspose2d",
            },
            Op::MaxPoolNd(p) => match p.rank {
                1 => "MaxPool1d",
                2 => "MaxPool2d",
                _ => "MaxPool3d",
            },
            Op::AvgPoolNd(p) => match p.rank {
                1 => "AvgPool1d",
                2 => "AvgPool2d",
                _ => "AvgPool3d",
            },
            Op::AdaptiveAvgPoolNd { rank, .. } => match rank {
                1 => "AdaptiveAvgPool1d",
                2 => "AdaptiveAvgPool2d",
                _ => "AdaptiveAvgPool3d",
            },
            Op::Interpolate(i) => {
                if i.upsample {
                    "Upsample"
                } else {
                    "Interpolate"
                }
            }
            Op::PReLU { .. } => "PReLU",
            Op::Activation(a) => a.kind(),
            Op::MaxPool2d(_) => "MaxPool2d",
            Op::AvgPool2d(_) => "AvgPool2d",
            Op::AdaptiveAvgPool2d { .. } => "AdaptiveAvgPool2d",
            Op::Flatten => "Flatten",
            Op::Dropout { .. } => "Dropout",
            Op::Identity => "Identity",
            Op::StochasticDepth { .. } => "StochasticDepth",
            Op::Mean { .. } => "Mean",
            Op::Softmax { .. } => "Softmax",
            Op::Add => "Add",
            Op::Sub => "Sub",
            Op::Mul => "Mul",
            Op::Div => "Div",
            Op::Maximum => "Maximum",
            Op::Minimum => "Minimum",
            Op::Affine { .. } => "Affine",
            Op::Concat { .. } => "Concat",
            Op::Slice { .. } => "Slice",
            Op::Select { .. } => "Select",
            Op::Reshape { .. } => "Reshape",
            Op::Permute { .. } => "Permute",
            Op::Matmul { .. } => "Matmul",
            Op::Roll { .. } => "Roll",
            Op::Pad { .. } => "Pad",
            Op::Parameter { .. } => "Parameter",
            Op::MhaInProj { .. } => "MultiheadAttention",
            Op::ChannelShuffle { .. } => "ChannelShuffle",
            Op::Constant { .. } => "Constant",
            Op::Gather { .. } => "Gather",
        }
    }

    /// The tensors this operation stores, in state-dict order.
    pub fn stored_tensors(&self) -> Vec<StoredTensor> {
        let t = |suffix, shape: Vec<usize>, role| StoredTensor {
            suffix,
            shape,
            role,
        };
        // A `weight` of `shape`, and with `bias` a `bias` of `out` entries.
        let weighted = |shape, bias: bool, out| {
            let mut v = vec![t("weight", shape, TensorRole::Param)];
            if bias {
                v.push(t("bias", vec![out], TensorRole::Param));
            }
            v
        };
        match self {
            Op::Conv2d(c) => weighted(ConvNd::from_2d(c).weight_shape(), c.bias, c.out_channels),
            Op::Conv1d(c) => weighted(
                vec![c.out_channels, c.in_channels / c.groups.max(1), c.kernel[1]],
                c.bias,
                c.out_channels,
            ),
            Op::Conv3d(c) | Op::ConvTranspose(c) => {
                weighted(c.weight_shape(), c.bias, c.out_channels)
            }
            Op::PReLU { num_parameters, .. } => {
                vec![t("weight", vec![*num_parameters], TensorRole::Param)]
            }
            Op::Linear(l) => weighted(vec![l.out_features, l.in_features], l.bias, l.out_features),
            Op::MhaInProj { linear: l, .. } => {
                let mut v = vec![t(
                    "in_proj_weight",
                    vec![l.out_features, l.in_features],
                    TensorRole::Param,
                )];
                if l.bias {
                    v.push(t("in_proj_bias", vec![l.out_features], TensorRole::Param));
                }
                v
            }
            Op::LayerNorm(n) => {
                let shape = n.shape.as_slice().to_vec();
                let mut v = Vec::new();
                if n.affine {
                    v.push(t("weight", shape.clone(), TensorRole::Param));
                    if n.bias {
                        v.push(t("bias", shape, TensorRole::Param));
                    }
                }
                v
            }
            Op::GroupNorm(g) => {
                if g.affine {
                    vec![
                        t("weight", vec![g.channels], TensorRole::Param),
                        t("bias", vec![g.channels], TensorRole::Param),
                    ]
                } else {
                    Vec::new()
                }
            }
            Op::Parameter { shape } => vec![t("", shape.as_slice().to_vec(), TensorRole::Param)],
            Op::BatchNorm2d(b) | Op::BatchNorm1d(b) | Op::BatchNorm3d(b) => vec![
                t("weight", vec![b.channels], TensorRole::Param),
                t("bias", vec![b.channels], TensorRole::Param),
                t("running_mean", vec![b.channels], TensorRole::Buffer),
                t("running_var", vec![b.channels], TensorRole::Buffer),
            ],
            _ => Vec::new(),
        }
    }
}
