//! Built layers: the tensors of each layer, typed and named, built once (at
//! [`Model::random`](crate::Model::random) or at load) from the layer's
//! configuration ([`Op`], which stays separate: a built layer holds tensors,
//! the op says how to use them).
//!
//! Every tensor is stored in PyTorch layout, f32, row-major, under the
//! state-dict suffix of the field of the same name.

use crate::tensor::Tensor;
use netspec_model::Op;

/// A convolution's tensors, of any rank, transposed or not (`Conv1d`,
/// `Conv2d`, `Conv3d`, `ConvTranspose1d/2d/3d`).
#[derive(Clone, Debug, PartialEq)]
pub struct Conv2d {
    /// `[c_out, c_in / groups, k...]` (`[c_out, c_in / groups, k_h, k_w]`
    /// for a 2-D convolution), or for a transposed convolution
    /// `[c_in, c_out / groups, k...]`: PyTorch's layouts.
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

impl Conv2d {
    /// The bias's values, if the convolution has one.
    pub fn bias_data(&self) -> Option<&[f32]> {
        self.bias.as_ref().map(Tensor::data)
    }
}

impl Linear {
    /// The bias's values, if the layer has one.
    pub fn bias_data(&self) -> Option<&[f32]> {
        self.bias.as_ref().map(Tensor::data)
    }
}

impl BatchNorm2d {
    /// The four `[channels]` tensors' values, in the order the batch-norm
    /// kernels take them: weight, bias, running mean, running variance.
    pub fn stats(&self) -> [&[f32]; 4] {
        [
            self.weight.data(),
            self.bias.data(),
            self.running_mean.data(),
            self.running_var.data(),
        ]
    }
}

/// One built layer: its tensors, by kind.
#[derive(Clone, Debug, PartialEq)]
pub enum Layer {
    /// A convolution (any rank, transposed or not).
    Conv2d(Conv2d),
    /// A fully connected layer.
    Linear(Linear),
    /// A batch norm (`BatchNorm1d`, `BatchNorm2d`, `BatchNorm3d`).
    BatchNorm2d(BatchNorm2d),
    /// A layer norm or group norm.
    Norm(Norm),
    /// The input projection of a multi-head attention: a linear layer whose
    /// tensors are `in_proj_weight` `[3E, E]` and `in_proj_bias` `[3E]`.
    InProj(Linear),
    /// A learnable tensor declared in the network, stored under the layer's
    /// own path.
    Parameter(Tensor),
    /// A PReLU's learnable slopes, `weight` `[num_parameters]`.
    PReLU(Tensor),
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
            Op::Conv3d(c) | Op::ConvTranspose(c) => Layer::Conv2d(Conv2d {
                weight: it.next()?,
                bias: if c.bias { Some(it.next()?) } else { None },
            }),
            Op::PReLU { .. } => Layer::PReLU(it.next()?),
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
            Op::BatchNorm2d(b) | Op::BatchNorm1d(b) | Op::BatchNorm3d(b) => {
                Layer::BatchNorm2d(BatchNorm2d {
                    weight: it.next()?,
                    bias: it.next()?,
                    running_mean: it.next()?,
                    running_var: it.next()?,
                    eps: b.eps,
                })
            }
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
            Layer::PReLU(t) => [("weight", Some(t)), ("", None), ("", None), ("", None)],
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
            (Layer::PReLU(t), "weight") => Some(t),
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

    #[test]
    fn builds_the_new_layers() {
        use crate::kernels::conv_nd::tests::conv_of;
        use netspec_model::{BatchNorm2d as Bn, ConvNd};
        // A transposed convolution with bias: weight then bias, as a convolution's tensors.
        let c = ConvNd {
            bias: true,
            ..conv_of(2, true, 4, 6, 2, 2, 0, 0, 1, 2)
        };
        let op = Op::ConvTranspose(c);
        let layer = Layer::build(&op, vec![t(48), t(6)]).unwrap();
        assert!(matches!(layer, Layer::Conv2d(Conv2d { bias: Some(_), .. })));
        assert_eq!(layer.tensor("weight").map(Tensor::len), Some(48));
        assert!(Layer::build(&op, vec![t(48)]).is_none());
        let op3 = Op::Conv3d(ConvNd {
            transposed: false,
            bias: false,
            ..c
        });
        assert!(Layer::build(&op3, vec![t(8)]).is_some());
        // PReLU: one `weight`, settable.
        let op = Op::PReLU {
            num_parameters: 3,
            init: 0.25,
        };
        let mut layer = Layer::build(&op, vec![t(3)]).unwrap();
        assert_eq!(
            layer
                .tensors()
                .map(|(s, t)| (s, t.len()))
                .collect::<Vec<_>>(),
            [("weight", 3)]
        );
        assert!(layer.tensor_mut("weight").is_some());
        // BatchNorm1d and 3d keep batch norm's four tensors.
        let bn = Bn {
            channels: 2,
            eps: 1e-5,
        };
        for op in [Op::BatchNorm1d(bn), Op::BatchNorm3d(bn)] {
            let layer = Layer::build(&op, vec![t(2), t(2), t(2), t(2)]).unwrap();
            let names: Vec<_> = layer.tensors().map(|(s, _)| s).collect();
            assert_eq!(names, ["weight", "bias", "running_mean", "running_var"]);
        }
    }
}
