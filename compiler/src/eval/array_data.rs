//! The arithmetic of compile-time arrays on their data: row-major values of
//! a full shape, in f64. Every function here is total: the callers check
//! shapes and sizes first (with spanned errors), and an offset that would
//! fall outside the data reads 0 rather than panicking.

use netspec_model::shape::numel;

/// Row-major strides of `shape`.
pub(super) fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1usize; shape.len()];
    for k in (0..shape.len().saturating_sub(1)).rev() {
        s[k] = s[k + 1].saturating_mul(shape[k + 1]);
    }
    s
}

/// Calls `f` with every multi-index of `shape`, in row-major order.
fn walk(shape: &[usize], mut f: impl FnMut(&[usize])) {
    let Some(n) = numel(shape) else { return };
    let mut index = vec![0usize; shape.len()];
    for _ in 0..n {
        f(&index);
        for k in (0..shape.len()).rev() {
            index[k] += 1;
            if index[k] < shape[k] {
                break;
            }
            index[k] = 0;
        }
    }
}

fn at(data: &[f64], offset: usize) -> f64 {
    data.get(offset).copied().unwrap_or(0.0)
}

/// Values gathered into `out` (a shape) by `offset(index)` into `data`.
fn gather_by(out: &[usize], data: &[f64], mut offset: impl FnMut(&[usize]) -> usize) -> Vec<f64> {
    let mut values = Vec::with_capacity(numel(out).unwrap_or(0));
    walk(out, |i| values.push(at(data, offset(i))));
    values
}

/// Calls `f` with the offsets into two operands, given their strides over
/// `out`'s axes (0 along an axis an operand broadcasts), for every
/// multi-index of `out` in row-major order.
fn walk_strided(out: &[usize], sa: &[usize], sb: &[usize], mut f: impl FnMut(usize, usize)) {
    let Some(n) = numel(out) else { return };
    let r = out.len().min(sa.len()).min(sb.len());
    let mut index = vec![0usize; r];
    let (mut oa, mut ob) = (0usize, 0usize);
    for _ in 0..n {
        f(oa, ob);
        for k in (0..r).rev() {
            index[k] += 1;
            oa = oa.wrapping_add(sa[k]);
            ob = ob.wrapping_add(sb[k]);
            if index[k] < out[k] {
                break;
            }
            oa = oa.wrapping_sub(sa[k].wrapping_mul(out[k]));
            ob = ob.wrapping_sub(sb[k].wrapping_mul(out[k]));
            index[k] = 0;
        }
    }
}

/// `x.permute(perm)`: output axis `i` is input axis `perm[i]`.
pub(super) fn permute(shape: &[usize], data: &[f64], perm: &[usize]) -> (Vec<usize>, Vec<f64>) {
    let s = strides(shape);
    let out: Vec<usize> = perm
        .iter()
        .map(|&p| shape.get(p).copied().unwrap_or(1))
        .collect();
    let moved: Vec<usize> = perm
        .iter()
        .map(|&p| s.get(p).copied().unwrap_or(0))
        .collect();
    let mut values = Vec::with_capacity(numel(&out).unwrap_or(0));
    walk_strided(&out, &moved, &moved, |o, _| values.push(at(data, o)));
    (out, values)
}

/// `f(a, b)` elementwise with PyTorch's broadcasting (right-aligned, size-1
/// dimensions stretch) into the shape `out`, which the caller computed.
pub(super) fn broadcast(
    (a_shape, a): (&[usize], &[f64]),
    (b_shape, b): (&[usize], &[f64]),
    out: &[usize],
    f: impl Fn(f64, f64) -> f64,
) -> Vec<f64> {
    // Each operand's strides over the output's axes: 0 where it has no
    // axis (left of its shape) or a size-1 axis that stretches.
    let aligned = |shape: &[usize]| -> Vec<usize> {
        let s = strides(shape);
        let skip = out.len().saturating_sub(shape.len());
        (0..out.len())
            .map(|k| match k.checked_sub(skip) {
                Some(j) if shape.get(j).is_some_and(|&d| d != 1) => s.get(j).copied().unwrap_or(0),
                _ => 0,
            })
            .collect()
    };
    let (sa, sb) = (aligned(a_shape), aligned(b_shape));
    let mut values = Vec::with_capacity(numel(out).unwrap_or(0));
    walk_strided(out, &sa, &sb, |i, j| values.push(f(at(a, i), at(b, j))));
    values
}

