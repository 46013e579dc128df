//! Fast CPU kernels: the same layers as the reference kernels of
//! [`crate::kernels`], computed through one packed matrix product
//! ([`gemm`]), direct SIMD loops and fused epilogues, on
//! [`num_threads`](crate::threads::num_threads) threads.
//!
//! Every kernel is a pure function of its inputs, split in two steps:
//! - *prepare* (once, when a model is loaded or drawn at random): check the
//!   shapes, fold a following batch norm into the weights if asked, attach
//!   the activation that follows, and store the weights in the layout the
//!   kernel reads ([`PackedConv::new`], [`PackedLinear::new`]);
//! - *run* (every forward pass): [`PackedConv::run`], [`PackedLinear::run`].
//!
//! | layer | strategy |
//! | --- | --- |
//! | 1x1 convolution, stride 1, no padding | `W[C_out, C_in] · X[C_in, H·W]`, the input read in place |
//! | other convolutions with 4+ output channels per group | im2col into a reused workspace, then the same product |
//! | depthwise and small-group convolutions | direct loops over output rows, AVX2+FMA when the CPU has them |
//! | `Conv3d` (and any rank through the same 3-D description) | 3-D im2col tiles, then the same product |
//! | transposed convolutions, every rank | `Wᵀ[C_out/g·K, C_in/g] · X[C_in/g, S_in]` by tiles of input positions, each scattered into the output (col2im) |
//! | linear | `X[N, in] · Wᵀ` through the same product |
//! | bias, folded batch norm, activation | one epilogue pass over each output row while it is in cache |
//! | max pooling, global average pooling | one plane per task, vectorised rows / eight accumulators |
//!
//! Results agree with the reference kernels to float rounding (the order of
//! the additions differs); the tests check 1e-4 of the largest output.

pub mod conv;
pub mod conv_nd;
pub mod depthwise;
pub mod elementwise;
pub mod gemm;
pub mod linear;
pub mod packed;
pub mod pool;

pub use conv::PackedConv;
pub use conv_nd::PackedConvNd;
pub use linear::PackedLinear;
pub use packed::PackedLayer;

/// `a·b + c`, fused (one rounding) or not, so that one generic loop body
/// compiles to FMA instructions inside a `target_feature(enable = "fma")`
/// function and to a multiply and an add elsewhere (where `f32::mul_add`
/// would be a slow library call).
pub(crate) trait Madd {
    /// `a·b + c`.
    fn madd(a: f32, b: f32, c: f32) -> f32;
}

/// Separate multiply and add (any CPU).
pub(crate) struct Plain;

impl Madd for Plain {
    #[inline(always)]
    fn madd(a: f32, b: f32, c: f32) -> f32 {
        a * b + c
    }
}

/// Fused multiply-add (only inside functions compiled with `fma`).
#[cfg(target_arch = "x86_64")]
pub(crate) struct Fused;

#[cfg(target_arch = "x86_64")]
impl Madd for Fused {
    #[inline(always)]
    fn madd(a: f32, b: f32, c: f32) -> f32 {
        a.mul_add(b, c)
    }
}

/// `dst[i] = src[i·stride]` for every `i < dst.len()` (`src` must be long
/// enough): a copy for stride 1, a pairwise deinterleave for stride 2 (which
/// vectorises, unlike a strided walk), a strided walk otherwise.
#[inline]
pub(crate) fn gather(dst: &mut [f32], src: &[f32], stride: usize) {
    match stride {
        1 => dst.copy_from_slice(&src[..dst.len()]),
        2 => {
            let pairs = src.chunks_exact(2);
            let rest = pairs.remainder();
            let mut it = dst.iter_mut();
            // Pairs first: when they run out, `zip` stops without taking an
            // output element.
            for (p, d) in pairs.zip(&mut it) {
                *d = p[0];
            }
            if let (Some(d), Some(&v)) = (it.next(), rest.first()) {
                *d = v;
            }
        }
        _ => {
            for (d, &v) in dst.iter_mut().zip(src.iter().step_by(stride)) {
                *d = v;
            }
        }
    }
}

/// Whether this CPU runs the AVX2+FMA versions of the direct kernels
/// (detected at run time; `std` caches the answer).
#[inline]
pub(crate) fn has_avx2_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

#[cfg(test)]
pub(crate) mod tests;
