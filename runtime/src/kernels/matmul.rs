//! Batched matrix products with broadcasting: `torch.matmul` scaled by
//! `alpha`, with `b` optionally read transposed (attention's `Q·Kᵀ` without
//! a copy).
//!
//! Every product runs through the shared GEMM ([`fast::gemm`](super::fast::gemm)),
//! reading each operand in place through its strides. When `b` is one
//! matrix shared by the whole batch, the batch folds into the rows of a
//! single product (`[N, 4, 256, 64] @ [64, 32]` is one `[N·1024, 64] × [64, 32]`
//! product); otherwise the batch of products is split over the threads, one
//! product per task, or each product over the threads when there are fewer
//! products than threads. The GEMM never splits the reduction, so the
//! values do not depend on the thread count. [`matmul_reference`] is the
//! plain-loop definition (f64 accumulation) the tests compare against.

use super::broadcast::{broadcast_shape, broadcast_strides};
use super::fast::gemm::{matmul_scaled, MatMut, MatRef};
use crate::error::{kernel, Error};
use crate::tensor::Tensor;
use crate::threads;
use netspec_model::shape::{numel, shape_str};
use rayon::prelude::*;

/// The geometry of one batched product, resolved from the two shapes.
#[derive(Debug)]
struct Geometry {
    /// Output shape (a 1-D operand's matrix dimension removed).
    out: Vec<usize>,
    /// Broadcast batch shape.
    batch: Vec<usize>,
    /// Per batch axis, the offset (in elements) between consecutive
    /// matrices of `a` and of `b` (0 where the operand broadcasts).
    sa: Vec<usize>,
    sb: Vec<usize>,
    m: usize,
    k: usize,
    n: usize,
}

impl Geometry {
    fn new(a: &[usize], b: &[usize], trans_b: bool) -> Result<Geometry, Error> {
        let bad = |why: &str| {
            kernel(
                "Matmul",
                format!(
                    "cannot multiply {} by {}{}: {why}",
                    shape_str(a),
                    shape_str(b),
                    if trans_b { " (transposed)" } else { "" }
                ),
            )
        };
        // 1-D operands as PyTorch: a vector `a` is one row, a vector `b` one
        // column (the same memory either way round, so `trans_b` changes nothing).
        let (a_batch, m, ka) = match a {
            [k] => (&a[..0], 1, *k),
            [batch @ .., m, k] => (batch, *m, *k),
            [] => return bad("both operands need rank 1 or more"),
        };
        let (b_batch, kb, n) = match b {
            [k] => (&b[..0], *k, 1),
            [batch @ .., r, c] if trans_b => (batch, *c, *r),
            [batch @ .., r, c] => (batch, *r, *c),
            [] => return bad("both operands need rank 1 or more"),
        };
        if ka != kb {
            return bad(&format!("the inner dimensions {ka} and {kb} differ"));
        }
        let Some(batch) = broadcast_shape(a_batch, b_batch) else {
            return bad("the batch dimensions do not broadcast");
        };
        let mut out = batch.clone();
        if a.len() > 1 {
            out.push(m);
        }
        if b.len() > 1 {
            out.push(n);
        }
        if numel(&out).is_none() {
            return bad("the output is too large");
        }
        let scale = |st: Vec<usize>, size: usize| st.into_iter().map(|s| s * size).collect();
        Ok(Geometry {
            sa: scale(broadcast_strides(a_batch, &batch), m * ka),
            sb: scale(broadcast_strides(b_batch, &batch), kb * n),
            out,
            batch,
            m,
            k: ka,
            n,
        })
    }

    /// Offsets of batch `t`'s matrices in `a` and `b`.
    fn offsets(&self, mut t: usize) -> (usize, usize) {
        let (mut oa, mut ob) = (0, 0);
        for d in (0..self.batch.len()).rev() {
            let i = t % self.batch[d];
            t /= self.batch[d];
            oa += i * self.sa[d];
            ob += i * self.sb[d];
        }
        (oa, ob)
    }

    /// Number of products in the batch.
    fn count(&self) -> usize {
        self.batch.iter().product()
    }
}