/// `torch.roll`: along each `(axis, shift)` (shift in `0..size`), the entry
/// at `j` moves to `j + shift`, wrapping around.
pub(super) fn roll(shape: &[usize], data: &[f64], shifts: &[(usize, usize)]) -> Vec<f64> {
    let s = strides(shape);
    gather_by(shape, data, |i| {
        i.iter()
            .enumerate()
            .map(|(k, &x)| {
                let size = shape.get(k).copied().unwrap_or(1).max(1);
                let shift: usize = shifts
                    .iter()
                    .filter(|(a, _)| *a == k)
                    .map(|(_, v)| *v % size)
                    .sum();
                // (x - shift) mod size, with x and shift below size.
                let from = (x + size * shifts.len().max(1) - shift) % size;
                from.saturating_mul(s[k])
            })
            .sum()
    })
}

/// Entries `start .. start + len` of `axis` (the output keeps the axis).
pub(super) fn narrow(
    shape: &[usize],
    data: &[f64],
    axis: usize,
    start: usize,
    len: usize,
) -> (Vec<usize>, Vec<f64>) {
    let s = strides(shape);
    let mut out = shape.to_vec();
    if let Some(d) = out.get_mut(axis) {
        *d = len;
    }
    let base = start.saturating_mul(s.get(axis).copied().unwrap_or(0));
    let mut values = Vec::with_capacity(numel(&out).unwrap_or(0));
    walk_strided(&out, &s, &s, |o, _| values.push(at(data, base + o)));
    (out, values)
}

/// `x[..., idx, ...]` along `axis` by integer indices (each below the axis's
/// size) of shape `index_shape`: the axis is replaced by the index's shape.
pub(super) fn take(
    shape: &[usize],
    data: &[f64],
    axis: usize,
    (index_shape, indices): (&[usize], &[usize]),
) -> (Vec<usize>, Vec<f64>) {
    let s = strides(shape);
    let is = strides(index_shape);
    let r = index_shape.len();
    let mut out = shape.get(..axis).unwrap_or(&[]).to_vec();
    out.extend_from_slice(index_shape);
    out.extend_from_slice(shape.get(axis + 1..).unwrap_or(&[]));
    let values = gather_by(&out, data, |i| {
        // Output axes: those before `axis`, the index's `r`, those after.
        let before: usize = i.iter().zip(&s).take(axis).map(|(&x, &st)| x * st).sum();
        let position: usize = i.iter().skip(axis).zip(&is).map(|(&x, &st)| x * st).sum();
        let after: usize = i
            .iter()
            .skip(axis + r)
            .zip(s.iter().skip(axis + 1))
            .map(|(&x, &st)| x * st)
            .sum();
        let row = indices.get(position).copied().unwrap_or(0);
        before + row.saturating_mul(s.get(axis).copied().unwrap_or(0)) + after
    });
    (out, values)
}

