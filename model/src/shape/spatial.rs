//! Shape rules of the operations over one to three spatial axes: `Conv3d`,
//! `ConvTranspose1d/2d/3d`, `MaxPool1d/3d`, `AvgPool1d/3d`,
//! `AdaptiveAvgPool1d/3d` and resampling (`nn.Upsample`, `F.interpolate`).
//!
//! Inputs are per sample, `[C, *spatial]` with `rank` spatial axes; the
//! operations' arrays are right-aligned (a rank-`r` operation uses their last
//! `r` entries). Output sizes are PyTorch's.

use super::{err, kernel_extent, positive, shape_str, window_out, Blame, ShapeError};
use crate::op::{right_aligned, ConvNd, Interpolate, InterpolationMode, Pad, PoolNd};

/// The names of the spatial axes of a rank-`rank` input, as messages say them.
fn axis_names(rank: usize) -> &'static [&'static str] {
    match rank {
        1 => &["length"],
        2 => &["height", "width"],
        _ => &["depth", "height", "width"],
    }
}

/// The per-sample layout a rank-`rank` operation expects.
fn layout(rank: usize) -> &'static str {
    match rank {
        1 => "[C, L]",
        2 => "[C, H, W]",
        _ => "[C, D, H, W]",
    }
}

/// The last `rank` entries of a right-aligned array (`rank` is 1 to 3
/// once [`spatial_input`] has accepted it).
fn tail<T>(values: &[T; 3], rank: usize) -> &[T] {
    right_aligned(values, rank).unwrap_or(&[])
}

/// The channels and the `rank` spatial sizes of `input`.
fn spatial_input<'a>(
    kind: &str,
    rank: usize,
    input: &'a [usize],
) -> Result<(usize, &'a [usize]), ShapeError> {
    if !(1..=3).contains(&rank) {
        return err(
            Blame::Layer,
            format!("{kind} has {rank} spatial axes; 1 to 3 are supported"),
        );
    }
    match input.split_first() {
        Some((&c, spatial)) if spatial.len() == rank => Ok((c, spatial)),
        _ => err(
            Blame::Input(0),
            format!(
                "{kind} expects a {} input, found {}",
                layout(rank),
                shape_str(input)
            ),
        ),
    }
}

/// The smallest of the first `rank` entries (for the positivity checks).
fn least(values: &[usize; 3], rank: usize) -> usize {
    tail(values, rank).iter().copied().min().unwrap_or(1)
}

/// `Conv3d` and `ConvTranspose1d/2d/3d` on `[C, *spatial]`.
///
/// A convolution's output along an axis is `floor((L + p_before + p_after −
/// d·(k − 1) − 1) / s) + 1`; a transposed one's is `(L − 1)·s − p_before −
/// p_after + d·(k − 1) + output_padding + 1`, with PyTorch's rule that the
/// output padding is smaller than the stride or the dilation. Either must be
/// at least 1.
pub(super) fn conv_nd(kind: &str, c: &ConvNd, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
    let (ch, spatial) = spatial_input(kind, c.rank, input)?;
    conv_output(kind, c, ch, spatial)
}

