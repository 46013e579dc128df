//! The arguments of tensor functions: PyTorch's dimensions (the batch 0,
//! negatives from the end) as per-sample axes, integer lists given one per
//! argument or as a tuple, keyword arguments, and the per-sample view of an
//! unbatched tensor.

use super::{Ctx, Env};
use crate::ast::IndexItem;
use crate::layers::ArgVal;
use crate::value::{Range, TensorVal, Value};
use netspec_model::{shape, Op, MAX_RANK};

impl Ctx<'_> {
    /// The per-sample rank an axis argument of `t` counts over (an unbatched
    /// tensor's leading 1 stands for the batch).
    pub(super) fn rank_of(t: &TensorVal) -> usize {
        if t.batched {
            t.shape.len()
        } else {
            t.shape.len().saturating_sub(1)
        }
    }

    /// PyTorch dimension `v` of `t` as a per-sample axis: in
    /// `-(r + 1) ..= r` for per-sample rank `r` (`extra` more at the end, for
    /// `unsqueeze`), not 0 (the batch).
    pub(super) fn axis(
        &mut self,
        t: &TensorVal,
        v: &Value,
        span: Range,
        extra: usize,
    ) -> Option<usize> {
        let full = Self::rank_of(t) + 1 + extra;
        let d = self.dim_int(v, span)?;
        match from_end(d, full) {
            Some(n) if n >= 1 => Some(n - 1),
            Some(_) => {
                self.errors.push(
                    span,
                    format!(
                        "dimension {d} is the batch, which stays where it is: netspec shapes are per sample (dims 1 to {} of {})",
                        full - 1,
                        shape::shape_str(&t.shape)
                    ),
                );
                None
            }
            _ => {
                self.errors.push(
                    span,
                    format!(
                        "dimension {d} is out of range for a tensor {} with the batch: expected -{full} to {}",
                        shape::shape_str(&t.shape),
                        full - 1
                    ),
                );
                None
            }
        }
    }

    /// How many dimensions an index's `items` consume (all but `None` and
    /// `...`); `None` after reporting a second `...`.
    pub(super) fn indexed_dims(&mut self, items: &[IndexItem], span: Range) -> Option<usize> {
        let ellipses = items
            .iter()
            .filter(|i| matches!(i, IndexItem::Ellipsis(_)))
            .count();
        if ellipses > 1 {
            self.errors.push(span, "an index may hold one `...` only");
            return None;
        }
        Some(
            items
                .iter()
                .filter(|i| !matches!(i, IndexItem::NewAxis(_) | IndexItem::Ellipsis(_)))
                .count(),
        )
    }

    /// A dimension argument's integer, or an error saying it must be one.
    pub(super) fn dim_int(&mut self, v: &Value, span: Range) -> Option<i64> {
        match v {
            Value::Int(d) => Some(*d),
            Value::Poison => None,
            other => {
                self.errors.push(
                    span,
                    format!("a dimension must be an integer, found {}", other.describe()),
                );
                None
            }
        }
    }

    /// The tensor in `a`, or an error saying what `what` must be.
    pub(super) fn tensor_arg(&mut self, a: &ArgVal, what: &str) -> Option<TensorVal> {
        match &a.value {
            Value::Tensor(t) => Some(t.clone()),
            Value::Poison => None,
            other => {
                self.errors.push(
                    a.span,
                    format!("{what} must be a tensor, found {}", other.describe()),
                );
                None
            }
        }
    }

    /// Integers given either one per argument or as one tuple.
    pub(super) fn int_list(&mut self, args: &[ArgVal], what: &str) -> Option<Vec<(i64, Range)>> {
        let items: Vec<(Value, Range)> = match args {
            [ArgVal {
                value: Value::Tuple(items),
                span,
                ..
            }] => items.iter().map(|v| (v.clone(), *span)).collect(),
            _ => args.iter().map(|a| (a.value.clone(), a.span)).collect(),
        };
        let mut out = Vec::with_capacity(items.len());
        for (v, span) in items {
            match v {
                Value::Int(i) => out.push((i, span)),
                Value::Poison => return None,
                other => {
                    self.errors.push(
                        span,
                        format!("{what} must be integers, found {}", other.describe()),
                    );
                    return None;
                }
            }
        }
        if out.len() > MAX_RANK + 1 {
            let span = out[MAX_RANK + 1].1;
            self.errors.push(
                span,
                format!(
                    "at most {} dimensions are supported, found {}",
                    MAX_RANK,
                    out.len()
                ),
            );
            return None;
        }
        Some(out)
    }

    /// The per-sample shape `t`'s operations see (an unbatched tensor's
    /// leading 1 is its batch of one).
    pub(super) fn sample_shape(t: &TensorVal) -> &[usize] {
        if t.batched {
            &t.shape
        } else {
            t.shape.get(1..).unwrap_or(&[])
        }
    }

    /// A node of one input named automatically `auto`.
    pub(super) fn unary(
        &mut self,
        env: &Env,
        op: Op,
        t: TensorVal,
        span: Range,
        input_span: Range,
        auto: &str,
    ) -> Value {
        self.node(env, op, vec![t], None, span, &[input_span], auto)
    }

    pub(super) fn named<'v>(rest: &'v [ArgVal], name: &str) -> Option<&'v ArgVal> {
        rest.iter()
            .find(|a| a.name.as_ref().is_some_and(|n| n == name))
    }

    /// Positional arguments, then the keywords in `keywords` (any other
    /// keyword is an error).
    pub(super) fn split_args<'v>(
        &mut self,
        key: &str,
        rest: &'v [ArgVal],
        keywords: &[&str],
    ) -> Option<Vec<&'v ArgVal>> {
        let mut positional = Vec::new();
        for a in rest {
            match &a.name {
                None => positional.push(a),
                Some(n) if keywords.iter().any(|k| n == k) => {}
                Some(n) => {
                    let expected = if keywords.is_empty() {
                        "it takes no keyword arguments".to_string()
                    } else {
                        format!("expected one of: {}", keywords.join(", "))
                    };
                    self.errors.push(
                        n.span(),
                        format!("unknown argument `{n}` of `{key}`; {expected}"),
                    );
                    return None;
                }
            }
        }
        Some(positional)
    }
}

/// Dimension `d` of `rank` dimensions, negative from the end as in PyTorch:
/// `-rank ..= rank - 1` to `0 .. rank`, `None` outside.
pub(super) fn from_end(d: i64, rank: usize) -> Option<usize> {
    let r = i64::try_from(rank).ok()?;
    let n = if d < 0 { d.checked_add(r)? } else { d };
    usize::try_from(n).ok().filter(|&n| n < rank)
}
