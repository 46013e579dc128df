//! Built layers: the tensors of each layer, typed and named, built once (at
//! [`Model::random`](crate::Model::random) or at load) from the layer's
//! configuration ([`Op`], which stays separate: a built layer holds tensors,
//! the op says how to use them).
//!
//! Every tensor is stored in PyTorch layout, f32, row-major, under the
//! state-dict suffix of the field of the same name.

use crate::tensor::Tensor;
use netspec_model::Op;

/// A convolution's tensors.
#[derive(Clone, Debug, PartialEq)]
pub struct Conv2d {
    /// `[c_out, c_in / groups, k_h, k_w]`.
    pub weight: Tensor,
    /// `[c_out]`, if the convolution has a bias.
    pub bias: Option<Tensor>,
}

/// A fully connected layer's tensors.
#[derive(Clone, Debug, PartialEq)]
pub struct Linear {
    /// `[out_features, in_features]`.
    pub weight: Tensor,
    /// `[out_features]`, if the layer has a bias.
    pub bias: Option<Tensor>,
}

/// An inference batch norm's tensors and epsilon.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchNorm2d {
    /// Scale (`gamma`), `[channels]`.
    pub weight: Tensor,
    /// Shift (`beta`), `[channels]`.
    pub bias: Tensor,
    /// Running mean (a buffer, not a parameter), `[channels]`.
    pub running_mean: Tensor,
    /// Running variance (a buffer), `[channels]`.
    pub running_var: Tensor,
    /// Added to the variance before the square root.
    pub eps: f64,
}

/// A layer norm's or group norm's learnable affine tensors (both absent
/// without `elementwise_affine` / `affine`; the bias also with `bias = false`).
#[derive(Clone, Debug, PartialEq)]
pub struct Norm {
    /// Scale: the normalised shape (layer norm) or `[channels]` (group norm).
    pub weight: Option<Tensor>,
    /// Shift, shaped like `weight`.
    pub bias: Option<Tensor>,
}

/// One built layer: its tensors, by kind.
#[derive(Clone, Debug, PartialEq)]
pub enum Layer {
    /// A convolution.
    Conv2d(Conv2d),
    /// A fully connected layer.
    Linear(Linear),
    /// A batch norm.
    BatchNorm2d(BatchNorm2d),
    /// A layer norm or group norm.
    Norm(Norm),
    /// The input projection of a multi-head attention: a linear layer whose
    /// tensors are `in_proj_weight` `[3E, E]` and `in_proj_bias` `[3E]`.
    InProj(Linear),
    /// A learnable tensor declared in the network, stored under the layer's
    /// own path.
    Parameter(Tensor),
    /// A constant tensor of the graph (an attention mask), decoded from the
    /// graph's constants table when the model is built. Not in the state dict.
    Constant(Tensor),
    /// The indices of a gather by a constant integer array, decoded from the
    /// graph's constants table when the model is built. Not in the state dict.
    Gather(Gather),
    /// An operation without tensors (activations, pooling, joins, reshapes).
    Stateless,
}

/// What a gather by a constant integer array reads: its indices and the
/// gathered axis, counted from the last (so that a batched and an unbatched
/// input agree).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gather {
    /// The indices, row-major, each below the gathered axis's size.
    pub indices: Vec<usize>,
    /// Axes from the gathered one to the last, the gathered one included:
    /// full axis `rank - from_end` of a tensor of rank `rank`.
    pub from_end: usize,
}

impl Layer {
    /// Builds the layer of `op` from its tensors in
    /// [`Op::stored_tensors`] order, or `None` if the count does not fit
    /// (shapes are the caller's to check).
    pub(crate) fn build(op: &Op, tensors: Vec<Tensor>) -> Option<Layer> {
        let mut it = tensors.into_iter();
        let layer = match op {
            Op::Conv2d(c) | Op::Conv1d(c) => Layer::Conv2d(Conv2d {
                weight: it.next()?,
                bias: if c.bias { Some(it.next()?) } else { None },
            }),
            Op::MhaInProj { linear: l, .. } => Layer::InProj(Linear {
                weight: it.next()?,
                bias: if l.bias { Some(it.next()?) } else { None },
            }),
            Op::LayerNorm(n) => {
                let weight = if n.affine { Some(it.next()?) } else { None };
                let bias = if n.affine && n.bias {
                    Some(it.next()?)
                } else {
                    None
                };
                Layer::Norm(Norm { weight, bias })
            }
            Op::GroupNorm(g) => {
                let weight = if g.affine { Some(it.next()?) } else { None };
                let bias = if g.affine { Some(it.next()?) } else { None };
                Layer::Norm(Norm { weight, bias })
            }
            Op::Parameter { .. } => Layer::Parameter(it.next()?),
            Op::Linear(l) => Layer::Linear(Linear {
                weight: it.next()?,
                bias: if l.bias { Some(it.next()?) } else { None },
            }),
            Op::BatchNorm2d(b) => Layer::BatchNorm2d(BatchNorm2d {
                weight: it.next()?,
                bias: it.next()?,
                running_mean: it.next()?,
                running_var: it.next()?,
                eps: b.eps,
            }),
            _ => Layer::Stateless,
        };
        it.next().is_none().then_some(layer)
    }

