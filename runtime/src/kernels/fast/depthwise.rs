//! Direct convolution for groups with few output channels (depthwise and
//! small groups), where a matrix product would be too thin to pay off.
//!
//! Each output plane (one sample, one output channel) is independent: the
//! planes are spread over the threads. Within a plane, every kernel tap is
//! one multiply-add over a long contiguous run (see `plane`), so the loops
//! vectorise. The body is compiled twice: with AVX2+FMA, chosen at run time
//! when the CPU has them, and portably.

use super::conv::Geom;
use super::packed::epilogue;
use super::{Madd, Plain};
use crate::threads;
use netspec_model::Activation;
use rayon::prelude::*;
use std::cell::RefCell;

/// Runs the direct convolution of every output plane of `out`
/// (`[N, C_out, H_out, W_out]`) from `x` (`[N, C_in, H, W]`), with `weight`
/// `[C_out, C_in / groups · k_h · k_w]`, `bias` `[C_out]` and `act` fused.
pub(crate) fn run(
    x: &[f32],
    g: &Geom,
    weight: &[f32],
    bias: &[f32],
    act: Option<Activation>,
    out: &mut [f32],
) {
    let plane = g.plane();
    let one = |(i, o): (usize, &mut [f32])| {
        let (s, oc) = (i / g.cout, i % g.cout);
        let gi = oc / g.cout_g;
        let in_plane = g.h * g.w;
        let xg = &x[(s * g.cin + gi * g.cin_g) * in_plane..][..g.cin_g * in_plane];
        let taps = g.cin_g * g.kh * g.kw;
        let wk = &weight[oc * taps..(oc + 1) * taps];
        plane_dispatch(xg, wk, bias[oc], o, g);
        epilogue(o, 0.0, act);
    };
    threads::install(|threads| {
        if threads > 1 {
            out.par_chunks_mut(plane).enumerate().for_each(one);
        } else {
            out.chunks_exact_mut(plane).enumerate().for_each(one);
        }
    });
}

/// One output plane, with the fastest body this CPU runs.
fn plane_dispatch(xg: &[f32], wk: &[f32], bias: f32, out: &mut [f32], g: &Geom) {
    SCRATCH.with(|cell| {
        let mut fresh = (Vec::new(), Vec::new());
        let mut guard = cell.try_borrow_mut();
        let (pad, acc) = match guard.as_deref_mut() {
            Ok(bufs) => (&mut bufs.0, &mut bufs.1),
            Err(_) => (&mut fresh.0, &mut fresh.1),
        };
        #[cfg(target_arch = "x86_64")]
        if super::has_avx2_fma() {
            // SAFETY: AVX2 and FMA were detected at run time.
            unsafe { plane_avx2(xg, wk, bias, out, g, pad, acc) };
            return;
        }
        plane::<Plain>(xg, wk, bias, out, g, pad, acc);
    });
}

