//! Reductions over any axes of a tensor: the mean, and the softmax along
//! one axis (with PyTorch's causal mask for attention).
//!
//! The mean accumulates in f64 (a mean over 196·768 values stays exact to
//! f32 rounding); the softmax subtracts each row's maximum before a
//! vectorised `exp` (relative error below 2e-7), sums in f64 and scales by
//! the sum's reciprocal, and splits its rows over the threads (each row is computed alone, so the
//! values do not depend on the thread count).

use super::fast;
use super::fast::elementwise::exp;
use crate::error::{kernel, Error};
use crate::tensor::Tensor;
use crate::threads;
use netspec_model::shape::shape_str;
use rayon::prelude::*;

/// Elements below which a softmax stays on the calling thread.
const PARALLEL_MIN: usize = 1 << 15;

/// Independent f64 accumulators of [`sum_f64`] and the layer norm's
/// variance: four AVX2 registers, enough to hide the latency of the adds.
pub(crate) const LANES: usize = 16;

/// Sum of `xs` in f64 with [`LANES`] independent accumulators (vectorises).
#[inline(always)]
pub(crate) fn sum_f64(xs: &[f32]) -> f64 {
    let mut acc = [0.0f64; LANES];
    let chunks = xs.chunks_exact(LANES);
    let rest = chunks.remainder();
    for c in chunks {
        for i in 0..LANES {
            acc[i] += f64::from(c[i]);
        }
    }
    let tail: f64 = rest.iter().map(|&v| f64::from(v)).sum();
    acc.iter().sum::<f64>() + tail
}

/// The mean of `x` over `axes` (PyTorch's `x.mean(axes, keepdim)`): the
/// reduced axes are removed, or kept with size 1 when `keepdim`. Axes may
/// come in any order; each at most once; at least one.
pub fn mean(x: &Tensor, axes: &[usize], keepdim: bool) -> Result<Tensor, Error> {
    let shape = x.shape();
    let rank = shape.len();
    let mut reduced = vec![false; rank];
    for &a in axes {
        if a >= rank || std::mem::replace(&mut reduced[a], true) {
            return kernel(
                "Mean",
                format!(
                    "axes {axes:?} are not distinct axes of {} (rank {rank})",
                    shape_str(shape)
                ),
            );
        }
    }
    if axes.is_empty() {
        return kernel(
            "Mean",
            format!("needs at least one axis of {} to reduce", shape_str(shape)),
        );
    }
    let out_shape: Vec<usize> = (0..rank)
        .filter_map(|a| match (reduced[a], keepdim) {
            (false, _) => Some(shape[a]),
            (true, true) => Some(1),
            (true, false) => None,
        })
        .collect();
    let count: usize = axes.iter().map(|&a| shape[a]).product();
    let out_len: usize = out_shape.iter().product();
    // Input axes with the output stride each one advances (0 if reduced);
    // size-1 axes dropped, neighbours merged where the strides allow.
    let mut dims: Vec<(usize, usize)> = Vec::with_capacity(rank);
    let mut stride = 1usize;
    let mut ostrides = vec![0usize; rank];
    for a in (0..rank).rev() {
        if !reduced[a] {
            ostrides[a] = stride;
            stride *= shape[a];
        }
    }
    for a in 0..rank {
        let (n, s) = (shape[a], ostrides[a]);
        if n == 1 {
            continue;
        }
        match dims.last_mut() {
            Some(last) if last.1 == s * n => *last = (last.0 * n, s),
            _ => dims.push((n, s)),
        }
    }
    let mut acc = vec![0.0f64; out_len];
    if !x.is_empty() {
        let (len, last) = dims.pop().unwrap_or((1, 1));
        let mut idx = vec![0usize; dims.len()];
        let mut off = 0usize;
        for row in x.data().chunks_exact(len) {
            if last == 0 {
                acc[off] += sum_f64(row);
            } else {
                for (a, &v) in acc[off..off + len].iter_mut().zip(row) {
                    *a += f64::from(v);
                }
            }
            // Next row: odometer over the outer axes, keeping `off` in step.
            for d in (0..dims.len()).rev() {
                idx[d] += 1;
                off += dims[d].1;
                if idx[d] < dims[d].0 {
                    break;
                }
                off -= dims[d].1 * idx[d];
                idx[d] = 0;
            }
        }
    }
    // A mean over nothing is 0 / 0 = NaN, as in PyTorch.
    let out = acc.iter().map(|&s| (s / count as f64) as f32).collect();
    Ok(Tensor::from_parts(out_shape, out))
}