/// A convolution's output on an input of `ch` channels and the `c.rank`
/// spatial sizes `spatial`: the rule of [`conv_nd`], and of `Conv2d` and
/// `Conv1d` after their own input checks.
pub(super) fn conv_output(
    kind: &str,
    c: &ConvNd,
    ch: usize,
    spatial: &[usize],
) -> Result<Vec<usize>, ShapeError> {
    let rank = c.rank;
    positive(c.out_channels, "out_channels")?;
    positive(least(&c.kernel, rank), "kernel_size")?;
    positive(least(&c.stride, rank), "stride")?;
    positive(least(&c.dilation, rank), "dilation")?;
    positive(c.groups, "groups")?;
    if ch != c.in_channels {
        return err(
            Blame::Input(0),
            format!(
                "{kind} expects {} input channels, found {ch}",
                c.in_channels
            ),
        );
    }
    if !ch.is_multiple_of(c.groups) {
        return err(
            Blame::Arg("groups"),
            format!(
                "groups = {} does not divide the {ch} input channels",
                c.groups
            ),
        );
    }
    if !c.out_channels.is_multiple_of(c.groups) {
        return err(
            Blame::Arg("groups"),
            format!(
                "groups = {} does not divide the {} output channels",
                c.groups, c.out_channels
            ),
        );
    }
    let mut out = Vec::with_capacity(rank + 1);
    out.push(c.out_channels);
    let axes = axis_names(rank)
        .iter()
        .zip(spatial)
        .zip(tail(&c.padding, rank))
        .zip(tail(&c.kernel, rank))
        .zip(tail(&c.stride, rank))
        .zip(tail(&c.dilation, rank))
        .zip(tail(&c.output_padding, rank));
    for ((((((&axis, &len), &pad), &k), &s), &d), &op) in axes {
        let size = if c.transposed {
            transposed_out(axis, len, pad, k, s, d, op)?
        } else {
            window_out(axis, len, pad, k, s, d, false)?
        };
        out.push(size);
    }
    Ok(out)
}

/// A transposed convolution's output length along one axis:
/// `(L − 1)·s − p_before − p_after + d·(k − 1) + output_padding + 1`.
fn transposed_out(
    axis: &str,
    len: usize,
    pad: Pad,
    kernel: usize,
    stride: usize,
    dilation: usize,
    output_padding: usize,
) -> Result<usize, ShapeError> {
    if output_padding >= stride && output_padding >= dilation {
        return err(
            Blame::Arg("output_padding"),
            format!(
                "output_padding {output_padding} must be smaller than stride {stride} \
                 or dilation {dilation} along the {axis}"
            ),
        );
    }
    let Some(steps) = len.checked_sub(1) else {
        return err(
            Blame::Input(0),
            format!("the input's {axis} is 0: a transposed convolution needs at least 1"),
        );
    };
    // (L − 1)·s + d·(k − 1) + 1 + output_padding, before the padding is removed
    let full = steps
        .checked_mul(stride)
        .zip(kernel_extent(kernel, dilation))
        .and_then(|(a, b)| a.checked_add(b))
        .and_then(|a| a.checked_add(output_padding));
    let (Some(full), Some(removed)) = (full, pad[0].checked_add(pad[1])) else {
        return err(Blame::Layer, format!("{axis} size overflows"));
    };
    if removed >= full {
        let padding = if pad[0] == pad[1] {
            format!("2·{}", pad[0])
        } else {
            format!("{} − {}", pad[0], pad[1])
        };
        // Both fit in i128, so the difference does too.
        let size = full as i128 - removed as i128;
        return err(
            Blame::Arg("padding"),
            format!(
                "the output {axis} would be {size}: ({len} − 1)·{stride} − {padding} + \
                 {dilation}·({kernel} − 1) + {output_padding} + 1 must be at least 1"
            ),
        );
    }
    Ok(full - removed)
}

/// `MaxPool1d/3d` and `AvgPool1d/3d` on `[C, *spatial]`: the window rule of
/// the convolutions (in ceil mode the last window must start inside the
/// input or the left padding), with PyTorch's check that the padding is at
/// most half the kernel size (the size, not the dilated extent).
pub(super) fn pool_nd(kind: &str, p: &PoolNd, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
    let rank = p.rank;
    let (ch, spatial) = spatial_input(kind, rank, input)?;
    positive(least(&p.kernel, rank), "kernel_size")?;
    positive(least(&p.stride, rank), "stride")?;
    positive(least(&p.dilation, rank), "dilation")?;
    let mut out = Vec::with_capacity(rank + 1);
    out.push(ch);
    let axes = axis_names(rank)
        .iter()
        .zip(spatial)
        .zip(tail(&p.padding, rank))
        .zip(tail(&p.kernel, rank))
        .zip(tail(&p.stride, rank))
        .zip(tail(&p.dilation, rank));
    for (((((&axis, &len), &pad), &k), &s), &d) in axes {
        pool_padding(pad, k, d, |_| {
            format!("padding {pad} is more than half the kernel size {k} along the {axis}")
        })?;
        out.push(window_out(axis, len, [pad, pad], k, s, d, p.ceil_mode)?);
    }
    Ok(out)
}

