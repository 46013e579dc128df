//! Elementwise activations and softmax.

use crate::error::{kernel, Error};
use crate::tensor::Tensor;
use netspec_model::shape::shape_str;
use netspec_model::Activation;

/// `sqrt(2 / π)`, for the tanh approximation of GELU.
const SQRT_2_OVER_PI: f32 = 0.797_884_6;

/// Applies `act` to every element of `x` in place (any shape).
///
/// Formulas as in PyTorch: ReLU `max(x, 0)`, ReLU6 `min(max(x, 0), 6)`,
/// LeakyReLU `x < 0 ? slope·x : x`, Sigmoid `1 / (1 + e^-x)`, Tanh, SiLU
/// `x·sigmoid(x)`, Hardsigmoid `relu6(x + 3) / 6`, Hardswish `x·relu6(x + 3) / 6`,
/// GELU `x·Φ(x) = x/2·(1 + erf(x/√2))` or, approximated,
/// `x/2·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`.
pub fn activation_in_place(x: &mut Tensor, act: Activation) {
    activation_slice(x.data_mut(), act);
}

/// [`activation_in_place`] on a plain slice (the fast kernels' epilogues).
pub(crate) fn activation_slice(d: &mut [f32], act: Activation) {
    match act {
        Activation::ReLU => d.iter_mut().for_each(|v| *v = v.max(0.0)),
        Activation::ReLU6 => d.iter_mut().for_each(|v| *v = v.clamp(0.0, 6.0)),
        Activation::LeakyReLU { slope } => {
            let s = slope as f32;
            d.iter_mut()
                .for_each(|v| *v = if *v < 0.0 { *v * s } else { *v });
        }
        Activation::Sigmoid => d.iter_mut().for_each(|v| *v = sigmoid(*v)),
        Activation::Tanh => d.iter_mut().for_each(|v| *v = v.tanh()),
        Activation::SiLU => d.iter_mut().for_each(|v| *v *= sigmoid(*v)),
        Activation::HardSigmoid => d
            .iter_mut()
            .for_each(|v| *v = (*v + 3.0).clamp(0.0, 6.0) / 6.0),
        Activation::HardSwish => d
            .iter_mut()
            .for_each(|v| *v = *v * (*v + 3.0).clamp(0.0, 6.0) / 6.0),
        Activation::GELU { tanh: false } => d.iter_mut().for_each(|v| {
            *v = 0.5 * *v * (1.0 + libm::erff(*v * std::f32::consts::FRAC_1_SQRT_2));
        }),
        Activation::Hardtanh { min, max } => {
            let (lo, hi) = (min as f32, max as f32);
            d.iter_mut().for_each(|v| *v = v.max(lo).min(hi));
        }
        Activation::ELU { alpha } => {
            let a = alpha as f32;
            d.iter_mut()
                .for_each(|v| *v = if *v > 0.0 { *v } else { a * v.exp_m1() });
        }
        Activation::GELU { tanh: true } => d.iter_mut().for_each(|v| {
            let x = *v;
            *v = 0.5 * x * (1.0 + (SQRT_2_OVER_PI * (x + 0.044_715 * x * x * x)).tanh());
        }),
    }
}

