//! Max, average and adaptive average pooling, with PyTorch's window rules.

use super::nchw;
use crate::error::{kernel, Error};
use crate::tensor::Tensor;
use netspec_model::Pool2d;

/// Output length of one pooling axis, PyTorch's rule: in ceil mode the last
/// window must start inside the input or the left padding.
pub(crate) fn pool_out(
    op: &'static str,
    len: usize,
    pad: usize,
    k: usize,
    s: usize,
    d: usize,
    ceil: bool,
) -> Result<usize, Error> {
    if k == 0 || s == 0 || d == 0 {
        return kernel(
            op,
            format!("kernel, stride and dilation must be positive, found {k}, {s}, {d}"),
        );
    }
    let extent = d * (k - 1) + 1;
    let padded = len + 2 * pad;
    if extent > padded || 2 * pad > extent {
        return kernel(
            op,
            format!("kernel extent {extent} does not fit input {len} with padding {pad}"),
        );
    }
    let num = padded - extent;
    let mut out = if ceil {
        num.div_ceil(s) + 1
    } else {
        num / s + 1
    };
    if ceil && (out - 1) * s >= len + pad {
        out -= 1;
    }
    Ok(out)
}

/// Max pooling of `x` (`[N, C, H, W]`) to `[N, C, H_out, W_out]`.
///
/// Padding counts as `-inf`; windows that run past the input in ceil mode are
/// clipped; a NaN in a window propagates (as in PyTorch).
pub fn max_pool2d(x: &Tensor, p: &Pool2d) -> Result<Tensor, Error> {
    let [n, c, h, w] = nchw("MaxPool2d", x)?;
    let oh = pool_out(
        "MaxPool2d",
        h,
        p.padding[0],
        p.kernel[0],
        p.stride[0],
        p.dilation[0],
        p.ceil_mode,
    )?;
    let ow = pool_out(
        "MaxPool2d",
        w,
        p.padding[1],
        p.kernel[1],
        p.stride[1],
        p.dilation[1],
        p.ceil_mode,
    )?;
    // Per output column: the first valid input column and the end (exclusive).
    let cols: Vec<(usize, usize)> = (0..ow)
        .map(|ox| window(ox, p.stride[1], p.padding[1], p.kernel[1], p.dilation[1], w))
        .collect();
    let (dh, dw) = (p.dilation[0], p.dilation[1]);
    let mut out = vec![0.0f32; n * c * oh * ow];
    if oh * ow == 0 || h * w == 0 {
        return Ok(Tensor::from_parts(vec![n, c, oh, ow], out));
    }
    for (xp, op) in x
        .data()
        .chunks_exact(h * w)
        .zip(out.chunks_exact_mut(oh * ow))
    {
        for (oy, orow) in op.chunks_exact_mut(ow).enumerate() {
            let (y0, y1) = window(oy, p.stride[0], p.padding[0], p.kernel[0], dh, h);
            for (o, &(x0, x1)) in orow.iter_mut().zip(&cols) {
                let mut m = f32::NEG_INFINITY;
                for iy in (y0..y1).step_by(dh) {
                    let row = &xp[iy * w..(iy + 1) * w];
                    for ix in (x0..x1).step_by(dw) {
                        let v = row[ix];
                        if v > m || v.is_nan() {
                            m = v;
                        }
                    }
                }
                *o = m;
            }
        }
    }
    Ok(Tensor::from_parts(vec![n, c, oh, ow], out))
}

/// Valid input range of a max-pool window: PyTorch's `start = o·s - pad`,
/// `end = min(start + d·(k - 1) + 1, len)`, start advanced by `d` until it is
/// inside the input.
fn window(o: usize, s: usize, pad: usize, k: usize, d: usize, len: usize) -> (usize, usize) {
    let start = (o * s) as isize - pad as isize;
    let end = (start + (d * (k - 1) + 1) as isize).min(len as isize);
    let mut start = start;
    while start < 0 {
        start += d as isize;
    }
    (start as usize, end.max(start) as usize)
}

