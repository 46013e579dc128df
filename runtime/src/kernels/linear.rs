//! Fully connected layer, on the last axis of a tensor of any rank.

use super::{check_len, dot};
use crate::error::{kernel, Error};
use crate::tensor::Tensor;
use netspec_model::shape::shape_str;
use netspec_model::Linear;

/// `y[.., o] = Σ_i x[.., i] · weight[o, i] + bias[o]` for `x` of shape
/// `[..., in_features]` (any leading dimensions, as PyTorch's `nn.Linear`:
/// `[N, in]`, `[N, 197, in]`, or a single `[in]` vector), `weight`
/// `[out_features, in_features]` (PyTorch layout, row-major) and optional
/// `bias` `[out_features]`; returns `[..., out_features]`.
pub fn linear(
    x: &Tensor,
    weight: &[f32],
    bias: Option<&[f32]>,
    l: &Linear,
) -> Result<Tensor, Error> {
    let Some((&f, lead)) = x.shape().split_last() else {
        return kernel(
            "Linear",
            format!(
                "expects a [..., features] tensor, found {}",
                shape_str(x.shape())
            ),
        );
    };
    if f != l.in_features {
        return kernel(
            "Linear",
            format!("expects {} input features, found {f}", l.in_features),
        );
    }
    let out_f = l.out_features;
    check_len("Linear", "weight", weight, &[out_f, f])?;
    if let Some(b) = bias {
        check_len("Linear", "bias", b, &[out_f])?;
    }
    let rows: usize = lead.iter().product();
    let mut shape = lead.to_vec();
    shape.push(out_f);
    let mut out = vec![0.0f32; rows * out_f];
    if f == 0 {
        if let Some(b) = bias {
            for row in out.chunks_exact_mut(out_f.max(1)) {
                row.copy_from_slice(b);
            }
        }
        return Ok(Tensor::from_parts(shape, out));
    }
    for (xr, yr) in x
        .data()
        .chunks_exact(f)
        .zip(out.chunks_exact_mut(out_f.max(1)))
    {
        for (o, (y, wr)) in yr.iter_mut().zip(weight.chunks_exact(f)).enumerate() {
            *y = dot(wr, xr) + bias.map_or(0.0, |b| b[o]);
        }
    }
    Ok(Tensor::from_parts(shape, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_hand_computation() {
        // x = [[1, 2, 3], [0, -1, 2]], W = [[1, 0, -1], [2, 1, 0.5]], b = [0.5, -1]
        // y[0] = [1 - 3 + 0.5, 2 + 2 + 1.5 - 1] = [-1.5, 4.5]
        // y[1] = [0 - 2 + 0.5, 0 - 1 + 1 - 1]  = [-1.5, -1]
        let x = Tensor::new(&[2, 3], vec![1.0, 2.0, 3.0, 0.0, -1.0, 2.0]).unwrap();
        let w = [1.0, 0.0, -1.0, 2.0, 1.0, 0.5];
        let l = Linear {
            in_features: 3,
            out_features: 2,
            bias: true,
        };
        let y = linear(&x, &w, Some(&[0.5, -1.0]), &l).unwrap();
        assert_eq!(y.shape(), &[2, 2]);
        assert_eq!(y.data(), &[-1.5, 4.5, -1.5, -1.0]);
    }

    #[test]
    fn long_rows_use_every_element() {
        // 20 features (two 8-lane chunks and a tail of 4): Σ i·1 for i < 20 = 190.
        let x = Tensor::new(&[1, 20], (0..20).map(|i| i as f32).collect()).unwrap();
        let l = Linear {
            in_features: 20,
            out_features: 1,
            bias: false,
        };
        let y = linear(&x, &[1.0; 20], None, &l).unwrap();
        assert_eq!(y.data(), &[190.0]);
    }

    #[test]
    fn rejects_wrong_features() {
        let x = Tensor::zeros(&[1, 4]).unwrap();
        let l = Linear {
            in_features: 3,
            out_features: 2,
            bias: false,
        };
        let e = linear(&x, &[0.0; 6], None, &l).unwrap_err();
        assert_eq!(e.to_string(), "Linear: expects 3 input features, found 4");
    }

    #[test]
    fn acts_on_the_last_axis_of_any_rank() {
        // x [1, 2, 2] = [[[1, 2], [3, 4]]], W = [[1, 1], [1, -1], [0, 2]], no bias:
        // row [1, 2] -> [3, -1, 4]; row [3, 4] -> [7, -1, 8]; output [1, 2, 3].
        let x = Tensor::new(&[1, 2, 2], vec![1.0, 2.0, 3.0, 4.0]).unwrap();
        let w = [1.0, 1.0, 1.0, -1.0, 0.0, 2.0];
        let l = Linear {
            in_features: 2,
            out_features: 3,
            bias: false,
        };
        let y = linear(&x, &w, None, &l).unwrap();
        assert_eq!(y.shape(), &[1, 2, 3]);
        assert_eq!(y.data(), &[3.0, -1.0, 4.0, 7.0, -1.0, 8.0]);
        // A lone vector [1, 2] gives [3, -1, 4] of shape [3].
        let v = Tensor::new(&[2], vec![1.0, 2.0]).unwrap();
        let y = linear(&v, &w, None, &l).unwrap();
        assert_eq!(y.shape(), &[3]);
        assert_eq!(y.data(), &[3.0, -1.0, 4.0]);
        // Zero input features: the bias in every row of [2, 1, 2].
        let z = Tensor::zeros(&[2, 1, 0]).unwrap();
        let l0 = Linear {
            in_features: 0,
            out_features: 2,
            bias: true,
        };
        let y = linear(&z, &[], Some(&[5.0, 6.0]), &l0).unwrap();
        assert_eq!(y.shape(), &[2, 1, 2]);
        assert_eq!(y.data(), &[5.0, 6.0, 5.0, 6.0]);
        let s = Tensor::zeros(&[]).unwrap();
        assert_eq!(
            linear(&s, &w, None, &l).unwrap_err().to_string(),
            "Linear: expects a [..., features] tensor, found []"
        );
    }
}
