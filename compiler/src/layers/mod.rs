//! The layer catalogue: each layer's arguments in PyTorch's order, their
//! defaults, and the construction of a resolved [`Op`] with input channels
//! inferred from the incoming tensor.

pub use crate::bind::{bind, ArgVal, Callee};
use crate::value::{Errors, Range, Value};
use netspec_model::{Activation, Linear, Op};
use std::collections::HashMap;

mod spatial;
mod tensors;
pub mod upsample;
use syn::Ident;

/// A layer's name and its arguments in positional order.
struct LayerDef {
    name: &'static str,
    params: &'static [&'static str],
    required: usize,
}

const ACT: &[&str] = &["inplace"];

const CATALOGUE: &[LayerDef] = &[
    LayerDef {
        name: "Conv2d",
        params: spatial::CONV,
        required: 2,
    },
    LayerDef {
        name: "Linear",
        params: &["out_features", "bias"],
        required: 1,
    },
    LayerDef {
        name: "BatchNorm2d",
        params: spatial::BATCH_NORM,
        required: 0,
    },
    LayerDef {
        name: "ReLU",
        params: ACT,
        required: 0,
    },
    LayerDef {
        name: "ReLU6",
        params: ACT,
        required: 0,
    },
    LayerDef {
        name: "LeakyReLU",
        params: &["negative_slope", "inplace"],
        required: 0,
    },
    LayerDef {
        name: "Sigmoid",
        params: &[],
        required: 0,
    },
    LayerDef {
        name: "Tanh",
        params: &[],
        required: 0,
    },
    LayerDef {
        name: "SiLU",
        params: ACT,
        required: 0,
    },
    LayerDef {
        name: "Hardsigmoid",
        params: ACT,
        required: 0,
    },
    LayerDef {
        name: "Hardswish",
        params: ACT,
        required: 0,
    },
    LayerDef {
        name: "GELU",
        params: &["approximate"],
        required: 0,
    },
    LayerDef {
        name: "MaxPool2d",
        params: spatial::MAX_POOL,
        required: 1,
    },
    LayerDef {
        name: "AvgPool2d",
        params: spatial::AVG_POOL,
        required: 1,
    },
    LayerDef {
        name: "AdaptiveAvgPool2d",
        params: &["output_size"],
        required: 1,
    },
    LayerDef {
        name: "Flatten",
        params: &["start_dim", "end_dim"],
        required: 0,
    },
    LayerDef {
        name: "Dropout",
        params: &["p", "inplace"],
        required: 0,
    },
    LayerDef {
        name: "Identity",
        params: &[],
        required: 0,
    },
    LayerDef {
        name: "StochasticDepth",
        params: &["p", "mode"],
        required: 1,
    },
    LayerDef {
        name: "Softmax",
        params: &["dim"],
        required: 0,
    },
    LayerDef {
        name: "ChannelShuffle",
        params: &["groups"],
        required: 1,
    },
    LayerDef {
        name: "Conv1d",
        params: spatial::CONV,
        required: 2,
    },
    LayerDef {
        name: "LayerNorm",
        params: &["normalized_shape", "eps", "elementwise_affine", "bias"],
        required: 0,
    },
    LayerDef {
        name: "GroupNorm",
        params: &["num_groups", "num_channels", "eps", "affine"],
        required: 1,
    },
    LayerDef {
        name: "MultiheadAttention",
        params: &[
            "num_heads",
            "dropout",
            "bias",
            "add_bias_kv",
            "add_zero_attn",
            "kdim",
            "vdim",
            "batch_first",
        ],
        required: 1,
    },
];

/// Other spellings accepted for a layer.
const ALIASES: &[(&str, &str)] = &[("HardSigmoid", "Hardsigmoid"), ("HardSwish", "Hardswish")];

/// Every layer name, for suggestions.
pub fn layer_names() -> impl Iterator<Item = &'static str> {
    CATALOGUE
        .iter()
        .chain(spatial::CATALOGUE)
        .map(|d| d.name)
        .chain(ALIASES.iter().map(|a| a.0))
}

