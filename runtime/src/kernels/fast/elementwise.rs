//! Elementwise layers, vectorised and spread over the threads: activations
//! (with a polynomial `exp` for Sigmoid and SiLU, so that they vectorise),
//! batch norm with its scale and shift prepared once, and a residual add fused
//! with the activation that follows it.

use super::{Madd, Plain};
use crate::error::{kernel, Error};
use crate::kernels::activation::activation_slice;
use crate::kernels::{nchw, norm};
use crate::tensor::Tensor;
use crate::threads;
use netspec_model::shape::shape_str;
use netspec_model::Activation;
use rayon::prelude::*;

/// Elements per parallel task: small tensors stay on one thread.
const CHUNK: usize = 1 << 15;

/// Runs `f` over `data` in chunks of [`CHUNK`], on every thread.
fn chunked(data: &mut [f32], f: impl Fn(&mut [f32]) + Sync + Send) {
    if data.len() <= CHUNK {
        f(data);
        return;
    }
    threads::install(|threads| {
        if threads > 1 {
            data.par_chunks_mut(CHUNK).for_each(&f);
        } else {
            f(data);
        }
    });
}

/// Applies `act` in place, as [`crate::kernels::activation::activation_in_place`]
/// does (Sigmoid and SiLU through a polynomial `exp` of about 1e-7 relative error).
pub fn activation_in_place(x: &mut Tensor, act: Activation) {
    chunked(x.data_mut(), |d| activation(d, act));
}

/// One slice's activation.
pub(crate) fn activation(d: &mut [f32], act: Activation) {
    match act {
        Activation::Sigmoid | Activation::SiLU => {
            let silu = act == Activation::SiLU;
            #[cfg(target_arch = "x86_64")]
            if super::has_avx2_fma() {
                // SAFETY: AVX2 and FMA were detected at run time.
                unsafe { sigmoid_avx2(d, silu) };
                return;
            }
            sigmoid_body::<Plain>(d, silu);
        }
        other => activation_slice(d, other),
    }
}

/// [`sigmoid_body`] compiled for AVX2 and FMA.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn sigmoid_avx2(d: &mut [f32], silu: bool) {
    sigmoid_body::<super::Fused>(d, silu);
}

/// `v = sigmoid(v)` or, for SiLU, `v = v·sigmoid(v)`.
#[inline(always)]
fn sigmoid_body<M: Madd>(d: &mut [f32], silu: bool) {
    if silu {
        d.iter_mut().for_each(|v| *v *= 1.0 / (1.0 + exp::<M>(-*v)));
    } else {
        d.iter_mut().for_each(|v| *v = 1.0 / (1.0 + exp::<M>(-*v)));
    }
}

/// `e^x` without branches (so that it vectorises): `x = n·ln 2 + r` with
/// `|r| <= ln 2 / 2`, `e^r` by its degree-6 Taylor polynomial (relative error
/// below 2e-7 on that range), times `2^n` built in the exponent bits. Inputs
/// are clamped to `[-87, 88]`: `e^x` saturates to about 1.6e-38 below and
/// 1.7e38 above (enough for the sigmoid, which reads `1 / (1 + e^-x)`).
#[inline(always)]
pub(crate) fn exp<M: Madd>(x: f32) -> f32 {
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    let x = x.clamp(-87.0, 88.0);
    let n = (x * std::f32::consts::LOG2_E).round_ties_even();
    let r = M::madd(-n, LN2_LO, M::madd(-n, LN2_HI, x));
    let mut p = 1.0 / 720.0;
    p = M::madd(p, r, 1.0 / 120.0);
    p = M::madd(p, r, 1.0 / 24.0);
    p = M::madd(p, r, 1.0 / 6.0);
    p = M::madd(p, r, 0.5);
    p = M::madd(p, r, 1.0);
    p = M::madd(p, r, 1.0);
    // `2^n` from the exponent bits. `n` is an integer in [-126, 127], so
    // `n + 1.5·2^23` is exact and its low mantissa bits hold `n`: integer
    // operations only, which vectorise (a float-to-int `as` cast does not:
    // it saturates lane by lane).
    let biased = (n + MAGIC).to_bits().wrapping_sub(MAGIC.to_bits()) as i32;
    let scale = f32::from_bits(((biased + 127) as u32) << 23);
    p * scale
}

