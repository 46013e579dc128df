//! Shape plumbing on tensors of any rank: reshape, permute, concatenation
//! with broadcasting, narrow, select, roll and constant padding.
//!
//! Every function takes full shapes (batch included) and full-tensor axes.
//! Copies run over the longest contiguous runs the layout allows: adjacent
//! axes that stay adjacent are merged first, so that, for instance, a
//! permutation keeping the last axis copies whole rows, and a transpose of
//! the last two axes runs as a cache-blocked 2-D transpose.

use crate::error::{kernel, Error};
use crate::tensor::Tensor;
use crate::threads;
use netspec_model::shape::{numel, shape_str};
use rayon::prelude::*;

/// Elements below which a copy stays on the calling thread.
const PARALLEL_MIN: usize = 1 << 16;

/// Side of the square tiles of a blocked transpose (64 x 64 f32 is 16 KiB
/// on each side, inside L1).
const TILE: usize = 64;

/// Row-major strides of `shape` (in elements).
pub(crate) fn strides(shape: &[usize]) -> Vec<usize> {
    let mut st = vec![0; shape.len()];
    let mut acc = 1usize;
    for i in (0..shape.len()).rev() {
        st[i] = acc;
        acc = acc.saturating_mul(shape[i]);
    }
    st
}

/// `shape` with leading 1s added up to `rank` (right alignment).
pub(crate) fn right_align(shape: &[usize], rank: usize) -> Vec<usize> {
    let mut out = vec![1; rank.saturating_sub(shape.len())];
    out.extend_from_slice(shape);
    out
}

/// The same data with another shape of the same element count.
pub fn reshape(x: Tensor, shape: &[usize]) -> Result<Tensor, Error> {
    if numel(shape) != Some(x.len()) {
        return kernel(
            "Reshape",
            format!(
                "cannot reshape {} ({} values) to {}",
                shape_str(x.shape()),
                x.len(),
                shape_str(shape)
            ),
        );
    }
    Ok(Tensor::from_parts(shape.to_vec(), x.into_data()))
}

/// Copies `x` with its axes permuted: output dimension `i` is input
/// dimension `axes[i]` (`x.permute(*axes)` in PyTorch), `axes` a permutation
/// of `0..rank`.
pub fn permute(x: &Tensor, axes: &[usize]) -> Result<Tensor, Error> {
    let shape = x.shape();
    let rank = shape.len();
    let mut seen = vec![false; rank];
    let valid = axes.len() == rank
        && axes
            .iter()
            .all(|&a| a < rank && !std::mem::replace(&mut seen[a], true));
    if !valid {
        return kernel(
            "Permute",
            format!(
                "axes {axes:?} are not a permutation of the {rank} axes of {}",
                shape_str(shape)
            ),
        );
    }
    let out_shape: Vec<usize> = axes.iter().map(|&a| shape[a]).collect();
    let in_strides = strides(shape);
    // Output axes in order with their input strides; size-1 axes dropped,
    // axes merged where the input keeps them adjacent.
    let mut dims: Vec<(usize, usize)> = Vec::with_capacity(rank);
    for &a in axes {
        let (n, s) = (shape[a], in_strides[a]);
        if n == 1 {
            continue;
        }
        match dims.last_mut() {
            Some(last) if last.1 == s * n => *last = (last.0 * n, s),
            _ => dims.push((n, s)),
        }
    }
    let total = x.len();
    let mut out = vec![0.0f32; total];
    if total == 0 {
        return Ok(Tensor::from_parts(out_shape, out));
    }
    let src = x.data();
    // The first axis is split across threads when it is neither the output's
    // contiguous axis (the last) nor the input's (stride 1): a tile needs
    // both whole.
    if dims.len() >= 2 && dims[0].1 != 1 && total >= PARALLEL_MIN {
        let (n0, s0) = dims[0];
        let rest = &dims[1..];
        let block = total / n0;
        threads::install(|threads| {
            if threads > 1 {
                out.par_chunks_mut(block)
                    .enumerate()
                    .for_each(|(i, o)| permute_block(o, &src[i * s0..], rest));
            } else {
                permute_block(&mut out, src, &dims);
            }
        });
    } else {
        permute_block(&mut out, src, &dims);
    }
    Ok(Tensor::from_parts(out_shape, out))
}

