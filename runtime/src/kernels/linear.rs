//! Fully connected layer.

use super::{check_len, dot};
use crate::error::{kernel, Error};
use crate::tensor::Tensor;
use netspec_model::shape::shape_str;
use netspec_model::Linear;

/// `y[n, o] = Σ_i x[n, i] · weight[o, i] + bias[o]` for `x` of shape
/// `[N, in_features]`, `weight` `[out_features, in_features]` (PyTorch layout,
/// row-major) and optional `bias` `[out_features]`; returns `[N, out_features]`.
pub fn linear(
    x: &Tensor,
    weight: &[f32],
    bias: Option<&[f32]>,
    l: &Linear,
) -> Result<Tensor, Error> {
    let [n, f] = *x.shape() else {
        return kernel(
            "Linear",
            format!(
                "expects a [N, features] tensor, found {}",
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
    let mut out = vec![0.0f32; n * out_f];
    if f == 0 {
        if let Some(b) = bias {
            for row in out.chunks_exact_mut(out_f.max(1)) {
                row.copy_from_slice(b);
            }
        }
        return Ok(Tensor::from_parts(vec![n, out_f], out));
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
    Ok(Tensor::from_parts(vec![n, out_f], out))
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
}
