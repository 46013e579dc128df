//! A dense f32 tensor in row-major (NCHW) order.

use crate::error::Error;
use netspec_model::shape::numel;

/// A dense `f32` tensor of any rank, stored row-major: for a feature map the
/// shape is `[N, C, H, W]` and element `(n, c, h, w)` is at
/// `((n * C + c) * H + h) * W + w`.
///
/// The shape's product always equals the data length.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    shape: Vec<usize>,
    data: Vec<f32>,
}

impl Tensor {
    /// A tensor of `shape` holding `data` in row-major order.
    ///
    /// Fails if `data.len()` is not the product of `shape`.
    ///
    /// ```
    /// let t = netspec::Tensor::new(&[2, 3], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
    /// assert_eq!(t.shape(), &[2, 3]);
    /// assert!(netspec::Tensor::new(&[2, 3], vec![0.0; 5]).is_err());
    /// ```
    pub fn new(shape: &[usize], data: Vec<f32>) -> Result<Tensor, Error> {
        let expected = numel(shape);
        if expected != Some(data.len()) {
            return Err(Error::TensorData {
                shape: shape.to_vec(),
                expected,
                found: data.len(),
            });
        }
        Ok(Tensor {
            shape: shape.to_vec(),
            data,
        })
    }

    /// A tensor of `shape` filled with zeros.
    ///
    /// Fails if the element count overflows `usize`.
    pub fn zeros(shape: &[usize]) -> Result<Tensor, Error> {
        Tensor::full(shape, 0.0)
    }

    /// A tensor of `shape` filled with `value`.
    ///
    /// Fails if the element count overflows `usize`.
    pub fn full(shape: &[usize], value: f32) -> Result<Tensor, Error> {
        let Some(n) = numel(shape) else {
            return Err(Error::TensorData {
                shape: shape.to_vec(),
                expected: None,
                found: 0,
            });
        };
        Ok(Tensor {
            shape: shape.to_vec(),
            data: vec![value; n],
        })
    }

    /// Builds a tensor from a shape known to match `data` (kernel outputs).
    pub(crate) fn from_parts(shape: Vec<usize>, data: Vec<f32>) -> Tensor {
        debug_assert_eq!(numel(&shape), Some(data.len()));
        Tensor { shape, data }
    }

    /// A placeholder holding nothing (no allocation): an empty buffer slot.
    /// Its shape is `[0]` in spirit; it is never handed to users.
    pub(crate) fn empty() -> Tensor {
        Tensor {
            shape: Vec::new(),
            data: Vec::new(),
        }
    }

    /// Becomes a copy of `src`, reusing this tensor's allocations.
    pub(crate) fn copy_from(&mut self, src: &Tensor) {
        self.shape.clone_from(&src.shape);
        self.data.clone_from(&src.data);
    }

    /// Resizes to `shape`, reusing the allocation (contents unspecified:
    /// kept where they were, zero where the buffer grew). For kernels that
    /// write their whole output into a reused buffer.
    pub fn reset(&mut self, shape: &[usize]) -> Result<(), Error> {
        let Some(n) = numel(shape) else {
            return Err(Error::TensorData {
                shape: shape.to_vec(),
                expected: None,
                found: 0,
            });
        };
        self.shape.clear();
        self.shape.extend_from_slice(shape);
        self.data.resize(n, 0.0);
        Ok(())
    }

    /// The shape, e.g. `[N, C, H, W]`.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The elements in row-major order.
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    /// The elements in row-major order, mutable (the shape cannot change).
    pub fn data_mut(&mut self) -> &mut [f32] {
        &mut self.data
    }

    /// Consumes the tensor and returns its elements in row-major order.
    pub fn into_data(self) -> Vec<f32> {
        self.data
    }

    /// Number of elements (the product of the shape).
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the tensor has no elements (some dimension is 0).
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The same elements viewed with another shape of the same element count.
    ///
    /// ```
    /// let t = netspec::Tensor::zeros(&[2, 3, 4]).unwrap();
    /// assert_eq!(t.reshape(&[2, 12]).unwrap().shape(), &[2, 12]);
    /// ```
    pub fn reshape(self, shape: &[usize]) -> Result<Tensor, Error> {
        if numel(shape) != Some(self.data.len()) {
            return Err(Error::Reshape {
                from: self.shape,
                numel: self.data.len(),
                to: shape.to_vec(),
            });
        }
        Ok(Tensor {
            shape: shape.to_vec(),
            data: self.data,
        })
    }

    /// Largest absolute elementwise difference to `other`, or `None` if the shapes differ.
    ///
    /// Useful to compare an output against a reference.
    pub fn max_abs_diff(&self, other: &Tensor) -> Option<f32> {
        if self.shape != other.shape {
            return None;
        }
        Some(
            self.data
                .iter()
                .zip(&other.data)
                .fold(0.0f32, |m, (a, b)| m.max((a - b).abs())),
        )
    }

    /// Index of the largest element in each row of a `[N, F]` tensor (the
    /// predicted class of each sample); for other ranks, over the last dimension.
    /// Empty for a rank-0 or empty tensor.
    pub fn argmax_rows(&self) -> Vec<usize> {
        let Some(&width) = self.shape.last() else {
            return Vec::new();
        };
        if width == 0 {
            return Vec::new();
        }
        self.data
            .chunks_exact(width)
            .map(|row| {
                let mut best = 0;
                for (i, &v) in row.iter().enumerate() {
                    if v > row[best] {
                        best = i;
                    }
                }
                best
            })
            .collect()
    }
}
