//! The one binder of call arguments, for layers and blocks alike: by
//! position, then by keyword, with every mistake reported in the callee's
//! own words.

use crate::value::{did_you_mean, Errors, Range, Value};
use syn::Ident;

/// An evaluated call argument.
#[derive(Clone, Debug)]
pub struct ArgVal {
    /// Keyword, if given as `name = value`.
    pub name: Option<Ident>,
    /// Value.
    pub value: Value,
    /// Range of the value expression.
    pub span: Range,
}

/// What is being called, for the wording of binding errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Callee {
    /// A layer of the catalogue.
    Layer,
    /// A user-defined block (its parameters follow its input tensor).
    Block,
}

/// The one binder of call arguments, for layers and blocks alike: binds
/// `args` by position and keyword to `params` (named `kind`), reporting
/// positional-after-keyword, surplus, unknown, duplicate and missing
/// arguments (`required(i)`: parameter `i` has no default). Each slot holds
/// the value given for that parameter, if any; `None` when anything failed.
pub fn bind(
    callee: Callee,
    kind: &str,
    params: &[&str],
    required: impl Fn(usize) -> bool,
    args: Vec<ArgVal>,
    span: Range,
    errors: &mut Errors,
) -> Option<Vec<Option<(Value, Range)>>> {
    let before = errors.len();
    let plural = if params.len() == 1 { "" } else { "s" };
    let mut bound: Vec<Option<(Value, Range)>> = vec![None; params.len()];
    let mut positional = 0usize;
    let mut seen_keyword = false;
    for arg in args {
        let slot = match &arg.name {
            None => {
                if seen_keyword {
                    errors.push(arg.span, "positional argument after a keyword argument");
                    continue;
                }
                let slot = positional;
                positional = positional.saturating_add(1);
                if slot >= params.len() {
                    let message = match callee {
                        Callee::Layer => format!(
                            "layer `{kind}` takes at most {} argument{plural}, found a surplus one",
                            params.len()
                        ),
                        Callee::Block => format!(
                            "block `{kind}` takes {} argument{plural} after its input, found more",
                            params.len()
                        ),
                    };
                    errors.push(arg.span, message);
                    continue;
                }
                slot
            }
            Some(name) => {
                seen_keyword = true;
                let key = name.to_string();
                match params.iter().position(|p| *p == key) {
                    Some(i) => i,
                    None => {
                        let hint = did_you_mean(&key, params.iter().copied());
                        let message = match callee {
                            Callee::Layer => {
                                let expected = if params.is_empty() {
                                    "it takes no arguments".to_string()
                                } else {
                                    format!("expected one of: {}", params.join(", "))
                                };
                                format!(
                                    "unknown argument `{key}` of layer `{kind}`{hint}; {expected}"
                                )
                            }
                            Callee::Block => {
                                format!("block `{kind}` has no parameter `{key}`{hint}")
                            }
                        };
                        errors.push(name.span(), message);
                        continue;
                    }
                }
            }
        };
        let (Some(entry), Some(param)) = (bound.get_mut(slot), params.get(slot)) else {
            continue;
        };
        if entry.is_some() {
            match callee {
                Callee::Layer => {
                    let at = arg.name.as_ref().map_or(arg.span, |n| n.span().into());
                    errors.push(at, format!("argument `{param}` of `{kind}` is given twice"));
                }
                Callee::Block => errors.push(
                    arg.span,
                    format!("argument `{param}` of block `{kind}` is given twice"),
                ),
            }
            continue;
        }
        *entry = Some((arg.value, arg.span));
    }
    for (i, (p, slot)) in params.iter().zip(&bound).enumerate() {
        if slot.is_none() && required(i) {
            let what = match callee {
                Callee::Layer => "layer",
                Callee::Block => "block",
            };
            errors.push(
                span,
                format!("{what} `{kind}` is missing its argument `{p}`"),
            );
        }
    }
    (errors.len() == before).then_some(bound)
}

/// What the binder's and the catalogue's tests build arguments with.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use proc_macro2::Span;

    /// An integer argument, positional (`None`) or by keyword.
    pub(crate) fn arg(name: Option<&str>, value: i64) -> ArgVal {
        ArgVal {
            name: name.map(|n| Ident::new(n, Span::call_site())),
            value: Value::Int(value),
            span: Span::call_site().into(),
        }
    }

    /// Every error's message, in order.
    pub(crate) fn messages(errors: Errors) -> Vec<String> {
        errors
            .combined()
            .map_or(vec![], |e| e.into_iter().map(|e| e.to_string()).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{arg, messages};
    use super::*;
    use proc_macro2::Span;

    fn bind_layer(args: Vec<ArgVal>) -> (Option<Vec<Option<i64>>>, Vec<String>) {
        let mut errors = Errors::default();
        let params = ["out_channels", "kernel_size", "stride"];
        let bound = bind(
            Callee::Layer,
            "Conv2d",
            &params,
            |i| i < 2,
            args,
            Span::call_site().into(),
            &mut errors,
        );
        let ints = bound.map(|slots| {
            slots
                .into_iter()
                .map(|s| match s {
                    Some((Value::Int(i), _)) => Some(i),
                    _ => None,
                })
                .collect()
        });
        (ints, messages(errors))
    }

    #[test]
    fn arguments_bind_by_position_then_keyword() {
        let (bound, errors) = bind_layer(vec![
            arg(None, 8),
            arg(Some("stride"), 2),
            arg(Some("kernel_size"), 3),
        ]);
        assert_eq!(bound, Some(vec![Some(8), Some(3), Some(2)]));
        assert!(errors.is_empty());
    }

    #[test]
    fn every_binding_error_is_reported() {
        let (bound, errors) = bind_layer(vec![
            arg(None, 8),
            arg(Some("strde"), 2),
            arg(Some("out_channels"), 4),
            arg(None, 3),
        ]);
        assert_eq!(bound, None);
        assert_eq!(
            errors,
            [
                "unknown argument `strde` of layer `Conv2d`, did you mean `stride`?; expected one of: out_channels, kernel_size, stride",
                "argument `out_channels` of `Conv2d` is given twice",
                "positional argument after a keyword argument",
                "layer `Conv2d` is missing its argument `kernel_size`",
            ]
        );
    }

    #[test]
    fn blocks_are_bound_by_the_same_binder_in_their_own_words() {
        let mut errors = Errors::default();
        let params = ["planes", "stride"];
        let bound = bind(
            Callee::Block,
            "Unit",
            &params,
            |i| i == 0,
            vec![
                arg(None, 8),
                arg(None, 1),
                arg(None, 2),
                arg(Some("strides"), 2),
            ],
            Span::call_site().into(),
            &mut errors,
        );
        assert!(bound.is_none());
        assert_eq!(
            messages(errors),
            [
                "block `Unit` takes 2 arguments after its input, found more",
                "block `Unit` has no parameter `strides`, did you mean `stride`?",
            ]
        );
    }
}
