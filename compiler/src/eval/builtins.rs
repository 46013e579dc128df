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
    "cat",
    "chunk",
    "narrow",
    "mean",
    "min",
    "max",
    "make_divisible",
    "int",
];

impl Ctx<'_> {
    /// Calls the built-in function `name`.
    pub(super) fn call(&mut self, env: &mut Env, name: &Ident, args: &[Arg], span: Range) -> Value {
        let key = name.to_string();
        if let Some(a) = args.iter().find(|a| a.name.is_some()) {
            if matches!(
                key.as_str(),
                "cat" | "min" | "max" | "int" | "chunk" | "narrow"
            ) {
                return self.fail(
                    a.value.span,
                    format!("`{key}` takes positional arguments only"),
                );
            }
        }
        match key.as_str() {
            "cat" => {
                let vals: Vec<Value> = args.iter().map(|a| self.expr(env, &a.value)).collect();
                let mut tensors = Vec::new();
                for (v, a) in vals.into_iter().zip(args) {
                    match v {
                        Value::Tensor(t) => tensors.push(t),
                        Value::Poison => return Value::Poison,
                        other => {
                            return self.fail(
                                a.value.span,
                                format!("`cat` joins tensors, found {}", other.describe()),
                            )
                        }
                    }
                }
                if tensors.len() < 2 {
                    return self.fail(span, "`cat` needs two or more tensors");
                }
                let spans: Vec<Range> = args.iter().map(|a| a.value.span).collect();
                self.node(env, Op::Concat, tensors, None, span, &spans, "cat")
            }
            "chunk" => {
                let [x, n] = args else {
                    return self.fail(
                        span,
                        "`chunk` takes a tensor and a number of chunks: chunk(x, 2)",
                    );
                };
                let t = match self.expr(env, &x.value) {
                    Value::Tensor(t) => t,
                    Value::Poison => return Value::Poison,
                    other => {
                        return self.fail(
                            x.value.span,
                            format!("`chunk` splits a tensor, found {}", other.describe()),
                        )
                    }
                };
                let nv = self.expr(env, &n.value);
                let Some(n_chunks) = self.int_of(nv, n.value.span, "the number of chunks") else {
                    return Value::Poison;
                };
                let channels = t.shape.first().copied().unwrap_or(0);
                let Ok(n_chunks) = usize::try_from(n_chunks) else {
                    return self.fail(
                        n.value.span,
                        format!("the number of chunks must be positive, found {n_chunks}"),
                    );
                };
                if n_chunks == 0 || channels % n_chunks != 0 {
                    return self.fail(
                        n.value.span,
                        format!("cannot split {channels} channels into {n_chunks} equal chunks"),
                    );
                }
                // More chunks than the layer cap would leave: refuse before
                // making any (each chunk is a layer).
                if n_chunks > MAX_NODES.saturating_sub(self.nodes.len()) {
                    return self.fail(
                        n.value.span,
                        format!("{n_chunks} chunks would expand the network to more than {MAX_NODES} layers"),
                    );
                }
                let len = channels / n_chunks;
                let mut outs = Vec::with_capacity(n_chunks);
                for i in 0..n_chunks {
                    // `i * len < channels`: no overflow.
                    let op = Op::Slice {
                        start: i * len,
                        len,
                    };
                    let out = self.node(
                        env,
                        op,
                        vec![t.clone()],
                        None,
                        span,
                        &[x.value.span],
                        "chunk",
                    );
                    if out == Value::Poison {
                        return Value::Poison;
                    }
                    outs.push(out);
                }
                Value::Tuple(outs)
            }
            "mean" | "narrow" => {
                let vals = self.args(env, args);
                if vals.iter().any(|a| a.value == Value::Poison) {
                    return Value::Poison;
                }
                let usage = if key == "mean" {
                    "`mean` takes a tensor and an optional `keepdim = true`: mean(x), the mean over height and width"
                } else {
                    "`narrow` takes a tensor, a first channel and a length: narrow(x, 0, 16)"
                };
                let fits = if key == "mean" {
                    matches!(vals.len(), 1 | 2)
                } else {
                    vals.len() == 3
                };
                if !fits || vals[0].name.is_some() {
                    return self.fail(span, usage);
                }
                let t = match &vals[0].value {
                    Value::Tensor(t) => t.clone(),
                    other => {
                        return self
                            .fail(vals[0].span, format!("{usage}; found {}", other.describe()))
                    }
                };
                let op = if key == "mean" {
                    let keepdim = match vals.get(1) {
                        None => false,
                        Some(a) => {
                            let named_ok = a.name.as_ref().is_none_or(|n| n == "keepdim");
                            match &a.value {
                                Value::Bool(b) if named_ok => *b,
                                _ => return self.fail(a.span, usage),
                            }
                        }
                    };
                    Op::Mean { keepdim }
                } else {
                    let start =
                        layers::to_usize(&vals[1].value, vals[1].span, "start", 0, self.errors);
                    let len =
                        layers::to_usize(&vals[2].value, vals[2].span, "length", 1, self.errors);
                    let (Some(start), Some(len)) = (start, len) else {
                        return Value::Poison;
                    };
                    Op::Slice { start, len }
                };
                let spans = [vals[0].span];
                self.node(env, op, vec![t], None, span, &spans, &key)
            }
            "min" | "max" | "int" | "make_divisible" => {
                let vals: Vec<ArgVal> = self.args(env, args);
                if vals.iter().any(|a| a.value == Value::Poison) {
                    return Value::Poison;
                }
                self.numeric(&key, vals, span)
            }
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
                    "int" => "one number",
                    _ => "a value, a divisor and an optional minimum",
                };
                self.fail(span, format!("`{key}` takes {usage}"))
            }
        }
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
        let e = errors_of("pub struct N(x: [3]) { x -> Linear(mystery(4)) }");
        assert_eq!(
            e,
            ["unknown function `mystery`; expected one of: cat, chunk, narrow, mean, min, max, make_divisible, int"]
        );
    }
}
