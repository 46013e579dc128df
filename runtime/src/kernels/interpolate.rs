//! Resampling (`nn.Upsample`, `F.interpolate`) over one to three spatial
//! axes, with PyTorch's CPU sampling in f32: the same source indices, the
//! same weights and the same order of the weighted sums.
//!
//! Per axis (input length `in`, output length `out`):
//! - the scale is `1 / scale_factor` (computed in f64, rounded to f32) when
//!   a scale factor was given, else `in / out` in f32; with `align_corners`
//!   the linear and cubic modes use `(in − 1) / (out − 1)` (0 for one output);
//! - `nearest`: source `min(floor(dst · scale), in − 1)` (the copy when
//!   `out = in`, `dst / 2` when `out = 2·in`); `nearest-exact`:
//!   `min(floor((dst + 0.5) · scale), in − 1)`;
//! - linear: source `scale · dst` (aligned) or `scale · (dst + 0.5) − 0.5`
//!   clamped at 0; taps `i0 = min(floor(src), in − 1)` and
//!   `i1 = min(i0 + 1, in − 1)`, weights `1 − λ` and `λ = clamp(src − i0, 0, 1)`
//!   (the identity when `out = in`);
//! - cubic: the same source without the clamp, taps `floor(src) − 1 ..= + 2`
//!   clamped into the input, weights of Keys' cubic convolution with
//!   `A = −0.75` at `t = src − floor(src)` (see `cubic_weights` for the
//!   rounding).
//!
//! A value is the sum over the outermost axis's taps of its weight times the
//! value interpolated over the inner axes (first term, then `+=`), as
//! PyTorch's CPU kernel nests it; the innermost sums are computed once per
//! input row and reused by every output row that reads it, which changes
//! no rounding. Every rank runs as 3-D with single-tap leading axes
//! (weight 1, exact).

use crate::error::{kernel, Error};
use crate::tensor::Tensor;
use netspec_model::shape::shape_str;
use netspec_model::{Interpolate, InterpolationMode};

/// The taps of one axis: for output index `o`, `taps` input indices from
/// `index[o·taps]` with the weights at the same places.
#[derive(Clone, Debug, PartialEq)]
struct Axis {
    taps: usize,
    index: Vec<usize>,
    weight: Vec<f32>,
}

/// PyTorch's `compute_scales_value`: `1 / scale_factor` if one was given,
/// else `in / out` (in f32).
fn scale_value(scale: f64, input: usize, output: usize) -> f32 {
    if scale > 0.0 {
        (1.0 / scale) as f32
    } else {
        input as f32 / output as f32
    }
}

/// PyTorch's `area_pixel_compute_scale`.
fn area_scale(scale: f64, input: usize, output: usize, align_corners: bool) -> f32 {
    if align_corners {
        if output > 1 {
            (input - 1) as f32 / (output - 1) as f32
        } else {
            0.0
        }
    } else {
        scale_value(scale, input, output)
    }
}

/// PyTorch's `area_pixel_compute_source_index` (for the cubic mode with
/// the multiply-add fused, as PyTorch's build computes it there).
fn source_index(scale: f32, dst: usize, align_corners: bool, cubic: bool) -> f32 {
    if align_corners {
        scale * dst as f32
    } else if cubic {
        scale.mul_add(dst as f32 + 0.5, -0.5)
    } else {
        let src = scale * (dst as f32 + 0.5) - 0.5;
        src.max(0.0)
    }
}

/// Keys' cubic convolution weights at fractional offset `t` (PyTorch's
/// `get_cubic_upsample_coefficients`, `A = −0.75`), rounded as PyTorch's
/// CPU build computes them: its compiler fuses the first two multiply-adds
/// of the outer polynomial (`((A·x − 5A)·x + 8A)·x − 4A`, which cancels
/// near `x = 1.6`), and so does this (`mul_add`); the plain evaluation
/// drifts by up to 9e-6 from PyTorch on the test cases, this one by one ulp.
fn cubic_weights(t: f32) -> [f32; 4] {
    const A: f32 = -0.75;
    // |x| <= 1 and 1 < |x| < 2.
    let near = |x: f32| ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0;
    let far = |x: f32| A.mul_add(x, -5.0 * A).mul_add(x, 8.0 * A) * x - 4.0 * A;
    let x2 = 1.0 - t;
    [far(t + 1.0), near(t), near(x2), far(x2 + 1.0)]
}

