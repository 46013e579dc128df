//! Shape rules of the operations on tensors of any rank: broadcasting,
//! reshapes, permutations, matrix products, normalisation, joins and slices.
//!
//! Shapes are per sample; axes are per-sample axes (PyTorch's dimension
//! `d >= 1` is axis `d - 1`). Messages name axes as PyTorch does (`dim 2`),
//! so they read like the code the user wrote.

use super::{err, positive, shape_str, Blame, ShapeError};
use crate::op::{Dims, GroupNorm, LayerNorm, Linear};

/// PyTorch's name of per-sample axis `axis` (`dim axis + 1`).
fn dim_name(axis: usize) -> String {
    format!("dim {}", axis as u128 + 1)
}

/// The broadcast of two shapes (right-aligned, size-1 dimensions stretch),
/// or `None` if a pair of sizes differs with neither 1.
pub fn broadcast(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let rank = a.len().max(b.len());
    let mut out = vec![0usize; rank];
    for (i, slot) in out.iter_mut().enumerate() {
        // Position i from the left of the output is `rank - i` from the right.
        let from_right = rank - i;
        let x = if from_right <= a.len() {
            a[a.len() - from_right]
        } else {
            1
        };
        let y = if from_right <= b.len() {
            b[b.len() - from_right]
        } else {
            1
        };
        *slot = if x == y || y == 1 {
            x
        } else if x == 1 {
            y
        } else {
            return None;
        };
    }
    Some(out)
}

/// The broadcast shape of all `inputs`, blaming the first that does not fit.
pub(super) fn broadcast_all(verb: &str, inputs: &[&[usize]]) -> Result<Vec<usize>, ShapeError> {
    let Some(first) = inputs.first() else {
        return err(Blame::Layer, format!("cannot {verb} nothing"));
    };
    let mut out = first.to_vec();
    for (i, x) in inputs.iter().enumerate().skip(1) {
        match broadcast(&out, x) {
            Some(b) => out = b,
            None => {
                return err(
                    Blame::Input(i),
                    format!(
                        "cannot {verb} {} and {}: the shapes do not broadcast",
                        shape_str(&out),
                        shape_str(x)
                    ),
                )
            }
        }
    }
    Ok(out)
}

fn axis_in(kind: &str, axis: usize, x: &[usize]) -> Result<(), ShapeError> {
    if axis >= x.len() {
        return err(
            Blame::Arg("dim"),
            format!(
                "{kind}: {} is out of range for a tensor {} (batch first, dims 1 to {})",
                dim_name(axis),
                shape_str(x),
                x.len()
            ),
        );
    }
    Ok(())
}

/// `reshape`: the element counts must agree.
pub(super) fn reshape(x: &[usize], shape: &Dims) -> Result<Vec<usize>, ShapeError> {
    let (from, to) = (super::numel(x), super::numel(shape.as_slice()));
    if from != to || from.is_none() {
        return err(
            Blame::Arg("shape"),
            format!(
                "cannot reshape {} ({} elements) into {} ({} elements)",
                shape_str(x),
                count(from),
                shape_str(shape.as_slice()),
                count(to)
            ),
        );
    }
    Ok(shape.as_slice().to_vec())
}

fn count(n: Option<usize>) -> String {
    n.map_or_else(|| "more than usize::MAX".to_string(), |n| n.to_string())
}

/// `permute`: `dims` must be a permutation of the axes.
pub(super) fn permute(x: &[usize], dims: &Dims) -> Result<Vec<usize>, ShapeError> {
    let d = dims.as_slice();
    let mut seen = vec![false; x.len()];
    let valid = d.len() == x.len()
        && d.iter().all(|&a| match seen.get_mut(a) {
            Some(s) if !*s => {
                *s = true;
                true
            }
            _ => false,
        });
    if !valid {
        return err(
            Blame::Arg("dims"),
            format!(
                "permute of a tensor {} needs each of its {} dimensions once, found {}",
                shape_str(x),
                x.len(),
                shape_str(d)
            ),
        );
    }
    Ok(d.iter().map(|&a| x[a]).collect())
}