/// Average pooling of `x` (`[N, C, H, W]`) to `[N, C, H_out, W_out]`.
///
/// As in PyTorch: a window spans `start = o·s - pad` to
/// `end = min(start + k, len + pad)`; with `count_include_pad` the divisor is
/// that span's area (padding counts, the ceil-mode overhang past the padding
/// does not), otherwise the area of the window clipped to the input.
pub fn avg_pool2d(x: &Tensor, p: &Pool2d) -> Result<Tensor, Error> {
    let [n, c, h, w] = nchw("AvgPool2d", x)?;
    if p.dilation != [1, 1] {
        return kernel(
            "AvgPool2d",
            format!("dilation must be 1, found {:?}", p.dilation),
        );
    }
    let oh = pool_out(
        "AvgPool2d",
        h,
        p.padding[0],
        p.kernel[0],
        p.stride[0],
        1,
        p.ceil_mode,
    )?;
    let ow = pool_out(
        "AvgPool2d",
        w,
        p.padding[1],
        p.kernel[1],
        p.stride[1],
        1,
        p.ceil_mode,
    )?;
    // (clipped start, clipped end, padded span) per axis.
    let span = |o: usize, axis: usize, len: usize| -> (usize, usize, usize) {
        let pad = p.padding[axis] as isize;
        let start = (o * p.stride[axis]) as isize - pad;
        let end = (start + p.kernel[axis] as isize).min(len as isize + pad);
        let padded = (end - start) as usize;
        let (s, e) = (start.max(0) as usize, end.min(len as isize).max(0) as usize);
        (s, e.max(s), padded)
    };
    let cols: Vec<(usize, usize, usize)> = (0..ow).map(|ox| span(ox, 1, w)).collect();
    let mut out = vec![0.0f32; n * c * oh * ow];
    if oh * ow == 0 || h * w == 0 {
        return Ok(Tensor::from_parts(vec![n, c, oh, ow], out));
    }
    for (xp, op) in x
        .data()
        .chunks_exact(h * w)
        .zip(out.chunks_exact_mut(oh * ow))
    {
        for (oy, orow) in op.chunks_exact_mut(ow).enumerate() {
            let (y0, y1, ph) = span(oy, 0, h);
            for (o, &(x0, x1, pw)) in orow.iter_mut().zip(&cols) {
                let mut sum = 0.0f32;
                for iy in y0..y1 {
                    for &v in &xp[iy * w + x0..iy * w + x1] {
                        sum += v;
                    }
                }
                let count = if p.count_include_pad {
                    ph * pw
                } else {
                    (y1 - y0) * (x1 - x0)
                };
                *o = if count == 0 { 0.0 } else { sum / count as f32 };
            }
        }
    }
    Ok(Tensor::from_parts(vec![n, c, oh, ow], out))
}

