//! The layers of tensors of any rank: `LayerNorm`, `GroupNorm` and
//! `MultiheadAttention` (its input projection; the compiler writes the rest
//! of the module as nodes), with PyTorch's arguments and defaults.

use super::{to_usize, Bound};
use crate::value::{Errors, Value};
use netspec_model::{GroupNorm, LayerNorm, Linear, Op};

/// Builds layer `name` (one of the three above) from its bound arguments for
/// an input of per-sample shape `input` (`channels` its first size), or
/// `None` after reporting why.
pub(super) fn build(
    name: &str,
    b: &Bound,
    input: &[usize],
    channels: usize,
    errors: &mut Errors,
) -> Option<Op> {
    Some(match name {
        "LayerNorm" => {
            let eps = b.float("eps", 1e-5, errors)?;
            let affine = b.boolean("elementwise_affine", true, errors)?;
            let bias = b.boolean("bias", true, errors)?;
            let shape = match b.get("normalized_shape") {
                None => input.last().map(|&d| vec![d]).unwrap_or_default(),
                Some((Value::Tuple(items), sp)) => {
                    let mut v = Vec::with_capacity(items.len());
                    for item in items {
                        v.push(to_usize(item, *sp, "normalized_shape", 1, errors)?);
                    }
                    v
                }
                Some((v, sp)) => vec![to_usize(v, *sp, "normalized_shape", 1, errors)?],
            };
            if shape.is_empty() || !netspec_model::Dims::fits(&shape) {
                errors.push(
                    b.span_of("normalized_shape"),
                    format!(
                        "`normalized_shape` needs 1 to {} trailing dimensions",
                        netspec_model::MAX_RANK
                    ),
                );
                return None;
            }
            if eps.is_nan() || eps <= 0.0 {
                errors.push(
                    b.span_of("eps"),
                    format!("`eps` must be positive, found {eps}"),
                );
                return None;
            }
            let n = shape.len();
            if n > input.len() || input[input.len() - n..] != shape[..] {
                errors.push(
                    b.span_of("normalized_shape"),
                    format!(
                        "`LayerNorm` normalizes the trailing shape {}, but the input is {}",
                        netspec_model::shape::shape_str(&shape),
                        netspec_model::shape::shape_str(input)
                    ),
                );
                return None;
            }
            Op::LayerNorm(LayerNorm {
                shape: netspec_model::Dims::new(&shape),
                eps,
                affine,
                bias,
            })
        }
        "GroupNorm" => {
            let eps = b.float("eps", 1e-5, errors)?;
            if eps.is_nan() || eps <= 0.0 {
                errors.push(
                    b.span_of("eps"),
                    format!("`eps` must be positive, found {eps}"),
                );
                return None;
            }
            Op::GroupNorm(GroupNorm {
                groups: b.int("num_groups", 1, 1, errors)?,
                channels: b.int("num_channels", channels, 1, errors)?,
                eps,
                affine: b.boolean("affine", true, errors)?,
            })
        }
        "MultiheadAttention" => {
            let heads = b.int("num_heads", 1, 1, errors)?;
            b.float("dropout", 0.0, errors)?;
            b.only("add_bias_kv", &Value::Bool(false), "false", errors)?;
            b.only("add_zero_attn", &Value::Bool(false), "false", errors)?;
            for dim in ["kdim", "vdim"] {
                if let Some((v, sp)) = b.get(dim) {
                    if *v
                        != Value::Int(
                            i64::try_from(input.last().copied().unwrap_or(0)).unwrap_or(-1),
                        )
                    {
                        errors.push(*sp, format!("`MultiheadAttention` supports {dim} equal to the embedding dimension only"));
                        return None;
                    }
                }
            }
            if !b.boolean("batch_first", false, errors)? {
                errors.push(
                    b.span_of("batch_first"),
                    "netspec keeps the batch first: write `batch_first = true` (tokens are [L, E] per sample)",
                );
                return None;
            }
            let e = input.last().copied().unwrap_or(0);
            Op::MhaInProj {
                linear: Linear {
                    in_features: e,
                    out_features: e.saturating_mul(3),
                    bias: b.boolean("bias", true, errors)?,
                },
                heads,
            }
        }
        _ => return None,
    })
}