/// PyTorch's checks of a pooling window along one axis: the dilated kernel
/// fits a `usize`, and the padding is at most half the kernel size (the
/// size, not the dilated extent: `MaxPool2d(3, padding=2, dilation=2)` is an
/// error). `too_much` words the second error from the extent.
pub(super) fn pool_padding(
    pad: usize,
    kernel: usize,
    dilation: usize,
    too_much: impl FnOnce(usize) -> String,
) -> Result<(), ShapeError> {
    let Some(extent) = kernel_extent(kernel, dilation) else {
        return err(
            Blame::Arg("dilation"),
            format!("kernel {kernel} with dilation {dilation} overflows"),
        );
    };
    if pad > kernel / 2 {
        return err(Blame::Arg("padding"), too_much(extent));
    }
    Ok(())
}

/// `AdaptiveAvgPool1d/3d` on `[C, *spatial]`: `[C, *output]`.
pub(super) fn adaptive_nd(
    kind: &str,
    rank: usize,
    output: &[usize; 3],
    input: &[usize],
) -> Result<Vec<usize>, ShapeError> {
    let (ch, _) = spatial_input(kind, rank, input)?;
    positive(least(output, rank), "output_size")?;
    let mut out = vec![ch];
    out.extend_from_slice(tail(output, rank));
    Ok(out)
}

/// PyTorch's output length for a `scale_factor`: `floor(L · scale)` in
/// double precision; `None` if it does not fit a `usize`.
pub fn scaled_size(len: usize, scale: f64) -> Option<usize> {
    let size = (len as f64 * scale).floor();
    // `usize::MAX as f64` is 2^64 (rounded up), the first value past the range.
    (size.is_finite() && size >= 0.0 && size < usize::MAX as f64).then_some(size as usize)
}

