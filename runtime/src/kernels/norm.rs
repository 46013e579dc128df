//! Normalisation layers: batch norm (inference), layer norm and group norm.
//!
//! Layer and group norm compute each row's mean and biased variance in two
//! passes in f64 (exact to f32 rounding however large the mean), then write
//! `(x - mean)·a·weight + bias` in one vectorised f32 pass
//! (`a = 1/sqrt(var + eps)`; for group norm `a·weight[c]` is one number per
//! channel), rows split over the threads (each row alone, so the values do
//! not depend on the thread count).

use super::reduce::{sum_f64, LANES};
use super::{check_len, nchw};
use crate::error::{kernel, Error};
use crate::tensor::Tensor;
use crate::threads;
use netspec_model::shape::shape_str;
use rayon::prelude::*;

/// Elements below which a normalisation stays on the calling thread.
const PARALLEL_MIN: usize = 1 << 15;

/// Inference batch norm in place on `x` (`[N, C, H, W]`):
/// `y = (x - running_mean[c]) / sqrt(running_var[c] + eps) · weight[c] + bias[c]`,
/// every parameter of shape `[C]`. Computed as `x · scale + shift` with the
/// per-channel `scale` and `shift` formed in f64.
pub fn batch_norm(
    x: &mut Tensor,
    weight: &[f32],
    bias: &[f32],
    running_mean: &[f32],
    running_var: &[f32],
    eps: f64,
) -> Result<(), Error> {
    nchw("BatchNorm2d", x)?;
    batch_norm_nd(
        "BatchNorm2d",
        x,
        weight,
        bias,
        running_mean,
        running_var,
        eps,
    )
}

/// [`batch_norm`] on `[N, C, *spatial]` of any spatial rank, `[N, C]`
/// included (`BatchNorm1d` on `[N, C]` or `[N, C, L]`, `BatchNorm3d` on
/// `[N, C, D, H, W]`); `op` names the layer in errors.
pub fn batch_norm_nd(
    op: &'static str,
    x: &mut Tensor,
    weight: &[f32],
    bias: &[f32],
    running_mean: &[f32],
    running_var: &[f32],
    eps: f64,
) -> Result<(), Error> {
    let shape = x.shape().to_vec();
    let [_, c, rest @ ..] = shape.as_slice() else {
        return kernel(
            op,
            format!("expects a [N, C, ...] tensor, found {}", shape_str(&shape)),
        );
    };
    let c = *c;
    check_batch_norm(op, c, [weight, bias, running_mean, running_var])?;
    let plane: usize = rest.iter().product();
    if plane == 0 || c == 0 {
        return Ok(());
    }
    for (i, chunk) in x.data_mut().chunks_exact_mut(plane).enumerate() {
        let ch = i % c;
        let scale = batch_norm_scale(op, ch, weight, running_var, eps)?;
        let shift = f64::from(bias[ch]) - f64::from(running_mean[ch]) * scale;
        let (scale, shift) = (scale as f32, shift as f32);
        for v in chunk {
            *v = *v * scale + shift;
        }
    }
    Ok(())
}

/// Checks a batch norm's four tensors (weight, bias, running mean and
/// running variance) against `[c]`; `op` names the layer in errors.
pub(crate) fn check_batch_norm(
    op: &'static str,
    c: usize,
    tensors: [&[f32]; 4],
) -> Result<(), Error> {
    let names = ["weight", "bias", "running_mean", "running_var"];
    for (what, p) in names.into_iter().zip(tensors) {
        check_len(op, what, p, &[c])?;
    }
    Ok(())
}

/// Channel `ch`'s batch-norm scale `weight / sqrt(running_var + eps)` in
/// f64, or an error if `running_var + eps` is negative (`op` names the
/// layer). Every batch norm, run or folded, takes its scale from here.
pub(crate) fn batch_norm_scale(
    op: &'static str,
    ch: usize,
    weight: &[f32],
    running_var: &[f32],
    eps: f64,
) -> Result<f64, Error> {
    let var = f64::from(running_var[ch]) + eps;
    if var < 0.0 {
        return kernel(op, format!("running_var[{ch}] + eps = {var} is negative"));
    }
    Ok(f64::from(weight[ch]) / var.sqrt())
}

