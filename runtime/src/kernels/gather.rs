//! Indexing by a constant integer array: `table[index]` along one axis
//! (PyTorch's advanced indexing with one index tensor), as a relative
//! position bias reads its learnable table.

use crate::error::{kernel, Error};
use crate::tensor::Tensor;
use netspec_model::shape::{numel, shape_str};

/// `x[..., indices, ...]` along full-tensor axis `axis`: the axis is replaced
/// by `index_shape` (whose values, row-major, are `indices`, each below the
/// axis's size). Each output row (the entries after the axis) is one copy.
pub fn gather(
    x: &Tensor,
    axis: usize,
    indices: &[usize],
    index_shape: &[usize],
) -> Result<Tensor, Error> {
    let shape = x.shape();
    let Some(&size) = shape.get(axis) else {
        return kernel(
            "Gather",
            format!(
                "axis {axis} is out of range for a tensor {}",
                shape_str(shape)
            ),
        );
    };
    if numel(index_shape) != Some(indices.len()) {
        return kernel(
            "Gather",
            format!(
                "{} indices for an index of shape {}",
                indices.len(),
                shape_str(index_shape)
            ),
        );
    }
    if let Some(bad) = indices.iter().find(|&&i| i >= size) {
        return kernel(
            "Gather",
            format!(
                "index {bad} is out of range for axis {axis} of size {size} of a tensor {}",
                shape_str(shape)
            ),
        );
    }
    let outer: usize = shape[..axis].iter().product();
    let inner: usize = shape[axis + 1..].iter().product();
    let mut out_shape = shape[..axis].to_vec();
    out_shape.extend_from_slice(index_shape);
    out_shape.extend_from_slice(&shape[axis + 1..]);
    let src = x.data();
    let mut data = Vec::with_capacity(outer * indices.len() * inner);
    for o in 0..outer {
        let base = o * size * inner;
        for &i in indices {
            let start = base + i * inner;
            data.extend_from_slice(&src[start..start + inner]);
        }
    }
    Ok(Tensor::from_parts(out_shape, data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gathers_rows_of_a_table_by_hand() {
        // A [3, 2] table, rows picked by a [2, 2] index: [2, 2, 2].
        let table = Tensor::new(&[3, 2], vec![0., 1., 10., 11., 20., 21.]).unwrap();
        let y = gather(&table, 0, &[2, 0, 1, 1], &[2, 2]).unwrap();
        assert_eq!(y.shape(), [2, 2, 2]);
        assert_eq!(y.data(), [20., 21., 0., 1., 10., 11., 10., 11.]);
        // Along the last axis of a batch of two [2, 3] (columns 2, 2, 0).
        let x = Tensor::new(&[2, 2, 3], (0..12).map(|v| v as f32).collect()).unwrap();
        let y = gather(&x, 2, &[2, 2, 0], &[3]).unwrap();
        assert_eq!(y.shape(), [2, 2, 3]);
        assert_eq!(y.data(), [2., 2., 0., 5., 5., 3., 8., 8., 6., 11., 11., 9.]);
    }

    #[test]
    fn bad_indices_are_errors_not_panics() {
        let table = Tensor::new(&[3, 2], vec![0.; 6]).unwrap();
        assert!(gather(&table, 0, &[3], &[1]).is_err());
        assert!(gather(&table, 2, &[0], &[1]).is_err());
        assert!(gather(&table, 0, &[0, 1], &[3]).is_err());
    }
}