/// `b`'s matrix at `off` as a `k × n` view (`trans_b`: stored `[n, k]`).
fn b_view(data: &[f32], off: usize, k: usize, n: usize, trans_b: bool) -> MatRef<'_> {
    if trans_b {
        MatRef::col_major(&data[off..], k, n, k)
    } else {
        MatRef::row_major(&data[off..], k, n, n)
    }
}

/// `alpha·(a @ b)` with `torch.matmul`'s semantics: the last two axes of each
/// operand are matrices (`a` `[..., M, K]`, `b` `[..., K, N]`, or `b`
/// `[..., N, K]` read transposed when `trans_b`), the axes before them batch
/// dimensions that broadcast numpy-style (a missing or size-1 axis repeats:
/// `[N, 12, 197, 64] @ [N, 12, 64, 197]`, `[N, 4, 256, 64] @ [64, 32]`).
/// A 1-D `a` is one row and a 1-D `b` one column, their axis removed from
/// the output, as in PyTorch.
pub fn matmul(a: &Tensor, b: &Tensor, trans_b: bool, alpha: f32) -> Result<Tensor, Error> {
    let g = Geometry::new(a.shape(), b.shape(), trans_b)?;
    let (m, k, n) = (g.m, g.k, g.n);
    let count = g.count();
    let mut out = vec![0.0f32; count * m * n];
    if out.is_empty() {
        return Ok(Tensor::from_parts(g.out, out));
    }
    let (ad, bd) = (a.data(), b.data());
    // `b` shared by the whole batch and `a` not broadcast: one product with
    // the batch folded into the rows.
    let a_dense = a.len() == count * m * k;
    if g.sb.iter().all(|&s| s == 0) && a_dense {
        let rows = count * m;
        threads::install(|threads| {
            matmul_scaled(
                MatMut::row_major(&mut out, rows, n, n),
                MatRef::row_major(ad, rows, k, k),
                b_view(bd, 0, k, n, trans_b),
                false,
                alpha,
                threads,
            )
        })?;
        return Ok(Tensor::from_parts(g.out, out));
    }
    let one = |t: usize, c: &mut [f32], threads: usize| {
        let (oa, ob) = g.offsets(t);
        matmul_scaled(
            MatMut::row_major(c, m, n, n),
            MatRef::row_major(&ad[oa..], m, k, k),
            b_view(bd, ob, k, n, trans_b),
            false,
            alpha,
            threads,
        )
    };
    threads::install(|threads| {
        if threads > 1 && count >= threads {
            out.par_chunks_mut(m * n)
                .enumerate()
                .try_for_each(|(t, c)| one(t, c, 1))
        } else {
            out.chunks_exact_mut(m * n)
                .enumerate()
                .try_for_each(|(t, c)| one(t, c, threads))
        }
    })?;
    Ok(Tensor::from_parts(g.out, out))
}