/// Mean and biased variance of `xs` (empty: 0 and 0), two passes in f64.
#[inline(always)]
fn moments(xs: &[f32]) -> (f64, f64) {
    if xs.is_empty() {
        return (0.0, 0.0);
    }
    let n = xs.len() as f64;
    let mean = sum_f64(xs) / n;
    let mut acc = [0.0f64; LANES];
    let chunks = xs.chunks_exact(LANES);
    let rest = chunks.remainder();
    for c in chunks {
        for i in 0..LANES {
            let d = f64::from(c[i]) - mean;
            acc[i] += d * d;
        }
    }
    let tail: f64 = rest
        .iter()
        .map(|&v| (f64::from(v) - mean) * (f64::from(v) - mean))
        .sum();
    (mean, (acc.iter().sum::<f64>() + tail) / n)
}

/// `1 / sqrt(var + eps)` (infinite for a zero `var + eps`, whence NaN
/// outputs, as in PyTorch).
fn rstd(var: f64, eps: f32) -> f64 {
    1.0 / (var + f64::from(eps)).sqrt()
}

/// Runs `f(index, chunk)` on consecutive `size`-element chunks of `data`,
/// split over the threads when `data` is large.
fn rows(data: &mut [f32], size: usize, f: impl Fn(usize, &mut [f32]) + Send + Sync) {
    if size == 0 || data.is_empty() {
        return;
    }
    let per_task = (PARALLEL_MIN / size).max(1);
    threads::install(|threads| {
        if threads > 1 && data.len() > PARALLEL_MIN && data.len() > size {
            data.par_chunks_mut(per_task * size)
                .enumerate()
                .for_each(|(t, rs)| {
                    for (i, r) in rs.chunks_exact_mut(size).enumerate() {
                        f(t * per_task + i, r);
                    }
                });
        } else {
            for (i, r) in data.chunks_exact_mut(size).enumerate() {
                f(i, r);
            }
        }
    });
}

/// PyTorch's layer norm in place: every consecutive run of `normalized`
/// elements (the product of `x`'s trailing dimensions that the layer
/// normalises, e.g. 768 for `LayerNorm(768)` on `[N, 197, 768]`) becomes
/// `(x - mean) / sqrt(var + eps) · weight[i] + bias[i]`, with the biased
/// variance; `weight` and `bias` (if given) hold `normalized` values.
pub fn layer_norm(
    x: &mut Tensor,
    normalized: usize,
    weight: Option<&[f32]>,
    bias: Option<&[f32]>,
    eps: f32,
) -> Result<(), Error> {
    let shape = x.shape();
    let trailing = (0..shape.len()).any(|k| shape[k..].iter().product::<usize>() == normalized);
    if !trailing {
        return kernel(
            "LayerNorm",
            format!(
                "{normalized} normalised elements are not the product of trailing dimensions of {}",
                shape_str(shape)
            ),
        );
    }
    if let Some(w) = weight {
        check_len("LayerNorm", "weight", w, &[normalized])?;
    }
    if let Some(b) = bias {
        check_len("LayerNorm", "bias", b, &[normalized])?;
    }
    rows(x.data_mut(), normalized, |_, row| {
        layer_norm_row(row, weight, bias, eps)
    });
    Ok(())
}

/// One row of [`layer_norm`], compiled for AVX2 when the CPU has it.
fn layer_norm_row(row: &mut [f32], weight: Option<&[f32]>, bias: Option<&[f32]>, eps: f32) {
    #[cfg(target_arch = "x86_64")]
    if super::fast::has_avx2_fma() {
        // SAFETY: AVX2 and FMA were detected at run time.
        unsafe { layer_norm_row_avx2(row, weight, bias, eps) };
        return;
    }
    layer_norm_row_body(row, weight, bias, eps);
}

