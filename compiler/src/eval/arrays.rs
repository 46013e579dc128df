//! Compile-time arrays: constant tensors a network computes from its
//! configuration (relative-position indices, shifted-window attention
//! masks), evaluated at once by the compiler.
//!
//! `arange(n)`, `arange(start, end[, step])`, `zeros(d...)` and `ones(d...)`
//! make them; reshapes, permutations, indexing, `roll`, arithmetic and
//! comparisons transform them, in PyTorch's terms on their full shapes (an
//! array has no batch, so its dimension 0 is its first). They never become
//! graph nodes by themselves: where one meets a tensor, it becomes a
//! constant of the graph (`eval/constants.rs`).
//!
//! Integer arrays keep the language's integer arithmetic (`/` floors, `%`
//! is never negative, as for integers); comparisons give integer 0/1
//! arrays; anything with a float is a float array. Every array holds at
//! most [`MAX_ARRAY_ELEMENTS`] values, and a network's arrays together at
//! most [`MAX_ARRAY_WORK`] computed values.

use super::array_data as data;
use super::Ctx;
use crate::layers::ArgVal;
use crate::value::{ArrayVal, Range, Value};
use netspec_model::shape::{self, numel};
use netspec_model::MAX_RANK;
use std::rc::Rc;

/// The most values one compile-time array may hold.
pub const MAX_ARRAY_ELEMENTS: usize = 1 << 24;
/// The most array values one network's expansion may compute in all.
pub const MAX_ARRAY_WORK: usize = 1 << 27;
/// Integers beyond this are not exact in an array's f64 values.
const MAX_EXACT: f64 = 9_007_199_254_740_992.0;

/// The functions that make arrays.
pub(super) const ARRAY_FUNCTIONS: &[&str] = &["arange", "zeros", "ones"];

/// The methods of arrays, for messages.
const ARRAY_METHODS: &[&str] = &[
    "reshape",
    "view",
    "permute",
    "transpose",
    "flatten",
    "unsqueeze",
    "squeeze",
    "roll",
    "sum",
    "size",
    "contiguous",
];