/// Resampling on `[C, *spatial]`: `[C, *size]`, where an axis with a
/// `scale_factor` must have `floor(L · scale_factor)` entries. "bicubic"
/// resamples two axes, and `align_corners` goes only with the linear and
/// cubic modes, as in PyTorch.
pub(super) fn interpolate(
    kind: &str,
    i: &Interpolate,
    input: &[usize],
) -> Result<Vec<usize>, ShapeError> {
    let rank = i.rank;
    let (ch, spatial) = spatial_input(kind, rank, input)?;
    if i.mode == InterpolationMode::Bicubic && rank != 2 {
        return err(
            Blame::Arg("mode"),
            format!("mode \"bicubic\" resamples 2 spatial axes ([C, H, W]), this one has {rank}"),
        );
    }
    if i.align_corners
        && matches!(
            i.mode,
            InterpolationMode::Nearest | InterpolationMode::NearestExact
        )
    {
        return err(
            Blame::Arg("align_corners"),
            format!(
                "align_corners can only be set with the interpolating modes linear, \
                 bilinear, bicubic and trilinear, not \"{}\"",
                i.mode_name()
            ),
        );
    }
    let mut out = Vec::with_capacity(rank + 1);
    out.push(ch);
    let axes = axis_names(rank)
        .iter()
        .zip(spatial)
        .zip(tail(&i.size, rank))
        .zip(tail(&i.scale, rank));
    for (((&axis, &len), &size), &scale) in axes {
        if scale != 0.0 {
            if !(scale.is_finite() && scale > 0.0) {
                return err(
                    Blame::Arg("scale_factor"),
                    format!("scale_factor must be positive and finite, found {scale}"),
                );
            }
            let Some(expected) = scaled_size(len, scale) else {
                return err(Blame::Layer, format!("{axis} size overflows"));
            };
            if expected == 0 {
                return err(
                    Blame::Arg("scale_factor"),
                    format!(
                        "scale_factor {scale} on a {axis} of {len} gives an output {axis} \
                         of 0 (floor({len}·{scale})); it must be at least 1"
                    ),
                );
            }
            if size != expected {
                return err(
                    Blame::Layer,
                    format!(
                        "output {axis} {size} does not follow scale_factor {scale} on a \
                         {axis} of {len}: floor({len}·{scale}) = {expected}"
                    ),
                );
            }
        } else if size == 0 {
            return err(
                Blame::Arg("size"),
                format!("size must be positive, found 0 for the {axis}"),
            );
        }
        out.push(size);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use crate::op::{ConvNd, Interpolate, InterpolationMode, Op, PoolNd};
    use crate::shape::{output_shape, Blame, ShapeError};

    fn shape(op: &Op, x: &[usize]) -> Result<Vec<usize>, ShapeError> {
        output_shape(op, &[x])
    }

    /// A transposed convolution of `rank` axes, the per-axis arrays written
    /// right-aligned as given (the leading entries filled in).
    #[allow(clippy::too_many_arguments)]
    fn transposed(
        rank: usize,
        cin: usize,
        cout: usize,
        k: [usize; 3],
        s: [usize; 3],
        p: [usize; 3],
        op: [usize; 3],
        d: [usize; 3],
        g: usize,
    ) -> Op {
        Op::ConvTranspose(ConvNd::symmetric(rank, true, cin, cout, k, s, p, op, d, g))
    }

    #[test]
    fn transposed_convolutions_follow_pytorch() {
        // ConvTranspose2d(16, 8, 2, stride=2) on [16, 4, 4]: (4 − 1)·2 + 1·(2 − 1) + 1 = 8
        let up = transposed(2, 16, 8, [1, 2, 2], [1, 2, 2], [0; 3], [0; 3], [1; 3], 1);
        assert_eq!(shape(&up, &[16, 4, 4]).unwrap(), [8, 8, 8]);
        // ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1,
        // dilation=2, groups=2) on [4, 5, 7], PyTorch: [6, 12, 16]:
        // (5 − 1)·2 − 2·1 + 2·(3 − 1) + 1 + 1 = 12, (7 − 1)·2 − 2 + 4 + 1 + 1 = 16
        let up = transposed(
            2,
            4,
            6,
            [1, 3, 3],
            [1, 2, 2],
            [0, 1, 1],
            [0, 1, 1],
            [1, 2, 2],
            2,
        );
        assert_eq!(shape(&up, &[4, 5, 7]).unwrap(), [6, 12, 16]);
        // output_padding 1 is not below stride 1 but below dilation 2 (PyTorch: [2, 9, 10]):
        // (4 − 1)·1 + 2·(3 − 1) + 1 + 1 = 9, (4 − 1)·2 + 1·2 + 1 + 1 = 10
        let up = transposed(
            2,
            2,
            2,
            [1, 3, 3],
            [1, 1, 2],
            [0; 3],
            [0, 1, 1],
            [1, 2, 1],
            1,
        );
        assert_eq!(shape(&up, &[2, 4, 4]).unwrap(), [2, 9, 10]);
        // ConvTranspose1d(4, 6, 3, stride=3, padding=1, output_padding=2, groups=2)
        // on [4, 5] (PyTorch: [6, 15]): (5 − 1)·3 − 2 + 2 + 2 + 1 = 15
        let up = transposed(
            1,
            4,
            6,
            [1, 1, 3],
            [1, 1, 3],
            [0, 0, 1],
            [0, 0, 2],
            [1; 3],
            2,
        );
        assert_eq!(shape(&up, &[4, 5]).unwrap(), [6, 15]);
        // ConvTranspose3d(4, 2, (2, 3, 1), stride=(2, 1, 3), padding=(0, 1, 0)) on
        // [4, 3, 4, 5] (PyTorch: [2, 6, 4, 13]): 2·2 + 1 + 1, 3 − 2 + 2 + 1, 4·3 + 1
        let up = transposed(3, 4, 2, [2, 3, 1], [2, 1, 3], [0, 1, 0], [0; 3], [1; 3], 1);
        assert_eq!(shape(&up, &[4, 3, 4, 5]).unwrap(), [2, 6, 4, 13]);
    }

    #[test]
    fn transposed_convolution_errors_name_the_numbers() {
        // PyTorch: "output padding must be smaller than either stride or dilation"
        let up = transposed(2, 2, 2, [1, 3, 3], [1, 2, 2], [0; 3], [0, 0, 2], [1; 3], 1);
        let e = shape(&up, &[2, 4, 4]).unwrap_err();
        assert_eq!(e.blame, Blame::Arg("output_padding"));
        assert_eq!(
            e.message,
            "output_padding 2 must be smaller than stride 2 or dilation 1 along the width"
        );
        // ConvTranspose3d: the depth is named
        let up = transposed(3, 2, 2, [3, 3, 3], [1, 2, 2], [0; 3], [1, 0, 0], [1; 3], 1);
        let e = shape(&up, &[2, 4, 4, 4]).unwrap_err();
        assert_eq!(
            e.message,
            "output_padding 1 must be smaller than stride 1 or dilation 1 along the depth"
        );
        // ConvTranspose2d(2, 2, 1, padding=1) on [2, 1, 1]: PyTorch's output
        // size is (1 − 1)·1 − 2·1 + 1·0 + 0 + 1 = −1
        let up = transposed(2, 2, 2, [1; 3], [1; 3], [0, 1, 1], [0; 3], [1; 3], 1);
        let e = shape(&up, &[2, 1, 1]).unwrap_err();
        assert_eq!(e.blame, Blame::Arg("padding"));
        assert_eq!(
            e.message,
            "the output height would be -1: (1 − 1)·1 − 2·1 + 1·(1 − 1) + 0 + 1 must be at least 1"
        );
        // exactly 0 is an error too: (2 − 1)·1 − 2·1 + 0 + 0 + 1 = 0
        let e = shape(&up, &[2, 2, 2]).unwrap_err();
        assert!(e.message.starts_with("the output height would be 0"), "{e}");
        // channels, groups and rank
        let up = transposed(2, 4, 6, [1, 2, 2], [1, 2, 2], [0; 3], [0; 3], [1; 3], 2);
        let e = shape(&up, &[3, 4, 4]).unwrap_err();
        assert_eq!(e.blame, Blame::Input(0));
        assert_eq!(
            e.message,
            "ConvTranspose2d expects 4 input channels, found 3"
        );
        let e = shape(&up, &[4, 4]).unwrap_err();
        assert_eq!(
            e.message,
            "ConvTranspose2d expects a [C, H, W] input, found [4, 4]"
        );
        let up = transposed(2, 4, 6, [1, 2, 2], [1, 2, 2], [0; 3], [0; 3], [1; 3], 4);
        let e = shape(&up, &[4, 4, 4]).unwrap_err();
        assert_eq!(e.blame, Blame::Arg("groups"));
        assert_eq!(
            e.message,
            "groups = 4 does not divide the 6 output channels"
        );
        // an empty input axis, and sizes that overflow, are errors (never a wrap)
        let up = transposed(
            1,
            1,
            1,
            [1, 1, 2],
            [1, 1, usize::MAX],
            [0; 3],
            [0; 3],
            [1; 3],
            1,
        );
        assert_eq!(shape(&up, &[1, 0]).unwrap_err().blame, Blame::Input(0));
        assert_eq!(
            shape(&up, &[1, 3]).unwrap_err().message,
            "length size overflows"
        );
    }

    fn conv3d(cin: usize, cout: usize, k: [usize; 3], s: [usize; 3], p: usize, g: usize) -> Op {
        Op::Conv3d(ConvNd::new(
            3,
            false,
            cin,
            cout,
            k,
            s,
            [[p, p]; 3],
            [0; 3],
            [1; 3],
            g,
            false,
        ))
    }

    #[test]
    fn conv3d_follows_pytorch() {
        // Conv3d(4, 6, 3, stride=(1, 2, 2), padding=1, groups=2) on [4, 4, 6, 6]
        // (PyTorch: [6, 4, 3, 3]): (4 + 2 − 3)/1 + 1 = 4, (6 + 2 − 3)/2 + 1 = 3
        let c = conv3d(4, 6, [3; 3], [1, 2, 2], 1, 2);
        assert_eq!(shape(&c, &[4, 4, 6, 6]).unwrap(), [6, 4, 3, 3]);
        let e = shape(&c, &[5, 4, 6, 6]).unwrap_err();
        assert_eq!(e.message, "Conv3d expects 4 input channels, found 5");
        let e = shape(&c, &[4, 6, 6]).unwrap_err();
        assert_eq!(
            e.message,
            "Conv3d expects a [C, D, H, W] input, found [4, 6, 6]"
        );
        // a kernel larger than the padded depth: no output
        let e = shape(&c, &[4, 0, 6, 6]).unwrap_err();
        assert_eq!(e.blame, Blame::Arg("kernel_size"));
        assert_eq!(
            e.message,
            "kernel 3 spans 3 along the depth, larger than the padded input (0 + 2 padding = 2)"
        );
        let c = conv3d(4, 6, [3; 3], [1; 3], 1, 3);
        assert_eq!(
            shape(&c, &[4, 4, 6, 6]).unwrap_err().message,
            "groups = 3 does not divide the 4 input channels"
        );
        let c = conv3d(4, 6, [3, 0, 3], [1; 3], 1, 1);
        assert_eq!(
            shape(&c, &[4, 4, 6, 6]).unwrap_err().blame,
            Blame::Arg("kernel_size")
        );
        // a Conv3d op must be 3-D and not transposed
        let mut flat = ConvNd::new(
            2,
            false,
            4,
            6,
            [1, 3, 3],
            [1; 3],
            [[0; 2]; 3],
            [0; 3],
            [1; 3],
            1,
            false,
        );
        assert_eq!(
            output_shape(&Op::Conv3d(flat), &[&[4, 6, 6]])
                .unwrap_err()
                .blame,
            Blame::Layer
        );
        flat.rank = 3;
        flat.transposed = true;
        assert!(output_shape(&Op::Conv3d(flat), &[&[4, 6, 6, 6]]).is_err());
    }

    fn pool(rank: usize, k: usize, s: usize, p: usize, d: usize, ceil: bool) -> PoolNd {
        let fill = |v: usize, rest: usize| {
            let mut a = [rest; 3];
            for slot in a.iter_mut().skip(3 - rank) {
                *slot = v;
            }
            a
        };
        PoolNd::new(
            rank,
            fill(k, 1),
            fill(s, 1),
            fill(p, 0),
            fill(d, 1),
            ceil,
            true,
        )
    }

    #[test]
    fn pools_of_one_and_three_axes_follow_pytorch() {
        // MaxPool3d(2) on [4, 4, 4, 4]: [4, 2, 2, 2]
        let max3 = Op::MaxPoolNd(pool(3, 2, 2, 0, 1, false));
        assert_eq!(shape(&max3, &[4, 4, 4, 4]).unwrap(), [4, 2, 2, 2]);
        // AvgPool3d(3, stride=2, ceil_mode=True) on [2, 6, 6, 6] (PyTorch: 3):
        // ceil((6 − 3)/2) + 1 = 3, the last window starts at 4 < 6
        let avg3 = Op::AvgPoolNd(pool(3, 3, 2, 0, 1, true));
        assert_eq!(shape(&avg3, &[2, 6, 6, 6]).unwrap(), [2, 3, 3, 3]);
        // MaxPool1d(2, stride=2, padding=1, ceil_mode=True) on [2, 5] (PyTorch: 3):
        // ceil((5 + 2 − 2)/2) + 1 = 4, but the fourth window would start at 6 ≥ 5 + 1
        let max1 = Op::MaxPoolNd(pool(1, 2, 2, 1, 1, true));
        assert_eq!(shape(&max1, &[2, 5]).unwrap(), [2, 3]);
        // AvgPool1d(3) on [2, 10]: floor((10 − 3)/3) + 1 = 3
        let avg1 = Op::AvgPoolNd(pool(1, 3, 3, 0, 1, false));
        assert_eq!(shape(&avg1, &[2, 10]).unwrap(), [2, 3]);
        assert_eq!(
            shape(&avg1, &[2, 10, 10]).unwrap_err().message,
            "AvgPool1d expects a [C, L] input, found [2, 10, 10]"
        );
        // PyTorch rejects MaxPool1d(3, padding=2, dilation=2): padding at most
        // half the kernel size (3 / 2 = 1), whatever the dilation
        let e = shape(&Op::MaxPoolNd(pool(1, 3, 1, 2, 2, false)), &[2, 10]).unwrap_err();
        assert_eq!(e.blame, Blame::Arg("padding"));
        assert_eq!(
            e.message,
            "padding 2 is more than half the kernel size 3 along the length"
        );
        // MaxPool3d(3, padding=1, dilation=(1, 1, 5)) on [2, 10, 10, 3]: the
        // width's window spans 11 > 3 + 2 (PyTorch: output size too small)
        let mut dilated = pool(3, 3, 1, 1, 1, false);
        dilated.dilation = [1, 1, 5];
        let e = shape(&Op::MaxPoolNd(dilated), &[2, 10, 10, 3]).unwrap_err();
        assert_eq!(e.blame, Blame::Arg("kernel_size"));
        assert_eq!(
            e.message,
            "kernel 3 with dilation 5 spans 11 along the width, larger than the padded input (3 + 2 padding = 5)"
        );
        dilated.dilation = [1, 1, usize::MAX];
        let e = shape(&Op::MaxPoolNd(dilated), &[2, 10, 10, 3]).unwrap_err();
        assert_eq!(e.blame, Blame::Arg("dilation"));
        let zero = Op::AvgPoolNd(pool(3, 2, 0, 0, 1, false));
        assert_eq!(
            shape(&zero, &[2, 4, 4, 4]).unwrap_err().message,
            "stride must be positive, found 0"
        );
    }

    #[test]
    fn adaptive_pools_take_their_output_size() {
        let a1 = Op::AdaptiveAvgPoolNd {
            rank: 1,
            output: [1, 1, 3],
        };
        assert_eq!(shape(&a1, &[4, 8]).unwrap(), [4, 3]);
        assert_eq!(
            shape(&a1, &[4, 8, 8]).unwrap_err().message,
            "AdaptiveAvgPool1d expects a [C, L] input, found [4, 8, 8]"
        );
        let a3 = Op::AdaptiveAvgPoolNd {
            rank: 3,
            output: [2, 1, 5],
        };
        assert_eq!(shape(&a3, &[4, 4, 4, 4]).unwrap(), [4, 2, 1, 5]);
        let a0 = Op::AdaptiveAvgPoolNd {
            rank: 3,
            output: [2, 0, 5],
        };
        assert_eq!(
            shape(&a0, &[4, 4, 4, 4]).unwrap_err().blame,
            Blame::Arg("output_size")
        );
    }

    fn resample(mode: InterpolationMode, rank: usize, size: [usize; 3], scale: [f64; 3]) -> Op {
        Op::Interpolate(Interpolate {
            mode,
            rank,
            size,
            scale,
            align_corners: false,
            upsample: true,
        })
    }

    #[test]
    fn interpolation_sizes_follow_pytorch() {
        use InterpolationMode::*;
        // scale_factor 2 on [4, 5, 5]: floor(5·2) = 10
        let up = resample(Nearest, 2, [1, 10, 10], [0.0, 2.0, 2.0]);
        assert_eq!(shape(&up, &[4, 5, 5]).unwrap(), [4, 10, 10]);
        // linear, scale_factor 1.7 on [2, 3] (PyTorch: 5 = floor(5.1))
        let up = resample(Linear, 1, [1, 1, 5], [0.0, 0.0, 1.7]);
        assert_eq!(shape(&up, &[2, 3]).unwrap(), [2, 5]);
        // a given size, trilinear
        let up = resample(Linear, 3, [3, 7, 2], [0.0; 3]);
        assert_eq!(shape(&up, &[1, 2, 2, 2]).unwrap(), [1, 3, 7, 2]);
        assert_eq!(
            shape(&up, &[1, 2, 2]).unwrap_err().message,
            "Upsample expects a [C, D, H, W] input, found [1, 2, 2]"
        );
        // scale_factor 0.4 on a length of 2: floor(0.8) = 0 (PyTorch: "Input and
        // output sizes should be greater than 0")
        let down = resample(Nearest, 1, [1, 1, 0], [0.0, 0.0, 0.4]);
        let e = shape(&down, &[2, 2]).unwrap_err();
        assert_eq!(e.blame, Blame::Arg("scale_factor"));
        assert_eq!(
            e.message,
            "scale_factor 0.4 on a length of 2 gives an output length of 0 (floor(2·0.4)); it must be at least 1"
        );
        // a size that disagrees with its scale factor is a layer error
        let wrong = resample(Nearest, 1, [1, 1, 6], [0.0, 0.0, 1.7]);
        assert_eq!(
            shape(&wrong, &[2, 3]).unwrap_err().message,
            "output length 6 does not follow scale_factor 1.7 on a length of 3: floor(3·1.7) = 5"
        );
        let negative = resample(Nearest, 1, [1, 1, 6], [0.0, 0.0, -2.0]);
        assert_eq!(
            shape(&negative, &[2, 3]).unwrap_err().blame,
            Blame::Arg("scale_factor")
        );
        let empty = resample(Nearest, 2, [1, 0, 4], [0.0; 3]);
        assert_eq!(
            shape(&empty, &[2, 3, 3]).unwrap_err().message,
            "size must be positive, found 0 for the height"
        );
        // bicubic is 2-D only; align_corners needs an interpolating mode
        let cubic = resample(Bicubic, 1, [1, 1, 5], [0.0; 3]);
        assert_eq!(
            shape(&cubic, &[2, 3]).unwrap_err().blame,
            Blame::Arg("mode")
        );
        let mut corners = Interpolate {
            mode: NearestExact,
            rank: 2,
            size: [1, 4, 4],
            scale: [0.0; 3],
            align_corners: true,
            upsample: false,
        };
        let e = shape(&Op::Interpolate(corners), &[2, 3, 3]).unwrap_err();
        assert_eq!(e.blame, Blame::Arg("align_corners"));
        corners.mode = Bicubic;
        assert_eq!(
            shape(&Op::Interpolate(corners), &[2, 3, 3]).unwrap(),
            [2, 4, 4]
        );
        // sizes past usize::MAX are errors
        let huge = resample(Nearest, 1, [1, 1, 1], [0.0, 0.0, 1e30]);
        assert_eq!(
            shape(&huge, &[2, 3]).unwrap_err().message,
            "length size overflows"
        );
        assert_eq!(crate::shape::scaled_size(3, 1.7), Some(5));
        assert_eq!(crate::shape::scaled_size(usize::MAX, 2.0), None);
    }
}