/// `a @ b` (`a @ bᵀ` with `trans_b`) with PyTorch's `torch.matmul` rules:
/// 1-D operands gain and lose a dimension, leading dimensions broadcast.
pub(super) fn matmul(a: &[usize], b: &[usize], trans_b: bool) -> Result<Vec<usize>, ShapeError> {
    if a.is_empty() || b.is_empty() {
        return err(
            Blame::Layer,
            format!(
                "matmul needs tensors of at least one dimension, found {} @ {}",
                shape_str(a),
                shape_str(b)
            ),
        );
    }
    let a2: Vec<usize> = if a.len() == 1 {
        vec![1, a[0]]
    } else {
        a.to_vec()
    };
    let b2: Vec<usize> = match (b.len(), trans_b) {
        (1, false) => vec![b[0], 1],
        (1, true) => vec![1, b[0]],
        _ => b.to_vec(),
    };
    let (ra, rb) = (a2.len(), b2.len());
    let (m, k) = (a2[ra - 2], a2[ra - 1]);
    let (kb, n) = if trans_b {
        (b2[rb - 1], b2[rb - 2])
    } else {
        (b2[rb - 2], b2[rb - 1])
    };
    if k != kb {
        let what = if trans_b { " (transposed)" } else { "" };
        return err(
            Blame::Input(1),
            format!(
                "inner dimensions differ: {} @ {}{what}: {k} columns against {kb} rows",
                shape_str(a),
                shape_str(b)
            ),
        );
    }
    let Some(mut out) = broadcast(&a2[..ra - 2], &b2[..rb - 2]) else {
        return err(
            Blame::Input(1),
            format!(
                "matmul batch dimensions do not broadcast: {} @ {}",
                shape_str(a),
                shape_str(b)
            ),
        );
    };
    if a.len() > 1 {
        out.push(m);
    }
    if b.len() > 1 {
        out.push(n);
    }
    Ok(out)
}

pub(super) fn softmax(x: &[usize], dim: usize, causal: bool) -> Result<Vec<usize>, ShapeError> {
    axis_in("softmax", dim, x)?;
    if causal && (x.len() < 2 || dim + 1 != x.len()) {
        return err(
            Blame::Arg("is_causal"),
            format!(
                "a causal softmax runs over the last of two or more dimensions, found {} on a tensor {}",
                dim_name(dim),
                shape_str(x)
            ),
        );
    }
    Ok(x.to_vec())
}

pub(super) fn layer_norm(n: &LayerNorm, x: &[usize]) -> Result<Vec<usize>, ShapeError> {
    let s = n.shape.as_slice();
    if s.is_empty() || s.len() > x.len() || x[x.len() - s.len()..] != *s {
        return err(
            Blame::Input(0),
            format!(
                "LayerNorm normalizes the trailing shape {}, the input is {}",
                shape_str(s),
                shape_str(x)
            ),
        );
    }
    if n.eps.is_nan() || n.eps <= 0.0 {
        return err(
            Blame::Arg("eps"),
            format!("`eps` must be positive, found {}", n.eps),
        );
    }
    Ok(x.to_vec())
}

pub(super) fn group_norm(g: &GroupNorm, x: &[usize]) -> Result<Vec<usize>, ShapeError> {
    positive(g.groups, "num_groups")?;
    let Some(&c) = x.first() else {
        return err(
            Blame::Input(0),
            "GroupNorm needs a [C, *] input, found a scalar".to_string(),
        );
    };
    if c != g.channels {
        return err(
            Blame::Arg("num_channels"),
            format!(
                "GroupNorm is given {} channels, the input has {c}",
                g.channels
            ),
        );
    }
    if !c.is_multiple_of(g.groups) {
        return err(
            Blame::Arg("num_groups"),
            format!("num_groups = {} does not divide the {c} channels", g.groups),
        );
    }
    Ok(x.to_vec())
}

/// `Linear` (and the attention in-projection) on the last dimension.
pub(super) fn linear(kind: &str, l: &Linear, x: &[usize]) -> Result<Vec<usize>, ShapeError> {
    positive(l.out_features, "out_features")?;
    match x.last() {
        Some(&f) if f == l.in_features => {
            let mut out = x.to_vec();
            if let Some(last) = out.last_mut() {
                *last = l.out_features;
            }
            Ok(out)
        }
        Some(f) => err(
            Blame::Input(0),
            format!("{kind} expects {} input features, found {f}", l.in_features),
        ),
        None => err(
            Blame::Input(0),
            format!("{kind} needs at least one dimension, found a scalar"),
        ),
    }
}

