//! The one matrix product every fast kernel uses: `C = A·B` (or `C += A·B`)
//! on f32 matrices of any strides, through the `gemm` crate.
//!
//! Why `gemm`: measured against `matrixmultiply` on this project's machine
//! (`benches/kernels.rs`, group `gemm`), it was the faster of the two on the
//! convolution-shaped products (im2col and 1x1 shapes of ResNet, 10 to 40 %
//! ahead on one thread) and level with it on square ones; it detects
//! AVX2/FMA/AVX-512/NEON at run time and splits one product over a rayon
//! pool. It packs its operands internally; the convolution keeps its weights
//! in the row-major layout the crate reads fastest among those measured.

use crate::error::{kernel, Error};

/// A read-only matrix view: element `(i, j)` is `data[i·rs + j·cs]`.
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a> {
    /// The elements (at least up to the last one addressed).
    pub data: &'a [f32],
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// Row stride (elements between `(i, j)` and `(i + 1, j)`).
    pub rs: usize,
    /// Column stride.
    pub cs: usize,
}

impl<'a> MatRef<'a> {
    /// A row-major `rows × cols` matrix whose rows are `ld` apart.
    pub fn row_major(data: &'a [f32], rows: usize, cols: usize, ld: usize) -> MatRef<'a> {
        MatRef {
            data,
            rows,
            cols,
            rs: ld,
            cs: 1,
        }
    }

    /// A column-major `rows × cols` matrix whose columns are `ld` apart.
    pub fn col_major(data: &'a [f32], rows: usize, cols: usize, ld: usize) -> MatRef<'a> {
        MatRef {
            data,
            rows,
            cols,
            rs: 1,
            cs: ld,
        }
    }
}

/// A mutable matrix view, as [`MatRef`].
#[derive(Debug)]
pub struct MatMut<'a> {
    /// The elements (at least up to the last one addressed).
    pub data: &'a mut [f32],
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// Row stride.
    pub rs: usize,
    /// Column stride.
    pub cs: usize,
}

impl<'a> MatMut<'a> {
    /// A row-major `rows × cols` matrix whose rows are `ld` apart.
    pub fn row_major(data: &'a mut [f32], rows: usize, cols: usize, ld: usize) -> MatMut<'a> {
        MatMut {
            data,
            rows,
            cols,
            rs: ld,
            cs: 1,
        }
    }
}

/// Whether every element `(i, j)`, `i < rows`, `j < cols`, lies inside `len`.
fn fits(len: usize, rows: usize, cols: usize, rs: usize, cs: usize) -> bool {
    if rows == 0 || cols == 0 {
        return true;
    }
    let last = (rows - 1)
        .checked_mul(rs)
        .and_then(|r| (cols - 1).checked_mul(cs).and_then(|c| r.checked_add(c)));
    matches!(last, Some(l) if l < len && isize::try_from(rs).is_ok() && isize::try_from(cs).is_ok())
}

/// `C = A·B` (`accumulate = false`) or `C += A·B`, with `A` `m × k`, `B`
/// `k × n` and `C` `m × n`, on up to `threads` threads of the current rayon
/// pool (1: the calling thread only).
///
/// Fails (never reads or writes out of bounds) if the dimensions disagree or
/// a view is shorter than its strides require.
pub fn matmul(
    c: MatMut<'_>,
    a: MatRef<'_>,
    b: MatRef<'_>,
    accumulate: bool,
    threads: usize,
) -> Result<(), Error> {
    matmul_scaled(c, a, b, accumulate, 1.0, threads)
}

/// [`matmul`] with the product scaled: `C = scale·A·B` or `C += scale·A·B`
/// (the scale applied inside the product's kernel, no extra pass).
pub fn matmul_scaled(
    c: MatMut<'_>,
    a: MatRef<'_>,
    b: MatRef<'_>,
    accumulate: bool,
    scale: f32,
    threads: usize,
) -> Result<(), Error> {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    if b.rows != k || c.rows != m || c.cols != n {
        return kernel(
            "GEMM",
            format!(
                "cannot multiply {}x{} by {}x{} into {}x{}",
                a.rows, a.cols, b.rows, b.cols, c.rows, c.cols
            ),
        );
    }
    for (what, len, rows, cols, rs, cs) in [
        ("A", a.data.len(), m, k, a.rs, a.cs),
        ("B", b.data.len(), k, n, b.rs, b.cs),
        ("C", c.data.len(), m, n, c.rs, c.cs),
    ] {
        if !fits(len, rows, cols, rs, cs) {
            return kernel(
                "GEMM",
                format!(
                    "{what} of {rows}x{cols} with strides ({rs}, {cs}) does not fit in {len} values"
                ),
            );
        }
    }
    if m == 0 || n == 0 {
        return Ok(());
    }
    if k == 0 {
        if !accumulate {
            for i in 0..m {
                for j in 0..n {
                    c.data[i * c.rs + j * c.cs] = 0.0;
                }
            }
        }
        return Ok(());
    }
    let parallelism = if threads > 1 {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    // `dst := 1·dst + scale·lhs·rhs` (the first factor is ignored when the
    // destination is not read).
    // SAFETY: every element the product reads or writes is inside its slice
    // (checked by `fits` above, strides fit in isize); `c` is borrowed
    // mutably, so it does not alias `a` or `b`.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.data.as_mut_ptr(),
            c.cs as isize,
            c.rs as isize,
            accumulate,
            a.data.as_ptr(),
            a.cs as isize,
            a.rs as isize,
            b.data.as_ptr(),
            b.cs as isize,
            b.rs as isize,
            1.0,
            scale,
            false,
            false,
            false,
            parallelism,
        );
    }
    Ok(())
}

/// FLOP/s of [`matmul`] on a square `size × size` product on
/// [`num_threads`](crate::threads::num_threads) threads: the best of `runs`
/// timed runs after one untimed one (`2·size³` FLOPs each). The
/// `utilization` example compares it with the measured FMA peak.
pub fn square_rate(size: usize, runs: usize) -> f64 {
    crate::threads::install(|threads| square_rate_on(size, runs, threads))
}

fn square_rate_on(size: usize, runs: usize, threads: usize) -> f64 {
    let a: Vec<f32> = (0..size * size)
        .map(|i| (i % 7) as f32 * 0.25 - 0.5)
        .collect();
    let b: Vec<f32> = (0..size * size)
        .map(|i| (i % 5) as f32 * 0.25 - 0.5)
        .collect();
    let mut c = vec![0.0f32; size * size];
    let mut best = f64::INFINITY;
    for r in 0..=runs.max(1) {
        let start = std::time::Instant::now();
        let ok = matmul(
            MatMut::row_major(&mut c, size, size, size),
            MatRef::row_major(&a, size, size, size),
            MatRef::row_major(&b, size, size, size),
            false,
            threads,
        );
        let t = start.elapsed().as_secs_f64();
        if ok.is_err() {
            return 0.0;
        }
        if r > 0 {
            best = best.min(t);
        }
    }
    std::hint::black_box(&c);
    2.0 * (size as f64).powi(3) / best.max(1e-12)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_product_by_hand() {
        // [[1, 2], [3, 4]] · [[5, 6], [7, 8]] = [[19, 22], [43, 50]]; then += again.
        let a = [1.0, 2.0, 3.0, 4.0];
        let b = [5.0, 6.0, 7.0, 8.0];
        let mut c = [0.0; 4];
        matmul(
            MatMut::row_major(&mut c, 2, 2, 2),
            MatRef::row_major(&a, 2, 2, 2),
            MatRef::row_major(&b, 2, 2, 2),
            false,
            1,
        )
        .unwrap();
        assert_eq!(c, [19.0, 22.0, 43.0, 50.0]);
        // A given column-major: the same numbers read as [[1, 3], [2, 4]].
        matmul(
            MatMut::row_major(&mut c, 2, 2, 2),
            MatRef::col_major(&a, 2, 2, 2),
            MatRef::row_major(&b, 2, 2, 2),
            true,
            1,
        )
        .unwrap();
        // [[1, 3], [2, 4]] · B = [[26, 30], [38, 44]]
        assert_eq!(c, [45.0, 52.0, 81.0, 94.0]);
    }

    #[test]
    fn rejects_views_that_do_not_fit() {
        let mut c = [0.0; 4];
        let e = matmul(
            MatMut::row_major(&mut c, 2, 2, 2),
            MatRef::row_major(&[0.0; 3], 2, 2, 2),
            MatRef::row_major(&[0.0; 4], 2, 2, 2),
            false,
            1,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "GEMM: A of 2x2 with strides (2, 1) does not fit in 3 values"
        );
        let e = matmul(
            MatMut::row_major(&mut c, 2, 2, 2),
            MatRef::row_major(&[0.0; 6], 2, 3, 3),
            MatRef::row_major(&[0.0; 4], 2, 2, 2),
            false,
            1,
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "GEMM: cannot multiply 2x3 by 2x2 into 2x2");
    }
}