/// [`matmul`] by its definition: plain loops, f64 accumulation, one
/// rounding per output. The ground truth for tests.
pub fn matmul_reference(
    a: &Tensor,
    b: &Tensor,
    trans_b: bool,
    alpha: f32,
) -> Result<Tensor, Error> {
    let g = Geometry::new(a.shape(), b.shape(), trans_b)?;
    let (m, k, n) = (g.m, g.k, g.n);
    let (ad, bd) = (a.data(), b.data());
    let mut out = Vec::with_capacity(g.count() * m * n);
    for t in 0..g.count() {
        let (oa, ob) = g.offsets(t);
        for i in 0..m {
            for j in 0..n {
                let mut acc = 0.0f64;
                for p in 0..k {
                    let bv = if trans_b {
                        bd[ob + j * k + p]
                    } else {
                        bd[ob + p * n + j]
                    };
                    acc += f64::from(ad[oa + i * k + p]) * f64::from(bv);
                }
                out.push((f64::from(alpha) * acc) as f32);
            }
        }
    }
    Ok(Tensor::from_parts(g.out, out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::rand_core::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn t(shape: &[usize], data: &[f32]) -> Tensor {
        Tensor::new(shape, data.to_vec()).unwrap()
    }

    fn random(rng: &mut ChaCha8Rng, shape: &[usize]) -> Tensor {
        let n: usize = shape.iter().product();
        let data = (0..n)
            .map(|_| (rng.next_u32() >> 8) as f32 / (1u32 << 23) as f32 - 1.0)
            .collect();
        Tensor::new(shape, data).unwrap()
    }

    /// `|x - y| <= tol · max(|y|, scale)` elementwise, shapes equal.
    fn assert_close(x: &Tensor, y: &Tensor, tol: f32, what: &str) {
        assert_eq!(x.shape(), y.shape(), "{what}: shapes");
        let scale = y
            .data()
            .iter()
            .fold(0.0f32, |m, v| m.max(v.abs()))
            .max(1e-30);
        for (i, (a, b)) in x.data().iter().zip(y.data()).enumerate() {
            assert!(
                (a - b).abs() <= tol * scale,
                "{what}: at {i}: {a} vs {b} (largest {scale})"
            );
        }
    }

    #[test]
    fn products_by_hand() {
        // [[1, 2], [3, 4]] @ [[5, 6], [7, 8]] = [[19, 22], [43, 50]], times 0.5.
        let a = t(&[2, 2], &[1.0, 2.0, 3.0, 4.0]);
        let b = t(&[2, 2], &[5.0, 6.0, 7.0, 8.0]);
        for f in [matmul, matmul_reference] {
            let y = f(&a, &b, false, 0.5).unwrap();
            assert_eq!(y.shape(), &[2, 2]);
            assert_eq!(y.data(), &[9.5, 11.0, 21.5, 25.0]);
            // trans_b: b read as [[5, 7], [6, 8]]: [[1·5 + 2·6, 1·7 + 2·8], [3·5 + 4·6, 3·7 + 4·8]]
            // = [[17, 23], [39, 53]].
            let y = f(&a, &b, true, 1.0).unwrap();
            assert_eq!(y.data(), &[17.0, 23.0, 39.0, 53.0]);
        }
        // A batch of two [1, 2] @ one shared [2, 1] = [[1], [1]]:
        // [1, 2]·[1, 1]ᵀ = 3, [3, 4]·[1, 1]ᵀ = 7; output [2, 1, 1].
        let a = t(&[2, 1, 2], &[1.0, 2.0, 3.0, 4.0]);
        let b = t(&[2, 1], &[1.0, 1.0]);
        let y = matmul(&a, &b, false, 1.0).unwrap();
        assert_eq!(y.shape(), &[2, 1, 1]);
        assert_eq!(y.data(), &[3.0, 7.0]);
        // A shared a against a batch of b: [1, 2] @ [[1], [0]] = 1, @ [[0], [1]] = 2.
        let a = t(&[1, 2], &[1.0, 2.0]);
        let b = t(&[2, 2, 1], &[1.0, 0.0, 0.0, 1.0]);
        let y = matmul(&a, &b, false, 1.0).unwrap();
        assert_eq!(y.shape(), &[2, 1, 1]);
        assert_eq!(y.data(), &[1.0, 2.0]);
        // 1-D operands: [1, 2] @ [[1, 2], [3, 4]] = [7, 10]; [[1, 2], [3, 4]] @ [1, 1] = [3, 7];
        // [1, 2] @ [3, 4] = 11 (rank 0).
        let v = t(&[2], &[1.0, 2.0]);
        let m = t(&[2, 2], &[1.0, 2.0, 3.0, 4.0]);
        let y = matmul(&v, &m, false, 1.0).unwrap();
        assert_eq!((y.shape(), y.data()), (&[2][..], &[7.0, 10.0][..]));
        let y = matmul(&m, &t(&[2], &[1.0, 1.0]), false, 1.0).unwrap();
        assert_eq!((y.shape(), y.data()), (&[2][..], &[3.0, 7.0][..]));
        let y = matmul(&v, &t(&[2], &[3.0, 4.0]), false, 1.0).unwrap();
        assert_eq!((y.shape(), y.data()), (&[][..], &[11.0][..]));
    }

    #[test]
    fn errors_name_the_shapes() {
        let a = Tensor::zeros(&[2, 3]).unwrap();
        let b = Tensor::zeros(&[2, 3]).unwrap();
        assert_eq!(
            matmul(&a, &b, false, 1.0).unwrap_err().to_string(),
            "Matmul: cannot multiply [2, 3] by [2, 3]: the inner dimensions 3 and 2 differ"
        );
        assert!(matmul(&a, &b, true, 1.0).is_ok());
        let a = Tensor::zeros(&[2, 2, 3]).unwrap();
        let b = Tensor::zeros(&[3, 3, 4]).unwrap();
        assert_eq!(
            matmul(&a, &b, false, 1.0).unwrap_err().to_string(),
            "Matmul: cannot multiply [2, 2, 3] by [3, 3, 4]: the batch dimensions do not broadcast"
        );
        let s = Tensor::zeros(&[]).unwrap();
        assert!(matmul(&s, &b, false, 1.0).is_err());
    }

    #[test]
    fn random_shapes_match_the_reference() {
        let _threads = crate::kernels::fast::tests::hold_threads();
        let mut rng = ChaCha8Rng::seed_from_u64(21);
        let pick = |rng: &mut ChaCha8Rng, lo: usize, hi: usize| {
            lo + rng.next_u32() as usize % (hi - lo + 1)
        };
        // Fixed attention-like cases, then random ones.
        let mut cases: Vec<(Vec<usize>, Vec<usize>, bool)> = vec![
            (vec![2, 3, 37, 16], vec![2, 3, 37, 16], true),
            (vec![2, 3, 37, 37], vec![2, 3, 37, 16], false),
            (vec![2, 4, 20, 16], vec![16, 8], false),
            (vec![2, 4, 20, 16], vec![8, 16], true),
            (vec![1, 20, 16], vec![3, 16, 5], false),
            (vec![3, 1, 5, 7], vec![1, 4, 7, 6], false),
            (vec![2, 1, 5, 7], vec![4, 6, 7], true),
            (vec![5, 0, 3], vec![3, 4], false),
            (vec![2, 5, 0], vec![2, 0, 4], false),
        ];
        for _ in 0..40 {
            let (m, k, n) = (
                pick(&mut rng, 1, 40),
                pick(&mut rng, 1, 40),
                pick(&mut rng, 1, 40),
            );
            let rank = pick(&mut rng, 0, 3);
            let batch: Vec<usize> = (0..rank).map(|_| pick(&mut rng, 1, 3)).collect();
            let mut ba = batch.clone();
            let mut bb = batch.clone();
            for d in 0..rank {
                match pick(&mut rng, 0, 3) {
                    0 => ba[d] = 1,
                    1 => bb[d] = 1,
                    _ => {}
                }
            }
            // Sometimes a lower-rank operand.
            let da = pick(&mut rng, 0, rank);
            let db = if da == 0 { pick(&mut rng, 0, rank) } else { 0 };
            let trans_b = pick(&mut rng, 0, 1) == 1;
            let mut sa = ba[da..].to_vec();
            sa.extend([m, k]);
            let mut sb = bb[db..].to_vec();
            sb.extend(if trans_b { [n, k] } else { [k, n] });
            cases.push((sa, sb, trans_b));
        }
        for (sa, sb, trans_b) in cases {
            let a = random(&mut rng, &sa);
            let b = random(&mut rng, &sb);
            let alpha = 0.125;
            let expect = matmul_reference(&a, &b, trans_b, alpha).unwrap();
            let what = format!("{sa:?} @ {sb:?} trans_b {trans_b}");
            threads::set_num_threads(1);
            let one = matmul(&a, &b, trans_b, alpha).unwrap();
            assert_close(&one, &expect, 1e-5, &what);
            threads::set_num_threads(2);
            let two = matmul(&a, &b, trans_b, alpha).unwrap();
            assert_close(&two, &one, 1e-6, &format!("{what}: 2 threads"));
        }
        threads::set_num_threads(0);
    }
}
