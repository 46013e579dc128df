//! The built-in functions: `cat`, `chunk`, `narrow` and `mean` make nodes;
//! `min`, `max`, `int` and `make_divisible` compute numbers, with checked
//! arithmetic.

use super::limits::MAX_NODES;
use super::{Ctx, Env};
use crate::ast::Arg;
use crate::layers::{self, ArgVal};
use crate::value::{did_you_mean, Range, Value};
use netspec_model::Op;
use syn::Ident;

/// The built-in functions, for messages.
pub(super) const FUNCTIONS: &[&str] = &[
    "attention",
    "interpolate",
    "reshape",
    "flatten",
    "transpose",
    "permute",
    "matmul",
    "softmax",
    "cat",
    "chunk",
    "narrow",
    "mean",
    "min",
    "max",
    "make_divisible",
    "int",
    "sqrt",
    "arange",
    "zeros",
    "ones",
];

impl Ctx<'_> {
    /// Calls the built-in function `name`.
    pub(super) fn call(&mut self, env: &mut Env, name: &Ident, args: &[Arg], span: Range) -> Value {
        let key = name.to_string();
        if let Some(a) = args.iter().find(|a| a.name.is_some()) {
            if matches!(key.as_str(), "min" | "max" | "int" | "sqrt") {
                return self.fail(
                    a.value.span,
                    format!("`{key}` takes positional arguments only"),
                );
            }
        }
        match key.as_str() {
            "cat" | "chunk" | "narrow" | "mean" => {
                let vals = self.args(env, args);
                self.dim_builtin(env, &key, vals, span)
                    .unwrap_or(Value::Poison)
            }
            k if super::tensor_ops::TENSOR_FUNCTIONS.contains(&k) => {
                let vals = self.args(env, args);
                self.tensor_call(env, k, vals, span)
                    .unwrap_or(Value::Poison)
            }
            k if super::arrays::ARRAY_FUNCTIONS.contains(&k) => {
                let vals = self.args(env, args);
                self.array_constructor(k, vals, span)
            }
            "min" | "max" | "int" | "make_divisible" | "sqrt" => {
                let vals: Vec<ArgVal> = self.args(env, args);
                if vals.iter().any(|a| a.value == Value::Poison) {
                    return Value::Poison;
                }
                // Between tensors: torch.maximum / torch.minimum, broadcasting.
                if let (["min" | "max"], [a, b]) = ([key.as_str()], vals.as_slice()) {
                    if let (Value::Tensor(x), Value::Tensor(y)) = (&a.value, &b.value) {
                        let (op, auto) = if key == "max" {
                            (Op::Maximum, "maximum")
                        } else {
                            (Op::Minimum, "minimum")
                        };
                        let spans = [a.span, b.span];
                        return self.node(
                            env,
                            op,
                            vec![x.clone(), y.clone()],
                            None,
                            span,
                            &spans,
                            auto,
                        );
                    }
                }
                self.numeric(&key, vals, span)
            }
            "interpolate" => self.interpolate_call(env, args, span),
            _ => {
                if layers::is_layer(&key) || self.blocks.contains_key(&key) {
                    return self.fail(
                        name.span(),
                        format!("`{key}` is a layer: apply it with `->`, as in `x -> {key}(...)`"),
                    );
                }
                let hint = did_you_mean(&key, FUNCTIONS.iter().copied());
                self.fail(
                    name.span(),
                    format!(
                        "unknown function `{key}`{hint}; expected one of: {}",
                        FUNCTIONS.join(", ")
                    ),
                )
            }
        }
    }

    fn numeric(&mut self, key: &str, vals: Vec<ArgVal>, span: Range) -> Value {
        let num = |v: &Value| match v {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        };
        for a in &vals {
            if num(&a.value).is_none() {
                return self.fail(
                    a.span,
                    format!("`{key}` takes numbers, found {}", a.value.describe()),
                );
            }
        }
        match (key, vals.as_slice()) {
            ("min" | "max", [a, b]) => {
                let pick_a = if key == "min" {
                    num(&a.value) <= num(&b.value)
                } else {
                    num(&a.value) >= num(&b.value)
                };
                if pick_a {
                    a.value.clone()
                } else {
                    b.value.clone()
                }
            }
            ("sqrt", [a]) => match num(&a.value) {
                Some(v) if v >= 0.0 && v.is_finite() => Value::Float(v.sqrt()),
                _ => self.fail(a.span, "`sqrt` needs a finite number that is not negative"),
            },
            ("int", [a]) => match &a.value {
                Value::Float(f) if f.is_finite() && f.abs() < 9.0e15 => {
                    Value::Int(f.trunc() as i64)
                }
                Value::Int(i) => Value::Int(*i),
                _ => self.fail(a.span, "`int` needs a finite number"),
            },
            ("make_divisible", [v, d, rest @ ..]) if rest.len() <= 1 => {
                // torchvision's _make_divisible:
                // new_v = max(min_value, int(v + d / 2) // d * d); if new_v < 0.9 * v: new_v += d
                let (v, dv) = (num(&v.value).unwrap_or(0.0), num(&d.value).unwrap_or(0.0));
                let Value::Int(di) = d.value else {
                    return self.fail(d.span, "the divisor must be an integer");
                };
                if di <= 0 || !(0.0..9.0e15).contains(&v) {
                    return self.fail(
                        span,
                        "make_divisible needs a non-negative value and a positive divisor",
                    );
                }
                let min_value = rest
                    .first()
                    .and_then(|m| num(&m.value))
                    .map_or(di, |m| m as i64);
                let mut new_v = (((v + dv / 2.0) as i64) / di * di).max(min_value);
                if (new_v as f64) < 0.9 * v {
                    let Some(up) = new_v.checked_add(di) else {
                        return self.fail(span, "integer overflow");
                    };
                    new_v = up;
                }
                Value::Int(new_v)
            }
            _ => {
                let usage = match key {
                    "min" | "max" => "two numbers",
                    "int" | "sqrt" => "one number",
                    _ => "a value, a divisor and an optional minimum",
                };
                self.fail(span, format!("`{key}` takes {usage}"))
            }
        }
    }
}