/// [`layer_norm_row_body`] compiled for AVX2 (no fused multiply-adds:
/// the same roundings as on any other CPU).
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn layer_norm_row_avx2(
    row: &mut [f32],
    weight: Option<&[f32]>,
    bias: Option<&[f32]>,
    eps: f32,
) {
    layer_norm_row_body(row, weight, bias, eps);
}

#[inline(always)]
fn layer_norm_row_body(row: &mut [f32], weight: Option<&[f32]>, bias: Option<&[f32]>, eps: f32) {
    let (mean, var) = moments(row);
    let a = rstd(var, eps) as f32;
    let m = mean as f32;
    match (weight, bias) {
        (Some(w), Some(b)) => row
            .iter_mut()
            .zip(w.iter().zip(b))
            .for_each(|(v, (&w, &b))| *v = (*v - m) * a * w + b),
        (Some(w), None) => row
            .iter_mut()
            .zip(w)
            .for_each(|(v, &w)| *v = (*v - m) * a * w),
        (None, Some(b)) => row
            .iter_mut()
            .zip(b)
            .for_each(|(v, &b)| *v = (*v - m) * a + b),
        (None, None) => row.iter_mut().for_each(|v| *v = (*v - m) * a),
    }
}

/// PyTorch's group norm in place on `x` of shape `[N, C, *]`: the channels
/// split into `groups` consecutive groups, each `(sample, group)` block of
/// `C / groups · Π *` elements is normalised with its own mean and biased
/// variance, then channel `c` is scaled by `weight[c]` and shifted by
/// `bias[c]` (each `[C]`, if given).
pub fn group_norm(
    x: &mut Tensor,
    groups: usize,
    weight: Option<&[f32]>,
    bias: Option<&[f32]>,
    eps: f32,
) -> Result<(), Error> {
    let shape = x.shape();
    let [_, c, rest @ ..] = shape else {
        return kernel(
            "GroupNorm",
            format!("expects a [N, C, *] tensor, found {}", shape_str(shape)),
        );
    };
    let c = *c;
    if groups == 0 || c % groups != 0 {
        return kernel(
            "GroupNorm",
            format!(
                "{groups} groups do not divide the {c} channels of {}",
                shape_str(shape)
            ),
        );
    }
    if let Some(w) = weight {
        check_len("GroupNorm", "weight", w, &[c])?;
    }
    if let Some(b) = bias {
        check_len("GroupNorm", "bias", b, &[c])?;
    }
    let inner: usize = rest.iter().product();
    let per = c / groups;
    rows(x.data_mut(), per * inner, |i, block| {
        let (mean, var) = moments(block);
        let a = rstd(var, eps);
        let m = mean as f32;
        let first = (i % groups) * per;
        for (k, plane) in block.chunks_exact_mut(inner).enumerate() {
            let ch = first + k;
            let s = (a * weight.map_or(1.0, |w| f64::from(w[ch]))) as f32;
            let t = bias.map_or(0.0, |b| b[ch]);
            plane.iter_mut().for_each(|v| *v = (*v - m) * s + t);
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_per_channel() {
        // Channel 0: mean 1, var 4 - eps, gamma 2, beta 1: y = (x - 1) / 2 * 2 + 1 = x.
        // Channel 1: mean 0, var 1 - eps, gamma 0.5, beta -1: y = x / 2 - 1.
        let eps = 1e-5;
        let mut x = Tensor::new(&[1, 2, 1, 2], vec![3.0, -1.0, 4.0, -2.0]).unwrap();
        let var = [4.0 - eps as f32, 1.0 - eps as f32];
        batch_norm(&mut x, &[2.0, 0.5], &[1.0, -1.0], &[1.0, 0.0], &var, eps).unwrap();
        let expect = [3.0, -1.0, 1.0, -2.0];
        for (a, b) in x.data().iter().zip(expect) {
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        }
    }

    #[test]
    fn batch_of_two_uses_the_right_channel() {
        // [2, 2, 1, 1]: channel 1 adds 10, channel 0 adds 0.
        let mut x = Tensor::new(&[2, 2, 1, 1], vec![1.0, 2.0, 3.0, 4.0]).unwrap();
        batch_norm(&mut x, &[1.0; 2], &[0.0, 10.0], &[0.0; 2], &[1.0; 2], 0.0).unwrap();
        assert_eq!(x.data(), &[1.0, 12.0, 3.0, 14.0]);
    }

    #[test]
    fn batch_norm_1d_and_3d() {
        // BatchNorm1d on [N = 2, C = 3]: mean [1, 2, 3], var [4, 1, 0.25]
        // (eps 0), gamma [1, 2, 1], beta [0, 0, 1]:
        // y = (x − mean) / sqrt(var) · gamma + beta.
        // Sample 0 [3, 3, 3]: [2/2, 1/1·2, 0/0.5 + 1] = [1, 2, 1];
        // sample 1 [-1, 0, 4]: [-2/2, -2·2, 1/0.5 + 1] = [-1, -4, 3].
        let (g, b, m, v) = (
            [1.0, 2.0, 1.0],
            [0.0, 0.0, 1.0],
            [1.0, 2.0, 3.0],
            [4.0, 1.0, 0.25],
        );
        let mut x = Tensor::new(&[2, 3], vec![3.0, 3.0, 3.0, -1.0, 0.0, 4.0]).unwrap();
        batch_norm_nd("BatchNorm1d", &mut x, &g, &b, &m, &v, 0.0).unwrap();
        assert_eq!(x.data(), &[1.0, 2.0, 1.0, -1.0, -4.0, 3.0]);
        // On [N = 1, C = 3, L = 2] each channel's pair: [3, -1 | 3, 0 | 3, 4]
        // -> [1, -1 | 2, -4 | 1, 3].
        let mut x = Tensor::new(&[1, 3, 2], vec![3.0, -1.0, 3.0, 0.0, 3.0, 4.0]).unwrap();
        batch_norm_nd("BatchNorm1d", &mut x, &g, &b, &m, &v, 0.0).unwrap();
        assert_eq!(x.data(), &[1.0, -1.0, 2.0, -4.0, 1.0, 3.0]);
        // BatchNorm3d on [1, 2, 2, 1, 2], eps 0.5, var [3.5, 0.5] (+ eps: 4, 1),
        // mean [1, 5], gamma 1, beta 0: channel 0 (x − 1)/2 of [1, 3, 5, 7],
        // channel 1 x − 5 of [5, 6, 7, 8]: both [0, 1, 2, 3].
        let mut x = Tensor::new(
            &[1, 2, 2, 1, 2],
            vec![1.0, 3.0, 5.0, 7.0, 5.0, 6.0, 7.0, 8.0],
        )
        .unwrap();
        let (g, b, m, v) = ([1.0, 1.0], [0.0, 0.0], [1.0, 5.0], [3.5, 0.5]);
        batch_norm_nd("BatchNorm3d", &mut x, &g, &b, &m, &v, 0.5).unwrap();
        assert_eq!(x.data(), &[0.0, 1.0, 2.0, 3.0, 0.0, 1.0, 2.0, 3.0]);
        let mut x = Tensor::zeros(&[4]).unwrap();
        let e =
            batch_norm_nd("BatchNorm1d", &mut x, &[1.0], &[0.0], &[0.0], &[1.0], 0.0).unwrap_err();
        assert_eq!(
            e.to_string(),
            "BatchNorm1d: expects a [N, C, ...] tensor, found [4]"
        );
    }

    #[test]
    fn rejects_wrong_parameter_length() {
        let mut x = Tensor::zeros(&[1, 3, 2, 2]).unwrap();
        let e = batch_norm(&mut x, &[1.0; 2], &[0.0; 3], &[0.0; 3], &[1.0; 3], 1e-5).unwrap_err();
        assert_eq!(
            e.to_string(),
            "BatchNorm2d: weight must have shape [3] (3 values), found 2 values"
        );
    }

    /// Layer norm straight from the definition, in f64.
    fn layer_norm_f64(
        x: &[f32],
        n: usize,
        w: Option<&[f32]>,
        b: Option<&[f32]>,
        eps: f64,
    ) -> Vec<f32> {
        let mut out = Vec::with_capacity(x.len());
        for row in x.chunks_exact(n) {
            let mean = row.iter().map(|&v| f64::from(v)).sum::<f64>() / n as f64;
            let var = row
                .iter()
                .map(|&v| (f64::from(v) - mean).powi(2))
                .sum::<f64>()
                / n as f64;
            for (i, &v) in row.iter().enumerate() {
                let y = (f64::from(v) - mean) / (var + eps).sqrt();
                let y = y * w.map_or(1.0, |w| f64::from(w[i])) + b.map_or(0.0, |b| f64::from(b[i]));
                out.push(y as f32);
            }
        }
        out
    }

    fn close(a: &[f32], b: &[f32], tol: f32) {
        assert_eq!(a.len(), b.len());
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!(
                (x - y).abs() <= tol * y.abs().max(1.0),
                "at {i}: {x} vs {y}"
            );
        }
    }

    #[test]
    fn layer_norm_by_hand() {
        // Row [1, 2, 3, 4]: mean 2.5, biased variance (2.25 + 0.25) · 2 / 4 = 1.25,
        // eps 0: (x - 2.5) / sqrt(1.25) = [-1.5, -0.5, 0.5, 1.5] / 1.118034
        //      = [-1.3416408, -0.4472136, 0.4472136, 1.3416408];
        // with weight [1, 2, 1, 1] and no bias -> [-1.3416408, -0.8944272, 0.4472136, 1.3416408].
        let mut x = Tensor::new(&[2, 1, 4], vec![1.0, 2.0, 3.0, 4.0, 5.0, 5.0, 5.0, 5.0]).unwrap();
        let w = [1.0, 2.0, 1.0, 1.0];
        let b = [0.0, 0.0, 0.0, 10.0];
        // With eps 1: row 0 divides by sqrt(1.25 + 1) = 1.5 -> [-1, -1/3, 1/3, 1]
        // -> [-1, -2/3, 1/3, 11]; row 1 is (x - 5) / 1 = 0 -> the bias [0, 0, 0, 10].
        layer_norm(&mut x, 4, Some(&w), Some(&b), 1.0).unwrap();
        close(
            x.data(),
            &[-1.0, -2.0 / 3.0, 1.0 / 3.0, 11.0, 0.0, 0.0, 0.0, 10.0],
            1e-6,
        );
        // The first row alone, eps 0, no affine.
        let mut x = Tensor::new(&[1, 4], vec![1.0, 2.0, 3.0, 4.0]).unwrap();
        layer_norm(&mut x, 4, None, None, 0.0).unwrap();
        close(
            x.data(),
            &[-1.341_640_8, -0.447_213_6, 0.447_213_6, 1.341_640_8],
            1e-6,
        );
        // Over two trailing axes ([2, 2] = 4 values): the same row.
        let mut x = Tensor::new(&[1, 2, 2], vec![1.0, 2.0, 3.0, 4.0]).unwrap();
        layer_norm(&mut x, 4, Some(&w), None, 0.0).unwrap();
        close(
            x.data(),
            &[-1.341_640_8, -0.894_427_2, 0.447_213_6, 1.341_640_8],
            1e-6,
        );
        let mut x = Tensor::zeros(&[2, 3]).unwrap();
        assert_eq!(
            layer_norm(&mut x, 2, None, None, 1e-5)
                .unwrap_err()
                .to_string(),
            "LayerNorm: 2 normalised elements are not the product of trailing dimensions of [2, 3]"
        );
        assert_eq!(
            layer_norm(&mut x, 3, Some(&[1.0; 2]), None, 1e-5)
                .unwrap_err()
                .to_string(),
            "LayerNorm: weight must have shape [3] (3 values), found 2 values"
        );
    }

    #[test]
    fn layer_norm_matches_f64_on_vit_rows() {
        // [2, 197, 768] with a large offset (mean 100, spread about 1): a
        // one-pass f32 E[x²] - E[x]² would lose three digits of the variance;
        // the inputs themselves are only known to 4e-6 (half an ulp of 100).
        let (rows, n) = (2 * 197, 768);
        let x: Vec<f32> = (0..rows * n)
            .map(|i| 100.0 + ((i * 7919 % 1009) as f32 - 504.0) / 300.0)
            .collect();
        let w: Vec<f32> = (0..n).map(|i| 0.5 + (i % 5) as f32 * 0.25).collect();
        let b: Vec<f32> = (0..n).map(|i| (i % 3) as f32 - 1.0).collect();
        let expect = layer_norm_f64(&x, n, Some(&w), Some(&b), 1e-6);
        let mut t = Tensor::new(&[2, 197, n], x.clone()).unwrap();
        layer_norm(&mut t, n, Some(&w), Some(&b), 1e-6).unwrap();
        close(t.data(), &expect, 2e-5);
        // Centred data, eps 1e-5: within 1e-6.
        let x: Vec<f32> = x.iter().map(|v| v - 100.0).collect();
        let expect = layer_norm_f64(&x, n, Some(&w), Some(&b), 1e-5);
        let mut t = Tensor::new(&[2, 197, n], x).unwrap();
        layer_norm(&mut t, n, Some(&w), Some(&b), 1e-5).unwrap();
        close(t.data(), &expect, 1e-6);
    }

    #[test]
    fn group_norm_by_hand() {
        // [1, 4, 2] = [[0 2], [4 6], [1 1], [3 3]] with 2 groups:
        // group 0 = {0, 2, 4, 6}: mean 3, variance (9 + 1 + 1 + 9) / 4 = 5;
        // group 1 = {1, 1, 3, 3}: mean 2, variance 1. eps 0.
        // weight [1, 2, 1, 1], bias [0, 0, 0, 5]:
        // ch 0: (0 - 3, 2 - 3) / √5 = [-1.3416408, -0.4472136]
        // ch 1: (1, 3) / √5 · 2 = [0.8944272, 2.6832816]
        // ch 2: [-1, -1]; ch 3: [1, 1] + 5 = [6, 6].
        let mut x = Tensor::new(&[1, 4, 2], vec![0.0, 2.0, 4.0, 6.0, 1.0, 1.0, 3.0, 3.0]).unwrap();
        let w = [1.0, 2.0, 1.0, 1.0];
        let b = [0.0, 0.0, 0.0, 5.0];
        group_norm(&mut x, 2, Some(&w), Some(&b), 0.0).unwrap();
        close(
            x.data(),
            &[
                -1.341_640_8,
                -0.447_213_6,
                0.894_427_2,
                2.683_281_6,
                -1.0,
                -1.0,
                6.0,
                6.0,
            ],
            1e-6,
        );
        // A batch of two, one group, no affine: sample 1 = sample 0 + 100 gives the same.
        let mut x = Tensor::new(&[2, 2, 1], vec![1.0, 3.0, 101.0, 103.0]).unwrap();
        group_norm(&mut x, 1, None, None, 0.0).unwrap();
        close(x.data(), &[-1.0, 1.0, -1.0, 1.0], 1e-6);
        assert_eq!(
            group_norm(&mut x, 3, None, None, 1e-5)
                .unwrap_err()
                .to_string(),
            "GroupNorm: 3 groups do not divide the 2 channels of [2, 2, 1]"
        );
        let mut v = Tensor::zeros(&[4]).unwrap();
        assert!(group_norm(&mut v, 1, None, None, 1e-5).is_err());
    }
}