impl Axis {
    /// One tap of weight 1 at index 0: an axis the operation does not have.
    fn unit() -> Axis {
        Axis {
            taps: 1,
            index: vec![0],
            weight: vec![1.0],
        }
    }

    /// The taps of `mode` from `input` to `output` positions.
    fn new(
        mode: InterpolationMode,
        input: usize,
        output: usize,
        scale: f64,
        align_corners: bool,
    ) -> Axis {
        let last = input - 1;
        let mut index = Vec::new();
        let mut weight = Vec::new();
        let taps = match mode {
            InterpolationMode::Nearest | InterpolationMode::NearestExact => {
                let s = scale_value(scale, input, output);
                for o in 0..output {
                    let i = if mode == InterpolationMode::NearestExact {
                        ((o as f64 + 0.5) * f64::from(s)) as f32
                    } else if output == input {
                        o as f32
                    } else if output == 2 * input {
                        (o / 2) as f32
                    } else {
                        o as f32 * s
                    };
                    index.push((i.floor() as usize).min(last));
                    weight.push(1.0);
                }
                1
            }
            InterpolationMode::Linear => {
                let s = area_scale(scale, input, output, align_corners);
                for o in 0..output {
                    if output == input {
                        index.extend([o, o]);
                        weight.extend([1.0, 0.0]);
                        continue;
                    }
                    let src = source_index(s, o, align_corners, false);
                    let i0 = (src.floor() as usize).min(last);
                    let lambda = (src - i0 as f32).clamp(0.0, 1.0);
                    index.extend([i0, (i0 + 1).min(last)]);
                    weight.extend([1.0 - lambda, lambda]);
                }
                2
            }
            InterpolationMode::Bicubic => {
                let s = area_scale(scale, input, output, align_corners);
                for o in 0..output {
                    let src = source_index(s, o, align_corners, true);
                    let f = src.floor();
                    let w = cubic_weights(src - f);
                    let base = f as isize - 1;
                    for (j, &wj) in w.iter().enumerate() {
                        let i = (base + j as isize).clamp(0, last as isize);
                        index.push(i as usize);
                        weight.push(wj);
                    }
                }
                4
            }
        };
        Axis {
            taps,
            index,
            weight,
        }
    }

    /// The taps of output index `o`: `(input index, weight)` pairs.
    #[inline]
    fn at(&self, o: usize) -> impl Iterator<Item = (usize, f32)> + '_ {
        let r = o * self.taps..(o + 1) * self.taps;
        self.index[r.clone()]
            .iter()
            .copied()
            .zip(self.weight[r].iter().copied())
    }
}

/// `Σ f(i)·w` over `taps`, PyTorch's order: the first product, then `+=`.
#[inline]
fn weighted(mut taps: impl Iterator<Item = (usize, f32)>, mut f: impl FnMut(usize) -> f32) -> f32 {
    let Some((i, w)) = taps.next() else {
        return 0.0;
    };
    let mut acc = f(i) * w;
    for (i, w) in taps {
        acc += f(i) * w;
    }
    acc
}