/// Softmax along `axis` in place: every slice along that axis becomes
/// `exp(x - max) / Σ exp(x - max)`.
///
/// `causal` (only with `axis` the last axis, rank >= 2): the last two axes
/// are (L, S) and, before the softmax, entries of column `j > i` in row `i`
/// count as -inf (they come out 0), PyTorch's `is_causal = True`
/// (`torch.ones(L, S).tril()`, aligned top-left).
pub fn softmax(x: &mut Tensor, axis: usize, causal: bool) -> Result<(), Error> {
    let shape = x.shape().to_vec();
    let rank = shape.len();
    if axis >= rank {
        return kernel(
            "Softmax",
            format!(
                "axis {axis} is out of range for {} (rank {rank})",
                shape_str(&shape)
            ),
        );
    }
    if causal && (axis + 1 != rank || rank < 2) {
        return kernel(
            "Softmax",
            format!(
                "a causal softmax runs over the last axis of a tensor of rank 2 or more, found axis {axis} of {}",
                shape_str(&shape)
            ),
        );
    }
    if x.is_empty() {
        return Ok(());
    }
    let n = shape[axis];
    let inner: usize = shape[axis + 1..].iter().product();
    let data = x.data_mut();
    if inner == 1 {
        // Contiguous rows of n; row r is row r % L of its (L, S) matrix.
        let l = if causal { shape[rank - 2] } else { 1 };
        let one = |r: usize, row: &mut [f32]| {
            let valid = if causal { (r % l + 1).min(n) } else { n };
            let (keep, masked) = row.split_at_mut(valid);
            softmax_row(keep);
            masked.fill(0.0);
        };
        let rows_per_task = (PARALLEL_MIN / n).max(1);
        threads::install(|threads| {
            if threads > 1 && data.len() > PARALLEL_MIN {
                data.par_chunks_mut(rows_per_task * n)
                    .enumerate()
                    .for_each(|(t, rows)| {
                        for (i, row) in rows.chunks_exact_mut(n).enumerate() {
                            one(t * rows_per_task + i, row);
                        }
                    });
            } else {
                for (r, row) in data.chunks_exact_mut(n).enumerate() {
                    one(r, row);
                }
            }
        });
        return Ok(());
    }
    // A strided axis: each [n, inner] block is reduced column-wise, the
    // inner positions side by side (vectorises).
    let block = n * inner;
    let one = |b: &mut [f32]| softmax_columns(b, inner);
    threads::install(|threads| {
        if threads > 1 && data.len() > PARALLEL_MIN && data.len() > block {
            data.par_chunks_mut(block).for_each(one);
        } else {
            data.chunks_exact_mut(block).for_each(one);
        }
    });
    Ok(())
}

/// Softmax of one contiguous row, compiled for AVX2+FMA when the CPU has
/// them.
fn softmax_row(row: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if fast::has_avx2_fma() {
        // SAFETY: AVX2 and FMA were detected at run time.
        unsafe { softmax_row_avx2(row) };
        return;
    }
    softmax_row_body::<fast::Plain>(row);
}

/// [`softmax_row_body`] compiled for AVX2 and FMA.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn softmax_row_avx2(row: &mut [f32]) {
    softmax_row_body::<fast::Fused>(row);
}

/// The row's maximum, `exp(x - max)` through the vectorised polynomial
/// `exp` of the fast kernels (relative error below 2e-7; arguments below
/// -87 give about 1e-38 rather than 0), the sum in f64, then a multiply by
/// its reciprocal (as PyTorch does).
#[inline(always)]
fn softmax_row_body<M: fast::Madd>(row: &mut [f32]) {
    let max = max_of(row);
    row.iter_mut().for_each(|v| *v = exp::<M>(*v - max));
    let inv = (1.0 / sum_f64(row)) as f32;
    row.iter_mut().for_each(|v| *v *= inv);
}

/// The largest element (NaNs ignored), eight lanes at a time.
#[inline(always)]
fn max_of(xs: &[f32]) -> f32 {
    let mut acc = [f32::NEG_INFINITY; 8];
    let chunks = xs.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for i in 0..8 {
            acc[i] = acc[i].max(c[i]);
        }
    }
    rest.iter()
        .chain(&acc)
        .fold(f32::NEG_INFINITY, |m, &v| m.max(v))
}