thread_local! {
    /// Each thread's padded input plane and flat accumulator, reused.
    static SCRATCH: RefCell<(Vec<f32>, Vec<f32>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// [`plane`] compiled for AVX2 and FMA.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn plane_avx2(
    xg: &[f32],
    wk: &[f32],
    bias: f32,
    out: &mut [f32],
    g: &Geom,
    pad: &mut Vec<f32>,
    acc: &mut Vec<f32>,
) {
    plane::<super::Fused>(xg, wk, bias, out, g, pad, acc);
}

/// `out[oy, ox] = bias + Σ_{ic, ky, kx} wk[ic, ky, kx] · xg[ic, iy, ix]` over
/// the taps inside the image; `xg` is the group's input `[C_in/groups, H, W]`.
///
/// Flat and polyphase, so that every tap is one long contiguous
/// multiply-add, whatever the stride, and even for 7x7 planes: the zero-padded
/// input is split into `s_h·s_w` phase planes of width `wq`, phase
/// `(ry, rx)` holding the padded pixels `(qy·s_h + ry, qx·s_w + rx)`. Output
/// `(oy, ox)` sits at flat index `j = oy·wq + ox`, and tap `(ky, kx)` reads
/// phase `(ky·d_h mod s_h, kx·d_w mod s_w)` at `j + ⌊ky·d_h / s_h⌋·wq +
/// ⌊kx·d_w / s_w⌋`: `acc[j] += w · phase[j + offset]` over the whole plane.
/// The `wq - W_out` extra columns per row are computed and dropped.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn plane<M: Madd>(
    xg: &[f32],
    wk: &[f32],
    bias: f32,
    out: &mut [f32],
    g: &Geom,
    pad: &mut Vec<f32>,
    acc: &mut Vec<f32>,
) {
    let in_plane = g.h * g.w;
    // The padded extent every output reads: rows 0..hp, columns 0..wp.
    let hp = (g.oh - 1) * g.sh + (g.kh - 1) * g.dh + 1;
    let wp = (g.ow - 1) * g.sw + (g.kw - 1) * g.dw + 1;
    let (hq, wq) = (hp.div_ceil(g.sh), wp.div_ceil(g.sw));
    let phase = hq * wq;
    let len = (g.oh - 1) * wq + g.ow;
    pad.clear();
    pad.resize(g.sh * g.sw * phase, 0.0);
    acc.clear();
    acc.resize(len, bias);
    for ic in 0..g.cin_g {
        let xp = &xg[ic * in_plane..(ic + 1) * in_plane];
        // Scatter the visible input into the phase planes (cells in the
        // padding stay zero: every channel writes the same visible cells).
        for ry in 0..g.sh {
            for rx in 0..g.sw {
                let ph = &mut pad[(ry * g.sw + rx) * phase..][..phase];
                // Padded column qx·s_w + rx is input column ix = qx·s_w + rx - pad_left.
                let qx_lo = (g.pl.saturating_sub(rx)).div_ceil(g.sw);
                let qx_hi = ((g.w + g.pl).saturating_sub(rx)).div_ceil(g.sw).min(wq);
                if qx_lo >= qx_hi {
                    continue;
                }
                let ix0 = qx_lo * g.sw + rx - g.pl;
                for qy in 0..hq {
                    let Some(iy) = (qy * g.sh + ry).checked_sub(g.pt).filter(|&iy| iy < g.h) else {
                        continue;
                    };
                    let src = &xp[iy * g.w + ix0..(iy + 1) * g.w];
                    let dst = &mut ph[qy * wq + qx_lo..qy * wq + qx_hi];
                    super::gather(dst, src, g.sw);
                }
            }
        }
        let wrows = &wk[ic * g.kh * g.kw..(ic + 1) * g.kh * g.kw];
        let run = |ky: usize, kx: usize| {
            let (ry, oy) = ((ky * g.dh) % g.sh, (ky * g.dh) / g.sh);
            let (rx, ox) = ((kx * g.dw) % g.sw, (kx * g.dw) / g.sw);
            let start = (ry * g.sw + rx) * phase + oy * wq + ox;
            (wrows[ky * g.kw + kx], &pad[start..start + len])
        };
        for ky in 0..g.kh {
            // Up to three taps per pass over the accumulator: fewer loads
            // and stores of it per multiply-add.
            let mut kx = 0;
            while kx + 3 <= g.kw {
                let ((w0, x0), (w1, x1), (w2, x2)) =
                    (run(ky, kx), run(ky, kx + 1), run(ky, kx + 2));
                for (((a, &v0), &v1), &v2) in acc.iter_mut().zip(x0).zip(x1).zip(x2) {
                    *a = M::madd(w2, v2, M::madd(w1, v1, M::madd(w0, v0, *a)));
                }
                kx += 3;
            }
            if kx + 2 == g.kw {
                let ((w0, x0), (w1, x1)) = (run(ky, kx), run(ky, kx + 1));
                for ((a, &v0), &v1) in acc.iter_mut().zip(x0).zip(x1) {
                    *a = M::madd(w1, v1, M::madd(w0, v0, *a));
                }
            } else if kx + 1 == g.kw {
                let (w0, x0) = run(ky, kx);
                for (a, &v0) in acc.iter_mut().zip(x0) {
                    *a = M::madd(w0, v0, *a);
                }
            }
        }
    }
    for (orow, arow) in out.chunks_exact_mut(g.ow).zip(acc.chunks(wq)) {
        orow.copy_from_slice(&arow[..g.ow]);
    }
}
