//! The reference backend: each layer by one call to today's plain-loop
//! kernels ([`crate::kernels`]), which allocate their outputs. Every other
//! backend is checked against this one.

use super::run::Operands;
use crate::error::{kernel, Error};
use crate::kernels::broadcast::{self, BinaryOp};
use crate::kernels::{
    activation, conv, elementwise, gather, linear, matmul, norm, pool, reduce, shape,
};
use crate::layers::Layer;
use crate::tensor::Tensor;
use netspec_model::{Dims, Op};

/// Full-tensor axes of per-sample axes (the batch is axis 0).
fn full(axes: &Dims) -> Vec<usize> {
    axes.as_slice().iter().map(|a| a + 1).collect()
}

/// Runs `op` with its built `layer` on `operands`, returning the output.
pub(crate) fn execute(op: &Op, layer: &Layer, operands: Operands<'_>) -> Result<Tensor, Error> {
    let Operands { inputs, owned, out } = operands;
    // The plain kernels allocate their outputs: release the slot's stale
    // buffer before they do.
    drop(out);
    let count = inputs.len() + usize::from(owned.is_some());
    let one = || match (inputs.as_slice(), count) {
        ([x], 1) => Ok(*x),
        _ => Err(Error::Kernel {
            op: op.kind(),
            message: format!("takes one input, found {count}"),
        }),
    };
    // In-place operations own their (first) input.
    let own = || match owned {
        Some(t) if count == 1 || matches!(op, Op::Add) => Ok(t),
        _ => Err(Error::Kernel {
            op: op.kind(),
            message: format!("takes one input, found {count}"),
        }),
    };
    Ok(match (op, layer) {
        (Op::BatchNorm1d(_) | Op::BatchNorm3d(_) | Op::Conv3d(_) | Op::ConvTranspose(_) | Op::MaxPoolNd(_) | Op::AvgPoolNd(_) | Op::AdaptiveAvgPoolNd { .. } | Op::Interpolate(_) | Op::PReLU { .. }, _) => return kernel(op.kind(), "ISSUE13-PLACEHOLDER".to_string()),
        (Op::BatchNorm2d(_), Layer::BatchNorm2d(b)) => {
            let mut t = own()?;
            norm::batch_norm(
                &mut t,
                b.weight.data(),
                b.bias.data(),
                b.running_mean.data(),
                b.running_var.data(),
                b.eps,
            )?;
            t
        }
        (Op::Activation(a), _) => {
            let mut t = own()?;
            activation::activation_in_place(&mut t, *a);
            t
        }
        (Op::Softmax { dim, causal, .. }, _) => {
            let mut t = own()?;
            reduce::softmax(&mut t, dim + 1, *causal)?;
            t
        }
        (Op::LayerNorm(n), Layer::Norm(l)) => {
            let mut t = own()?;
            let normalized = n.shape.as_slice().iter().product();
            norm::layer_norm(
                &mut t,
                normalized,
                l.weight.as_ref().map(Tensor::data),
                l.bias.as_ref().map(Tensor::data),
                n.eps as f32,
            )?;
            t
        }
        (Op::GroupNorm(g), Layer::Norm(l)) => {
            let mut t = own()?;
            norm::group_norm(
                &mut t,
                g.groups,
                l.weight.as_ref().map(Tensor::data),
                l.bias.as_ref().map(Tensor::data),
                g.eps as f32,
            )?;
            t
        }
        (Op::Affine { scale, shift }, _) => {
            let mut t = own()?;
            broadcast::affine_in_place(&mut t, *scale as f32, *shift as f32);
            t
        }
        (Op::Reshape { shape: target }, _) => {
            let t = own()?;
            let per_sample: usize = target.as_slice().iter().product();
            let n = t.len().checked_div(per_sample).unwrap_or(0);
            let full_shape: Vec<usize> = std::iter::once(n)
                .chain(target.as_slice().iter().copied())
                .collect();
            shape::reshape(t, &full_shape)?
        }
        (Op::Permute { dims }, _) => {
            let axes: Vec<usize> = std::iter::once(0).chain(full(dims)).collect();
            shape::permute(one()?, &axes)?
        }
        (Op::Select { dim, index }, _) => shape::select(one()?, dim + 1, *index)?,
        (Op::Roll { shifts, dims }, _) => shape::roll(one()?, shifts.as_slice(), &full(dims))?,
        (
            Op::Pad {
                before,
                after,
                value,
            },
            _,
        ) => {
            let b: Vec<usize> = std::iter::once(0)
                .chain(before.as_slice().iter().copied())
                .collect();
            let a: Vec<usize> = std::iter::once(0)
                .chain(after.as_slice().iter().copied())
                .collect();
            shape::pad(one()?, &b, &a, *value as f32)?
        }
        (Op::Matmul { trans_b, alpha, .. }, _) => match inputs.as_slice() {
            [a, b] => matmul::matmul(a, b, *trans_b, *alpha as f32)?,
            _ => {
                return kernel(
                    "Matmul",
                    format!("takes two inputs, found {}", inputs.len()),
                )
            }
        },
        (Op::Sub | Op::Div | Op::Maximum | Op::Minimum, _) => match inputs.as_slice() {
            [a, b] => {
                let op = match op {
                    Op::Sub => BinaryOp::Sub,
                    Op::Div => BinaryOp::Div,
                    Op::Maximum => BinaryOp::Max,
                    _ => BinaryOp::Min,
                };
                broadcast::binary(a, b, op)?
            }
            _ => {
                return kernel(
                    op.kind(),
                    format!("takes two inputs, found {}", inputs.len()),
                )
            }
        },
        (Op::Parameter { .. }, Layer::Parameter(t)) => t.clone(),
        (Op::Constant { .. }, Layer::Constant(t)) => t.clone(),
        (Op::Gather { shape, .. }, Layer::Gather(g)) => {
            let x = one()?;
            let axis = x
                .shape()
                .len()
                .checked_sub(g.from_end)
                .ok_or_else(|| Error::Kernel {
                    op: "Gather",
                    message: format!(
                        "a tensor of {} axes has no axis {} from the end",
                        x.shape().len(),
                        g.from_end
                    ),
                })?;
            gather::gather(x, axis, &g.indices, shape.as_slice())?
        }
        (Op::Conv1d(c), Layer::Conv2d(l)) => conv::conv1d(
            one()?,
            l.weight.data(),
            l.bias.as_ref().map(Tensor::data),
            c,
        )?,
        (Op::MhaInProj { linear: c, .. }, Layer::InProj(l)) => linear::linear(
            one()?,
            l.weight.data(),
            l.bias.as_ref().map(Tensor::data),
            c,
        )?,
        (Op::Flatten, _) => elementwise::flatten(own()?)?,
        (Op::Dropout { .. } | Op::Identity | Op::StochasticDepth { .. }, _) => own()?,
        (Op::Add, _) => {
            let Ok(mut acc) = own() else {
                return kernel("Add", "needs at least one input".to_string());
            };
            for x in &inputs {
                if x.shape() == acc.shape() {
                    elementwise::add_assign(&mut acc, x)?;
                } else {
                    // Broadcasting (a position embedding, a layer scale): in
                    // place when the sum keeps the accumulator's shape.
                    let grows = broadcast::binary_assign(&mut acc, x, BinaryOp::Add).is_err();
                    if grows {
                        acc = broadcast::binary(&acc, x, BinaryOp::Add)?;
                    }
                }
            }
            acc
        }
        (Op::Mean { dims, keepdim }, _) => reduce::mean(one()?, &full(dims), *keepdim)?,
        (Op::Conv2d(c), Layer::Conv2d(l)) => conv::conv2d(
            one()?,
            l.weight.data(),
            l.bias.as_ref().map(Tensor::data),
            c,
        )?,
        (Op::Linear(c), Layer::Linear(l)) => linear::linear(
            one()?,
            l.weight.data(),
            l.bias.as_ref().map(Tensor::data),
            c,
        )?,
        (Op::MaxPool2d(p), _) => pool::max_pool2d(one()?, p)?,
        (Op::AvgPool2d(p), _) => pool::avg_pool2d(one()?, p)?,
        (Op::AdaptiveAvgPool2d { output }, _) => pool::adaptive_avg_pool2d(one()?, *output)?,
        (Op::Slice { dim, start, len }, _) => shape::narrow(one()?, dim + 1, *start, *len)?,
        (Op::ChannelShuffle { groups }, _) => elementwise::channel_shuffle(one()?, *groups)?,
        (Op::Concat { dim }, _) => shape::concat(&inputs, dim + 1)?,
        (Op::Mul, _) => match inputs.as_slice() {
            [a, b] => broadcast::binary(a, b, BinaryOp::Mul)?,
            _ => return kernel("Mul", format!("takes two inputs, found {}", inputs.len())),
        },
        (
            Op::BatchNorm2d(_)
            | Op::Conv2d(_)
            | Op::Conv1d(_)
            | Op::Linear(_)
            | Op::MhaInProj { .. }
            | Op::LayerNorm(_)
            | Op::GroupNorm(_)
            | Op::Parameter { .. }
            | Op::Constant { .. }
            | Op::Gather { .. },
            _,
        ) => {
            return kernel(
                op.kind(),
                "the layer was built without its tensors".to_string(),
            )
        }
    })
}