impl Ctx<'_> {
    /// Whether an array of `shape` may be computed: at most
    /// [`MAX_ARRAY_ELEMENTS`] values, within the network's budget (which it
    /// draws on), and not empty.
    pub(super) fn array_room(&mut self, span: Range, shape: &[usize]) -> bool {
        let n = match numel(shape) {
            Some(n) if n <= MAX_ARRAY_ELEMENTS => n,
            _ => {
                let shown = shape::shape_str(shape);
                self.errors.push(
                    span,
                    format!("the array {shown} has more than {MAX_ARRAY_ELEMENTS} values, the most a compile-time array may hold"),
                );
                return false;
            }
        };
        if n == 0 {
            self.errors
                .push(span, "a compile-time array may not be empty");
            return false;
        }
        if shape.len() > MAX_RANK {
            self.errors.push(
                span,
                format!(
                    "an array has at most {MAX_RANK} dimensions, found {}",
                    shape.len()
                ),
            );
            return false;
        }
        self.array_work = self.array_work.saturating_add(n);
        if self.array_work > MAX_ARRAY_WORK {
            self.limits.exhausted = true;
            self.errors.push(
                span,
                format!(
                    "the network's compile-time arrays compute more than {MAX_ARRAY_WORK} values"
                ),
            );
            return false;
        }
        true
    }

    /// Computed values as a value: an array, or a number for a 0-d result.
    pub(super) fn array_value(
        &mut self,
        span: Range,
        shape: Vec<usize>,
        values: Vec<f64>,
        integer: bool,
    ) -> Value {
        if integer && values.iter().any(|v| v.abs() > MAX_EXACT) {
            return self.fail(span, "integer overflow in a compile-time array");
        }
        if values.iter().any(|v| !v.is_finite()) {
            return self.fail(
                span,
                "a compile-time array computes a value that is not finite",
            );
        }
        if shape.is_empty() {
            let v = values.first().copied().unwrap_or(0.0);
            return if integer {
                Value::Int(v as i64)
            } else {
                Value::Float(v)
            };
        }
        Value::Array(ArrayVal {
            shape,
            data: Rc::new(values),
            integer,
            buffer: None,
        })
    }

    /// `arange(end)`, `arange(start, end[, step])`, `zeros(d...)`, `ones(d...)`.
    pub(super) fn array_constructor(&mut self, key: &str, vals: Vec<ArgVal>, span: Range) -> Value {
        if vals.iter().any(|a| a.value == Value::Poison) {
            return Value::Poison;
        }
        if let Some(a) = vals.iter().find(|a| a.name.is_some()) {
            return self.fail(a.span, format!("`{key}` takes positional arguments only"));
        }
        if key == "arange" {
            let num = |v: &Value| match v {
                Value::Int(i) => Some((*i as f64, true)),
                Value::Float(f) => Some((*f, false)),
                _ => None,
            };
            let mut nums = Vec::new();
            for a in &vals {
                match num(&a.value) {
                    Some(n) => nums.push(n),
                    None => {
                        return self.fail(
                            a.span,
                            format!("`arange` takes numbers, found {}", a.value.describe()),
                        )
                    }
                }
            }
            let integer = nums.iter().all(|n| n.1);
            let (start, end, step) = match nums.as_slice() {
                [e] => (0.0, e.0, 1.0),
                [s, e] => (s.0, e.0, 1.0),
                [s, e, st] => (s.0, e.0, st.0),
                _ => return self.fail(span, "`arange` takes an end, or a start, an end and an optional step: arange(7), arange(-3, 4)"),
            };
            if step == 0.0 || !(start.is_finite() && end.is_finite() && step.is_finite()) {
                return self.fail(span, "`arange` needs a nonzero step and finite bounds");
            }
            let count = ((end - start) / step).ceil();
            if count.is_nan() || count < 1.0 {
                return self.fail(
                    span,
                    format!("`arange` from {start} to {end} by {step} is empty"),
                );
            }
            if count > MAX_ARRAY_ELEMENTS as f64 {
                return self.fail(span, format!("`arange` makes more than {MAX_ARRAY_ELEMENTS} values, the most a compile-time array may hold"));
            }
            let n = count as usize;
            if !self.array_room(span, &[n]) {
                return Value::Poison;
            }
            let values = (0..n).map(|i| start + i as f64 * step).collect();
            return self.array_value(span, vec![n], values, integer);
        }
        let Some(dims) = self.array_sizes(&vals, key) else {
            return Value::Poison;
        };
        if dims.is_empty() {
            return self.fail(
                span,
                format!("`{key}` takes the sizes of the array: {key}(7, 7)"),
            );
        }
        if !self.array_room(span, &dims) {
            return Value::Poison;
        }
        let n = numel(&dims).unwrap_or(0);
        let fill = if key == "ones" { 1.0 } else { 0.0 };
        self.array_value(span, dims, vec![fill; n], false)
    }

    /// Sizes given one per argument or as one tuple, each positive.
    fn array_sizes(&mut self, vals: &[ArgVal], what: &str) -> Option<Vec<usize>> {
        let items: Vec<(Value, Range)> = match vals {
            [ArgVal {
                value: Value::Tuple(items),
                span,
                ..
            }] => items.iter().map(|v| (v.clone(), *span)).collect(),
            _ => vals.iter().map(|a| (a.value.clone(), a.span)).collect(),
        };
        let mut out = Vec::with_capacity(items.len());
        for (v, sp) in items {
            match v {
                Value::Int(d) if d > 0 => out.push(usize::try_from(d).unwrap_or(usize::MAX)),
                Value::Poison => return None,
                other => {
                    self.errors.push(
                        sp,
                        format!(
                            "the sizes of `{what}` must be positive integers, found {}",
                            other.describe()
                        ),
                    );
                    return None;
                }
            }
        }
        Some(out)
    }

    /// Dimension `v` of an array of rank `rank` (`extra` more allowed, for
    /// `unsqueeze`), negative from the end.
    pub(super) fn array_dim(
        &mut self,
        rank: usize,
        v: &Value,
        span: Range,
        extra: usize,
    ) -> Option<usize> {
        let r = rank + extra;
        let d = self.dim_int(v, span)?;
        match super::dims::from_end(d, r) {
            Some(n) => Some(n),
            None => {
                self.errors.push(
                    span,
                    format!("dimension {d} is out of range for an array of {rank} dimensions: expected -{r} to {}", r.saturating_sub(1)),
                );
                None
            }
        }
    }

    /// Integers given one per argument or as one tuple.
    fn array_ints(&mut self, vals: &[ArgVal], what: &str) -> Option<Vec<(i64, Range)>> {
        let items: Vec<(Value, Range)> = match vals {
            [ArgVal {
                value: Value::Tuple(items),
                span,
                ..
            }] => items.iter().map(|v| (v.clone(), *span)).collect(),
            _ => vals.iter().map(|a| (a.value.clone(), a.span)).collect(),
        };
        let mut out = Vec::new();
        for (v, sp) in items {
            match v {
                Value::Int(i) => out.push((i, sp)),
                Value::Poison => return None,
                other => {
                    self.errors.push(
                        sp,
                        format!("{what} must be integers, found {}", other.describe()),
                    );
                    return None;
                }
            }
        }
        Some(out)
    }

    /// `a.key(rest)` (or `key(a, rest)`) on an array.
    pub(super) fn array_method(
        &mut self,
        key: &str,
        a: ArrayVal,
        rest: &[ArgVal],
        span: Range,
    ) -> Value {
        if rest.iter().any(|v| v.value == Value::Poison) {
            return Value::Poison;
        }
        let named = |n: &str| {
            rest.iter()
                .find(|v| v.name.as_ref().is_some_and(|x| x == n))
        };
        let pos: Vec<ArgVal> = rest.iter().filter(|v| v.name.is_none()).cloned().collect();
        let allowed: &[&str] = match key {
            "flatten" => &["start_dim", "end_dim"],
            "sum" => &["dim", "keepdim"],
            "roll" => &["shifts", "dims"],
            _ => &[],
        };
        if let Some(v) = rest.iter().find(|v| {
            v.name
                .as_ref()
                .is_some_and(|n| !allowed.iter().any(|k| n == k))
        }) {
            let n = v.name.as_ref().map(|n| n.to_string()).unwrap_or_default();
            return self.fail(
                v.span,
                format!("unknown argument `{n}` of `{key}` on an array"),
            );
        }
        let rank = a.shape.len();
        let values = a.data.as_slice();
        match key {
            "contiguous" => Value::Array(ArrayVal { buffer: None, ..a }),
            "size" => {
                let [d] = pos.as_slice() else {
                    return self.fail(span, "`size` takes one dimension: a.size(0)");
                };
                let Some(axis) = self.array_dim(rank, &d.value, d.span, 0) else {
                    return Value::Poison;
                };
                Value::Int(
                    i64::try_from(a.shape.get(axis).copied().unwrap_or(0)).unwrap_or(i64::MAX),
                )
            }
            "reshape" | "view" => {
                let Some(list) = self.array_ints(&pos, "reshape sizes") else {
                    return Value::Poison;
                };
                let have = values.len();
                let shown: Vec<String> = list.iter().map(|(d, _)| d.to_string()).collect();
                let cannot = format!(
                    "cannot reshape the array {} ({have} values) into ({})",
                    shape::shape_str(&a.shape),
                    shown.join(", ")
                );
                let mut known = 1usize;
                let mut free = None;
                let mut out = Vec::with_capacity(list.len());
                for (i, &(d, sp)) in list.iter().enumerate() {
                    match usize::try_from(d) {
                        Ok(d) if d > 0 => match known.checked_mul(d) {
                            Some(k) => {
                                known = k;
                                out.push(d);
                            }
                            None => return self.fail(sp, cannot),
                        },
                        _ if d == -1 && free.is_none() => {
                            free = Some(i);
                            out.push(0);
                        }
                        _ => {
                            return self.fail(
                                sp,
                                format!("{cannot}: each size is positive, or one of them -1"),
                            )
                        }
                    }
                }
                match free {
                    Some(i) if known > 0 && have.is_multiple_of(known) => {
                        if let Some(slot) = out.get_mut(i) {
                            *slot = have / known;
                        }
                    }
                    None if known == have && !out.is_empty() => {}
                    _ => return self.fail(span, cannot),
                }
                if !self.array_room(span, &out) {
                    return Value::Poison;
                }
                Value::Array(ArrayVal {
                    shape: out,
                    buffer: None,
                    ..a
                })
            }
            "unsqueeze" | "squeeze" => {
                if key == "squeeze" && pos.is_empty() {
                    let shape: Vec<usize> = a.shape.iter().copied().filter(|&d| d != 1).collect();
                    return self.array_value(span, shape, values.to_vec(), a.integer);
                }
                let [d] = pos.as_slice() else {
                    return self.fail(span, format!("`{key}` takes one dimension"));
                };
                let extra = usize::from(key == "unsqueeze");
                let Some(axis) = self.array_dim(rank, &d.value, d.span, extra) else {
                    return Value::Poison;
                };
                let mut shape = a.shape.clone();
                if key == "unsqueeze" {
                    shape.insert(axis, 1);
                    if !self.array_room(span, &shape) {
                        return Value::Poison;
                    }
                } else if shape.get(axis) == Some(&1) {
                    shape.remove(axis);
                }
                self.array_value(span, shape, values.to_vec(), a.integer)
            }
            "flatten" => {
                let start = pos.first().or(named("start_dim"));
                let end = pos.get(1).or(named("end_dim"));
                let s = match start {
                    Some(v) => self.array_dim(rank, &v.value, v.span, 0),
                    None => Some(0),
                };
                let e = match end {
                    Some(v) => self.array_dim(rank, &v.value, v.span, 0),
                    None => Some(rank.saturating_sub(1)),
                };
                let (Some(s), Some(e)) = (s, e) else {
                    return Value::Poison;
                };
                if s > e {
                    return self.fail(
                        span,
                        format!("flatten's start dimension {s} is after its end dimension {e}"),
                    );
                }
                let mut shape = a.shape.get(..s).unwrap_or(&[]).to_vec();
                shape.push(numel(a.shape.get(s..=e).unwrap_or(&[])).unwrap_or(0));
                shape.extend_from_slice(a.shape.get(e + 1..).unwrap_or(&[]));
                Value::Array(ArrayVal {
                    shape,
                    buffer: None,
                    ..a
                })
            }
            "permute" | "transpose" => {
                let perm: Vec<usize> = if key == "transpose" {
                    let [x, y] = pos.as_slice() else {
                        return self
                            .fail(span, "`transpose` takes two dimensions: a.transpose(0, 1)");
                    };
                    let (Some(x), Some(y)) = (
                        self.array_dim(rank, &x.value, x.span, 0),
                        self.array_dim(rank, &y.value, y.span, 0),
                    ) else {
                        return Value::Poison;
                    };
                    let mut p: Vec<usize> = (0..rank).collect();
                    p.swap(x, y);
                    p
                } else {
                    let Some(list) = self.array_ints(&pos, "permute dimensions") else {
                        return Value::Poison;
                    };
                    if list.len() != rank {
                        return self.fail(span, format!("permute of an array of {rank} dimensions needs {rank} dimensions, found {}", list.len()));
                    }
                    let mut p = Vec::with_capacity(rank);
                    for (d, sp) in list {
                        let Some(x) = self.array_dim(rank, &Value::Int(d), sp, 0) else {
                            return Value::Poison;
                        };
                        if p.contains(&x) {
                            return self.fail(sp, format!("permute lists dimension {x} twice: a permutation names each dimension once"));
                        }
                        p.push(x);
                    }
                    p
                };
                if !self.array_room(span, &a.shape) {
                    return Value::Poison;
                }
                let (shape, out) = data::permute(&a.shape, values, &perm);
                self.array_value(span, shape, out, a.integer)
            }
            "roll" => {
                let (Some(shifts), Some(dims)) = (
                    pos.first().or(named("shifts")),
                    pos.get(1).or(named("dims")),
                ) else {
                    return self.fail(
                        span,
                        "`roll` takes shifts and dimensions: roll(a, (-3, -3), (0, 1))",
                    );
                };
                let (Some(s), Some(d)) = (
                    self.array_ints(std::slice::from_ref(shifts), "roll shifts"),
                    self.array_ints(std::slice::from_ref(dims), "roll dimensions"),
                ) else {
                    return Value::Poison;
                };
                if s.len() != d.len() || s.is_empty() {
                    return self.fail(
                        shifts.span,
                        format!(
                            "roll needs one shift per dimension, found {} shifts and {} dimensions",
                            s.len(),
                            d.len()
                        ),
                    );
                }
                let mut pairs = Vec::with_capacity(s.len());
                for (&(shift, _), &(dim, sp)) in s.iter().zip(&d) {
                    let Some(axis) = self.array_dim(rank, &Value::Int(dim), sp, 0) else {
                        return Value::Poison;
                    };
                    let size = i64::try_from(a.shape.get(axis).copied().unwrap_or(1).max(1))
                        .unwrap_or(i64::MAX);
                    pairs.push((axis, usize::try_from(shift.rem_euclid(size)).unwrap_or(0)));
                }
                if !self.array_room(span, &a.shape) {
                    return Value::Poison;
                }
                let out = data::roll(&a.shape, values, &pairs);
                self.array_value(span, a.shape.clone(), out, a.integer)
            }
            "sum" => {
                let keepdim = match named("keepdim").map(|v| &v.value) {
                    None => false,
                    Some(Value::Bool(b)) => *b,
                    Some(other) => {
                        return self.fail(
                            span,
                            format!("`keepdim` must be a boolean, found {}", other.describe()),
                        )
                    }
                };
                let Some(d) = pos.first().or(named("dim")) else {
                    return self.array_value(
                        span,
                        Vec::new(),
                        vec![values.iter().sum()],
                        a.integer,
                    );
                };
                let Some(axis) = self.array_dim(rank, &d.value, d.span, 0) else {
                    return Value::Poison;
                };
                if !self.array_room(span, &a.shape) {
                    return Value::Poison;
                }
                let (mut shape, out) = data::sum(&a.shape, values, axis);
                if keepdim {
                    shape.insert(axis, 1);
                }
                self.array_value(span, shape, out, a.integer)
            }
            _ => {
                let hint = crate::value::did_you_mean(key, ARRAY_METHODS.iter().copied());
                self.fail(
                    span,
                    format!("`{key}` is not defined on compile-time arrays{hint}; they support {}, indexing, arithmetic and comparisons", ARRAY_METHODS.join(", ")),
                )
            }
        }
    }
}