fn lookup(name: &str) -> Option<&'static LayerDef> {
    let name = ALIASES.iter().find(|a| a.0 == name).map_or(name, |a| a.1);
    CATALOGUE
        .iter()
        .chain(spatial::CATALOGUE)
        .find(|d| d.name == name)
}

/// Whether `name` is a layer of the catalogue.
pub fn is_layer(name: &str) -> bool {
    lookup(name).is_some()
}

/// Arguments bound to parameter names.
pub struct Bound {
    layer: &'static str,
    args: HashMap<&'static str, (Value, Range)>,
    span: Range,
}

impl Bound {
    /// Arguments `args` of `layer` (a layer or a function taking layer-like
    /// arguments, such as `interpolate`), called at `span`.
    pub fn new(
        layer: &'static str,
        args: HashMap<&'static str, (Value, Range)>,
        span: Range,
    ) -> Bound {
        Bound { layer, args, span }
    }

    /// The span of argument `name`, or of the layer when it was not given.
    pub fn span_of(&self, name: &str) -> Range {
        self.args.get(name).map_or(self.span, |a| a.1)
    }

    fn get(&self, name: &str) -> Option<&(Value, Range)> {
        self.args.get(name)
    }

    /// Whether `inplace = true` was given (`build` checked it is a boolean).
    pub fn inplace(&self) -> bool {
        matches!(self.get("inplace"), Some((Value::Bool(true), _)))
    }

    /// A non-negative (`min` 0) or positive (`min` 1) integer.
    fn int(&self, name: &str, default: usize, min: i64, errors: &mut Errors) -> Option<usize> {
        match self.get(name) {
            None => Some(default),
            Some((v, span)) => to_usize(v, *span, name, min, errors),
        }
    }

    /// An integer or a pair `(h, w)`.
    fn pair(
        &self,
        name: &str,
        default: [usize; 2],
        min: i64,
        errors: &mut Errors,
    ) -> Option<[usize; 2]> {
        match self.get(name) {
            None => Some(default),
            Some((Value::Tuple(items), span)) => {
                if items.len() != 2 {
                    errors.push(
                        *span,
                        format!(
                            "`{name}` takes one integer or a pair (h, w), found a tuple of {}",
                            items.len()
                        ),
                    );
                    return None;
                }
                let h = to_usize(&items[0], *span, name, min, errors)?;
                let w = to_usize(&items[1], *span, name, min, errors)?;
                Some([h, w])
            }
            Some((v, span)) => to_usize(v, *span, name, min, errors).map(|x| [x, x]),
        }
    }

    fn boolean(&self, name: &str, default: bool, errors: &mut Errors) -> Option<bool> {
        match self.get(name) {
            None => Some(default),
            Some((Value::Bool(b), _)) => Some(*b),
            Some((Value::Poison, _)) => None,
            Some((v, span)) => {
                errors.push(
                    *span,
                    format!("`{name}` must be a boolean, found {}", v.describe()),
                );
                None
            }
        }
    }

    fn float(&self, name: &str, default: f64, errors: &mut Errors) -> Option<f64> {
        match self.get(name) {
            None => Some(default),
            Some((Value::Float(f), _)) => Some(*f),
            Some((Value::Int(i), _)) => Some(*i as f64),
            Some((Value::Poison, _)) => None,
            Some((v, span)) => {
                errors.push(
                    *span,
                    format!("`{name}` must be a number, found {}", v.describe()),
                );
                None
            }
        }
    }

    /// Rejects a value other than the only one supported.
    fn only(&self, name: &str, supported: &Value, note: &str, errors: &mut Errors) -> Option<()> {
        match self.get(name) {
            Some((Value::Poison, _)) => None,
            Some((v, span)) if v != supported => {
                errors.push(
                    *span,
                    format!(
                        "`{}` only supports {name} = {note}, found {}",
                        self.layer,
                        v.describe()
                    ),
                );
                None
            }
            _ => Some(()),
        }
    }
}