/// Fills the contiguous `dst` from `src`, where output axis `i` (outermost
/// first) has size `dims[i].0` and input stride `dims[i].1`.
fn permute_block(dst: &mut [f32], src: &[f32], dims: &[(usize, usize)]) {
    let Some(&(len, stride)) = dims.last() else {
        dst[0] = src[0];
        return;
    };
    let last = dims.len() - 1;
    if stride == 1 {
        // Whole runs of the last axis are contiguous on both sides.
        let outer = &dims[..last];
        for_each_offset(outer, |k, off| {
            dst[k * len..(k + 1) * len].copy_from_slice(&src[off..off + len]);
        });
        return;
    }
    // The input's contiguous axis `p` is elsewhere: transpose (p, last)
    // tiles for every combination of the other axes.
    let Some(p) = dims.iter().position(|d| d.1 == 1) else {
        // Not reached (the input's innermost axis of size > 1 has stride 1
        // and survives merging); the plain strided walk is the fallback.
        let (sizes, st): (Vec<usize>, Vec<usize>) = dims.iter().copied().unzip();
        gather_strided(dst, src, &sizes, &st);
        return;
    };
    let out_st = strides(&dims.iter().map(|d| d.0).collect::<Vec<_>>());
    let (rows, row_stride) = (dims[p].0, out_st[p]);
    let others: Vec<(usize, usize, usize)> = dims[..last]
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != p)
        .map(|(i, d)| (d.0, d.1, out_st[i]))
        .collect();
    let sizes: Vec<usize> = others.iter().map(|o| o.0).collect();
    let mut idx = vec![0usize; others.len()];
    loop {
        let src_off: usize = idx.iter().zip(&others).map(|(i, o)| i * o.1).sum();
        let dst_off: usize = idx.iter().zip(&others).map(|(i, o)| i * o.2).sum();
        for r0 in (0..rows).step_by(TILE) {
            let nr = TILE.min(rows - r0);
            for c0 in (0..len).step_by(TILE) {
                let nc = TILE.min(len - c0);
                transpose_tile(
                    &mut dst[dst_off + r0 * row_stride + c0..],
                    row_stride,
                    &src[src_off + r0 + c0 * stride..],
                    stride,
                    nr,
                    nc,
                );
            }
        }
        if !advance(&mut idx, &sizes) {
            return;
        }
    }
}

/// `dst[r·ds + c] = src[r + c·ss]` for `r < rows`, `c < cols`: each output
/// row written contiguously from a strided walk of the input (tiles of
/// [`TILE`] keep both sides' lines in cache; measured faster here than
/// 8 x 8 register blocks or contiguous reads with strided writes).
fn transpose_tile(dst: &mut [f32], ds: usize, src: &[f32], ss: usize, rows: usize, cols: usize) {
    for r in 0..rows {
        let d = &mut dst[r * ds..r * ds + cols];
        let s = &src[r..];
        for (c, v) in d.iter_mut().enumerate() {
            *v = s[c * ss];
        }
    }
}

/// Calls `f(k, offset)` for every index of `dims` (sizes with strides) in
/// row-major order, `k` counting from 0 and `offset` the strided position.
fn for_each_offset(dims: &[(usize, usize)], mut f: impl FnMut(usize, usize)) {
    let mut idx = vec![0usize; dims.len()];
    let mut off = 0usize;
    let mut k = 0usize;
    loop {
        f(k, off);
        k += 1;
        // Odometer step, last axis fastest, keeping `off` in step.
        let mut d = dims.len();
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            idx[d] += 1;
            off += dims[d].1;
            if idx[d] < dims[d].0 {
                break;
            }
            off -= dims[d].1 * idx[d];
            idx[d] = 0;
        }
    }
}