/// `1.5·2^23`: adding it to an integer-valued f32 of magnitude below 2^22
/// puts that integer in the low mantissa bits.
const MAGIC: f32 = 12_582_912.0;

/// Inference batch norm with `scale = gamma / sqrt(var + eps)` and
/// `shift = beta - mean·scale` prepared once (in f64, as the reference does).
#[derive(Clone, Debug, PartialEq)]
pub struct PackedBatchNorm {
    /// `[C]`.
    scale: Vec<f32>,
    /// `[C]`.
    shift: Vec<f32>,
}

impl PackedBatchNorm {
    /// Checks the four `[C]` parameters and prepares scale and shift.
    pub fn new(
        gamma: &[f32],
        beta: &[f32],
        mean: &[f32],
        var: &[f32],
        eps: f64,
    ) -> Result<PackedBatchNorm, Error> {
        let c = gamma.len();
        norm::check_batch_norm("BatchNorm2d", c, [gamma, beta, mean, var])?;
        let mut scale = Vec::with_capacity(c);
        let mut shift = Vec::with_capacity(c);
        for ch in 0..c {
            let s = norm::batch_norm_scale("BatchNorm2d", ch, gamma, var, eps)?;
            scale.push(s as f32);
            shift.push((f64::from(beta[ch]) - f64::from(mean[ch]) * s) as f32);
        }
        Ok(PackedBatchNorm { scale, shift })
    }

    /// Floats held: scale and shift.
    pub fn packed_len(&self) -> usize {
        self.scale.len() + self.shift.len()
    }

    /// `x = act(x·scale[c] + shift[c])` in place on `[N, C, H, W]`.
    pub fn run_in_place(&self, x: &mut Tensor, act: Option<Activation>) -> Result<(), Error> {
        let [_, c, h, w] = nchw("BatchNorm2d", x)?;
        if c != self.scale.len() {
            return kernel(
                "BatchNorm2d",
                format!("expects {} channels, found {c}", self.scale.len()),
            );
        }
        let plane = h * w;
        if plane == 0 || c == 0 {
            return Ok(());
        }
        let one = |(i, p): (usize, &mut [f32])| {
            let (s, t) = (self.scale[i % c], self.shift[i % c]);
            p.iter_mut().for_each(|v| *v = *v * s + t);
            if let Some(a) = act {
                activation(p, a);
            }
        };
        let data = x.data_mut();
        threads::install(|threads| {
            if threads > 1 && data.len() > CHUNK {
                data.par_chunks_mut(plane).enumerate().for_each(one);
            } else {
                data.chunks_exact_mut(plane).enumerate().for_each(one);
            }
        });
        Ok(())
    }
}

/// `acc = act(acc + x)` elementwise; both must have the same shape.
pub fn add_assign(acc: &mut Tensor, x: &Tensor, act: Option<Activation>) -> Result<(), Error> {
    if acc.shape() != x.shape() {
        return kernel(
            "Add",
            format!(
                "cannot add {} and {}: shapes differ",
                shape_str(acc.shape()),
                shape_str(x.shape())
            ),
        );
    }
    let one = |(a, b): (&mut [f32], &[f32])| match act {
        Some(Activation::ReLU) => a
            .iter_mut()
            .zip(b)
            .for_each(|(a, &b)| *a = (*a + b).max(0.0)),
        _ => {
            a.iter_mut().zip(b).for_each(|(a, &b)| *a += b);
            if let Some(f) = act {
                activation(a, f);
            }
        }
    };
    let (a, b) = (acc.data_mut(), x.data());
    threads::install(|threads| {
        if threads > 1 && a.len() > CHUNK {
            a.par_chunks_mut(CHUNK)
                .zip(b.par_chunks(CHUNK))
                .for_each(one);
        } else {
            one((a, b));
        }
    });
    Ok(())
}
