//! Direct convolution for groups with few output channels (depthwise and
//! small groups), where a matrix product would be too thin to pay off.
//!
//! Each output plane (one sample, one output channel) is independent: the
//! planes are spread over the threads. Within a plane, each output row
//! starts at the bias and, for every input channel of the group and every
//! kernel tap, accumulates `w · input row` over the output columns whose tap
//! lands inside the image (a contiguous run for stride 1, so the loop
//! vectorises). The body is compiled twice: with AVX2+FMA, chosen at run time
//! when the CPU has them, and portably.

use super::conv::{epilogue, Geom};
use super::{Madd, Plain};
use crate::threads;
use netspec_model::Activation;
use rayon::prelude::*;

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
    let ranges = g.column_ranges();
    let plane = g.plane();
    let one = |(i, o): (usize, &mut [f32])| {
        let (s, oc) = (i / g.cout, i % g.cout);
        let gi = oc / g.cout_g;
        let in_plane = g.h * g.w;
        let xg = &x[(s * g.cin + gi * g.cin_g) * in_plane..][..g.cin_g * in_plane];
        let taps = g.cin_g * g.kh * g.kw;
        let wk = &weight[oc * taps..(oc + 1) * taps];
        plane_dispatch(xg, wk, bias[oc], o, g, &ranges);
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
fn plane_dispatch(
    xg: &[f32],
    wk: &[f32],
    bias: f32,
    out: &mut [f32],
    g: &Geom,
    ranges: &[(usize, usize, isize)],
) {
    #[cfg(target_arch = "x86_64")]
    if super::has_avx2_fma() {
        // SAFETY: AVX2 and FMA were detected at run time.
        unsafe { plane_avx2(xg, wk, bias, out, g, ranges) };
        return;
    }
    plane::<Plain>(xg, wk, bias, out, g, ranges);
}

/// [`plane`] compiled for AVX2 and FMA.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn plane_avx2(
    xg: &[f32],
    wk: &[f32],
    bias: f32,
    out: &mut [f32],
    g: &Geom,
    ranges: &[(usize, usize, isize)],
) {
    plane::<super::Fused>(xg, wk, bias, out, g, ranges);
}

/// `out[oy, ox] = bias + Σ_{ic, ky, kx} wk[ic, ky, kx] · xg[ic, iy, ix]` over
/// the taps inside the image; `xg` is the group's input `[C_in/groups, H, W]`.
#[inline(always)]
fn plane<M: Madd>(
    xg: &[f32],
    wk: &[f32],
    bias: f32,
    out: &mut [f32],
    g: &Geom,
    ranges: &[(usize, usize, isize)],
) {
    let in_plane = g.h * g.w;
    for (oy, orow) in out.chunks_exact_mut(g.ow).enumerate() {
        orow.fill(bias);
        for ic in 0..g.cin_g {
            let xp = &xg[ic * in_plane..(ic + 1) * in_plane];
            for ky in 0..g.kh {
                let Some(iy) = g.input_row(oy, ky) else {
                    continue;
                };
                let xrow = &xp[iy * g.w..(iy + 1) * g.w];
                let wrow = &wk[(ic * g.kh + ky) * g.kw..][..g.kw];
                for (&wv, &(lo, hi, off)) in wrow.iter().zip(ranges) {
                    if lo >= hi {
                        continue;
                    }
                    let start = (lo as isize * g.sw as isize + off) as usize;
                    let dst = &mut orow[lo..hi];
                    if g.sw == 1 {
                        for (o, &v) in dst.iter_mut().zip(&xrow[start..start + (hi - lo)]) {
                            *o = M::madd(wv, v, *o);
                        }
                    } else {
                        for (o, &v) in dst.iter_mut().zip(xrow[start..].iter().step_by(g.sw)) {
                            *o = M::madd(wv, v, *o);
                        }
                    }
                }
            }
        }
    }
}