    /// The layer's tensors with their state-dict suffixes, in
    /// [`Op::stored_tensors`] order.
    pub fn tensors(&self) -> impl Iterator<Item = (&'static str, &Tensor)> {
        let slots: [(&'static str, Option<&Tensor>); 4] = match self {
            Layer::Conv2d(Conv2d { weight, bias }) | Layer::Linear(Linear { weight, bias }) => [
                ("weight", Some(weight)),
                ("bias", bias.as_ref()),
                ("", None),
                ("", None),
            ],
            Layer::BatchNorm2d(b) => [
                ("weight", Some(&b.weight)),
                ("bias", Some(&b.bias)),
                ("running_mean", Some(&b.running_mean)),
                ("running_var", Some(&b.running_var)),
            ],
            Layer::Norm(Norm { weight, bias }) => [
                ("weight", weight.as_ref()),
                ("bias", bias.as_ref()),
                ("", None),
                ("", None),
            ],
            Layer::InProj(Linear { weight, bias }) => [
                ("in_proj_weight", Some(weight)),
                ("in_proj_bias", bias.as_ref()),
                ("", None),
                ("", None),
            ],
            Layer::Parameter(t) => [("", Some(t)), ("", None), ("", None), ("", None)],
            Layer::Constant(_) | Layer::Gather(_) | Layer::Stateless => {
                [("", None), ("", None), ("", None), ("", None)]
            }
        };
        slots.into_iter().filter_map(|(s, t)| t.map(|t| (s, t)))
    }

    /// The tensor stored under `suffix` (`weight`, `running_var`, ...).
    pub fn tensor(&self, suffix: &str) -> Option<&Tensor> {
        self.tensors().find(|(s, _)| *s == suffix).map(|(_, t)| t)
    }

    /// The tensor stored under `suffix`, mutable.
    pub(crate) fn tensor_mut(&mut self, suffix: &str) -> Option<&mut Tensor> {
        match (self, suffix) {
            (Layer::Conv2d(Conv2d { weight, .. }), "weight")
            | (Layer::Linear(Linear { weight, .. }), "weight") => Some(weight),
            (Layer::Conv2d(Conv2d { bias, .. }), "bias")
            | (Layer::Linear(Linear { bias, .. }), "bias") => bias.as_mut(),
            (Layer::BatchNorm2d(b), "weight") => Some(&mut b.weight),
            (Layer::BatchNorm2d(b), "bias") => Some(&mut b.bias),
            (Layer::BatchNorm2d(b), "running_mean") => Some(&mut b.running_mean),
            (Layer::BatchNorm2d(b), "running_var") => Some(&mut b.running_var),
            (Layer::Norm(Norm { weight, .. }), "weight") => weight.as_mut(),
            (Layer::Norm(Norm { bias, .. }), "bias") => bias.as_mut(),
            (Layer::InProj(Linear { weight, .. }), "in_proj_weight") => Some(weight),
            (Layer::InProj(Linear { bias, .. }), "in_proj_bias") => bias.as_mut(),
            (Layer::Parameter(t), "") => Some(t),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netspec_model::Linear as LinearOp;

    fn t(n: usize) -> Tensor {
        Tensor::zeros(&[n]).unwrap()
    }

    #[test]
    fn builds_in_state_dict_order_and_checks_the_count() {
        let op = Op::Linear(LinearOp {
            in_features: 1,
            out_features: 2,
            bias: true,
        });
        let layer = Layer::build(&op, vec![t(2), t(3)]).unwrap();
        let names: Vec<_> = layer.tensors().map(|(s, t)| (s, t.len())).collect();
        assert_eq!(names, [("weight", 2), ("bias", 3)]);
        assert_eq!(layer.tensor("bias").map(Tensor::len), Some(3));
        assert!(layer.tensor("running_mean").is_none());
        assert!(Layer::build(&op, vec![t(2)]).is_none());
        assert!(Layer::build(&op, vec![t(2), t(3), t(4)]).is_none());
        assert_eq!(Layer::build(&Op::Flatten, vec![]), Some(Layer::Stateless));
    }
}
