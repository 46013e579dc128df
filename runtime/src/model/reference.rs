//! The reference backend: each layer by one call to today's plain-loop
//! kernels ([`crate::kernels`]), which allocate their outputs. Every other
//! backend is checked against this one.

use super::run::Operands;
use crate::error::{kernel, Error};
use crate::kernels::{activation, conv, elementwise, linear, norm, pool};
use crate::layers::Layer;
use crate::tensor::Tensor;
use netspec_model::Op;

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
        (Op::Softmax, _) => {
            let mut t = own()?;
            activation::softmax_in_place(&mut t)?;
            t
        }
        (Op::Flatten, _) => elementwise::flatten(own()?)?,
        (Op::Dropout { .. } | Op::Identity | Op::StochasticDepth { .. }, _) => own()?,
        (Op::Add, _) => {
            let Ok(mut acc) = own() else {
                return kernel("Add", "needs at least one input".to_string());
            };
            for x in &inputs {
                elementwise::add_assign(&mut acc, x)?;
            }
            acc
        }
        (Op::Mean { keepdim }, _) => {
            // The spatial mean is adaptive average pooling to 1x1 (flattened
            // unless the dimensions are kept).
            let pooled = pool::adaptive_avg_pool2d(one()?, [1, 1])?;
            if *keepdim {
                pooled
            } else {
                elementwise::flatten(pooled)?
            }
        }
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
        (Op::Slice { start, len }, _) => elementwise::slice_channels(one()?, *start, *len)?,
        (Op::ChannelShuffle { groups }, _) => elementwise::channel_shuffle(one()?, *groups)?,
        (Op::Concat, _) => elementwise::concat(&inputs)?,
        (Op::Mul, _) => match inputs.as_slice() {
            [a, b] => elementwise::mul(a, b)?,
            _ => return kernel("Mul", format!("takes two inputs, found {}", inputs.len())),
        },
        (Op::BatchNorm2d(_) | Op::Conv2d(_) | Op::Linear(_), _) => {
            return kernel(
                op.kind(),
                "the layer was built without its tensors".to_string(),
            )
        }
    })
}
