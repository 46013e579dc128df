//! Operations: one variant per layer kind, with every hyper-parameter resolved.
//!
//! The compiler builds these from the DSL (input channels inferred, defaults
//! applied) and emits them as `const` data; the runtime executes them. Shapes
//! here are per sample: `[C, H, W]` for feature maps, `[F]` for vectors.

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
        }
    }
}

/// One operation of a network graph.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Op {
    /// Convolution.
    Conv2d(Conv2d),
    /// Fully connected layer on a `[F]` vector.
    Linear(Linear),
    /// Batch norm (inference).
    BatchNorm2d(BatchNorm2d),
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
    /// Mean over the spatial dimensions: `[C, H, W]` to `[C]` (PyTorch's
    /// `x.mean([2, 3])`), or to `[C, 1, 1]` with `keepdim`.
    Mean {
        /// Keep the reduced dimensions as size 1.
        keepdim: bool,
    },
    /// Softmax over the channel (feature) dimension.
    Softmax,
    /// Elementwise sum of two or more tensors of one shape.
    Add,
    /// Elementwise product of two tensors, broadcasting size-1 dimensions.
    Mul,
    /// Concatenation along channels.
    Concat,
    /// Channels `start .. start + len` of the input (`narrow`, or one output of `chunk`).
    Slice {
        /// First channel.
        start: usize,
        /// Number of channels.
        len: usize,
    },
    /// ShuffleNet's channel shuffle: `[g, C/g]` channels transposed to `[C/g, g]`.
    ChannelShuffle {
        /// Groups.
        groups: usize,
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
    /// Suffix after the layer path: `weight`, `bias`, `running_mean`, `running_var`.
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
            Op::Linear(_) => "Linear",
            Op::BatchNorm2d(_) => "BatchNorm2d",
            Op::Activation(a) => a.kind(),
            Op::MaxPool2d(_) => "MaxPool2d",
            Op::AvgPool2d(_) => "AvgPool2d",
            Op::AdaptiveAvgPool2d { .. } => "AdaptiveAvgPool2d",
            Op::Flatten => "Flatten",
            Op::Dropout { .. } => "Dropout",
            Op::Identity => "Identity",
            Op::StochasticDepth { .. } => "StochasticDepth",
            Op::Mean { .. } => "Mean",
            Op::Softmax => "Softmax",
            Op::Add => "Add",
            Op::Mul => "Mul",
            Op::Concat => "Concat",
            Op::Slice { .. } => "Slice",
            Op::ChannelShuffle { .. } => "ChannelShuffle",
        }
    }

    /// The tensors this operation stores, in state-dict order.
    pub fn stored_tensors(&self) -> Vec<StoredTensor> {
        let t = |suffix, shape: Vec<usize>, role| StoredTensor {
            suffix,
            shape,
            role,
        };
        match self {
            Op::Conv2d(c) => {
                let mut v = vec![t(
                    "weight",
                    vec![
                        c.out_channels,
                        c.in_channels / c.groups.max(1),
                        c.kernel[0],
                        c.kernel[1],
                    ],
                    TensorRole::Param,
                )];
                if c.bias {
                    v.push(t("bias", vec![c.out_channels], TensorRole::Param));
                }
                v
            }
            Op::Linear(l) => {
                let mut v = vec![t(
                    "weight",
                    vec![l.out_features, l.in_features],
                    TensorRole::Param,
                )];
                if l.bias {
                    v.push(t("bias", vec![l.out_features], TensorRole::Param));
                }
                v
            }
            Op::BatchNorm2d(b) => vec![
                t("weight", vec![b.channels], TensorRole::Param),
                t("bias", vec![b.channels], TensorRole::Param),
                t("running_mean", vec![b.channels], TensorRole::Buffer),
                t("running_var", vec![b.channels], TensorRole::Buffer),
            ],
            _ => Vec::new(),
        }
    }
}