pub(super) fn mha_in_proj(l: &Linear, heads: usize, x: &[usize]) -> Result<Vec<usize>, ShapeError> {
    positive(heads, "num_heads")?;
    if x.len() < 2 {
        return err(
            Blame::Input(0),
            format!(
                "MultiheadAttention expects [L, E] tokens (batch first), found {}",
                shape_str(x)
            ),
        );
    }
    if !l.in_features.is_multiple_of(heads) {
        return err(
            Blame::Arg("num_heads"),
            format!(
                "num_heads = {heads} does not divide the embedding dimension {}",
                l.in_features
            ),
        );
    }
    linear("MultiheadAttention", l, x)
}

pub(super) fn concat(dim: usize, inputs: &[&[usize]]) -> Result<Vec<usize>, ShapeError> {
    let Some(first) = inputs.first() else {
        return err(Blame::Layer, "cat needs at least one input".to_string());
    };
    axis_in("cat", dim, first)?;
    let mut total = 0usize;
    for (i, x) in inputs.iter().enumerate() {
        let same = x.len() == first.len()
            && x.iter()
                .zip(first.iter())
                .enumerate()
                .all(|(a, (p, q))| a == dim || p == q);
        if !same {
            return err(
                Blame::Input(i),
                format!(
                    "cannot concatenate {} and {} along {}: the other dimensions differ",
                    shape_str(first),
                    shape_str(x),
                    dim_name(dim)
                ),
            );
        }
        total = match total.checked_add(x[dim]) {
            Some(t) => t,
            None => return err(Blame::Layer, "the concatenated size overflows".to_string()),
        };
    }
    let mut out = first.to_vec();
    out[dim] = total;
    Ok(out)
}

pub(super) fn slice(
    x: &[usize],
    dim: usize,
    start: usize,
    len: usize,
) -> Result<Vec<usize>, ShapeError> {
    axis_in("slice", dim, x)?;
    let size = x[dim];
    if len == 0 || start.checked_add(len).is_none_or(|end| end > size) {
        return err(
            Blame::Layer,
            format!(
                "entries {start}..{} are outside the {size} of {} (a tensor {})",
                start as u128 + len as u128,
                dim_name(dim),
                shape_str(x)
            ),
        );
    }
    let mut out = x.to_vec();
    out[dim] = len;
    Ok(out)
}

pub(super) fn select(x: &[usize], dim: usize, index: usize) -> Result<Vec<usize>, ShapeError> {
    axis_in("select", dim, x)?;
    if index >= x[dim] {
        return err(
            Blame::Arg("index"),
            format!(
                "index {index} is out of range for {} of size {} (a tensor {})",
                dim_name(dim),
                x[dim],
                shape_str(x)
            ),
        );
    }
    let mut out = x.to_vec();
    out.remove(dim);
    Ok(out)
}

pub(super) fn mean(x: &[usize], dims: &Dims, keepdim: bool) -> Result<Vec<usize>, ShapeError> {
    let d = dims.as_slice();
    if d.is_empty() {
        return err(
            Blame::Arg("dim"),
            "mean needs at least one dimension".to_string(),
        );
    }
    for (i, &a) in d.iter().enumerate() {
        axis_in("mean", a, x)?;
        if i > 0 && d[i - 1] >= a {
            return err(
                Blame::Arg("dim"),
                format!("mean over {} twice", dim_name(a)),
            );
        }
    }
    Ok(x.iter()
        .enumerate()
        .filter_map(|(i, &s)| match (d.contains(&i), keepdim) {
            (false, _) => Some(s),
            (true, true) => Some(1),
            (true, false) => None,
        })
        .collect())
}

pub(super) fn roll(x: &[usize], shifts: &Dims, dims: &Dims) -> Result<Vec<usize>, ShapeError> {
    if shifts.len() != dims.len() || dims.is_empty() {
        return err(
            Blame::Arg("shifts"),
            format!(
                "roll needs one shift per dimension, found {} shifts for {} dimensions",
                shifts.len(),
                dims.len()
            ),
        );
    }
    for (&s, &a) in shifts.as_slice().iter().zip(dims.as_slice()) {
        axis_in("roll", a, x)?;
        if s >= x[a] {
            return err(
                Blame::Arg("shifts"),
                format!(
                    "shift {s} is not below the size {} of {}",
                    x[a],
                    dim_name(a)
                ),
            );
        }
    }
    Ok(x.to_vec())
}

