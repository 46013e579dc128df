//! The operations over one to three spatial axes: [`ConvNd`] (`Conv3d`,
//! `ConvTranspose1d/2d/3d`), [`PoolNd`] (the 1-D and 3-D poolings) and
//! [`Interpolate`] (`nn.Upsample`, `F.interpolate`), whose per-axis arrays
//! are right-aligned in three entries ([`right_aligned`]).

use super::{Conv2d, Pad};

/// The last `rank` entries of a right-aligned spatial array (the arrays of
/// [`ConvNd`], [`PoolNd`] and [`Interpolate`]); `None` when `rank` is more
/// than 3.
pub fn right_aligned<T>(values: &[T; 3], rank: usize) -> Option<&[T]> {
    values.get(3usize.checked_sub(rank)?..)
}

/// A convolution over one to three spatial axes, or its transpose: PyTorch's
/// `nn.Conv3d` and `nn.ConvTranspose1d/2d/3d`.
///
/// The spatial arrays are right-aligned: an operation of `rank` spatial axes
/// uses their last `rank` entries; the others are 1 (kernel, stride,
/// dilation) or 0 (padding, output padding). So a `ConvTranspose2d` with
/// kernel 4 has `kernel = [1, 4, 4]`, and a kernel may treat every
/// operation as 3-D on `[C, D, H, W]` with the missing axes of size 1.
///
/// Weight shape: `[out, in / groups, k...]` for a convolution,
/// `[in, out / groups, k...]` for a transposed one (PyTorch's layouts); bias
/// `[out]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvNd {
    /// Spatial axes: 1, 2 or 3.
    pub rank: usize,
    /// A transposed convolution (`ConvTranspose*d`).
    pub transposed: bool,
    /// Input channels (inferred from the incoming tensor).
    pub in_channels: usize,
    /// Output channels.
    pub out_channels: usize,
    /// Kernel `[k_d, k_h, k_w]`.
    pub kernel: [usize; 3],
    /// Stride.
    pub stride: [usize; 3],
    /// Padding before and after, per axis (a transposed convolution's is
    /// symmetric: PyTorch's `dilation · (k − 1) − padding` of implicit zero
    /// padding, removed from each side of the full output).
    pub padding: [Pad; 3],
    /// Transposed only: extra size added to one side of the output.
    pub output_padding: [usize; 3],
    /// Dilation.
    pub dilation: [usize; 3],
    /// Groups.
    pub groups: usize,
    /// Whether the layer adds a bias.
    pub bias: bool,
}

impl ConvNd {
    /// A convolution from its fields in declaration order (what the
    /// `network!` macro emits).
    #[allow(clippy::too_many_arguments)]
    pub const fn new(
        rank: usize,
        transposed: bool,
        in_channels: usize,
        out_channels: usize,
        kernel: [usize; 3],
        stride: [usize; 3],
        padding: [Pad; 3],
        output_padding: [usize; 3],
        dilation: [usize; 3],
        groups: usize,
        bias: bool,
    ) -> ConvNd {
        ConvNd {
            rank,
            transposed,
            in_channels,
            out_channels,
            kernel,
            stride,
            padding,
            output_padding,
            dilation,
            groups,
            bias,
        }
    }

    /// A `Conv2d` (or a `Conv1d`, a `Conv2d` of height 1) as the rank-2
    /// convolution it is.
    pub const fn from_2d(c: &Conv2d) -> ConvNd {
        ConvNd {
            rank: 2,
            transposed: false,
            in_channels: c.in_channels,
            out_channels: c.out_channels,
            kernel: [1, c.kernel[0], c.kernel[1]],
            stride: [1, c.stride[0], c.stride[1]],
            padding: [[0, 0], c.padding[0], c.padding[1]],
            output_padding: [0; 3],
            dilation: [1, c.dilation[0], c.dilation[1]],
            groups: c.groups,
            bias: c.bias,
        }
    }

    /// The weight's shape in PyTorch's layout.
    pub fn weight_shape(&self) -> Vec<usize> {
        let g = self.groups.max(1);
        let mut shape = if self.transposed {
            vec![self.in_channels, self.out_channels / g]
        } else {
            vec![self.out_channels, self.in_channels / g]
        };
        shape.extend_from_slice(right_aligned(&self.kernel, self.rank.clamp(1, 3)).unwrap_or(&[]));
        shape
    }
}