/// Resamples `x` (`[N, C, *spatial]`, `p.rank` spatial axes) to
/// `[N, C, *p.size]` (its `rank` trailing entries) as PyTorch's CPU kernels
/// do (see the module documentation).
pub fn interpolate(x: &Tensor, p: &Interpolate) -> Result<Tensor, Error> {
    let op = if p.upsample {
        "Upsample"
    } else {
        "Interpolate"
    };
    let rank = p.rank;
    let s = x.shape();
    if !(1..=3).contains(&rank) || s.len() != rank + 2 {
        return kernel(
            op,
            format!(
                "mode {} expects a tensor of {rank} spatial axes after [N, C], found {}",
                p.mode_name(),
                shape_str(s)
            ),
        );
    }
    let nearest = matches!(
        p.mode,
        InterpolationMode::Nearest | InterpolationMode::NearestExact
    );
    if nearest && p.align_corners {
        return kernel(
            op,
            format!(
                "align_corners is only for the linear and cubic modes, not {}",
                p.mode_name()
            ),
        );
    }
    if p.mode == InterpolationMode::Bicubic && rank != 2 {
        return kernel(op, format!("bicubic needs 2 spatial axes, found {rank}"));
    }
    let lead = 3 - rank;
    let mut input = [1usize; 3];
    input[lead..].copy_from_slice(&s[2..]);
    let mut output = [1usize; 3];
    output[lead..].copy_from_slice(&p.size[lead..]);
    if input.contains(&0) || output.contains(&0) {
        return kernel(
            op,
            format!(
                "input {} and output {} must be non-empty",
                shape_str(&input[lead..]),
                shape_str(&output[lead..])
            ),
        );
    }
    let axes: [Axis; 3] = [0, 1, 2].map(|a| {
        if a < lead {
            Axis::unit()
        } else {
            Axis::new(p.mode, input[a], output[a], p.scale[a], p.align_corners)
        }
    });
    let [id, ih, iw] = input;
    let [od, oh, ow] = output;
    let (in_plane, out_plane) = (id * ih * iw, od * oh * ow);
    let planes = s[0] * s[1];
    let mut y = vec![0.0f32; planes * out_plane];
    // Linear and cubic: the innermost axis first, for every input row
    // (`rows[(z·H + r)·W_out + c]`, PyTorch's innermost sums), then each
    // output row as the nested weighted sum of those rows, a row at a time.
    let mut rows = vec![0.0f32; if nearest { 0 } else { id * ih * ow }];
    let mut inner = vec![0.0f32; ow];
    for (xp, yp) in x
        .data()
        .chunks_exact(in_plane)
        .zip(y.chunks_exact_mut(out_plane))
    {
        if nearest {
            for (o, orow) in yp.chunks_exact_mut(ow).enumerate() {
                let (zi, ri) = (axes[0].index[o / oh], axes[1].index[o % oh]);
                let row = &xp[(zi * ih + ri) * iw..][..iw];
                for (v, &ci) in orow.iter_mut().zip(&axes[2].index) {
                    *v = row[ci];
                }
            }
            continue;
        }
        for (xrow, trow) in xp.chunks_exact(iw).zip(rows.chunks_exact_mut(ow)) {
            for (c, t) in trow.iter_mut().enumerate() {
                *t = weighted(axes[2].at(c), |ci| xrow[ci]);
            }
        }
        for (o, orow) in yp.chunks_exact_mut(ow).enumerate() {
            let (z, r) = (o / oh, o % oh);
            for (k, (zi, wz)) in axes[0].at(z).enumerate() {
                for (j, (ri, wr)) in axes[1].at(r).enumerate() {
                    let t = &rows[(zi * ih + ri) * ow..][..ow];
                    if j == 0 {
                        inner.iter_mut().zip(t).for_each(|(a, &v)| *a = v * wr);
                    } else {
                        inner.iter_mut().zip(t).for_each(|(a, &v)| *a += v * wr);
                    }
                }
                if k == 0 {
                    orow.iter_mut().zip(&inner).for_each(|(a, &v)| *a = v * wz);
                } else {
                    orow.iter_mut().zip(&inner).for_each(|(a, &v)| *a += v * wz);
                }
            }
        }
    }
    let mut shape = s[..2].to_vec();
    shape.extend_from_slice(&output[lead..]);
    Ok(Tensor::from_parts(shape, y))
}

#[cfg(test)]
mod tests;
