//! Elementwise binary operations with numpy/PyTorch broadcasting
//! (`+ - * /` between tensors of any rank), and `scale·x + shift`.
//!
//! Shapes are right-aligned and size-1 dimensions repeat. The operands'
//! axes are first merged where neither breaks contiguity, so the work is a
//! sequence of contiguous runs: equal shapes are one run, a `[1, 197, 768]`
//! position embedding against `[N, 197, 768]` is N runs of 197·768, a
//! `[C, 1, 1]` scale against `[N, C, H, W]` is N·C runs of H·W with one
//! scalar each. Large outputs are split over the threads (elementwise, so
//! the values do not depend on the thread count).

use super::shape::{right_align, strides};
use crate::error::{kernel, Error};
use crate::tensor::Tensor;
use crate::threads;
use netspec_model::shape::{numel, shape_str};
use rayon::prelude::*;

/// Elements per parallel task: small tensors stay on one thread.
const CHUNK: usize = 1 << 15;

/// An elementwise binary operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    /// `a + b`.
    Add,
    /// `a - b`.
    Sub,
    /// `a * b`.
    Mul,
    /// `a / b`.
    Div,
    /// `max(a, b)` (`torch.maximum`).
    Max,
    /// `min(a, b)` (`torch.minimum`).
    Min,
}

impl BinaryOp {
    /// The operation's name in errors (`Add`, `Sub`, `Mul`, `Div`).
    fn name(self) -> &'static str {
        match self {
            BinaryOp::Add => "Add",
            BinaryOp::Sub => "Sub",
            BinaryOp::Mul => "Mul",
            BinaryOp::Div => "Div",
            BinaryOp::Max => "Maximum",
            BinaryOp::Min => "Minimum",
        }
    }
}

/// The broadcast shape of `a` and `b` (right-aligned, size-1 dimensions
/// repeat), or `None` if some pair of sizes differs with neither 1.
pub(crate) fn broadcast_shape(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let rank = a.len().max(b.len());
    let (a, b) = (right_align(a, rank), right_align(b, rank));
    a.iter()
        .zip(&b)
        .map(|(&x, &y)| match (x, y) {
            _ if x == y => Some(x),
            (1, _) => Some(y),
            (_, 1) => Some(x),
            _ => None,
        })
        .collect()
}

/// Strides of `shape` read as a tensor of shape `out` (right-aligned), 0
/// along the axes where it broadcasts.
pub(crate) fn broadcast_strides(shape: &[usize], out: &[usize]) -> Vec<usize> {
    let s = right_align(shape, out.len());
    let mut st = strides(&s);
    for (v, &n) in st.iter_mut().zip(&s) {
        if n == 1 {
            *v = 0;
        }
    }
    st
}

/// The iteration of one broadcast: merged axes (outermost first) with each
/// operand's strides; the last axis is the contiguous run (strides 0 or 1).
struct Plan {
    dims: Vec<usize>,
    sa: Vec<usize>,
    sb: Vec<usize>,
}

impl Plan {
    fn new(out: &[usize], a: &[usize], b: &[usize]) -> Plan {
        let (ta, tb) = (broadcast_strides(a, out), broadcast_strides(b, out));
        let mut p = Plan {
            dims: Vec::new(),
            sa: Vec::new(),
            sb: Vec::new(),
        };
        for ((&n, &x), &y) in out.iter().zip(&ta).zip(&tb) {
            if n == 1 {
                continue;
            }
            if let (Some(d), Some(px), Some(py)) =
                (p.dims.last_mut(), p.sa.last_mut(), p.sb.last_mut())
            {
                if *px == x * n && *py == y * n {
                    *d *= n;
                    *px = x;
                    *py = y;
                    continue;
                }
            }
            p.dims.push(n);
            p.sa.push(x);
            p.sb.push(y);
        }
        if p.dims.is_empty() {
            // One element.
            p.dims.push(1);
            p.sa.push(1);
            p.sb.push(1);
        }
        p
    }

    /// Operand offsets of the output's flat position `pos`.
    fn offsets(&self, mut pos: usize) -> (usize, usize) {
        let (mut oa, mut ob) = (0, 0);
        for d in (0..self.dims.len()).rev() {
            let i = pos % self.dims[d];
            pos /= self.dims[d];
            oa += i * self.sa[d];
            ob += i * self.sb[d];
        }
        (oa, ob)
    }
}

/// Where operand `a` comes from: its own data, or the output itself (in place).
#[derive(Clone, Copy)]
enum Lhs<'a> {
    Data(&'a [f32]),
    InPlace,
}

