//! Batch normalisation (inference).

use super::{check_len, nchw};
use crate::error::{kernel, Error};
use crate::tensor::Tensor;

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
    let [_, c, h, w] = nchw("BatchNorm2d", x)?;
    for (what, p) in [
        ("weight", weight),
        ("bias", bias),
        ("running_mean", running_mean),
        ("running_var", running_var),
    ] {
        check_len("BatchNorm2d", what, p, &[c])?;
    }
    let plane = h * w;
    if plane == 0 || c == 0 {
        return Ok(());
    }
    for (i, chunk) in x.data_mut().chunks_exact_mut(plane).enumerate() {
        let ch = i % c;
        let var = f64::from(running_var[ch]) + eps;
        if var < 0.0 {
            return kernel(
                "BatchNorm2d",
                format!("running_var[{ch}] + eps = {var} is negative"),
            );
        }
        let scale = f64::from(weight[ch]) / var.sqrt();
        let shift = f64::from(bias[ch]) - f64::from(running_mean[ch]) * scale;
        let (scale, shift) = (scale as f32, shift as f32);
        for v in chunk {
            *v = *v * scale + shift;
        }
    }
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
    fn rejects_wrong_parameter_length() {
        let mut x = Tensor::zeros(&[1, 3, 2, 2]).unwrap();
        let e = batch_norm(&mut x, &[1.0; 2], &[0.0; 3], &[0.0; 3], &[1.0; 3], 1e-5).unwrap_err();
        assert_eq!(
            e.to_string(),
            "BatchNorm2d: weight must have shape [3] (3 values), found 2 values"
        );
    }
}