/// The sum over `axis`, which is removed.
pub(super) fn sum(shape: &[usize], data: &[f64], axis: usize) -> (Vec<usize>, Vec<f64>) {
    let s = strides(shape);
    let size = shape.get(axis).copied().unwrap_or(1);
    let stride = s.get(axis).copied().unwrap_or(0);
    let mut kept = shape.to_vec();
    if let Some(d) = kept.get_mut(axis) {
        *d = 1;
    }
    let mut values = Vec::with_capacity(numel(&kept).unwrap_or(0));
    walk(&kept, |i| {
        let base: usize = i.iter().zip(&s).map(|(&x, &st)| x * st).sum();
        values.push((0..size).map(|j| at(data, base + j * stride)).sum());
    });
    let mut out = shape.to_vec();
    if axis < out.len() {
        out.remove(axis);
    }
    (out, values)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 0..n as floats.
    fn iota(n: usize) -> Vec<f64> {
        (0..n).map(|i| i as f64).collect()
    }

    #[test]
    fn permute_transposes_by_hand() {
        // [[0, 1, 2], [3, 4, 5]] transposed: [[0, 3], [1, 4], [2, 5]]
        let (shape, v) = permute(&[2, 3], &iota(6), &[1, 0]);
        assert_eq!((shape, v), (vec![3, 2], vec![0., 3., 1., 4., 2., 5.]));
        // [2, 2, 2] with axes (2, 0, 1): out[i][j][k] = in[j][k][i]
        let (shape, v) = permute(&[2, 2, 2], &iota(8), &[2, 0, 1]);
        assert_eq!(shape, [2, 2, 2]);
        assert_eq!(v, [0., 2., 4., 6., 1., 3., 5., 7.]);
    }

    #[test]
    fn broadcasting_stretches_size_one_dimensions() {
        // [3, 1] - [1, 3]: the pairwise differences i - j
        let col = iota(3);
        let v = broadcast((&[3, 1], &col), (&[3], &col), &[3, 3], |a, b| a - b);
        assert_eq!(v, [0., -1., -2., 1., 0., -1., 2., 1., 0.]);
        // A scalar-like [1] against [2, 2]
        let v = broadcast((&[2, 2], &iota(4)), (&[1], &[10.]), &[2, 2], |a, b| a * b);
        assert_eq!(v, [0., 10., 20., 30.]);
    }

    #[test]
    fn roll_moves_entries_forward() {
        // torch.roll(arange(5), 2) = [3, 4, 0, 1, 2]; -1 is 4 of 5.
        assert_eq!(roll(&[5], &iota(5), &[(0, 2)]), [3., 4., 0., 1., 2.]);
        assert_eq!(roll(&[5], &iota(5), &[(0, 4)]), [1., 2., 3., 4., 0.]);
        // [[0, 1, 2], [3, 4, 5]] rolled by 1 along both axes: [[5, 3, 4], [2, 0, 1]]
        let v = roll(&[2, 3], &iota(6), &[(0, 1), (1, 1)]);
        assert_eq!(v, [5., 3., 4., 2., 0., 1.]);
    }

    #[test]
    fn narrow_take_and_sum() {
        // rows 1..3 of a [3, 2]
        let (shape, v) = narrow(&[3, 2], &iota(6), 0, 1, 2);
        assert_eq!((shape, v), (vec![2, 2], vec![2., 3., 4., 5.]));
        // columns [1, 1, 0] of [[0, 1], [2, 3]] as a [3] index: [[1, 1, 0], [3, 3, 2]]
        let (shape, v) = take(&[2, 2], &iota(4), 1, (&[3], &[1, 1, 0]));
        assert_eq!((shape, v), (vec![2, 3], vec![1., 1., 0., 3., 3., 2.]));
        // rows of a [3, 2] table by a [2, 2] index: [2, 2, 2]
        let (shape, v) = take(&[3, 2], &iota(6), 0, (&[2, 2], &[2, 0, 1, 1]));
        assert_eq!(shape, [2, 2, 2]);
        assert_eq!(v, [4., 5., 0., 1., 2., 3., 2., 3.]);
        // sums of [[0, 1, 2], [3, 4, 5]] over each axis
        assert_eq!(sum(&[2, 3], &iota(6), 0), (vec![3], vec![3., 5., 7.]));
        assert_eq!(sum(&[2, 3], &iota(6), 1), (vec![2], vec![3., 12.]));
    }
}