/// Computes `out[start..start + out.len()]` of the broadcast `f(a, b)`.
fn run_range<F: Fn(f32, f32) -> f32>(
    out: &mut [f32],
    start: usize,
    a: Lhs<'_>,
    b: &[f32],
    p: &Plan,
    f: F,
) {
    let last = p.dims.len() - 1;
    let (len, la, lb) = (p.dims[last], p.sa[last], p.sb[last]);
    let mut pos = start;
    let end = start + out.len();
    while pos < end {
        // One run (or the part of it inside this range).
        let col = pos % len;
        let n = (len - col).min(end - pos);
        let (oa, ob) = p.offsets(pos);
        let o = &mut out[pos - start..pos - start + n];
        match (a, la, lb) {
            (Lhs::InPlace, _, 1) => {
                let bs = &b[ob..ob + n];
                o.iter_mut().zip(bs).for_each(|(v, &y)| *v = f(*v, y));
            }
            (Lhs::InPlace, _, _) => {
                let y = b[ob];
                o.iter_mut().for_each(|v| *v = f(*v, y));
            }
            (Lhs::Data(a), 1, 1) => {
                let (xs, ys) = (&a[oa..oa + n], &b[ob..ob + n]);
                o.iter_mut()
                    .zip(xs.iter().zip(ys))
                    .for_each(|(v, (&x, &y))| *v = f(x, y));
            }
            (Lhs::Data(a), 1, _) => {
                let (xs, y) = (&a[oa..oa + n], b[ob]);
                o.iter_mut().zip(xs).for_each(|(v, &x)| *v = f(x, y));
            }
            (Lhs::Data(a), _, 1) => {
                let (x, ys) = (a[oa], &b[ob..ob + n]);
                o.iter_mut().zip(ys).for_each(|(v, &y)| *v = f(x, y));
            }
            (Lhs::Data(a), _, _) => o.fill(f(a[oa], b[ob])),
        }
        pos += n;
    }
}

/// Runs the whole broadcast into `out`, split over the threads when large.
fn run(out: &mut [f32], a: Lhs<'_>, b: &[f32], p: &Plan, op: BinaryOp) {
    fn go<F: Fn(f32, f32) -> f32 + Copy + Send + Sync>(
        out: &mut [f32],
        a: Lhs<'_>,
        b: &[f32],
        p: &Plan,
        f: F,
    ) {
        if out.len() <= CHUNK {
            run_range(out, 0, a, b, p, f);
            return;
        }
        threads::install(|threads| {
            if threads > 1 {
                out.par_chunks_mut(CHUNK)
                    .enumerate()
                    .for_each(|(i, o)| run_range(o, i * CHUNK, a, b, p, f));
            } else {
                run_range(out, 0, a, b, p, f);
            }
        });
    }
    match op {
        BinaryOp::Add => go(out, a, b, p, |x, y| x + y),
        BinaryOp::Sub => go(out, a, b, p, |x, y| x - y),
        BinaryOp::Mul => go(out, a, b, p, |x, y| x * y),
        BinaryOp::Div => go(out, a, b, p, |x, y| x / y),
        BinaryOp::Max => go(out, a, b, p, f32::max),
        BinaryOp::Min => go(out, a, b, p, f32::min),
    }
}

fn mismatch<T>(op: BinaryOp, a: &[usize], b: &[usize]) -> Result<T, Error> {
    kernel(
        op.name(),
        format!(
            "shapes {} and {} do not broadcast",
            shape_str(a),
            shape_str(b)
        ),
    )
}

/// `a op b` elementwise with numpy/PyTorch broadcasting; the output has
/// the broadcast shape (e.g. `[N, 197, 768] + [1, 197, 768]`,
/// `[N, C, H, W] * [C, 1, 1]`).
pub fn binary(a: &Tensor, b: &Tensor, op: BinaryOp) -> Result<Tensor, Error> {
    let (sa, sb) = (a.shape(), b.shape());
    let Some(shape) = broadcast_shape(sa, sb) else {
        return mismatch(op, sa, sb);
    };
    let Some(total) = numel(&shape) else {
        return mismatch(op, sa, sb);
    };
    let mut out = vec![0.0f32; total];
    if total > 0 {
        let p = Plan::new(&shape, sa, sb);
        run(&mut out, Lhs::Data(a.data()), b.data(), &p, op);
    }
    Ok(Tensor::from_parts(shape, out))
}