/// Softmax along the rows of a row-major `[n, inner]` block, for each of
/// the `inner` columns; as [`softmax_row`], AVX2+FMA when available.
fn softmax_columns(b: &mut [f32], inner: usize) {
    #[cfg(target_arch = "x86_64")]
    if fast::has_avx2_fma() {
        // SAFETY: AVX2 and FMA were detected at run time.
        unsafe { softmax_columns_avx2(b, inner) };
        return;
    }
    softmax_columns_body::<fast::Plain>(b, inner);
}

/// [`softmax_columns_body`] compiled for AVX2 and FMA.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn softmax_columns_avx2(b: &mut [f32], inner: usize) {
    softmax_columns_body::<fast::Fused>(b, inner);
}

/// [`softmax_row_body`] for every column at once: the rows of the block
/// are combined elementwise, so each pass runs along contiguous rows.
#[inline(always)]
fn softmax_columns_body<M: fast::Madd>(b: &mut [f32], inner: usize) {
    let mut max = vec![f32::NEG_INFINITY; inner];
    for row in b.chunks_exact(inner) {
        for (m, &v) in max.iter_mut().zip(row) {
            *m = m.max(v);
        }
    }
    let mut sum = vec![0.0f64; inner];
    for row in b.chunks_exact_mut(inner) {
        for ((v, &m), s) in row.iter_mut().zip(&max).zip(sum.iter_mut()) {
            *v = exp::<M>(*v - m);
            *s += f64::from(*v);
        }
    }
    let inv: Vec<f32> = sum.iter().map(|&s| (1.0 / s) as f32).collect();
    for row in b.chunks_exact_mut(inner) {
        for (v, &r) in row.iter_mut().zip(&inv) {
            *v *= r;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arange(shape: &[usize]) -> Tensor {
        let n: usize = shape.iter().product();
        Tensor::new(shape, (0..n).map(|i| i as f32).collect()).unwrap()
    }

    fn close(a: &[f32], b: &[f32], tol: f32) {
        assert_eq!(a.len(), b.len(), "{a:?} vs {b:?}");
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() <= tol * y.abs().max(1.0), "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn mean_by_hand() {
        // [2, 2, 3] = 0..12: sample 0 rows [0 1 2] [3 4 5], sample 1 [6 7 8] [9 10 11].
        let x = arange(&[2, 2, 3]);
        // Over the last axis: row means [1, 4, 7, 10].
        let y = mean(&x, &[2], false).unwrap();
        assert_eq!(y.shape(), &[2, 2]);
        assert_eq!(y.data(), &[1.0, 4.0, 7.0, 10.0]);
        // Over axis 1 (tokens), keepdim: [1.5 2.5 3.5], [7.5 8.5 9.5].
        let y = mean(&x, &[1], true).unwrap();
        assert_eq!(y.shape(), &[2, 1, 3]);
        assert_eq!(y.data(), &[1.5, 2.5, 3.5, 7.5, 8.5, 9.5]);
        // Over axes 2 and 1 (order does not matter): (0 + .. + 5) / 6 = 2.5, 8.5.
        let y = mean(&x, &[2, 1], false).unwrap();
        assert_eq!(y.shape(), &[2]);
        assert_eq!(y.data(), &[2.5, 8.5]);
        // Over axes 0 and 2 (not adjacent): rows 0 and 2 -> (0+1+2+6+7+8)/6 = 4, rows 1, 3 -> 7.
        let y = mean(&x, &[0, 2], true).unwrap();
        assert_eq!(y.shape(), &[1, 2, 1]);
        assert_eq!(y.data(), &[4.0, 7.0]);
        assert_eq!(
            mean(&x, &[1, 1], false).unwrap_err().to_string(),
            "Mean: axes [1, 1] are not distinct axes of [2, 2, 3] (rank 3)"
        );
        assert!(mean(&x, &[3], false).is_err());
        assert!(mean(&x, &[], false).is_err());
    }

    #[test]
    fn mean_is_accurate() {
        // 1 + k·2⁻²³ for k < 196·768 in f32 mean: in f64 the exact mean is
        // 1 + (n - 1)/2 · 2⁻²³; a naive f32 sum would drift by far more than 1e-6.
        let n = 196 * 768;
        let e = f32::EPSILON;
        let x = Tensor::new(
            &[1, 196, 768],
            (0..n).map(|k| 1.0 + (k % 64) as f32 * e).collect(),
        )
        .unwrap();
        let y = mean(&x, &[1, 2], false).unwrap();
        // Mean of k % 64 over whole periods is 31.5.
        let exact = 1.0 + 31.5 * f64::from(e);
        assert!((f64::from(y.data()[0]) - exact).abs() <= 1e-7 * exact);
    }

    #[test]
    fn softmax_by_hand() {
        // Last axis: softmax(0, ln 3) = (0.25, 0.75); huge equal values do not overflow.
        let l3 = 3.0f32.ln();
        let mut x = Tensor::new(&[2, 2], vec![0.0, l3, 1000.0, 1000.0]).unwrap();
        softmax(&mut x, 1, false).unwrap();
        close(x.data(), &[0.25, 0.75, 0.5, 0.5], 1e-6);
        // Axis 1 of [1, 2, 2]: columns (0, ln 3) and (5, 5).
        let mut x = Tensor::new(&[1, 2, 2], vec![0.0, 5.0, l3, 5.0]).unwrap();
        softmax(&mut x, 1, false).unwrap();
        close(x.data(), &[0.25, 0.5, 0.75, 0.5], 1e-6);
        assert!(softmax(&mut x, 3, false).is_err());
    }

    #[test]
    fn causal_softmax_masks_the_future() {
        // [1, 3, 3] of zeros: row 0 keeps column 0 -> [1 0 0]; row 1 -> [.5 .5 0];
        // row 2 -> [1/3 1/3 1/3].
        let mut x = Tensor::zeros(&[1, 3, 3]).unwrap();
        softmax(&mut x, 2, true).unwrap();
        let t = 1.0 / 3.0;
        close(x.data(), &[1.0, 0.0, 0.0, 0.5, 0.5, 0.0, t, t, t], 1e-6);
        // L = 2, S = 3 (more keys than queries), two matrices: rows [ln3 0 9] and
        // [0 ln3 9]: row 0 keeps column 0 -> [1 0 0]; row 1 keeps 0..2 -> [.25 .75 0].
        let l3 = 3.0f32.ln();
        let row = [l3, 0.0, 9.0, 0.0, l3, 9.0];
        let mut x = Tensor::new(&[2, 2, 3], [row, row].concat()).unwrap();
        softmax(&mut x, 2, true).unwrap();
        let expect = [1.0, 0.0, 0.0, 0.25, 0.75, 0.0];
        close(x.data(), &[expect, expect].concat(), 1e-6);
        assert_eq!(
            softmax(&mut x, 1, true).unwrap_err().to_string(),
            "Softmax: a causal softmax runs over the last axis of a tensor of rank 2 or more, found axis 1 of [2, 2, 3]"
        );
    }

    #[test]
    fn big_softmax_matches_a_plain_one() {
        // [2, 12, 50, 60] over the last axis (threaded) and over axis 1,
        // against an f64 computation of the definition.
        let shape = [2, 12, 50, 60];
        let n: usize = shape.iter().product();
        let x = Tensor::new(
            &shape,
            (0..n)
                .map(|i| ((i * 37 % 101) as f32 - 50.0) / 7.0)
                .collect(),
        )
        .unwrap();
        for (axis, causal) in [(3, false), (3, true), (1, false)] {
            let mut y = x.clone();
            softmax(&mut y, axis, causal).unwrap();
            let size = shape[axis];
            let inner: usize = shape[axis + 1..].iter().product();
            let mut expect = vec![0.0f32; n];
            for o in 0..n / (size * inner) {
                for i in 0..inner {
                    let at = |k: usize| o * size * inner + k * inner + i;
                    let row = (o * inner + i) % 50;
                    let valid = if causal { row + 1 } else { size };
                    let m = (0..valid)
                        .map(|k| f64::from(x.data()[at(k)]))
                        .fold(f64::MIN, f64::max);
                    let s: f64 = (0..valid)
                        .map(|k| (f64::from(x.data()[at(k)]) - m).exp())
                        .sum();
                    for k in 0..valid {
                        expect[at(k)] = ((f64::from(x.data()[at(k)]) - m).exp() / s) as f32;
                    }
                }
            }
            close(y.data(), &expect, 1e-6);
        }
    }
}