/// Advances a row-major multi-index over `sizes`; false after the last one.
fn advance(idx: &mut [usize], sizes: &[usize]) -> bool {
    for d in (0..idx.len()).rev() {
        idx[d] += 1;
        if idx[d] < sizes[d] {
            return true;
        }
        idx[d] = 0;
    }
    false
}

/// Fills the contiguous `dst` (row-major over `shape`) with
/// `src[Σ index[i]·strides[i]]`; a stride of 0 repeats (broadcasts) an axis.
pub(crate) fn gather_strided(dst: &mut [f32], src: &[f32], shape: &[usize], strides: &[usize]) {
    let mut dims: Vec<(usize, usize)> = Vec::with_capacity(shape.len());
    for (&n, &s) in shape.iter().zip(strides) {
        if n == 1 {
            continue;
        }
        match dims.last_mut() {
            Some(last) if last.1 == s * n => *last = (last.0 * n, s),
            _ => dims.push((n, s)),
        }
    }
    if dst.is_empty() {
        return;
    }
    let Some(&(len, stride)) = dims.last() else {
        dst[0] = src[0];
        return;
    };
    let outer = &dims[..dims.len() - 1];
    for_each_offset(outer, |k, off| {
        let d = &mut dst[k * len..(k + 1) * len];
        match stride {
            1 => d.copy_from_slice(&src[off..off + len]),
            0 => d.fill(src[off]),
            s => d
                .iter_mut()
                .zip(src[off..].iter().step_by(s))
                .for_each(|(o, &v)| *o = v),
        }
    });
}