/// Converts a value to a size, with `min` 0 or 1.
pub fn to_usize(
    v: &Value,
    span: Range,
    name: &str,
    min: i64,
    errors: &mut Errors,
) -> Option<usize> {
    match v {
        Value::Int(i) if *i >= min => usize::try_from(*i).ok().or_else(|| {
            errors.push(span, format!("`{name}` = {i} is too large"));
            None
        }),
        Value::Int(i) => {
            let want = if min > 0 { "positive" } else { "non-negative" };
            errors.push(span, format!("`{name}` must be {want}, found {i}"));
            None
        }
        Value::Poison => None,
        other => {
            errors.push(
                span,
                format!("`{name}` must be an integer, found {}", other.describe()),
            );
            None
        }
    }
}

/// Resolves a layer call into an operation for an input of shape `input`.
/// Returns the op and the bound arguments (for spans), or `None` after
/// reporting why.
pub fn build(
    name: &Ident,
    args: Vec<ArgVal>,
    span: Range,
    input: &[usize],
    errors: &mut Errors,
) -> Option<(Op, Bound)> {
    let key = name.to_string();
    let def = lookup(&key)?;
    let slots = bind(
        Callee::Layer,
        def.name,
        def.params,
        |i| i < def.required,
        args,
        span,
        errors,
    )?;
    let args = def
        .params
        .iter()
        .zip(slots)
        .filter_map(|(p, slot)| Some((*p, slot?)))
        .collect();
    let b = Bound {
        layer: def.name,
        args,
        span,
    };
    let channels = input.first().copied().unwrap_or(0);
    let before = errors.len();
    let op = match def.name {
        "Linear" => Op::Linear(Linear {
            in_features: input.last().copied().unwrap_or(0),
            out_features: b.int("out_features", 1, 1, errors)?,
            bias: b.boolean("bias", true, errors)?,
        }),
        "ReLU" | "ReLU6" | "Sigmoid" | "Tanh" | "SiLU" | "Hardsigmoid" | "Hardswish" => {
            b.boolean("inplace", false, errors)?;
            Op::Activation(match def.name {
                "ReLU" => Activation::ReLU,
                "ReLU6" => Activation::ReLU6,
                "Sigmoid" => Activation::Sigmoid,
                "Tanh" => Activation::Tanh,
                "SiLU" => Activation::SiLU,
                "Hardsigmoid" => Activation::HardSigmoid,
                _ => Activation::HardSwish,
            })
        }
        "LeakyReLU" => {
            b.boolean("inplace", false, errors)?;
            Op::Activation(Activation::LeakyReLU {
                slope: b.float("negative_slope", 0.01, errors)?,
            })
        }
        "GELU" => {
            let tanh = match b.get("approximate") {
                None => false,
                Some((Value::Str(s), _)) if s == "none" => false,
                Some((Value::Str(s), _)) if s == "tanh" => true,
                Some((Value::Poison, _)) => return None,
                Some((v, sp)) => {
                    errors.push(
                        *sp,
                        format!(
                            "`approximate` must be \"none\" or \"tanh\", found {}",
                            v.describe()
                        ),
                    );
                    return None;
                }
            };
            Op::Activation(Activation::GELU { tanh })
        }
        "AdaptiveAvgPool2d" => Op::AdaptiveAvgPool2d {
            output: b.pair("output_size", [1, 1], 1, errors)?,
        },
        "Flatten" => {
            b.only("start_dim", &Value::Int(1), "1", errors);
            b.only("end_dim", &Value::Int(-1), "-1", errors);
            Op::Flatten
        }
        "Dropout" => {
            let p = b.float("p", 0.5, errors)?;
            if !(0.0..=1.0).contains(&p) {
                errors.push(
                    b.span_of("p"),
                    format!("dropout probability must be between 0 and 1, found {p}"),
                );
            }
            Op::Dropout { p }
        }
        "Identity" => Op::Identity,
        "StochasticDepth" => {
            let p = b.float("p", 0.0, errors)?;
            if !(0.0..=1.0).contains(&p) {
                errors.push(
                    b.span_of("p"),
                    format!("drop probability must be between 0 and 1, found {p}"),
                );
            }
            match b.get("mode") {
                None => {}
                Some((Value::Str(m), _)) if m == "row" || m == "batch" => {}
                Some((Value::Poison, _)) => return None,
                Some((v, sp)) => {
                    errors.push(
                        *sp,
                        format!(
                            "`mode` must be \"row\" or \"batch\", found {}",
                            v.describe()
                        ),
                    );
                    return None;
                }
            }
            Op::StochasticDepth { p }
        }
        "Softmax" => {
            // PyTorch's dimension, the batch first; the default is the
            // channel (feature) dimension.
            let full = i64::try_from(input.len())
                .unwrap_or(i64::MAX)
                .saturating_add(1);
            let dim = match b.get("dim") {
                None => 1,
                Some((Value::Int(d), _)) if *d < 0 => d.saturating_add(full),
                Some((Value::Int(d), _)) => *d,
                Some((Value::Poison, _)) => return None,
                Some((other, sp)) => {
                    errors.push(
                        *sp,
                        format!("`dim` must be an integer, found {}", other.describe()),
                    );
                    return None;
                }
            };
            if dim < 1 || dim >= full {
                errors.push(
                    b.span_of("dim"),
                    format!(
                        "`Softmax` over dimension {dim} of a tensor with {full} dimensions (the batch is dimension 0): expected 1 to {}",
                        full - 1
                    ),
                );
                return None;
            }
            Op::Softmax {
                dim: usize::try_from(dim - 1).unwrap_or(0),
                causal: false,
                fused: false,
            }
        }
        "ChannelShuffle" => Op::ChannelShuffle {
            groups: b.int("groups", 1, 1, errors)?,
        },
        "LayerNorm" | "GroupNorm" | "MultiheadAttention" => {
            tensors::build(def.name, &b, input, channels, errors)?
        }
        n if spatial::builds(n) => spatial::build(n, &b, input, channels, errors)?,
        _ => return None,
    };
    (errors.len() == before).then_some((op, b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bind::testing::{arg, messages};
    use proc_macro2::Span;

    #[test]
    fn layers_resolve_with_inferred_input_channels() {
        let mut errors = Errors::default();
        let name = Ident::new("Conv2d", Span::call_site());
        let (op, _) = build(
            &name,
            vec![arg(None, 16), arg(None, 3), arg(Some("dilation"), 2)],
            Span::call_site().into(),
            &[8, 32, 32],
            &mut errors,
        )
        .expect("a valid convolution");
        let Op::Conv2d(c) = op else {
            panic!("a convolution")
        };
        assert_eq!(
            (c.in_channels, c.out_channels, c.kernel, c.dilation),
            (8, 16, [3, 3], [2, 2])
        );
    }

    #[test]
    fn same_padding_that_overflows_is_an_error() {
        let mut errors = Errors::default();
        let name = Ident::new("Conv2d", Span::call_site());
        let padding = ArgVal {
            name: Some(Ident::new("padding", Span::call_site())),
            value: Value::Str("same".into()),
            span: Span::call_site().into(),
        };
        let built = build(
            &name,
            vec![
                arg(None, 8),
                arg(None, 4),
                arg(Some("dilation"), i64::MAX),
                padding,
            ],
            Span::call_site().into(),
            &[3, 8, 8],
            &mut errors,
        );
        assert!(built.is_none());
        assert_eq!(
            messages(errors),
            ["padding = \"same\" overflows: dilation [9223372036854775807, 9223372036854775807] times kernel [4, 4] minus 1 does not fit"]
        );
    }
}