/// Max or average pooling over one or three spatial axes (`nn.MaxPool1d`,
/// `nn.MaxPool3d`, `nn.AvgPool1d`, `nn.AvgPool3d`), its arrays right-aligned
/// as [`ConvNd`]'s (a 1-D pool is `[1, 1, k]`, padding `[0, 0, p]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolNd {
    /// Spatial axes: 1, 2 or 3.
    pub rank: usize,
    /// Window.
    pub kernel: [usize; 3],
    /// Stride (PyTorch's default is the kernel size).
    pub stride: [usize; 3],
    /// Symmetric padding.
    pub padding: [usize; 3],
    /// Dilation (max pooling only; 1 for average pooling).
    pub dilation: [usize; 3],
    /// Round the output size up instead of down.
    pub ceil_mode: bool,
    /// Average pooling: whether padded zeros count in the divisor.
    pub count_include_pad: bool,
}

impl PoolNd {
    /// A pooling window from its fields in declaration order (what the
    /// `network!` macro emits).
    pub const fn new(
        rank: usize,
        kernel: [usize; 3],
        stride: [usize; 3],
        padding: [usize; 3],
        dilation: [usize; 3],
        ceil_mode: bool,
        count_include_pad: bool,
    ) -> PoolNd {
        PoolNd {
            rank,
            kernel,
            stride,
            padding,
            dilation,
            ceil_mode,
            count_include_pad,
        }
    }
}

/// How [`Interpolate`] samples its input, PyTorch's `mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InterpolationMode {
    /// `"nearest"`: source index `floor(dst · scale)`.
    Nearest,
    /// `"nearest-exact"`: source index `floor((dst + 0.5) · scale)`.
    NearestExact,
    /// `"linear"`, `"bilinear"`, `"trilinear"` (by the rank): two taps per axis.
    Linear,
    /// `"bicubic"` (2-D): four taps per axis, PyTorch's cubic convolution with `A = −0.75`.
    Bicubic,
}

/// Resampling of the spatial axes, `nn.Upsample` and `F.interpolate`, on
/// `[C, *spatial]` with 1 to 3 spatial axes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interpolate {
    /// The sampling.
    pub mode: InterpolationMode,
    /// Spatial axes: 1, 2 or 3.
    pub rank: usize,
    /// Output spatial size, right-aligned as [`ConvNd`]'s arrays (1 for the
    /// axes beyond `rank`).
    pub size: [usize; 3],
    /// The `scale_factor` given per axis, or 0 where the output size was
    /// given instead. PyTorch samples with `1 / scale_factor` when one is
    /// given (and `recompute_scale_factor` is not set), not with the ratio
    /// of the sizes.
    pub scale: [f64; 3],
    /// `align_corners`: corner samples at the corners (linear and cubic modes).
    pub align_corners: bool,
    /// Written as the module `nn.Upsample` rather than `F.interpolate`.
    pub upsample: bool,
}

impl Interpolate {
    /// Taps per axis: 1 (nearest), 2 (linear), 4 (cubic).
    pub const fn taps(&self) -> u64 {
        match self.mode {
            InterpolationMode::Nearest | InterpolationMode::NearestExact => 1,
            InterpolationMode::Linear => 2,
            InterpolationMode::Bicubic => 4,
        }
    }

    /// PyTorch's mode string for this mode and rank.
    pub const fn mode_name(&self) -> &'static str {
        match (self.mode, self.rank) {
            (InterpolationMode::Nearest, _) => "nearest",
            (InterpolationMode::NearestExact, _) => "nearest-exact",
            (InterpolationMode::Linear, 1) => "linear",
            (InterpolationMode::Linear, 3) => "trilinear",
            (InterpolationMode::Linear, _) => "bilinear",
            (InterpolationMode::Bicubic, _) => "bicubic",
        }
    }
}

#[cfg(test)]
impl ConvNd {
    /// A biased convolution (or transposed one) with the same padding
    /// before and after each axis, the per-axis arrays right-aligned: the
    /// tests' shorthand.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn symmetric(
        rank: usize,
        transposed: bool,
        in_channels: usize,
        out_channels: usize,
        kernel: [usize; 3],
        stride: [usize; 3],
        padding: [usize; 3],
        output_padding: [usize; 3],
        dilation: [usize; 3],
        groups: usize,
    ) -> ConvNd {
        let padding = padding.map(|p| [p, p]);
        ConvNd {
            rank,
            transposed,
            in_channels,
            out_channels,
            kernel,
            stride,
            padding,
            output_padding,
            dilation,
            groups,
            bias: true,
        }
    }
}