pub(super) fn pad(x: &[usize], before: &Dims, after: &Dims) -> Result<Vec<usize>, ShapeError> {
    if before.len() != x.len() || after.len() != x.len() {
        return err(
            Blame::Arg("pad"),
            format!(
                "pad is given {} dimensions for a tensor {}",
                before.len().max(after.len()),
                shape_str(x)
            ),
        );
    }
    let mut out = Vec::with_capacity(x.len());
    for ((&s, &b), &a) in x.iter().zip(before.as_slice()).zip(after.as_slice()) {
        match s.checked_add(b).and_then(|v| v.checked_add(a)) {
            Some(v) => out.push(v),
            None => return err(Blame::Arg("pad"), "the padded size overflows".to_string()),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting_follows_pytorch() {
        assert_eq!(
            broadcast(&[197, 768], &[1, 197, 768]),
            Some(vec![1, 197, 768])
        );
        assert_eq!(
            broadcast(&[96, 56, 56], &[96, 1, 1]),
            Some(vec![96, 56, 56])
        );
        assert_eq!(broadcast(&[3, 1], &[1, 4]), Some(vec![3, 4]));
        assert_eq!(broadcast(&[3, 2], &[3]), None);
        assert_eq!(broadcast(&[], &[5]), Some(vec![5]));
    }

    #[test]
    fn matmul_follows_torch_matmul() {
        // attention: [12, 197, 64] @ [12, 197, 64]ᵀ = [12, 197, 197]
        assert_eq!(
            matmul(&[12, 197, 64], &[12, 197, 64], true).unwrap(),
            [12, 197, 197]
        );
        // batch broadcast: [4, 1, 5, 6] @ [3, 6, 2] = [4, 3, 5, 2]
        assert_eq!(
            matmul(&[4, 1, 5, 6], &[3, 6, 2], false).unwrap(),
            [4, 3, 5, 2]
        );
        // 1-D operands: [6] @ [6, 2] = [2]; [5, 6] @ [6] = [5]; [6] @ [6] = []
        assert_eq!(matmul(&[6], &[6, 2], false).unwrap(), [2]);
        assert_eq!(matmul(&[5, 6], &[6], false).unwrap(), [5]);
        assert_eq!(matmul(&[6], &[6], false).unwrap(), Vec::<usize>::new());
        let e = matmul(&[5, 6], &[7, 2], false).unwrap_err();
        assert_eq!(e.blame, Blame::Input(1));
        assert!(
            e.message.contains("6 columns against 7 rows"),
            "{}",
            e.message
        );
        assert!(
            e.message.starts_with("inner dimensions differ"),
            "{}",
            e.message
        );
        assert!(matmul(&[2, 5, 6], &[3, 6, 2], false).is_err());
    }

    #[test]
    fn permutations_and_reshapes_are_checked() {
        assert_eq!(
            permute(&[2, 3, 4], &Dims::new(&[2, 0, 1])).unwrap(),
            [4, 2, 3]
        );
        assert!(permute(&[2, 3, 4], &Dims::new(&[0, 0, 1])).is_err());
        assert!(permute(&[2, 3, 4], &Dims::new(&[0, 1])).is_err());
        assert!(permute(&[2, 3, 4], &Dims::new(&[0, 1, 3])).is_err());
        assert_eq!(
            reshape(&[768, 14, 14], &Dims::new(&[768, 196])).unwrap(),
            [768, 196]
        );
        let e = reshape(&[768, 14, 14], &Dims::new(&[768, 195])).unwrap_err();
        assert!(e.message.contains("150528 elements"), "{}", e.message);
    }

    #[test]
    fn selects_slices_and_means_change_one_axis() {
        assert_eq!(select(&[197, 768], 0, 0).unwrap(), [768]);
        assert!(select(&[197, 768], 0, 197).is_err());
        assert_eq!(slice(&[197, 768], 0, 1, 196).unwrap(), [196, 768]);
        assert!(slice(&[197, 768], 2, 0, 1).is_err());
        assert_eq!(mean(&[8, 4, 4], &Dims::new(&[1, 2]), false).unwrap(), [8]);
        assert_eq!(
            mean(&[8, 4, 4], &Dims::new(&[1, 2]), true).unwrap(),
            [8, 1, 1]
        );
        assert_eq!(concat(0, &[&[1, 768], &[196, 768]]).unwrap(), [197, 768]);
        assert!(concat(0, &[&[1, 767], &[196, 768]]).is_err());
        assert_eq!(
            pad(&[3, 4], &Dims::new(&[0, 1]), &Dims::new(&[0, 2])).unwrap(),
            [3, 7]
        );
    }
}