/// Adaptive average pooling of `x` (`[N, C, H, W]`) to `[N, C, out_h, out_w]`
/// with PyTorch's bin edges: bin `i` of `out` over length `L` spans
/// `floor(i·L / out) .. ceil((i + 1)·L / out)` (neighbouring bins may overlap).
pub fn adaptive_avg_pool2d(x: &Tensor, output: [usize; 2]) -> Result<Tensor, Error> {
    let [n, c, h, w] = nchw("AdaptiveAvgPool2d", x)?;
    let [oh, ow] = output;
    if oh == 0 || ow == 0 || h == 0 || w == 0 {
        return kernel(
            "AdaptiveAvgPool2d",
            format!("input [{h}, {w}] and output [{oh}, {ow}] must be non-empty"),
        );
    }
    let bin = |i: usize, len: usize, out: usize| (i * len / out, ((i + 1) * len).div_ceil(out));
    let cols: Vec<(usize, usize)> = (0..ow).map(|ox| bin(ox, w, ow)).collect();
    let mut out = vec![0.0f32; n * c * oh * ow];
    for (xp, op) in x
        .data()
        .chunks_exact(h * w)
        .zip(out.chunks_exact_mut(oh * ow))
    {
        for (oy, orow) in op.chunks_exact_mut(ow).enumerate() {
            let (y0, y1) = bin(oy, h, oh);
            for (o, &(x0, x1)) in orow.iter_mut().zip(&cols) {
                let mut sum = 0.0f32;
                for iy in y0..y1 {
                    for &v in &xp[iy * w + x0..iy * w + x1] {
                        sum += v;
                    }
                }
                *o = sum / ((y1 - y0) * (x1 - x0)) as f32;
            }
        }
    }
    Ok(Tensor::from_parts(vec![n, c, oh, ow], out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(k: usize, s: usize, pad: usize, ceil: bool, include: bool) -> Pool2d {
        Pool2d {
            kernel: [k, k],
            stride: [s, s],
            padding: [pad, pad],
            dilation: [1, 1],
            ceil_mode: ceil,
            count_include_pad: include,
        }
    }

    fn arange(shape: &[usize], from: f32) -> Tensor {
        let n: usize = shape.iter().product();
        Tensor::new(shape, (0..n).map(|i| from + i as f32).collect()).unwrap()
    }

    #[test]
    fn max_pool_ceil_mode_clips_the_last_window() {
        // 4x4 input 0..16, k 3, s 2. Floor mode: one window rows/cols 0..3 -> max 10.
        // Ceil mode: 2x2; windows rows {0..3, 2..4} x cols {0..3, 2..4}:
        //   [[10, 11], [14, 15]].
        let x = arange(&[1, 1, 4, 4], 0.0);
        let y = max_pool2d(&x, &pool(3, 2, 0, false, true)).unwrap();
        assert_eq!((y.shape(), y.data()), (&[1, 1, 1, 1][..], &[10.0][..]));
        let y = max_pool2d(&x, &pool(3, 2, 0, true, true)).unwrap();
        assert_eq!(y.shape(), &[1, 1, 2, 2]);
        assert_eq!(y.data(), &[10.0, 11.0, 14.0, 15.0]);
    }

    #[test]
    fn max_pool_pads_with_minus_infinity() {
        // All-negative 2x2 [-1, -2, -3, -4], k 3 s 1 pad 1: every window sees all
        // four values and the padding must not win: all outputs -1.
        let x = Tensor::new(&[1, 1, 2, 2], vec![-1.0, -2.0, -3.0, -4.0]).unwrap();
        let y = max_pool2d(&x, &pool(3, 1, 1, false, true)).unwrap();
        assert_eq!(y.data(), &[-1.0; 4]);
    }

    #[test]
    fn max_pool_dilation() {
        // 1x5 row 0..5 (as 5x5 with rows equal), k 2, dilation 2, s 1: windows
        // {0,2}, {1,3}, {2,4} -> per row maxima 2, 3, 4; rows likewise.
        let x = Tensor::new(
            &[1, 1, 5, 5],
            (0..25).map(|i| (i % 5 + 5 * (i / 5)) as f32).collect(),
        )
        .unwrap();
        let mut p = pool(2, 1, 0, false, true);
        p.dilation = [2, 2];
        let y = max_pool2d(&x, &p).unwrap();
        assert_eq!(y.shape(), &[1, 1, 3, 3]);
        // Value (r, c) = 5r + c; window max at (oy + 2, ox + 2).
        assert_eq!(
            y.data(),
            &[12.0, 13.0, 14.0, 17.0, 18.0, 19.0, 22.0, 23.0, 24.0]
        );
    }

    #[test]
    fn avg_pool_ceil_mode_divides_by_the_clipped_window() {
        // 3x3 input 1..=9, k 2, s 2, ceil: PyTorch gives [[3, 4.5], [7.5, 9]]
        // ((1+2+4+5)/4, (3+6)/2, (7+8)/2, 9/1): the overhang past the input is
        // not counted even with count_include_pad.
        let x = arange(&[1, 1, 3, 3], 1.0);
        for include in [true, false] {
            let y = avg_pool2d(&x, &pool(2, 2, 0, true, include)).unwrap();
            assert_eq!(y.data(), &[3.0, 4.5, 7.5, 9.0]);
        }
    }

    #[test]
    fn avg_pool_count_include_pad() {
        // 2x2 [1, 2, 3, 4], k 2, s 2, pad 1: each window holds one input value and
        // three padding zeros. Included: v / 4; excluded: v / 1.
        let x = arange(&[1, 1, 2, 2], 1.0);
        let y = avg_pool2d(&x, &pool(2, 2, 1, false, true)).unwrap();
        assert_eq!(y.data(), &[0.25, 0.5, 0.75, 1.0]);
        let y = avg_pool2d(&x, &pool(2, 2, 1, false, false)).unwrap();
        assert_eq!(y.data(), &[1.0, 2.0, 3.0, 4.0]);
    }

    #[test]
    fn adaptive_bins_overlap() {
        // Width 7 -> 3: bins [0, 3), [2, 5), [4, 7) (floor(i*7/3), ceil((i+1)*7/3)).
        // Values 0..7: means 1, 3, 5.
        let x = arange(&[1, 1, 1, 7], 0.0);
        let y = adaptive_avg_pool2d(&x, [1, 3]).unwrap();
        assert_eq!(y.data(), &[1.0, 3.0, 5.0]);
        // To 1x1: the global mean per channel; two channels 0..4 and 4..8.
        let x = arange(&[1, 2, 2, 2], 0.0);
        let y = adaptive_avg_pool2d(&x, [1, 1]).unwrap();
        assert_eq!((y.shape(), y.data()), (&[1, 2, 1, 1][..], &[1.5, 5.5][..]));
    }

    #[test]
    fn pool_rejects_a_vector() {
        let x = Tensor::zeros(&[1, 8]).unwrap();
        let e = max_pool2d(&x, &pool(2, 2, 0, false, true)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "MaxPool2d: expects a [N, C, H, W] tensor, found [1, 8]"
        );
    }
}
