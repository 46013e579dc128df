//! Compile-time arrays meeting the graph: the network's constants table,
//! named buffers (`relative_position_index: Buffer(...)`), arrays that
//! become constant tensors where they meet a tensor (`scores + mask`), and
//! gathers by a constant integer array (`table[index]`).

use super::arrays::MAX_ARRAY_ELEMENTS;
use super::{Ctx, Env};
use crate::ast::Arg;
use crate::layers::ArgVal;
use crate::value::{ArrayVal, Range, TensorVal, Value};
use netspec_model::{shape, Dims, Op, MAX_RANK};
use std::rc::Rc;
use syn::Ident;

/// One entry of a network's constants table.
#[derive(Clone, Debug, PartialEq)]
pub struct ConstRec {
    /// The state-dict name of the buffer it stands for, empty if none.
    pub name: String,
    /// Its full shape.
    pub shape: Vec<usize>,
    /// Its values, row-major.
    pub data: Rc<Vec<f64>>,
    /// Whether every value is an integer.
    pub integer: bool,
}

impl Ctx<'_> {
    /// The entry of `a` in the constants table: its own for a named
    /// buffer, an equal one already there, or a new one.
    fn intern_constant(
        &mut self,
        name: Option<String>,
        a: &ArrayVal,
        span: Range,
    ) -> Option<usize> {
        if name.is_none() {
            if let Some(i) = a.buffer {
                return Some(i);
            }
            let same = |c: &ConstRec| {
                c.data.len() == a.data.len() && (Rc::ptr_eq(&c.data, &a.data) || c.data == a.data)
            };
            if let Some(i) = self.constants.iter().position(same) {
                return Some(i);
            }
        }
        let held: usize = self.constants.iter().map(|c| c.data.len()).sum();
        if held.saturating_add(a.data.len()) > MAX_ARRAY_ELEMENTS {
            self.errors.push(
                span,
                format!("the network's constants hold more than {MAX_ARRAY_ELEMENTS} values"),
            );
            return None;
        }
        self.constants.push(ConstRec {
            name: name.unwrap_or_default(),
            shape: a.shape.clone(),
            data: a.data.clone(),
            integer: a.integer,
        });
        Some(self.constants.len() - 1)
    }

    /// `name: Buffer(array)`: the array, also a buffer of the state dict at
    /// the path of `name`. A state dict that carries a tensor of that name is
    /// checked against these values at load; one that does not is accepted.
    pub(super) fn buffer(
        &mut self,
        env: &mut Env,
        name: &Ident,
        args: &[Arg],
        span: Range,
    ) -> Value {
        let vals = self.args(env, args);
        let usage = "`Buffer` takes one compile-time array: index: Buffer(arange(49))";
        let [ArgVal {
            name: None,
            value,
            span: at,
        }] = vals.as_slice()
        else {
            return self.fail(span, usage);
        };
        let a = match value {
            Value::Array(a) => a.clone(),
            Value::Poison => return Value::Poison,
            other => return self.fail(*at, format!("{usage}, found {}", other.describe())),
        };
        if !self.step(span) {
            return Value::Poison;
        }
        let path = env.join(&name.to_string());
        if self.weighted.contains_key(&path) {
            return self.fail(
                span,
                format!(
                    "duplicate name `{path}`: a layer with weights or another buffer has this path"
                ),
            );
        }
        self.weighted.insert(path.clone(), span);
        match self.intern_constant(Some(path), &a, span) {
            Some(i) => Value::Array(ArrayVal {
                buffer: Some(i),
                ..a
            }),
            None => Value::Poison,
        }
    }

    /// The array `a` as a constant tensor of the graph: an
    /// [`Op::Constant`] node (named after its buffer, or `constant`),
    /// unbatched, its shape the array's.
    pub(super) fn materialise(
        &mut self,
        env: &Env,
        a: &ArrayVal,
        span: Range,
    ) -> Option<TensorVal> {
        if a.shape.len() > MAX_RANK {
            self.errors.push(
                span,
                format!("a constant tensor has at most {MAX_RANK} dimensions"),
            );
            return None;
        }
        if a.data.iter().any(|v| v.abs() > f64::from(f32::MAX)) {
            self.errors.push(
                span,
                "a constant tensor holds f32 values, and this array has values beyond f32's range",
            );
            return None;
        }
        let index = self.intern_constant(None, a, span)?;
        let path = match a.buffer.and_then(|i| self.constants.get(i)) {
            Some(c) => c.name.clone(),
            None => env.join("constant"),
        };
        let op = Op::Constant {
            index,
            shape: Dims::new(&a.shape),
        };
        match self.node_named(op, Vec::new(), path, false, span, &|_| span) {
            Value::Tensor(t) => Some(t),
            _ => None,
        }
    }

    /// The arguments of the tensor function `key` with the arrays among
    /// them handled: where a tensor is among the arguments, each array
    /// becomes a constant tensor (`Ok`); a call on arrays alone is evaluated
    /// at once as an array method (`Err` with its result).
    pub(super) fn route_arrays(
        &mut self,
        env: &Env,
        key: &str,
        vals: Vec<ArgVal>,
        span: Range,
    ) -> Result<Vec<ArgVal>, Value> {
        if !vals.iter().any(|a| matches!(a.value, Value::Array(_))) {
            return Ok(vals);
        }
        if !vals.iter().any(|a| matches!(a.value, Value::Tensor(_))) {
            return Err(match vals.split_first() {
                Some((
                    ArgVal {
                        value: Value::Array(a),
                        ..
                    },
                    rest,
                )) => self.array_method(key, a.clone(), rest, span),
                _ => self.fail(span, format!("`{key}` takes a tensor or an array first")),
            });
        }
        let mut out = Vec::with_capacity(vals.len());
        for v in vals {
            let value = match &v.value {
                Value::Array(a) => match self.materialise(env, a, v.span) {
                    Some(t) => Value::Tensor(t),
                    None => return Err(Value::Poison),
                },
                other => other.clone(),
            };
            out.push(ArgVal { value, ..v });
        }
        Ok(out)
    }

    /// `t[..., idx, ...]`: the entries of tensor `t` along axis `dim` of its
    /// view (per sample if batched, its full shape if not) of size `size`,
    /// picked by the integer array `idx` (negative from the end): an
    /// [`Op::Gather`] node whose indices are a constant of the graph.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn gather(
        &mut self,
        env: &Env,
        t: TensorVal,
        dim: usize,
        size: usize,
        idx: &ArrayVal,
        span: Range,
        spans: [Range; 2],
    ) -> Value {
        // Indices travel as f32, exact up to 2^24.
        if size > 1 << 24 {
            return self.fail(
                spans[1],
                format!("indexing by an array reaches dimensions of at most 16777216 entries, found {size}"),
            );
        }
        let Some(indices) = self.indices_of(idx, size, spans[1]) else {
            return Value::Poison;
        };
        // The view is the tensor's shape: per sample if batched, whole if not.
        let rank = t.shape.len().saturating_sub(1) + idx.shape.len();
        if idx.shape.len() > MAX_RANK || rank > MAX_RANK {
            return self.fail(
                spans[1],
                format!(
                    "indexing by the array {} gives more than {MAX_RANK} dimensions",
                    shape::shape_str(&idx.shape)
                ),
            );
        }
        // The table holds the indices normalised (negative ones from the end).
        let normalised: Vec<f64> = indices.iter().map(|&i| i as f64).collect();
        let a = if normalised == *idx.data {
            idx.clone()
        } else {
            ArrayVal {
                data: Rc::new(normalised),
                buffer: None,
                ..idx.clone()
            }
        };
        let Some(index) = self.intern_constant(None, &a, spans[1]) else {
            return Value::Poison;
        };
        let op = Op::Gather {
            dim,
            index,
            shape: Dims::new(&idx.shape),
        };
        self.node(env, op, vec![t], None, span, &spans[..1], "gather")
    }
}
