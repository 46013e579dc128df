//! Fully connected layer through the shared matrix product, on the last
//! axis of a tensor of any rank (the leading axes fold into the rows).

use super::gemm::{matmul, MatMut, MatRef};
use super::packed::epilogue;
use crate::error::{kernel, Error};
use crate::kernels::check_len;
use crate::tensor::Tensor;
use crate::threads;
use netspec_model::shape::shape_str;
use netspec_model::{Activation, Linear};

/// A linear layer ready to run.
#[derive(Clone, Debug, PartialEq)]
pub struct PackedLinear {
    linear: Linear,
    /// `[in_features, out_features]`, row-major: PyTorch's `[out, in]`
    /// transposed once, so that the product reads it row by row.
    weight_t: Vec<f32>,
    /// `[out_features]` (zeros without a bias).
    bias: Vec<f32>,
    /// Applied in the epilogue.
    activation: Option<Activation>,
}

impl PackedLinear {
    /// Checks and stores a linear layer's weight (`[out, in]`, PyTorch layout)
    /// and optional bias (`[out]`).
    pub fn new(l: &Linear, weight: &[f32], bias: Option<&[f32]>) -> Result<PackedLinear, Error> {
        let (i, o) = (l.in_features, l.out_features);
        check_len("Linear", "weight", weight, &[o, i])?;
        let bias = match bias {
            Some(b) => {
                check_len("Linear", "bias", b, &[o])?;
                b.to_vec()
            }
            None => vec![0.0; o],
        };
        let mut weight_t = vec![0.0; i * o];
        for (r, row) in weight.chunks_exact(i.max(1)).enumerate().take(o) {
            for (c, &v) in row.iter().enumerate() {
                weight_t[c * o + r] = v;
            }
        }
        Ok(PackedLinear {
            linear: *l,
            weight_t,
            bias,
            activation: None,
        })
    }

    /// Applies `act` to every output in the epilogue.
    pub fn with_activation(mut self, act: Activation) -> PackedLinear {
        self.activation = Some(act);
        self
    }

    /// Floats held: packed weights and bias.
    pub fn packed_len(&self) -> usize {
        self.weight_t.len() + self.bias.len()
    }

    /// The configuration.
    pub fn linear(&self) -> &Linear {
        &self.linear
    }

    /// `y[.., o] = Σ_i x[.., i]·W[o, i] + b[o]` for `x` of shape `[..., in]`
    /// (any leading dimensions, as PyTorch's `nn.Linear`), giving `[..., out]`.
    pub fn run(&self, x: &Tensor) -> Result<Tensor, Error> {
        self.run_reusing(x, Tensor::from_parts(vec![0], Vec::new()))
    }

    /// [`PackedLinear::run`], writing the output into `buffer`'s allocation
    /// (any shape, contents ignored).
    pub fn run_reusing(&self, x: &Tensor, buffer: Tensor) -> Result<Tensor, Error> {
        let Some((&f, lead)) = x.shape().split_last() else {
            return kernel(
                "Linear",
                format!(
                    "expects a [..., features] tensor, found {}",
                    shape_str(x.shape())
                ),
            );
        };
        let (i, o) = (self.linear.in_features, self.linear.out_features);
        if f != i {
            return kernel("Linear", format!("expects {i} input features, found {f}"));
        }
        // Every leading dimension folds into the rows of one product.
        let n: usize = lead.iter().product();
        let mut shape = lead.to_vec();
        shape.push(o);
        let mut out = buffer.into_data();
        out.resize(n * o, 0.0);
        threads::install(|threads| {
            matmul(
                MatMut::row_major(&mut out, n, o, o),
                MatRef::row_major(x.data(), n, i, i),
                MatRef::row_major(&self.weight_t, i, o, o),
                false,
                threads,
            )
        })?;
        if o > 0 {
            for row in out.chunks_exact_mut(o) {
                for (v, &b) in row.iter_mut().zip(&self.bias) {
                    *v += b;
                }
                if self.activation.is_some() {
                    epilogue(row, 0.0, self.activation);
                }
            }
        }
        Ok(Tensor::from_parts(shape, out))
    }
}
