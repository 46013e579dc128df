//! Max pooling and global average pooling, vectorised and spread over the
//! threads (one output plane per task). Other pooling runs the reference
//! kernels.

use crate::error::Error;
use crate::kernels::nchw;
use crate::kernels::pool::pool_out;
use crate::tensor::Tensor;
use crate::threads;
use netspec_model::Pool2d;
use rayon::prelude::*;
use std::cell::RefCell;

/// Runs `f(plane index, output plane)` over every plane of `out`, on every thread.
fn planes(out: &mut [f32], plane: usize, f: impl Fn(usize, &mut [f32]) + Sync + Send) {
    if plane == 0 {
        return;
    }
    threads::install(|threads| {
        if threads > 1 {
            out.par_chunks_mut(plane)
                .enumerate()
                .for_each(|(i, o)| f(i, o));
        } else {
            out.chunks_exact_mut(plane)
                .enumerate()
                .for_each(|(i, o)| f(i, o));
        }
    });
}

/// Max pooling as [`crate::kernels::pool::max_pool2d`] computes it (padding
/// never wins, ceil-mode overhang clipped, NaN propagates), into `buffer`'s
/// allocation.
///
/// Flat and polyphase, as the depthwise convolution: the input padded with
/// `-inf` is split into `s_h·s_w` phase planes of width `wq`; output
/// `(oy, ox)` sits at flat index `oy·wq + ox`, and every kernel tap is one
/// elementwise maximum over a contiguous run of one phase plane. Taps are
/// taken in the reference's order, so that a NaN wins exactly as there.
pub fn max_pool2d(x: &Tensor, p: &Pool2d, buffer: Tensor) -> Result<Tensor, Error> {
    let [n, c, h, w] = nchw("MaxPool2d", x)?;
    let axis = |a: usize, len: usize| {
        pool_out(
            "MaxPool2d",
            len,
            p.padding[a],
            p.kernel[a],
            p.stride[a],
            p.dilation[a],
            p.ceil_mode,
        )
    };
    let (oh, ow) = (axis(0, h)?, axis(1, w)?);
    let mut out = buffer.into_data();
    out.clear();
    out.resize(n * c * oh * ow, 0.0);
    if oh * ow == 0 || h * w == 0 {
        return Ok(Tensor::from_parts(vec![n, c, oh, ow], out));
    }
    let [kh, kw] = p.kernel;
    let [sh, sw] = p.stride;
    let [dh, dw] = p.dilation;
    let [pt, pl] = p.padding;
    let hp = (oh - 1) * sh + (kh - 1) * dh + 1;
    let wp = (ow - 1) * sw + (kw - 1) * dw + 1;
    let (hq, wq) = (hp.div_ceil(sh), wp.div_ceil(sw));
    let phase = hq * wq;
    let len = (oh - 1) * wq + ow;
    let xd = x.data();
    planes(&mut out, oh * ow, |i, op| {
        let xp = &xd[i * h * w..(i + 1) * h * w];
        SCRATCH.with(|cell| {
            let mut fresh = (Vec::new(), Vec::new());
            let mut guard = cell.try_borrow_mut();
            let (pad, acc) = match guard.as_deref_mut() {
                Ok(b) => (&mut b.0, &mut b.1),
                Err(_) => (&mut fresh.0, &mut fresh.1),
            };
            pad.clear();
            pad.resize(sh * sw * phase, f32::NEG_INFINITY);
            for ry in 0..sh {
                for rx in 0..sw {
                    let ph = &mut pad[(ry * sw + rx) * phase..][..phase];
                    let qx_lo = pl.saturating_sub(rx).div_ceil(sw);
                    let qx_hi = (w + pl).saturating_sub(rx).div_ceil(sw).min(wq);
                    if qx_lo >= qx_hi {
                        continue;
                    }
                    let ix0 = qx_lo * sw + rx - pl;
                    for qy in 0..hq {
                        let Some(iy) = (qy * sh + ry).checked_sub(pt).filter(|&iy| iy < h) else {
                            continue;
                        };
                        let src = &xp[iy * w + ix0..(iy + 1) * w];
                        let dst = &mut ph[qy * wq + qx_lo..qy * wq + qx_hi];
                        super::gather(dst, src, sw);
                    }
                }
            }
            acc.clear();
            acc.resize(len, f32::NEG_INFINITY);
            for ky in 0..kh {
                let (ry, oy) = ((ky * dh) % sh, (ky * dh) / sh);
                for kx in 0..kw {
                    let (rx, ox) = ((kx * dw) % sw, (kx * dw) / sw);
                    let start = (ry * sw + rx) * phase + oy * wq + ox;
                    for (m, &v) in acc.iter_mut().zip(&pad[start..start + len]) {
                        // `v > m || v is NaN`, as a select so that it vectorises.
                        *m = if v > *m || v.is_nan() { v } else { *m };
                    }
                }
            }
            for (orow, arow) in op.chunks_exact_mut(ow).zip(acc.chunks(wq)) {
                orow.copy_from_slice(&arow[..ow]);
            }
        });
    });
    Ok(Tensor::from_parts(vec![n, c, oh, ow], out))
}

thread_local! {
    /// Each thread's phase planes and flat accumulator, reused.
    static SCRATCH: RefCell<(Vec<f32>, Vec<f32>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// The mean of every `[H, W]` plane of `x` (`[N, C, H, W]`): `[N, C, 1, 1]`,
/// summed with eight independent accumulators so that it vectorises.
pub fn global_avg_pool(x: &Tensor, buffer: Tensor) -> Result<Tensor, Error> {
    let [n, c, h, w] = nchw("AdaptiveAvgPool2d", x)?;
    let plane = h * w;
    if plane == 0 {
        return crate::kernels::pool::adaptive_avg_pool2d(x, [1, 1]);
    }
    let mut out = buffer.into_data();
    out.clear();
    out.resize(n * c, 0.0);
    let xd = x.data();
    let inv = 1.0 / plane as f32;
    planes(&mut out, 1, |i, o| {
        let xp = &xd[i * plane..(i + 1) * plane];
        let mut acc = [0.0f32; 8];
        let mut chunks = xp.chunks_exact(8);
        for ch in &mut chunks {
            for (a, &v) in acc.iter_mut().zip(ch) {
                *a += v;
            }
        }
        let tail: f32 = chunks.remainder().iter().sum();
        let sum = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
        o[0] = (sum + tail) * inv;
    });
    Ok(Tensor::from_parts(vec![n, c, 1, 1], out))
}