/// PyTorch's `nn.PReLU` in place on `x` (`[N, C, ...]` or `[N, C]`):
/// `x > 0 ? x : w·x`, with one weight for every element (`weight` of length
/// 1) or one per channel, the full tensor's axis 1 (`weight` of length `C`).
pub fn prelu(x: &mut Tensor, weight: &[f32]) -> Result<(), Error> {
    let shape = x.shape().to_vec();
    if let [w] = *weight {
        x.data_mut()
            .iter_mut()
            .for_each(|v| *v = if *v > 0.0 { *v } else { w * *v });
        return Ok(());
    }
    let [_, c, rest @ ..] = shape.as_slice() else {
        return kernel(
            "PReLU",
            format!(
                "{} weights need a channel axis, found {}",
                weight.len(),
                shape_str(&shape)
            ),
        );
    };
    if *c != weight.len() {
        return kernel(
            "PReLU",
            format!(
                "{} weights for {c} channels (input {})",
                weight.len(),
                shape_str(&shape)
            ),
        );
    }
    let inner: usize = rest.iter().product();
    if inner == 0 {
        return Ok(());
    }
    for (i, plane) in x.data_mut().chunks_exact_mut(inner).enumerate() {
        let w = weight[i % c];
        plane
            .iter_mut()
            .for_each(|v| *v = if *v > 0.0 { *v } else { w * *v });
    }
    Ok(())
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Softmax over dimension 1 in place: for `x` of shape `[N, C, ...]`, every
/// `(n, ..)` slice along `C` becomes `exp(x - max) / Σ exp(x - max)`.
pub fn softmax_in_place(x: &mut Tensor) -> Result<(), Error> {
    let shape = x.shape().to_vec();
    let [n, c, rest @ ..] = shape.as_slice() else {
        return kernel(
            "Softmax",
            format!(
                "expects a tensor of rank 2 or more, found rank {}",
                shape.len()
            ),
        );
    };
    let (n, c) = (*n, *c);
    let inner: usize = rest.iter().product();
    if n * c * inner == 0 {
        return Ok(());
    }
    for sample in x.data_mut().chunks_exact_mut(c * inner) {
        for i in 0..inner {
            let mut max = f32::NEG_INFINITY;
            for ch in 0..c {
                max = max.max(sample[ch * inner + i]);
            }
            let mut sum = 0.0f32;
            for ch in 0..c {
                let e = (sample[ch * inner + i] - max).exp();
                sample[ch * inner + i] = e;
                sum += e;
            }
            for ch in 0..c {
                sample[ch * inner + i] /= sum;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(act: Activation, xs: &[f32]) -> Vec<f32> {
        let mut t = Tensor::new(&[xs.len()], xs.to_vec()).unwrap();
        activation_in_place(&mut t, act);
        t.into_data()
    }

    fn close(a: &[f32], b: &[f32]) {
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() < 1e-6, "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn piecewise_linear() {
        let xs = [-4.0, -1.0, 0.0, 2.0, 7.0];
        close(&apply(Activation::ReLU, &xs), &[0.0, 0.0, 0.0, 2.0, 7.0]);
        close(&apply(Activation::ReLU6, &xs), &[0.0, 0.0, 0.0, 2.0, 6.0]);
        close(
            &apply(Activation::LeakyReLU { slope: 0.1 }, &xs),
            &[-0.4, -0.1, 0.0, 2.0, 7.0],
        );
        // Hardsigmoid: relu6(x + 3) / 6 -> [0, 2/6, 0.5, 5/6, 1].
        close(
            &apply(Activation::HardSigmoid, &xs),
            &[0.0, 1.0 / 3.0, 0.5, 5.0 / 6.0, 1.0],
        );
        // Hardswish: x * that -> [0, -1/3, 0, 5/3, 7].
        close(
            &apply(Activation::HardSwish, &xs),
            &[0.0, -1.0 / 3.0, 0.0, 10.0 / 6.0, 7.0],
        );
    }

    #[test]
    fn smooth() {
        // PyTorch: sigmoid(1) = 0.7310586, tanh(1) = 0.7615942, silu(1) = 0.7310586,
        // silu(-2) = -0.2384058, gelu(1) = 0.8413447, gelu(-1) = -0.1586553,
        // gelu(1, approximate='tanh') = 0.8411920.
        close(
            &apply(Activation::Sigmoid, &[0.0, 1.0]),
            &[0.5, 0.731_058_6],
        );
        close(&apply(Activation::Tanh, &[1.0]), &[0.761_594_2]);
        close(
            &apply(Activation::SiLU, &[1.0, -2.0]),
            &[0.731_058_6, -0.238_405_8],
        );
        close(
            &apply(Activation::GELU { tanh: false }, &[1.0, -1.0, 0.0]),
            &[0.841_344_7, -0.158_655_3, 0.0],
        );
        close(
            &apply(Activation::GELU { tanh: true }, &[1.0]),
            &[0.841_192],
        );
    }

    #[test]
    fn hardtanh_and_elu() {
        // Hardtanh(-1, 1) is clamp: [-4, -1, 0, 0.5, 7] -> [-1, -1, 0, 0.5, 1];
        // Hardtanh(0, 6) is ReLU6.
        let xs = [-4.0, -1.0, 0.0, 0.5, 7.0];
        let hard = |min, max| Activation::Hardtanh { min, max };
        close(&apply(hard(-1.0, 1.0), &xs), &[-1.0, -1.0, 0.0, 0.5, 1.0]);
        assert_eq!(apply(hard(0.0, 6.0), &xs), apply(Activation::ReLU6, &xs));
        close(&apply(hard(-2.5, 3.0), &xs), &[-2.5, -1.0, 0.0, 0.5, 3.0]);
        // ELU(alpha): x for x > 0, alpha·(e^x − 1) otherwise. PyTorch:
        // elu(-1) = -0.6321206 (1 − 1/e), elu(-4) = -0.9816844, and with
        // alpha 2: -1.2642411 and -1.9633688; elu(0) = 0, elu(0.5) = 0.5.
        close(
            &apply(Activation::ELU { alpha: 1.0 }, &xs),
            &[-0.981_684_4, -0.632_120_6, 0.0, 0.5, 7.0],
        );
        close(
            &apply(Activation::ELU { alpha: 2.0 }, &xs),
            &[-1.963_368_8, -1.264_241_1, 0.0, 0.5, 7.0],
        );
        // Tiny negatives keep their precision (e^x − 1 by exp_m1): x = -1e-10
        // gives -1e-10, not 0.
        let tiny = apply(Activation::ELU { alpha: 1.0 }, &[-1e-10]);
        assert!((tiny[0] + 1e-10).abs() < 1e-16, "{tiny:?}");
    }

    #[test]
    fn prelu_single_and_per_channel() {
        // One weight 0.25 on [-4, -1, 0, 2]: [-1, -0.25, 0, 2].
        let mut t = Tensor::new(&[1, 4], vec![-4.0, -1.0, 0.0, 2.0]).unwrap();
        prelu(&mut t, &[0.25]).unwrap();
        assert_eq!(t.data(), &[-1.0, -0.25, 0.0, 2.0]);
        // Per channel on [N = 2, C = 2, L = 2]: channel 0 slope 0.5, channel 1
        // slope -2. Sample 0: [-2, 4 | -1, 3] -> [-1, 4 | 2, 3];
        // sample 1: [6, -6 | -0.5, 0] -> [6, -3 | 1, 0].
        let mut t =
            Tensor::new(&[2, 2, 2], vec![-2.0, 4.0, -1.0, 3.0, 6.0, -6.0, -0.5, 0.0]).unwrap();
        prelu(&mut t, &[0.5, -2.0]).unwrap();
        assert_eq!(t.data(), &[-1.0, 4.0, 2.0, 3.0, 6.0, -3.0, 1.0, 0.0]);
        // On [N, C] vectors the channel is the feature: [-1, -1, -1] with
        // slopes [1, 2, 3] -> [-1, -2, -3].
        let mut t = Tensor::new(&[1, 3], vec![-1.0; 3]).unwrap();
        prelu(&mut t, &[1.0, 2.0, 3.0]).unwrap();
        assert_eq!(t.data(), &[-1.0, -2.0, -3.0]);
        // Three weights for two channels.
        let mut t = Tensor::zeros(&[1, 2, 5]).unwrap();
        let e = prelu(&mut t, &[1.0, 2.0, 3.0]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "PReLU: 3 weights for 2 channels (input [1, 2, 5])"
        );
    }

    #[test]
    fn softmax_over_channels() {
        // [1, 2, 1, 2]: channel pairs (0, ln 3) and (5, 5) per position:
        // softmax(0, ln 3) = (0.25, 0.75); softmax(5, 5) = (0.5, 0.5).
        let l3 = 3.0f32.ln();
        let mut t = Tensor::new(&[1, 2, 1, 2], vec![0.0, 5.0, l3, 5.0]).unwrap();
        softmax_in_place(&mut t).unwrap();
        close(t.data(), &[0.25, 0.5, 0.75, 0.5]);
        // [2, 3] logits: large values must not overflow.
        let mut t = Tensor::new(&[2, 3], vec![1000.0, 1000.0, 1000.0, 0.0, 0.0, 0.0]).unwrap();
        softmax_in_place(&mut t).unwrap();
        close(t.data(), &[1.0 / 3.0; 6]);
    }

    #[test]
    fn erf_is_accurate_to_one_ulp() {
        // The exact GELU's erf (libm's erff) against f64's erf on a grid of
        // [-6, 6] in steps of 1/1024: within one f32 ulp of the exact value.
        // Abramowitz-Stegun 7.1.26 (absolute error up to 1.5e-7, 2.5 ulps near
        // erf = 0.6) would fail here.
        for i in -6144..=6144 {
            let x = i as f32 / 1024.0;
            let exact = libm::erf(f64::from(x));
            let ulp = f64::from(f32::EPSILON) * (exact.abs() as f32).max(f32::MIN_POSITIVE) as f64;
            let got = f64::from(libm::erff(x));
            assert!(
                (got - exact).abs() <= ulp,
                "erff({x}) = {got}, exact {exact}"
            );
        }
    }

    #[test]
    fn gelu_matches_its_f64_definition() {
        // x/2·(1 + erf(x/√2)) and the tanh form, evaluated in f64, on a grid
        // of [-10, 10] in steps of 1/64: within 1e-6 (relative where |y| > 1;
        // for negative x, 1 + erf cancels in f32 as it does in PyTorch).
        let xs: Vec<f32> = (-640..=640).map(|i| i as f32 / 64.0).collect();
        let exact = apply(Activation::GELU { tanh: false }, &xs);
        let approx = apply(Activation::GELU { tanh: true }, &xs);
        for ((&x, &y), &t) in xs.iter().zip(&exact).zip(&approx) {
            let xd = f64::from(x);
            let want = 0.5 * xd * (1.0 + libm::erf(xd * std::f64::consts::FRAC_1_SQRT_2));
            let k = (2.0 / std::f64::consts::PI).sqrt();
            let want_t = 0.5 * xd * (1.0 + (k * (xd + 0.044_715 * xd * xd * xd)).tanh());
            assert!(
                (f64::from(y) - want).abs() <= 1e-6 * want.abs().max(1.0),
                "gelu({x}) = {y}, exact {want}"
            );
            assert!(
                (f64::from(t) - want_t).abs() <= 1e-6 * want_t.abs().max(1.0),
                "gelu_tanh({x}) = {t}, exact {want_t}"
            );
        }
    }

    #[test]
    fn activations_ignore_the_rank() {
        // A [1, 2, 2] token tensor: GELU elementwise, the same as on a flat slice;
        // ReLU of [[-1, 2], [-3, 4]] = [[0, 2], [0, 4]].
        let data = vec![-1.0, 2.0, -3.0, 4.0];
        let mut t = Tensor::new(&[1, 2, 2], data.clone()).unwrap();
        activation_in_place(&mut t, Activation::GELU { tanh: false });
        assert_eq!(t.shape(), &[1, 2, 2]);
        assert_eq!(
            t.data(),
            apply(Activation::GELU { tanh: false }, &data).as_slice()
        );
        let mut t = Tensor::new(&[1, 2, 2], data).unwrap();
        activation_in_place(&mut t, Activation::ReLU);
        assert_eq!(t.data(), &[0.0, 2.0, 0.0, 4.0]);
    }
}
