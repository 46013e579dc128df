//! Indexing, arithmetic and comparisons on compile-time arrays (see
//! `eval/arrays.rs`): `a[:, None]`, `a[..., 0]`, `a[1:]`, `a[idx]`,
//! `a - b` with broadcasting, `a != 0`, `-a`, each evaluated at once.

use super::array_data as data;
use super::{Ctx, Env};
use crate::ast::{BinOp, Expr, IndexItem, UnOp};
use crate::value::{ArrayVal, Range, Value};
use netspec_model::shape;
use netspec_model::MAX_RANK;
use std::rc::Rc;

/// An operand of array arithmetic: shape, values, integer.
type Operand = (Vec<usize>, Rc<Vec<f64>>, bool);

impl Ctx<'_> {
    /// `a[items]` on an array: positions, slices, `:`, `...`, `None`, and
    /// integer arrays (PyTorch's indexing by one index tensor), left to right.
    pub(super) fn array_index(
        &mut self,
        env: &mut Env,
        a: ArrayVal,
        items: &[IndexItem],
        span: Range,
    ) -> Value {
        let rank = a.shape.len();
        let Some(used) = self.indexed_dims(items, span) else {
            return Value::Poison;
        };
        if used > rank {
            return self.fail(
                span,
                format!("too many indices for an array of {rank} dimensions"),
            );
        }
        let (mut shape, mut values, integer) =
            (a.shape.clone(), a.data.as_ref().clone(), a.integer);
        let mut pos = 0usize;
        for item in items {
            let size = shape.get(pos).copied().unwrap_or(0);
            match item {
                IndexItem::Ellipsis(_) => pos += rank - used,
                IndexItem::Full(_) => pos += 1,
                IndexItem::NewAxis(sp) => {
                    shape.insert(pos.min(shape.len()), 1);
                    if shape.len() > MAX_RANK {
                        return self
                            .fail(*sp, format!("an array has at most {MAX_RANK} dimensions"));
                    }
                    pos += 1;
                }
                IndexItem::At(e) => {
                    match self.expr(env, e) {
                        Value::Int(i) => {
                            let Some(index) = normalize(i, size) else {
                                return self.fail(e.span, format!("index {i} is out of range for dimension {pos} of size {size}"));
                            };
                            let (mut s, v) = data::narrow(&shape, &values, pos, index, 1);
                            if pos < s.len() {
                                s.remove(pos);
                            }
                            (shape, values) = (s, v);
                        }
                        Value::Array(idx) => {
                            let Some(indices) = self.indices_of(&idx, size, e.span) else {
                                return Value::Poison;
                            };
                            let mut out = shape.get(..pos).unwrap_or(&[]).to_vec();
                            out.extend_from_slice(&idx.shape);
                            out.extend_from_slice(shape.get(pos + 1..).unwrap_or(&[]));
                            if !self.array_room(e.span, &out) {
                                return Value::Poison;
                            }
                            (shape, values) =
                                data::take(&shape, &values, pos, (&idx.shape, &indices));
                            pos += idx.shape.len();
                        }
                        Value::Poison => return Value::Poison,
                        other => {
                            return self.fail(
                                e.span,
                                format!(
                                    "an index must be an integer or an integer array, found {}",
                                    other.describe()
                                ),
                            )
                        }
                    }
                }
                IndexItem::Slice {
                    start,
                    end,
                    span: sp,
                } => {
                    let mut bound =
                        |e: &Option<Expr>, default: usize, this: &mut Self| -> Option<usize> {
                            match e {
                                None => Some(default),
                                Some(e) => {
                                    let v = this.expr(env, e);
                                    let i = this.int_of(v, e.span, "a slice bound")?;
                                    Some(normalize_clamped(i, size))
                                }
                            }
                        };
                    let (Some(lo), Some(hi)) = (bound(start, 0, self), bound(end, size, self))
                    else {
                        return Value::Poison;
                    };
                    if hi <= lo {
                        return self.fail(
                            *sp,
                            format!(
                                "the slice {lo}..{hi} of dimension {pos} (size {size}) is empty"
                            ),
                        );
                    }
                    (shape, values) = data::narrow(&shape, &values, pos, lo, hi - lo);
                    pos += 1;
                }
            }
        }
        if !shape.is_empty() && !self.array_room(span, &shape) {
            return Value::Poison;
        }
        self.array_value(span, shape, values, integer)
    }

    /// The values of an integer array as indices into a dimension of
    /// `size` (negative from the end), or an error under `span`.
    pub(super) fn indices_of(
        &mut self,
        idx: &ArrayVal,
        size: usize,
        span: Range,
    ) -> Option<Vec<usize>> {
        if !idx.integer {
            self.errors.push(
                span,
                format!(
                    "indices must be an integer array, found a float array {}",
                    shape::shape_str(&idx.shape)
                ),
            );
            return None;
        }
        let mut out = Vec::with_capacity(idx.data.len());
        for &v in idx.data.iter() {
            match normalize(v as i64, size) {
                Some(i) => out.push(i),
                None => {
                    self.errors.push(
                        span,
                        format!("index {v} is out of range for a dimension of size {size}"),
                    );
                    return None;
                }
            }
        }
        Some(out)
    }

    /// `-a` and `!a` on an array (`!` gives 1 where `a` is 0).
    pub(super) fn array_unary(&mut self, span: Range, op: UnOp, a: ArrayVal) -> Value {
        let (values, integer): (Vec<f64>, bool) = match op {
            UnOp::Neg => (a.data.iter().map(|v| -v).collect(), a.integer),
            UnOp::Not => (
                a.data
                    .iter()
                    .map(|v| f64::from(u8::from(*v == 0.0)))
                    .collect(),
                true,
            ),
        };
        if !self.array_room(span, &a.shape) {
            return Value::Poison;
        }
        self.array_value(span, a.shape, values, integer)
    }

    /// Arithmetic and comparisons between an array and an array or a
    /// number, broadcasting.
    pub(super) fn array_binary(
        &mut self,
        span: Range,
        a: Value,
        op: BinOp,
        b: Value,
        spans: [Range; 2],
    ) -> Value {
        let operand = |v: Value| -> Result<Operand, Value> {
            match v {
                Value::Array(x) => Ok((x.shape, x.data, x.integer)),
                Value::Int(i) => Ok((vec![1], Rc::new(vec![i as f64]), true)),
                Value::Float(f) => Ok((vec![1], Rc::new(vec![f]), false)),
                other => Err(other),
            }
        };
        let ((sa, da, ia), (sb, db, ib)) = match (operand(a), operand(b)) {
            (Ok(x), Ok(y)) => (x, y),
            (Err(Value::Poison), _) | (_, Err(Value::Poison)) => return Value::Poison,
            (Err(other), _) => {
                return self.fail(
                    spans[0],
                    format!(
                        "an array combines with arrays and numbers, found {}",
                        other.describe()
                    ),
                )
            }
            (_, Err(other)) => {
                return self.fail(
                    spans[1],
                    format!(
                        "an array combines with arrays and numbers, found {}",
                        other.describe()
                    ),
                )
            }
        };
        let both = ia && ib;
        let Some(out) = shape::broadcast(&sa, &sb) else {
            return self.fail(
                span,
                format!(
                    "cannot combine the arrays {} and {}: the shapes do not broadcast",
                    shape::shape_str(&sa),
                    shape::shape_str(&sb)
                ),
            );
        };
        let zero_divisor = matches!(op, BinOp::Div | BinOp::Rem) && db.contains(&0.0);
        if zero_divisor {
            return self.fail(spans[1], "division by zero");
        }
        let (f, integer): (fn(f64, f64) -> f64, bool) = match (op, both) {
            (BinOp::Add, _) => (|x, y| x + y, both),
            (BinOp::Sub, _) => (|x, y| x - y, both),
            (BinOp::Mul, _) => (|x, y| x * y, both),
            (BinOp::Div, true) => (f64::div_euclid, true),
            (BinOp::Div, false) => (|x, y| x / y, false),
            (BinOp::Rem, true) => (f64::rem_euclid, true),
            (BinOp::Rem, false) => return self.fail(span, "`%` needs integer arrays and integers"),
            (BinOp::Eq, _) => (|x, y| f64::from(u8::from(x == y)), true),
            (BinOp::Ne, _) => (|x, y| f64::from(u8::from(x != y)), true),
            (BinOp::Lt, _) => (|x, y| f64::from(u8::from(x < y)), true),
            (BinOp::Le, _) => (|x, y| f64::from(u8::from(x <= y)), true),
            (BinOp::Gt, _) => (|x, y| f64::from(u8::from(x > y)), true),
            (BinOp::Ge, _) => (|x, y| f64::from(u8::from(x >= y)), true),
            (BinOp::And, _) => (|x, y| f64::from(u8::from(x != 0.0 && y != 0.0)), true),
            (BinOp::Or, _) => (|x, y| f64::from(u8::from(x != 0.0 || y != 0.0)), true),
            (BinOp::MatMul, _) => {
                return self.fail(
                    span,
                    "`@` multiplies tensors; compile-time arrays combine elementwise",
                )
            }
        };
        if !self.array_room(span, &out) {
            return Value::Poison;
        }
        let values = data::broadcast((&sa, &da), (&sb, &db), &out, f);
        self.array_value(span, out, values, integer)
    }
}

/// A Python index (negative from the end) into a dimension of `size`, if in range.
fn normalize(i: i64, size: usize) -> Option<usize> {
    let n = if i >= 0 {
        usize::try_from(i).ok()
    } else {
        size.checked_sub(usize::try_from(i.checked_neg()?).ok()?)
    };
    n.filter(|&n| n < size)
}

/// A Python slice bound, clamped into `0..=size`.
fn normalize_clamped(i: i64, size: usize) -> usize {
    if i >= 0 {
        usize::try_from(i).unwrap_or(usize::MAX).min(size)
    } else {
        let back = usize::try_from(i.unsigned_abs()).unwrap_or(usize::MAX);
        size.saturating_sub(back)
    }
}