/// `a = a op b` in place, `b` broadcasting to `a`'s shape (the broadcast
/// shape must be `a`'s own: `b` may not enlarge `a`).
pub fn binary_assign(a: &mut Tensor, b: &Tensor, op: BinaryOp) -> Result<(), Error> {
    let (sa, sb) = (a.shape(), b.shape());
    match broadcast_shape(sa, sb) {
        Some(shape) if shape == sa => {}
        Some(shape) => {
            return kernel(
                op.name(),
                format!(
                    "cannot update {} in place with {}: the result would be {}",
                    shape_str(sa),
                    shape_str(sb),
                    shape_str(&shape)
                ),
            )
        }
        None => return mismatch(op, sa, sb),
    }
    if a.is_empty() {
        return Ok(());
    }
    let p = Plan::new(sa, sa, sb);
    run(a.data_mut(), Lhs::InPlace, b.data(), &p, op);
    Ok(())
}

/// `x = scale·x + shift` elementwise (any shape): a multiply, then an add,
/// each rounded, as PyTorch's `x * scale + shift`.
pub fn affine_in_place(x: &mut Tensor, scale: f32, shift: f32) {
    let one = |d: &mut [f32]| d.iter_mut().for_each(|v| *v = scale * *v + shift);
    let data = x.data_mut();
    if data.len() <= CHUNK {
        one(data);
        return;
    }
    threads::install(|threads| {
        if threads > 1 {
            data.par_chunks_mut(CHUNK).for_each(one);
        } else {
            one(data);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(shape: &[usize], data: &[f32]) -> Tensor {
        Tensor::new(shape, data.to_vec()).unwrap()
    }

    fn arange(shape: &[usize]) -> Tensor {
        let n: usize = shape.iter().product();
        Tensor::new(shape, (0..n).map(|i| i as f32).collect()).unwrap()
    }

    /// The definition: every output multi-index reads each operand at the
    /// same right-aligned index, 0 along its size-1 axes.
    fn by_definition(a: &Tensor, b: &Tensor, f: impl Fn(f32, f32) -> f32) -> Tensor {
        let shape = broadcast_shape(a.shape(), b.shape()).unwrap();
        let (ta, tb) = (
            broadcast_strides(a.shape(), &shape),
            broadcast_strides(b.shape(), &shape),
        );
        let total: usize = shape.iter().product();
        let mut out = Vec::with_capacity(total);
        for pos in 0..total {
            let (mut rem, mut oa, mut ob) = (pos, 0, 0);
            for d in (0..shape.len()).rev() {
                let i = rem % shape[d];
                rem /= shape[d];
                oa += i * ta[d];
                ob += i * tb[d];
            }
            out.push(f(a.data()[oa], b.data()[ob]));
        }
        Tensor::new(&shape, out).unwrap()
    }

    #[test]
    fn equal_shapes_each_op() {
        // [1, 2, 3] op [2, 4, 6]: + [3 6 9], - [-1 -2 -3], * [2 8 18], / [0.5 0.5 0.5].
        let a = t(&[3], &[1.0, 2.0, 3.0]);
        let b = t(&[3], &[2.0, 4.0, 6.0]);
        assert_eq!(
            binary(&a, &b, BinaryOp::Add).unwrap().data(),
            &[3.0, 6.0, 9.0]
        );
        assert_eq!(
            binary(&a, &b, BinaryOp::Sub).unwrap().data(),
            &[-1.0, -2.0, -3.0]
        );
        assert_eq!(
            binary(&a, &b, BinaryOp::Mul).unwrap().data(),
            &[2.0, 8.0, 18.0]
        );
        assert_eq!(binary(&a, &b, BinaryOp::Div).unwrap().data(), &[0.5; 3]);
    }

    #[test]
    fn broadcasting_by_hand() {
        // [2, 2, 2] = 0..8 plus a position embedding [1, 2, 2] = [10 20 30 40]:
        // [10 21 32 43 | 14 25 36 47].
        let x = arange(&[2, 2, 2]);
        let pos = t(&[1, 2, 2], &[10.0, 20.0, 30.0, 40.0]);
        let y = binary(&x, &pos, BinaryOp::Add).unwrap();
        assert_eq!(y.shape(), &[2, 2, 2]);
        assert_eq!(y.data(), &[10.0, 21.0, 32.0, 43.0, 14.0, 25.0, 36.0, 47.0]);
        // [1, 2, 2, 2] times a per-channel [2, 1, 1] = (10, -1): channel 0 x10,
        // channel 1 negated.
        let x = arange(&[1, 2, 2, 2]);
        let s = t(&[2, 1, 1], &[10.0, -1.0]);
        let y = binary(&x, &s, BinaryOp::Mul).unwrap();
        assert_eq!(y.data(), &[0.0, 10.0, 20.0, 30.0, -4.0, -5.0, -6.0, -7.0]);
        // Both sides broadcast: [2, 1] - [3] = [[1 - 1, 1 - 2, 1 - 3], [2 - 1, 2 - 2, 2 - 3]].
        let a = t(&[2, 1], &[1.0, 2.0]);
        let b = t(&[3], &[1.0, 2.0, 3.0]);
        let y = binary(&a, &b, BinaryOp::Sub).unwrap();
        assert_eq!(y.shape(), &[2, 3]);
        assert_eq!(y.data(), &[0.0, -1.0, -2.0, 1.0, 0.0, -1.0]);
        // A scalar divisor (rank 0): [2, 4] / 2 = [1, 2].
        let y = binary(&t(&[2], &[2.0, 4.0]), &t(&[], &[2.0]), BinaryOp::Div).unwrap();
        assert_eq!(y.data(), &[1.0, 2.0]);
        // The lower-rank operand on the left: 1 / [1, 2, 4] = [1, 0.5, 0.25].
        let y = binary(
            &t(&[1], &[1.0]),
            &t(&[1, 3], &[1.0, 2.0, 4.0]),
            BinaryOp::Div,
        )
        .unwrap();
        assert_eq!(y.shape(), &[1, 3]);
        assert_eq!(y.data(), &[1.0, 0.5, 0.25]);
        let e = binary(&arange(&[2, 3]), &arange(&[2]), BinaryOp::Add).unwrap_err();
        assert_eq!(e.to_string(), "Add: shapes [2, 3] and [2] do not broadcast");
    }

    #[test]
    fn random_broadcasts_match_the_definition() {
        // Big enough to cross chunk boundaries mid-run (threads split there).
        let cases: [(&[usize], &[usize]); 7] = [
            (&[3, 197, 130], &[1, 197, 130]),
            (&[2, 7, 60, 50], &[7, 1, 1]),
            (&[2, 7, 60, 50], &[2, 1, 60, 1]),
            (&[1, 60, 1], &[3, 1, 700]),
            (&[5, 1, 3], &[4, 1]),
            (&[300, 200], &[300, 200]),
            (&[4, 1], &[4, 90000]),
        ];
        for (sa, sb) in cases {
            let n: usize = sa.iter().product();
            let m: usize = sb.iter().product();
            let a = Tensor::new(sa, (0..n).map(|i| (i % 13) as f32 - 6.0).collect()).unwrap();
            let b = Tensor::new(sb, (0..m).map(|i| (i % 7) as f32 + 0.5).collect()).unwrap();
            for (op, f) in [
                (BinaryOp::Add, (|x, y| x + y) as fn(f32, f32) -> f32),
                (BinaryOp::Sub, |x, y| x - y),
                (BinaryOp::Mul, |x, y| x * y),
                (BinaryOp::Div, |x, y| x / y),
            ] {
                let expect = by_definition(&a, &b, f);
                assert_eq!(binary(&a, &b, op).unwrap(), expect, "{sa:?} {op:?} {sb:?}");
                let flipped = by_definition(&b, &a, f);
                assert_eq!(binary(&b, &a, op).unwrap(), flipped, "{sb:?} {op:?} {sa:?}");
                if expect.shape() == sa {
                    let mut c = a.clone();
                    binary_assign(&mut c, &b, op).unwrap();
                    assert_eq!(c, expect, "in place {sa:?} {op:?} {sb:?}");
                }
            }
        }
    }

    #[test]
    fn assign_in_place() {
        // [2, 2] = [[0, 1], [2, 3]] minus a row [1, 2] = [10, 20]: [[-10, -19], [-8, -17]].
        let mut a = arange(&[2, 2]);
        binary_assign(&mut a, &t(&[1, 2], &[10.0, 20.0]), BinaryOp::Sub).unwrap();
        assert_eq!(a.data(), &[-10.0, -19.0, -8.0, -17.0]);
        let mut a = arange(&[2, 1]);
        let e = binary_assign(&mut a, &arange(&[1, 3]), BinaryOp::Add).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Add: cannot update [2, 1] in place with [1, 3]: the result would be [2, 3]"
        );
    }

    #[test]
    fn affine() {
        // 2·[0, 1, -3] + 0.5 = [0.5, 2.5, -5.5].
        let mut x = t(&[1, 3], &[0.0, 1.0, -3.0]);
        affine_in_place(&mut x, 2.0, 0.5);
        assert_eq!(x.data(), &[0.5, 2.5, -5.5]);
        // Large (threaded): 0.5·i - 1 for i < 100000.
        let mut x = arange(&[100_000]);
        affine_in_place(&mut x, 0.5, -1.0);
        assert!(x
            .data()
            .iter()
            .enumerate()
            .all(|(i, &v)| v == 0.5 * i as f32 - 1.0));
    }
}
