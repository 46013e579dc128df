//! The reference backend: each layer by one call to today's plain-loop
//! kernels ([`crate::kernels`]), which allocate their outputs. Every other
//! backend is checked against this one.

use super::run::Operands;
use crate::error::{kernel, Error};
use crate::kernels::broadcast::{self, BinaryOp};
use crate::kernels::{
    activation, conv, conv_nd, elementwise, gather, interpolate, linear, matmul, norm, pool,
    pool_nd, reduce, shape,
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
    // Layers that may run in place (the plan decides): their input, owned
    // when the plan hands it over, else copied.
    let in_place = owned.is_some();
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
        (Op::BatchNorm2d(_) | Op::BatchNorm1d(_) | Op::BatchNorm3d(_), Layer::BatchNorm2d(b)) => {
            let mut t = if in_place { own()? } else { one()?.clone() };
            let [weight, bias, mean, var] = b.stats();
            if matches!(op, Op::BatchNorm2d(_)) {
                norm::batch_norm(&mut t, weight, bias, mean, var, b.eps)?;
            } else {
                norm::batch_norm_nd(op.kind(), &mut t, weight, bias, mean, var, b.eps)?;
            }
            t
        }
        (Op::PReLU { .. }, Layer::PReLU(w)) => {
            let mut t = if in_place { own()? } else { one()?.clone() };
            activation::prelu(&mut t, w.data())?;
            t
        }
        (Op::Conv3d(c) | Op::ConvTranspose(c), Layer::Conv2d(l)) => {
            conv_nd::conv_any(one()?, l.weight.data(), l.bias_data(), c)?
        }
        (Op::MaxPoolNd(p), _) => pool_nd::max_pool_nd(one()?, p)?,
        (Op::AvgPoolNd(p), _) => pool_nd::avg_pool_nd(one()?, p)?,
        (Op::AdaptiveAvgPoolNd { rank, output }, _) => {
            pool_nd::adaptive_avg_pool_nd(one()?, *rank, *output)?
        }
        (Op::Interpolate(p), _) => interpolate::interpolate(one()?, p)?,
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
        (Op::Conv1d(c), Layer::Conv2d(l)) => {
            conv::conv1d(one()?, l.weight.data(), l.bias_data(), c)?
        }
        (Op::MhaInProj { linear: c, .. }, Layer::InProj(l)) => {
            linear::linear(one()?, l.weight.data(), l.bias_data(), c)?
        }
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
        (Op::Conv2d(c), Layer::Conv2d(l)) => {
            conv::conv2d(one()?, l.weight.data(), l.bias_data(), c)?
        }
        (Op::Linear(c), Layer::Linear(l)) => {
            linear::linear(one()?, l.weight.data(), l.bias_data(), c)?
        }
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
            | Op::BatchNorm1d(_)
            | Op::BatchNorm3d(_)
            | Op::PReLU { .. }
            | Op::Conv3d(_)
            | Op::ConvTranspose(_)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::conv_nd::tests::conv_of;
    use crate::layers::{BatchNorm2d as Bn, Conv2d as ConvTensors};
    use netspec_model::{BatchNorm2d, ConvNd, Interpolate, InterpolationMode, PoolNd};

    fn t(shape: &[usize], data: &[f32]) -> Tensor {
        Tensor::new(shape, data.to_vec()).unwrap()
    }

    /// Runs `op` on `x`, borrowed (`owned` false) or owned as an in-place
    /// step receives it.
    fn run(op: &Op, layer: &Layer, x: &Tensor, owned: bool) -> Result<Tensor, Error> {
        let operands = if owned {
            Operands {
                inputs: vec![],
                owned: Some(x.clone()),
                out: Tensor::empty(),
            }
        } else {
            Operands {
                inputs: vec![x],
                owned: None,
                out: Tensor::empty(),
            }
        };
        execute(op, layer, operands)
    }

    #[test]
    fn dispatches_the_new_layers_to_their_kernels() {
        // ConvTranspose1d 1 -> 1, k 2, s 2, w [1, 2], bias 1 on x = [1, 1, 3]:
        // each x places [x, 2x] in its own pair, plus 1: [2, 3, 2, 3, 4, 7].
        let c = ConvNd {
            bias: true,
            ..conv_of(1, true, 1, 1, 2, 2, 0, 0, 1, 1)
        };
        let layer = Layer::Conv2d(ConvTensors {
            weight: t(&[1, 1, 2], &[1.0, 2.0]),
            bias: Some(t(&[1], &[1.0])),
        });
        let x = t(&[1, 1, 3], &[1.0, 1.0, 3.0]);
        let y = run(&Op::ConvTranspose(c), &layer, &x, false).unwrap();
        assert_eq!(y.data(), &[2.0, 3.0, 2.0, 3.0, 4.0, 7.0]);
        // Conv3d 1 -> 1, k 1, weight 3, no bias: 3x.
        let c3 = conv_of(3, false, 1, 1, 1, 1, 0, 0, 1, 1);
        let layer3 = Layer::Conv2d(ConvTensors {
            weight: t(&[1, 1, 1, 1, 1], &[3.0]),
            bias: None,
        });
        let x3 = t(&[1, 1, 1, 1, 2], &[1.0, -2.0]);
        assert_eq!(
            run(&Op::Conv3d(c3), &layer3, &x3, false).unwrap().data(),
            &[3.0, -6.0]
        );
        // Without its tensors: an error naming the layer.
        let e = run(&Op::Conv3d(c3), &Layer::Stateless, &x3, false).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Conv3d: the layer was built without its tensors"
        );
        // Pools and resampling.
        let p = PoolNd::new(1, [1, 1, 2], [1, 1, 2], [0; 3], [1; 3], false, true);
        let x = t(&[1, 1, 4], &[1.0, 5.0, -2.0, 0.0]);
        assert_eq!(
            run(&Op::MaxPoolNd(p), &Layer::Stateless, &x, false)
                .unwrap()
                .data(),
            &[5.0, 0.0]
        );
        assert_eq!(
            run(&Op::AvgPoolNd(p), &Layer::Stateless, &x, false)
                .unwrap()
                .data(),
            &[3.0, -1.0]
        );
        let a = Op::AdaptiveAvgPoolNd {
            rank: 1,
            output: [1, 1, 1],
        };
        assert_eq!(
            run(&a, &Layer::Stateless, &x, false).unwrap().data(),
            &[1.0]
        );
        let up = Op::Interpolate(Interpolate {
            mode: InterpolationMode::Nearest,
            rank: 1,
            size: [1, 1, 8],
            scale: [0.0, 0.0, 2.0],
            align_corners: false,
            upsample: true,
        });
        let y = run(&up, &Layer::Stateless, &x, false).unwrap();
        assert_eq!(y.data(), &[1.0, 1.0, 5.0, 5.0, -2.0, -2.0, 0.0, 0.0]);
    }

    #[test]
    fn batch_norms_and_prelu_run_in_place_or_on_a_copy() {
        // BatchNorm1d on [2, 2]: channel 0 mean 1 var 4 (eps 0): (x − 1)/2;
        // channel 1 the identity. [[3, 3], [-1, 0]] -> [[1, 3], [-1, 0]].
        let bn = Layer::BatchNorm2d(Bn {
            weight: t(&[2], &[1.0, 1.0]),
            bias: t(&[2], &[0.0, 0.0]),
            running_mean: t(&[2], &[1.0, 0.0]),
            running_var: t(&[2], &[4.0, 1.0]),
            eps: 0.0,
        });
        let op = Op::BatchNorm1d(BatchNorm2d {
            channels: 2,
            eps: 0.0,
        });
        let x = t(&[2, 2], &[3.0, 3.0, -1.0, 0.0]);
        for owned in [false, true] {
            assert_eq!(
                run(&op, &bn, &x, owned).unwrap().data(),
                &[1.0, 3.0, -1.0, 0.0]
            );
        }
        // BatchNorm3d with 2-channel tensors on a 3-channel input: the error
        // names the layer and both counts.
        let op3 = Op::BatchNorm3d(BatchNorm2d {
            channels: 2,
            eps: 0.0,
        });
        let e = run(&op3, &bn, &t(&[1, 3, 1, 1, 1], &[0.0; 3]), false).unwrap_err();
        assert_eq!(
            e.to_string(),
            "BatchNorm3d: weight must have shape [3] (3 values), found 2 values"
        );
        // PReLU, one slope 0.5: [-2, 2] -> [-1, 2].
        let prelu = Op::PReLU {
            num_parameters: 1,
            init: 0.5,
        };
        let w = Layer::PReLU(t(&[1], &[0.5]));
        for owned in [false, true] {
            let y = run(&prelu, &w, &t(&[1, 2], &[-2.0, 2.0]), owned).unwrap();
            assert_eq!(y.data(), &[-1.0, 2.0]);
        }
    }
}