impl Ctx<'_> {
    /// The built-ins that act along a dimension: `cat(a, b, .., dim = 1)`,
    /// `chunk(x, n, dim = 1)`, `narrow(x, [dim,] start, len)` and
    /// `mean(x, [dim, keepdim = false])` (`mean(x)` alone is the spatial
    /// mean, `x.mean([2, 3])`). `None` for another name.
    pub(super) fn dim_builtin(
        &mut self,
        env: &mut Env,
        key: &str,
        vals: Vec<ArgVal>,
        span: Range,
    ) -> Option<Value> {
        if !matches!(key, "cat" | "chunk" | "narrow" | "mean") {
            return None;
        }
        if vals.iter().any(|a| a.value == Value::Poison) {
            return Some(Value::Poison);
        }
        let vals = match self.route_arrays(env, key, vals, span) {
            Ok(vals) => vals,
            Err(done) => return Some(done),
        };
        let keywords: &[&str] = match key {
            "cat" | "chunk" => &["dim"],
            "mean" => &["dim", "keepdim"],
            _ => &[],
        };
        if let Some(a) = vals.iter().find(|a| {
            a.name
                .as_ref()
                .is_some_and(|n| !keywords.iter().any(|k| n == k))
        }) {
            let expected = if keywords.is_empty() {
                "it takes positional arguments only".to_string()
            } else {
                format!("its keyword arguments are {}", keywords.join(", "))
            };
            return Some(self.fail(
                a.span,
                format!(
                    "`{key}` has no argument `{}`: {expected}",
                    a.name.as_ref().map(|n| n.to_string()).unwrap_or_default()
                ),
            ));
        }
        let named = |n: &str| {
            vals.iter()
                .find(|a| a.name.as_ref().is_some_and(|x| x == n))
                .cloned()
        };
        let pos: Vec<ArgVal> = vals.iter().filter(|a| a.name.is_none()).cloned().collect();
        Some(match key {
            "cat" => {
                let mut tensors = Vec::new();
                for a in &pos {
                    match &a.value {
                        Value::Tensor(t) => tensors.push(t.clone()),
                        other => {
                            return Some(self.fail(
                                a.span,
                                format!("`cat` joins tensors, found {}", other.describe()),
                            ))
                        }
                    }
                }
                if tensors.len() < 2 {
                    return Some(self.fail(span, "`cat` needs two or more tensors"));
                }
                let dim = match named("dim") {
                    None => 0,
                    Some(d) => {
                        let reference = tensors
                            .iter()
                            .find(|t| t.batched)
                            .unwrap_or(&tensors[0])
                            .clone();
                        match self.axis(&reference, &d.value, d.span, 0) {
                            Some(a) => a,
                            None => return Some(Value::Poison),
                        }
                    }
                };
                let spans: Vec<Range> = pos.iter().map(|a| a.span).collect();
                self.node(env, Op::Concat { dim }, tensors, None, span, &spans, "cat")
            }
            "chunk" => {
                let [x, n] = pos.as_slice() else {
                    return Some(self.fail(
                        span,
                        "`chunk` takes a tensor and a number of chunks: chunk(x, 2)",
                    ));
                };
                let Some(t) = self.tensor_arg(x, "`chunk`'s first argument") else {
                    return Some(Value::Poison);
                };
                let axis = match named("dim") {
                    None => 0,
                    Some(d) => match self.axis(&t, &d.value, d.span, 0) {
                        Some(a) => a,
                        None => return Some(Value::Poison),
                    },
                };
                let Some(n_chunks) = self.int_of(n.value.clone(), n.span, "the number of chunks")
                else {
                    return Some(Value::Poison);
                };
                let sample = if t.batched {
                    t.shape.as_slice()
                } else {
                    t.shape.get(1..).unwrap_or(&[])
                };
                let size = sample.get(axis).copied().unwrap_or(0);
                let Ok(n_chunks) = usize::try_from(n_chunks) else {
                    return Some(self.fail(
                        n.span,
                        format!("the number of chunks must be positive, found {n_chunks}"),
                    ));
                };
                if n_chunks == 0 || size % n_chunks != 0 {
                    let what = if axis == 0 {
                        "channels".to_string()
                    } else {
                        format!("entries of dimension {}", axis + 1)
                    };
                    return Some(self.fail(
                        n.span,
                        format!("cannot split {size} {what} into {n_chunks} equal chunks"),
                    ));
                }
                // More chunks than the layer cap would leave: refuse before
                // making any (each chunk is a layer).
                if n_chunks > MAX_NODES.saturating_sub(self.nodes.len()) {
                    return Some(self.fail(n.span, format!("{n_chunks} chunks would expand the network to more than {MAX_NODES} layers")));
                }
                let len = size / n_chunks;
                let mut outs = Vec::with_capacity(n_chunks);
                for i in 0..n_chunks {
                    // `i * len < size`: no overflow.
                    let op = Op::Slice {
                        dim: axis,
                        start: i * len,
                        len,
                    };
                    let out = self.node(env, op, vec![t.clone()], None, span, &[x.span], "chunk");
                    if out == Value::Poison {
                        return Some(Value::Poison);
                    }
                    outs.push(out);
                }
                Value::Tuple(outs)
            }
            "narrow" => {
                let (x, dim, start, len) = match pos.as_slice() {
                    [x, start, len] => (x, None, start, len),
                    [x, dim, start, len] => (x, Some(dim), start, len),
                    _ => return Some(self.fail(span, "`narrow` takes a tensor, a dimension, a start and a length: narrow(x, 1, 0, 16) (without the dimension, channels)")),
                };
                let Some(t) = self.tensor_arg(x, "`narrow`'s first argument") else {
                    return Some(Value::Poison);
                };
                let axis = match dim {
                    None => Some(0),
                    Some(d) => self.axis(&t, &d.value, d.span, 0),
                };
                let start = layers::to_usize(&start.value, start.span, "start", 0, self.errors);
                let len = layers::to_usize(&len.value, len.span, "length", 1, self.errors);
                let (Some(dim), Some(start), Some(len)) = (axis, start, len) else {
                    return Some(Value::Poison);
                };
                self.node(
                    env,
                    Op::Slice { dim, start, len },
                    vec![t],
                    None,
                    span,
                    &[x.span],
                    "narrow",
                )
            }
            _ => {
                let usage = "`mean` takes a tensor and an optional `keepdim = true`: mean(x), the mean over height and width; or mean(x, dim, keepdim = false)";
                let Some(x) = pos.first() else {
                    return Some(self.fail(span, usage));
                };
                let Some(t) = self.tensor_arg(x, "`mean`'s first argument") else {
                    return Some(Value::Poison);
                };
                let keepdim = match named("keepdim") {
                    None => false,
                    Some(ArgVal {
                        value: Value::Bool(b),
                        ..
                    }) => b,
                    Some(a) => return Some(self.fail(a.span, usage)),
                };
                let dim = pos.get(1).cloned().or(named("dim"));
                if pos.len() > 2 {
                    return Some(self.fail(pos[2].span, usage));
                }
                let dims = match dim {
                    // The spatial mean of a feature map (torchvision's x.mean([2, 3])).
                    None if t.shape.len() == 3 || !t.batched => vec![1, 2],
                    None => return Some(self.fail(x.span, format!("`mean`: Mean expects a [C, H, W] feature map, found {}; give the dimensions: mean(x, dim)", netspec_model::shape::shape_str(&t.shape)))),
                    Some(d) => {
                        let items: Vec<Value> = match &d.value {
                            Value::Tuple(items) => items.clone(),
                            v => vec![v.clone()],
                        };
                        let mut axes = Vec::new();
                        for v in &items {
                            let Some(a) = self.axis(&t, v, d.span, 0) else {
                                return Some(Value::Poison);
                            };
                            if axes.contains(&a) {
                                return Some(self.fail(d.span, format!("`mean` lists dimension {} twice", a + 1)));
                            }
                            axes.push(a);
                        }
                        axes.sort_unstable();
                        axes
                    }
                };
                let op = Op::Mean {
                    dims: netspec_model::Dims::new(&dims),
                    keepdim,
                };
                self.node(env, op, vec![t], None, span, &[x.span], "mean")
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::eval::tests::{errors_of, run};

    #[test]
    fn chunk_and_cat_make_slices_and_a_concat() {
        let i =
            run("pub struct N(x: [6, 2, 2]) { let (a, b, c) = chunk(x, 3); cat(c, a) }").unwrap();
        let ops: Vec<String> = i
            .nodes
            .iter()
            .map(|n| format!("{}{:?}", n.name, n.output))
            .collect();
        assert_eq!(
            ops,
            [
                "chunk[2, 2, 2]",
                "chunk[2, 2, 2]",
                "chunk[2, 2, 2]",
                "cat[4, 2, 2]"
            ]
        );
    }

    #[test]
    fn a_huge_chunk_count_is_refused_before_any_allocation() {
        let e =
            errors_of("pub struct N(x: [2147483647, 1, 1]) { let t = chunk(x, 2147483647); x }");
        assert_eq!(
            e,
            ["2147483647 chunks would expand the network to more than 100000 layers"]
        );
    }

    #[test]
    fn make_divisible_follows_torchvision_and_checks_overflow() {
        // _make_divisible(37, 8): int(37 + 4) // 8 * 8 = 40 (>= 0.9 * 37)
        // _make_divisible(10, 8): 8 < 9 -> 16
        let i = run(
            "pub struct N(x: [3]) { x -> a: Linear(make_divisible(37, 8)) -> b: Linear(make_divisible(10, 8)) }",
        )
        .unwrap();
        let widths: Vec<usize> = i.nodes.iter().map(|n| n.output[0]).collect();
        assert_eq!(widths, [40, 16]);
        let e = errors_of(
            "pub struct N(x: [3]) { x -> Linear(make_divisible(10, 9223372036854775807, 1)) }",
        );
        assert_eq!(e, ["integer overflow"]);
    }

    #[test]
    fn numeric_functions() {
        let i = run(
            "pub struct N(x: [3]) { x -> a: Linear(min(4, 9)) -> b: Linear(max(2, int(5.9))) }",
        )
        .unwrap();
        let widths: Vec<usize> = i.nodes.iter().map(|n| n.output[0]).collect();
        assert_eq!(widths, [4, 5]);
        // sqrt(32) = 5.657: int() truncates to 5
        let i = run("pub struct N(x: [3]) { x -> Linear(int(sqrt(32))) }").unwrap();
        assert_eq!(i.nodes[0].output, [5]);
        let e = errors_of("pub struct N(x: [3]) { x -> Linear(int(sqrt(-1))) }");
        assert_eq!(e, ["`sqrt` needs a finite number that is not negative"]);
        let e = errors_of("pub struct N(x: [3]) { x -> Linear(mystery(4)) }");
        assert_eq!(
            e,
            ["unknown function `mystery`; expected one of: attention, interpolate, reshape, flatten, transpose, permute, matmul, softmax, cat, chunk, narrow, mean, min, max, make_divisible, int, sqrt, arange, zeros, ones"]
        );
    }
}