/// Concatenation along `axis` (an axis of the highest-rank input).
///
/// Lower-rank inputs are right-aligned (leading 1s added); on every other
/// axis, inputs of size 1 broadcast to the largest size among the inputs, so
/// a `[1, 1, 768]` class token and `[N, 196, 768]` patches along axis 1
/// give `[N, 197, 768]`. Along `axis` the sizes add up.
pub fn concat(inputs: &[&Tensor], axis: usize) -> Result<Tensor, Error> {
    let Some(rank) = inputs.iter().map(|x| x.shape().len()).max() else {
        return kernel("Concat", "needs at least one input".to_string());
    };
    let all = || {
        inputs
            .iter()
            .map(|x| shape_str(x.shape()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if axis >= rank {
        return kernel(
            "Concat",
            format!(
                "axis {axis} is out of range for inputs {} (rank {rank})",
                all()
            ),
        );
    }
    let shapes: Vec<Vec<usize>> = inputs
        .iter()
        .map(|x| right_align(x.shape(), rank))
        .collect();
    let mut out_shape = vec![1usize; rank];
    for (a, o) in out_shape.iter_mut().enumerate() {
        if a == axis {
            let mut sum = 0usize;
            for s in &shapes {
                sum = match sum.checked_add(s[a]) {
                    Some(v) => v,
                    None => return kernel("Concat", format!("output too large for {}", all())),
                };
            }
            *o = sum;
            continue;
        }
        let size = shapes.iter().map(|s| s[a]).max().unwrap_or(1);
        if shapes.iter().any(|s| s[a] != size && s[a] != 1) {
            return kernel(
                "Concat",
                format!(
                    "cannot concatenate {} along axis {axis}: axis {a} sizes differ and are not 1",
                    all()
                ),
            );
        }
        *o = size;
    }
    let Some(total) = numel(&out_shape) else {
        return kernel("Concat", format!("output too large for {}", all()));
    };
    let mut out = vec![0.0f32; total];
    if total == 0 {
        return Ok(Tensor::from_parts(out_shape, out));
    }
    let outer: usize = out_shape[..axis].iter().product();
    let inner: usize = out_shape[axis + 1..].iter().product();
    let out_block = out_shape[axis] * inner;
    let mut start = 0usize;
    for (x, s) in inputs.iter().zip(&shapes) {
        // Strides over the full rank, 0 where the input broadcasts.
        let mut st = strides(s);
        for (a, v) in st.iter_mut().enumerate() {
            if a != axis && s[a] == 1 {
                *v = 0;
            }
        }
        let block = s[axis] * inner;
        if block > 0 {
            let mut block_shape = vec![s[axis]];
            block_shape.extend_from_slice(&out_shape[axis + 1..]);
            let outer_dims: Vec<(usize, usize)> = out_shape[..axis]
                .iter()
                .copied()
                .zip(st[..axis].iter().copied())
                .collect();
            for_each_offset(&outer_dims, |k, off| {
                let dst = &mut out[k * out_block + start..k * out_block + start + block];
                gather_strided(dst, &x.data()[off..], &block_shape, &st[axis..]);
            });
        }
        start += block;
    }
    debug_assert_eq!(outer * out_block, total);
    Ok(Tensor::from_parts(out_shape, out))
}

/// Splits `shape` around `axis` into (product before, size, product after),
/// or explains why `axis` is out of range.
fn around(op: &'static str, shape: &[usize], axis: usize) -> Result<(usize, usize, usize), Error> {
    if axis >= shape.len() {
        return kernel(
            op,
            format!(
                "axis {axis} is out of range for {} (rank {})",
                shape_str(shape),
                shape.len()
            ),
        );
    }
    Ok((
        shape[..axis].iter().product(),
        shape[axis],
        shape[axis + 1..].iter().product(),
    ))
}

/// Elements `start .. start + len` of `axis` (`x.narrow(axis, start, len)`).
pub fn narrow(x: &Tensor, axis: usize, start: usize, len: usize) -> Result<Tensor, Error> {
    let (outer, size, inner) = around("Slice", x.shape(), axis)?;
    if start.checked_add(len).is_none_or(|end| end > size) {
        return kernel(
            "Slice",
            format!(
                "range {start}..{} is outside axis {axis} of size {size} of {}",
                start.saturating_add(len),
                shape_str(x.shape())
            ),
        );
    }
    let mut shape = x.shape().to_vec();
    shape[axis] = len;
    let mut out = Vec::with_capacity(outer * len * inner);
    if size * inner > 0 {
        for block in x.data().chunks_exact(size * inner) {
            out.extend_from_slice(&block[start * inner..(start + len) * inner]);
        }
    }
    Ok(Tensor::from_parts(shape, out))
}

/// Index `index` of `axis`, the axis removed (`x.select(axis, index)`, `x[:, 0]`).
pub fn select(x: &Tensor, axis: usize, index: usize) -> Result<Tensor, Error> {
    let (_, size, _) = around("Select", x.shape(), axis)?;
    if index >= size {
        return kernel(
            "Select",
            format!(
                "index {index} is outside axis {axis} of size {size} of {}",
                shape_str(x.shape())
            ),
        );
    }
    let y = narrow(x, axis, index, 1)?;
    let mut shape = x.shape().to_vec();
    shape.remove(axis);
    Ok(Tensor::from_parts(shape, y.into_data()))
}

/// `torch.roll(x, shifts, axes)`: along each axis `a = axes[i]`, element `j`
/// moves to `(j + shifts[i]) mod size`. An axis given twice shifts by the sum.
pub fn roll(x: &Tensor, shifts: &[usize], axes: &[usize]) -> Result<Tensor, Error> {
    let shape = x.shape();
    if shifts.len() != axes.len() {
        return kernel(
            "Roll",
            format!(
                "{} shifts for {} axes on {}",
                shifts.len(),
                axes.len(),
                shape_str(shape)
            ),
        );
    }
    let mut per_axis = vec![0usize; shape.len()];
    for (&s, &a) in shifts.iter().zip(axes) {
        if a >= shape.len() {
            return kernel(
                "Roll",
                format!(
                    "axis {a} is out of range for {} (rank {})",
                    shape_str(shape),
                    shape.len()
                ),
            );
        }
        if shape[a] > 0 {
            per_axis[a] = (per_axis[a] + s % shape[a]) % shape[a];
        }
    }
    let mut out = vec![0.0f32; x.len()];
    if !out.is_empty() {
        roll_block(&mut out, x.data(), shape, &per_axis);
    }
    Ok(Tensor::from_parts(shape.to_vec(), out))
}

/// Rolls the contiguous block `src` of `shape` into `dst` by `shifts`.
fn roll_block(dst: &mut [f32], src: &[f32], shape: &[usize], shifts: &[usize]) {
    if shifts.iter().all(|&s| s == 0) {
        dst.copy_from_slice(src);
        return;
    }
    let (n, s) = (shape[0], shifts[0]);
    let inner = dst.len() / n;
    if shifts[1..].iter().all(|&v| v == 0) {
        // Two runs: the tail of the source moves to the front.
        let cut = (n - s) * inner;
        dst[s * inner..].copy_from_slice(&src[..cut]);
        dst[..s * inner].copy_from_slice(&src[cut..]);
        return;
    }
    for j in 0..n {
        let from = (j + n - s) % n;
        roll_block(
            &mut dst[j * inner..(j + 1) * inner],
            &src[from * inner..(from + 1) * inner],
            &shape[1..],
            &shifts[1..],
        );
    }
}

/// Constant padding (`F.pad(x, ..., value)`): axis `a` grows by
/// `before[a]` elements of `value` in front and `after[a]` behind; one entry
/// per axis of `x`.
pub fn pad(x: &Tensor, before: &[usize], after: &[usize], value: f32) -> Result<Tensor, Error> {
    let shape = x.shape();
    let rank = shape.len();
    if before.len() != rank || after.len() != rank {
        return kernel(
            "Pad",
            format!(
                "needs one padding per axis of {} (rank {rank}), found {} before and {} after",
                shape_str(shape),
                before.len(),
                after.len()
            ),
        );
    }
    let mut out_shape = Vec::with_capacity(rank);
    for a in 0..rank {
        match shape[a]
            .checked_add(before[a])
            .and_then(|v| v.checked_add(after[a]))
        {
            Some(v) => out_shape.push(v),
            None => {
                return kernel(
                    "Pad",
                    format!("padding axis {a} of {} overflows", shape_str(shape)),
                )
            }
        }
    }
    let Some(total) = numel(&out_shape) else {
        return kernel(
            "Pad",
            format!("output {} is too large", shape_str(&out_shape)),
        );
    };
    let mut out = vec![value; total];
    if x.is_empty() {
        return Ok(Tensor::from_parts(out_shape, out));
    }
    if rank == 0 {
        out[0] = x.data()[0];
        return Ok(Tensor::from_parts(out_shape, out));
    }
    let out_st = strides(&out_shape);
    let len = shape[rank - 1];
    // Every input row, placed at its padded position.
    let rows: Vec<(usize, usize)> = shape[..rank - 1]
        .iter()
        .copied()
        .zip(out_st[..rank - 1].iter().copied())
        .collect();
    let base: usize = before.iter().zip(&out_st).map(|(b, s)| b * s).sum();
    for_each_offset(&rows, |k, off| {
        let o = base + off;
        out[o..o + len].copy_from_slice(&x.data()[k * len..(k + 1) * len]);
    });
    Ok(Tensor::from_parts(out_shape, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arange(shape: &[usize]) -> Tensor {
        let n: usize = shape.iter().product();
        Tensor::new(shape, (0..n).map(|i| i as f32).collect()).unwrap()
    }

    fn t(shape: &[usize], data: &[f32]) -> Tensor {
        Tensor::new(shape, data.to_vec()).unwrap()
    }

    /// Plain definition of a permutation: output multi-index `o` reads input
    /// index `i` with `i[axes[k]] = o[k]`.
    fn permute_by_definition(x: &Tensor, axes: &[usize]) -> Vec<f32> {
        let shape = x.shape();
        let out_shape: Vec<usize> = axes.iter().map(|&a| shape[a]).collect();
        let st = strides(shape);
        let total = x.len();
        let mut out = Vec::with_capacity(total);
        let mut o = vec![0usize; shape.len()];
        for _ in 0..total {
            let off: usize = (0..axes.len()).map(|k| o[k] * st[axes[k]]).sum();
            out.push(x.data()[off]);
            advance(&mut o, &out_shape);
        }
        out
    }

    #[test]
    fn reshape_keeps_data_and_checks_count() {
        let y = reshape(arange(&[2, 3]), &[3, 1, 2]).unwrap();
        assert_eq!(y.shape(), &[3, 1, 2]);
        assert_eq!(y.data(), &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        let e = reshape(arange(&[2, 3]), &[4, 2]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Reshape: cannot reshape [2, 3] (6 values) to [4, 2]"
        );
    }

    #[test]
    fn permute_by_hand() {
        // x = [[0, 1, 2], [3, 4, 5]] transposed: [[0, 3], [1, 4], [2, 5]].
        let y = permute(&arange(&[2, 3]), &[1, 0]).unwrap();
        assert_eq!(y.shape(), &[3, 2]);
        assert_eq!(y.data(), &[0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
        // [1, 2, 2, 2] (n, c, h, w) with value 4c + 2h + w, to NHWC (0, 2, 3, 1):
        // out[h][w][c] = 4c + 2h + w -> (h,w)=(0,0): 0, 4; (0,1): 1, 5; (1,0): 2, 6; (1,1): 3, 7.
        let y = permute(&arange(&[1, 2, 2, 2]), &[0, 2, 3, 1]).unwrap();
        assert_eq!(y.shape(), &[1, 2, 2, 2]);
        assert_eq!(y.data(), &[0.0, 4.0, 1.0, 5.0, 2.0, 6.0, 3.0, 7.0]);
        // Keeping the last axis: [2, 2, 2] swap axes 0 and 1, rows [0 1] [2 3] | [4 5] [6 7]
        // -> [0 1] [4 5] | [2 3] [6 7].
        let y = permute(&arange(&[2, 2, 2]), &[1, 0, 2]).unwrap();
        assert_eq!(y.data(), &[0.0, 1.0, 4.0, 5.0, 2.0, 3.0, 6.0, 7.0]);
        let e = permute(&arange(&[2, 3]), &[0, 0]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Permute: axes [0, 0] are not a permutation of the 2 axes of [2, 3]"
        );
    }

    #[test]
    fn permute_matches_the_definition() {
        // Large enough for tiles with remainders and for the threaded split.
        let cases: [(&[usize], &[usize]); 6] = [
            (&[3, 197, 70], &[0, 2, 1]),
            (&[2, 5, 3, 7], &[0, 2, 1, 3]),
            (&[2, 5, 3, 7], &[0, 3, 1, 2]),
            (&[2, 5, 3, 7], &[3, 2, 1, 0]),
            (&[4, 1, 33, 40], &[0, 3, 1, 2]),
            (&[1, 1], &[1, 0]),
        ];
        for (shape, axes) in cases {
            let x = arange(shape);
            let y = permute(&x, axes).unwrap();
            let expect: Vec<usize> = axes.iter().map(|&a| shape[a]).collect();
            assert_eq!(y.shape(), expect.as_slice());
            assert_eq!(
                y.data(),
                permute_by_definition(&x, axes),
                "{shape:?} {axes:?}"
            );
        }
        // Big transposes of the last two axes use the threads.
        let x = arange(&[4, 197, 96]);
        let y = permute(&x, &[0, 2, 1]).unwrap();
        assert_eq!(y.data(), permute_by_definition(&x, &[0, 2, 1]));
        let x = arange(&[3, 12, 64, 40]);
        let y = permute(&x, &[0, 2, 1, 3]).unwrap();
        assert_eq!(y.data(), permute_by_definition(&x, &[0, 2, 1, 3]));
    }

    #[test]
    fn concat_broadcasts_a_class_token() {
        // cls [1, 1, 2] = [[9, 8]] with x [2, 2, 2] = 0..8 along axis 1:
        // sample 0: [9 8] [0 1] [2 3]; sample 1: [9 8] [4 5] [6 7].
        let cls = t(&[1, 1, 2], &[9.0, 8.0]);
        let x = arange(&[2, 2, 2]);
        let y = concat(&[&cls, &x], 1).unwrap();
        assert_eq!(y.shape(), &[2, 3, 2]);
        assert_eq!(
            y.data(),
            &[9.0, 8.0, 0.0, 1.0, 2.0, 3.0, 9.0, 8.0, 4.0, 5.0, 6.0, 7.0]
        );
        // A lower-rank input is right-aligned: [1, 2] is [1, 1, 2].
        let cls2 = t(&[1, 2], &[9.0, 8.0]);
        assert_eq!(concat(&[&cls2, &x], 1).unwrap(), y);
        // Broadcast on a trailing axis: [2, 1] = [[1], [2]] and [1, 3] = [[5, 6, 7]]
        // along axis 0 give [3, 3] (the column of a repeats over 3):
        // rows [1 1 1] [2 2 2] [5 6 7].
        let a = t(&[2, 1], &[1.0, 2.0]);
        let b = t(&[1, 3], &[5.0, 6.0, 7.0]);
        let y = concat(&[&a, &b], 0).unwrap();
        assert_eq!(y.shape(), &[3, 3]);
        assert_eq!(y.data(), &[1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 5.0, 6.0, 7.0]);
    }

    #[test]
    fn concat_along_the_last_axis_and_errors() {
        // [2, 1] and [2, 2] along axis 1: rows [0 | 0 1], [1 | 2 3].
        let a = arange(&[2, 1]);
        let b = arange(&[2, 2]);
        let y = concat(&[&a, &b], 1).unwrap();
        assert_eq!(y.data(), &[0.0, 0.0, 1.0, 1.0, 2.0, 3.0]);
        let c = arange(&[3, 2]);
        let e = concat(&[&b, &c], 1).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Concat: cannot concatenate [2, 2], [3, 2] along axis 1: axis 0 sizes differ and are not 1"
        );
        let e = concat(&[&b], 2).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Concat: axis 2 is out of range for inputs [2, 2] (rank 2)"
        );
    }

    #[test]
    fn narrow_and_select() {
        // [2, 3, 2] = 0..12, axis 1 from 1 length 2: sample 0 rows [2 3] [4 5],
        // sample 1 rows [8 9] [10 11].
        let x = arange(&[2, 3, 2]);
        let y = narrow(&x, 1, 1, 2).unwrap();
        assert_eq!(y.shape(), &[2, 2, 2]);
        assert_eq!(y.data(), &[2.0, 3.0, 4.0, 5.0, 8.0, 9.0, 10.0, 11.0]);
        // The last axis: x[..., 1:] = odd numbers.
        let y = narrow(&x, 2, 1, 1).unwrap();
        assert_eq!(y.data(), &[1.0, 3.0, 5.0, 7.0, 9.0, 11.0]);
        // x[:, 0] = [[0, 1], [6, 7]].
        let y = select(&x, 1, 0).unwrap();
        assert_eq!(y.shape(), &[2, 2]);
        assert_eq!(y.data(), &[0.0, 1.0, 6.0, 7.0]);
        assert_eq!(
            narrow(&x, 1, 2, 2).unwrap_err().to_string(),
            "Slice: range 2..4 is outside axis 1 of size 3 of [2, 3, 2]"
        );
        assert_eq!(
            select(&x, 3, 0).unwrap_err().to_string(),
            "Select: axis 3 is out of range for [2, 3, 2] (rank 3)"
        );
        assert_eq!(
            select(&x, 1, 3).unwrap_err().to_string(),
            "Select: index 3 is outside axis 1 of size 3 of [2, 3, 2]"
        );
    }

    #[test]
    fn roll_like_torch() {
        // torch.roll([0 1 2 3 4], 2) = [3 4 0 1 2].
        let y = roll(&arange(&[5]), &[2], &[0]).unwrap();
        assert_eq!(y.data(), &[3.0, 4.0, 0.0, 1.0, 2.0]);
        // [[0 1 2], [3 4 5]] rolled by 1 on axis 0 and 1 on axis 1:
        // rows swap -> [[3 4 5], [0 1 2]], then columns shift right -> [[5 3 4], [2 0 1]].
        let y = roll(&arange(&[2, 3]), &[1, 1], &[0, 1]).unwrap();
        assert_eq!(y.data(), &[5.0, 3.0, 4.0, 2.0, 0.0, 1.0]);
        // Axis 0 only (whole rows move): [[3 4 5], [0 1 2]].
        let y = roll(&arange(&[2, 3]), &[1], &[0]).unwrap();
        assert_eq!(y.data(), &[3.0, 4.0, 5.0, 0.0, 1.0, 2.0]);
        // The same axis twice adds: 1 + 1 on 3 columns = 2 -> [[1 2 0], [4 5 3]].
        let y = roll(&arange(&[2, 3]), &[1, 1], &[1, 1]).unwrap();
        assert_eq!(y.data(), &[1.0, 2.0, 0.0, 4.0, 5.0, 3.0]);
        // A middle axis of [1, 3, 2] (Swin's shifted window on H): rows
        // [0 1] [2 3] [4 5] by 1 -> [4 5] [0 1] [2 3].
        let y = roll(&arange(&[1, 3, 2]), &[1], &[1]).unwrap();
        assert_eq!(y.data(), &[4.0, 5.0, 0.0, 1.0, 2.0, 3.0]);
        assert!(roll(&arange(&[2]), &[1], &[1]).is_err());
        assert!(roll(&arange(&[2]), &[1, 1], &[0]).is_err());
    }

    #[test]
    fn pad_every_axis() {
        // [1, 2] = [[1, 2]] padded rows (1, 0), columns (0, 2) with 9:
        // [[9 9 9 9], [1 2 9 9]].
        let x = t(&[1, 2], &[1.0, 2.0]);
        let y = pad(&x, &[1, 0], &[0, 2], 9.0).unwrap();
        assert_eq!(y.shape(), &[2, 4]);
        assert_eq!(y.data(), &[9.0, 9.0, 9.0, 9.0, 1.0, 2.0, 9.0, 9.0]);
        // [1, 1, 2, 1] padded on H by (0, 1) and W by (1, 0) with 0:
        // rows [0 a] [0 b] [0 0].
        let x = t(&[1, 1, 2, 1], &[5.0, 6.0]);
        let y = pad(&x, &[0, 0, 0, 1], &[0, 0, 1, 0], 0.0).unwrap();
        assert_eq!(y.shape(), &[1, 1, 3, 2]);
        assert_eq!(y.data(), &[0.0, 5.0, 0.0, 6.0, 0.0, 0.0]);
        assert_eq!(
            pad(&x, &[0], &[0], 0.0).unwrap_err().to_string(),
            "Pad: needs one padding per axis of [1, 1, 2, 1] (rank 4), found 1 before and 1 after"
        );
    }
}
