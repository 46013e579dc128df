//! Naive but careful CPU kernels, one module per family.
//!
//! Every kernel takes batched tensors (full shapes, the batch included:
//! `[N, C, H, W]` feature maps, `[N, F]` vectors, `[N, 197, 768]` token
//! sequences) and weights in PyTorch layout, allocates its output once, and
//! returns [`Error::Kernel`] (never panics) when shapes do not fit. Inner loops
//! run over contiguous memory so that they auto-vectorise.
//!
//! Tensors of any rank: [`shape`] (reshape, permute, concat, narrow,
//! select, roll, pad), [`gather`] (indexing by a constant integer array),
//! [`broadcast`] (`+ - * /` with numpy broadcasting,
//! `scale·x + shift`), [`reduce`] (mean, softmax), [`matmul`] (batched,
//! broadcasting, `b` transposed in place), [`norm`] (layer and group norm
//! beside batch norm), [`linear`] on the last axis, [`conv::conv1d`]. Axes
//! are full-tensor axes. Over one to three spatial axes (`[N, C, L]`,
//! `[N, C, H, W]`, `[N, C, D, H, W]`, each run as 3-D with size-1 leading
//! axes): [`conv_nd`] (`Conv3d`, transposed convolutions), [`pool_nd`]
//! (max, average and adaptive pooling), [`interpolate`] (PyTorch's
//! resampling modes). The heavier of these split their rows over
//! [`crate::threads`]; each row is computed alone, so the values never
//! depend on the thread count.

pub mod activation;
pub mod broadcast;
pub mod conv;
pub mod conv_nd;
pub mod elementwise;
pub mod fast;
pub mod gather;
pub mod interpolate;
pub mod linear;
pub mod matmul;
pub mod norm;
pub mod pool;
pub mod pool_nd;
pub mod reduce;
pub mod shape;

use crate::error::{kernel, Error};
use crate::tensor::Tensor;
use netspec_model::shape::shape_str;

/// Splits a `[N, C, H, W]` tensor's shape, or explains why it is not one.
pub(crate) fn nchw(op: &'static str, x: &Tensor) -> Result<[usize; 4], Error> {
    match *x.shape() {
        [n, c, h, w] => Ok([n, c, h, w]),
        _ => kernel(
            op,
            format!(
                "expects a [N, C, H, W] tensor, found {}",
                shape_str(x.shape())
            ),
        ),
    }
}

/// Checks that a parameter slice has the length its shape requires.
pub(crate) fn check_len(
    op: &'static str,
    what: &str,
    data: &[f32],
    shape: &[usize],
) -> Result<(), Error> {
    if netspec_model::shape::numel(shape) != Some(data.len()) {
        return kernel(
            op,
            format!(
                "{what} must have shape {} ({} values), found {} values",
                shape_str(shape),
                shape.iter().product::<usize>(),
                data.len()
            ),
        );
    }
    Ok(())
}

/// `out[i] += a * x[i]` over two slices of one length; vectorises.
#[inline(always)]
pub(crate) fn axpy(out: &mut [f32], a: f32, x: &[f32]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o += a * v;
    }
}

/// Dot product with eight independent accumulators so that it vectorises
/// (the order of additions differs from a sequential sum by rounding only).
#[inline]
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f32; 8];
    let mut ca = a.chunks_exact(8);
    let mut cb = b.chunks_exact(8);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    let mut tail = 0.0;
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        tail += x * y;
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}
