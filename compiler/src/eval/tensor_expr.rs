//! Tensor expressions: method calls (`x.flatten(2)`), indexing (`x[:, 0]`),
//! named sources (`cls: class_token: Parameter(1, 1, 768)`; a named layer
//! or block is a module, `eval/modules.rs`) and arithmetic
//! between tensors and with scalars (`a - b`, `a @ b`, `x * 0.5`).

use super::{Ctx, Env};
use crate::ast::{Arg, BinOp, Expr, IndexItem};
use crate::layers::ArgVal;
use crate::value::{Range, TensorVal, Value};
use netspec_model::{Dims, Op, MAX_RANK};
use syn::Ident;

impl Ctx<'_> {
    /// `recv.name(args)`: the built-in `name(recv, args)`.
    pub(super) fn method(
        &mut self,
        env: &mut Env,
        recv: &Expr,
        name: &Ident,
        args: &[Arg],
        span: Range,
    ) -> Value {
        let r = self.expr(env, recv);
        let key = name.to_string();
        let mut vals = vec![ArgVal {
            name: None,
            value: r,
            span: recv.span,
        }];
        vals.extend(self.args(env, args));
        // A method of an array, with no tensor among its arguments, is
        // evaluated at once.
        if let Some((
            ArgVal {
                value: Value::Array(a),
                ..
            },
            rest,
        )) = vals.split_first()
        {
            if !rest.iter().any(|v| matches!(v.value, Value::Tensor(_))) {
                return self.array_method(&key, a.clone(), rest, span);
            }
        }
        if let Some(v) = self.tensor_call(env, &key, vals.clone(), span) {
            return v;
        }
        if let Some(v) = self.dim_builtin(env, &key, vals, span) {
            return v;
        }
        let mut known: Vec<&str> = super::tensor_ops::TENSOR_FUNCTIONS.to_vec();
        known.extend(["cat", "chunk", "narrow", "mean"]);
        let hint = crate::value::did_you_mean(&key, known.iter().copied());
        self.fail(name.span(), format!("unknown tensor method `{key}`{hint}"))
    }

    /// A named source: `name: Parameter(d...)`, a learnable tensor of that
    /// shape whose state-dict name is the path of `name`.
    pub(super) fn source(
        &mut self,
        env: &mut Env,
        name: &Ident,
        kind: &Ident,
        args: &[Arg],
        span: Range,
    ) -> Value {
        let k = kind.to_string();
        if k == "Buffer" {
            return self.buffer(env, name, args, span);
        }
        if k != "Parameter" {
            let names: Vec<&str> = crate::layers::layer_names()
                .map(|n| -> &str { n })
                .chain(self.blocks.keys().map(String::as_str))
                .chain(["Parameter", "Buffer"])
                .collect();
            let hint = crate::value::did_you_mean(&k, names);
            return self.fail(
                kind.span(),
                format!("unknown layer `{k}`{hint}: a named source is a learnable tensor (`{name}: Parameter(1, 768)`), a named array (`{name}: Buffer(arange(4))`) or a module, a layer or block to apply later (`{name}: Conv2d(64, 3)`)"),
            );
        }
        let vals = self.args(env, args);
        if let Some(a) = vals.iter().find(|a| a.name.is_some()) {
            return self.fail(
                a.span,
                "`Parameter` takes its shape only: Parameter(1, 1, 768)",
            );
        }
        let mut dims = Vec::new();
        let items: Vec<(Value, Range)> = match vals.as_slice() {
            [ArgVal {
                value: Value::Tuple(items),
                span,
                ..
            }] => items.iter().map(|v| (v.clone(), *span)).collect(),
            _ => vals.iter().map(|a| (a.value.clone(), a.span)).collect(),
        };
        if items.is_empty() || items.len() > MAX_RANK {
            return self.fail(
                span,
                format!(
                    "a Parameter has 1 to {MAX_RANK} dimensions, found {}",
                    items.len()
                ),
            );
        }
        for (v, sp) in items {
            match v {
                Value::Int(d) if d > 0 => dims.push(usize::try_from(d).unwrap_or(usize::MAX)),
                Value::Poison => return Value::Poison,
                other => {
                    return self.fail(
                        sp,
                        format!(
                            "a Parameter's size must be a positive integer, found {}",
                            other.describe()
                        ),
                    )
                }
            }
        }
        let path = env.join(&name.to_string());
        let op = Op::Parameter {
            shape: Dims::new(&dims),
        };
        self.node_named(op, Vec::new(), path, true, span, &|_| span)
    }

    /// `x[items]`: selections (`0`), slices (`1:`, `:64`), `:`, `...` and
    /// `None`, one node each, left to right.
    pub(super) fn index(
        &mut self,
        env: &mut Env,
        recv: &Expr,
        items: &[IndexItem],
        span: Range,
    ) -> Value {
        let t = match self.expr(env, recv) {
            Value::Tensor(t) => t,
            Value::Array(a) => return self.array_index(env, a, items, span),
            Value::Poison => return Value::Poison,
            other => {
                return self.fail(
                    recv.span,
                    format!(
                        "only tensors and arrays can be indexed, found {}",
                        other.describe()
                    ),
                )
            }
        };
        let mut t = t;
        let rank = if t.batched {
            t.shape.len()
        } else {
            t.shape.len().saturating_sub(1)
        };
        let Some(used) = self.indexed_dims(items, span) else {
            return Value::Poison;
        };
        if used > rank + 1 {
            return self.fail(
                span,
                format!(
                    "too many indices for a tensor {} (with the batch, {} dimensions)",
                    crate::value::Value::Tensor(t.clone()).describe(),
                    rank + 1
                ),
            );
        }
        // Walk the full dimensions: `full` is the current PyTorch dimension,
        // which is per-sample axis `full - 1` of the current value.
        let mut full = 0usize;
        let mut items = items;
        if let (false, Some(IndexItem::NewAxis(_))) = (t.batched, items.first()) {
            // `t[None]` on an unbatched tensor (a parameter without a batch
            // dimension): a leading 1, its batch of one.
            if t.shape.len() >= MAX_RANK {
                return self.fail(span, format!("at most {MAX_RANK} dimensions are supported"));
            }
            let op = Op::Reshape {
                shape: Dims::new(&t.shape),
            };
            match self.node(
                env,
                op,
                vec![t.clone()],
                None,
                span,
                &[recv.span],
                "unsqueeze",
            ) {
                Value::Tensor(n) => t = n,
                other => return other,
            }
            items = &items[1..];
            full = 1;
        }
        for (n, item) in items.iter().enumerate() {
            match item {
                IndexItem::Ellipsis(_) => {
                    full += rank + 1 - used;
                    continue;
                }
                IndexItem::Full(_) => {
                    full += 1;
                    continue;
                }
                IndexItem::At(e) if full == 0 && !t.batched => {
                    // `table[index]` on an unbatched tensor (a learnable
                    // table): gathers along its first dimension.
                    match self.expr(env, e) {
                        Value::Array(a) => {
                            let size = t.shape.first().copied().unwrap_or(0);
                            match self.gather(env, t.clone(), 0, size, &a, span, [recv.span, e.span]) {
                                Value::Tensor(n) => t = n,
                                other => return other,
                            }
                            full += a.shape.len();
                            continue;
                        }
                        Value::Poison => return Value::Poison,
                        _ => {
                            return self.fail(
                                item.span(),
                                "index 0 is the batch, which stays whole: write `:` first, as in x[:, 0] (an unbatched tensor is indexed along its first dimension by an integer array only)",
                            )
                        }
                    }
                }
                _ if full == 0 => {
                    return self.fail(
                        item.span(),
                        "index 0 is the batch, which stays whole: write `:` first, as in x[:, 0]",
                    );
                }
                _ => {}
            }
            let axis = full - 1;
            let shp = if t.batched {
                t.shape.clone()
            } else {
                t.shape.get(1..).unwrap_or(&[]).to_vec()
            };
            let next = match item {
                IndexItem::NewAxis(sp) => {
                    if shp.len() >= MAX_RANK {
                        return self.fail(
                            *sp,
                            format!("at most {MAX_RANK} dimensions per sample are supported"),
                        );
                    }
                    let mut out = shp.clone();
                    out.insert(axis, 1);
                    full += 1;
                    self.node(
                        env,
                        Op::Reshape {
                            shape: Dims::new(&out),
                        },
                        vec![t.clone()],
                        None,
                        span,
                        &[recv.span],
                        "unsqueeze",
                    )
                }
                IndexItem::At(e) => {
                    let v = self.expr(env, e);
                    if let Value::Array(a) = v {
                        // Gathers along this dimension: of the per-sample
                        // view if batched, of the whole shape if not.
                        let dim = if t.batched { axis } else { full };
                        let size = t.shape.get(dim).copied().unwrap_or(0);
                        match self.gather(env, t.clone(), dim, size, &a, span, [recv.span, e.span])
                        {
                            Value::Tensor(n) => t = n,
                            other => return other,
                        }
                        full += a.shape.len();
                        continue;
                    }
                    let Some(i) = self.int_of(v, e.span, "an index") else {
                        return Value::Poison;
                    };
                    let size = shp.get(axis).copied().unwrap_or(0);
                    let Some(index) = normalize(i, size).filter(|&x| x < size) else {
                        return self.fail(
                            e.span,
                            format!(
                                "index {i} is out of range for dimension {full} of size {size}"
                            ),
                        );
                    };
                    let _ = n;
                    self.node(
                        env,
                        Op::Select { dim: axis, index },
                        vec![t.clone()],
                        None,
                        span,
                        &[recv.span],
                        "select",
                    )
                }
                IndexItem::Slice {
                    start,
                    end,
                    span: sp,
                } => {
                    let size = shp.get(axis).copied().unwrap_or(0);
                    let mut bound =
                        |e: &Option<Expr>, default: usize, this: &mut Self| -> Option<usize> {
                            match e {
                                None => Some(default),
                                Some(e) => {
                                    let v = this.expr(env, e);
                                    let i = this.int_of(v, e.span, "a slice bound")?;
                                    // Python clamps slice bounds into 0..=size.
                                    Some(normalize(i, size).unwrap_or(0).min(size))
                                }
                            }
                        };
                    let (Some(a), Some(b)) = (bound(start, 0, self), bound(end, size, self)) else {
                        return Value::Poison;
                    };
                    full += 1;
                    if a == 0 && b == size {
                        continue;
                    }
                    if b <= a {
                        return self.fail(
                            *sp,
                            format!(
                                "the slice {a}..{b} of dimension {} (size {size}) is empty",
                                full - 1
                            ),
                        );
                    }
                    self.node(
                        env,
                        Op::Slice {
                            dim: axis,
                            start: a,
                            len: b - a,
                        },
                        vec![t.clone()],
                        None,
                        span,
                        &[recv.span],
                        "slice",
                    )
                }
                IndexItem::Full(_) | IndexItem::Ellipsis(_) => continue,
            };
            match next {
                Value::Tensor(n) => t = n,
                other => return other,
            }
        }
        Value::Tensor(t)
    }

    /// Arithmetic with a tensor: `+ - * /` between tensors (broadcasting),
    /// `@` (matmul), and `+ - * /` with a number (an affine node).
    pub(super) fn tensor_binary(
        &mut self,
        env: &Env,
        span: Range,
        a: Value,
        op: BinOp,
        b: Value,
        spans: [Range; 2],
    ) -> Value {
        match (a, b) {
            (Value::Tensor(x), Value::Tensor(y)) => {
                let (node, auto) = match op {
                    BinOp::Add => (Op::Add, "add"),
                    BinOp::Sub => (Op::Sub, "sub"),
                    BinOp::Mul => (Op::Mul, "mul"),
                    BinOp::Div => (Op::Div, "div"),
                    BinOp::MatMul => (
                        Op::Matmul {
                            trans_b: false,
                            alpha: 1.0,
                            fused: false,
                            operator: true,
                        },
                        "matmul",
                    ),
                    _ => return self.fail(span, "tensors combine with `+`, `-`, `*`, `/` and `@`"),
                };
                self.node(env, node, vec![x, y], None, span, &spans, auto)
            }
            (Value::Tensor(x), Value::Array(a)) => match self.materialise(env, &a, spans[1]) {
                Some(y) => {
                    self.tensor_binary(env, span, Value::Tensor(x), op, Value::Tensor(y), spans)
                }
                None => Value::Poison,
            },
            (Value::Array(a), Value::Tensor(y)) => match self.materialise(env, &a, spans[0]) {
                Some(x) => {
                    self.tensor_binary(env, span, Value::Tensor(x), op, Value::Tensor(y), spans)
                }
                None => Value::Poison,
            },
            (Value::Tensor(x), s) => self.scalar(env, span, x, op, s, false, spans),
            (s, Value::Tensor(y)) => self.scalar(env, span, y, op, s, true, [spans[1], spans[0]]),
            _ => Value::Poison,
        }
    }

    /// `x op s` (or `s op x` when `reversed`) for a number `s`.
    #[allow(clippy::too_many_arguments)]
    fn scalar(
        &mut self,
        env: &Env,
        span: Range,
        x: TensorVal,
        op: BinOp,
        s: Value,
        reversed: bool,
        spans: [Range; 2],
    ) -> Value {
        let c = match s {
            Value::Int(i) => i as f64,
            Value::Float(f) => f,
            Value::Poison => return Value::Poison,
            other => {
                return self.fail(
                    spans[1],
                    format!("a tensor combines with numbers, found {}", other.describe()),
                )
            }
        };
        let (scale, shift) = match (op, reversed) {
            (BinOp::Add, _) => (1.0, c),
            (BinOp::Sub, false) => (1.0, -c),
            (BinOp::Sub, true) => (-1.0, c),
            (BinOp::Mul, _) => (c, 0.0),
            (BinOp::Div, false) if c == 0.0 => return self.fail(spans[1], "division by zero"),
            (BinOp::Div, false) => (1.0 / c, 0.0),
            (BinOp::Div, true) => return self.fail(
                span,
                "a number divided by a tensor is not supported; write the reciprocal as a layer",
            ),
            _ => {
                return self.fail(
                    span,
                    "a tensor combines with a number by `+`, `-`, `*` and `/`",
                )
            }
        };
        if !scale.is_finite() || !shift.is_finite() {
            return self.fail(
                spans[1],
                format!("the scalar {c} gives a non-finite result"),
            );
        }
        self.node(
            env,
            Op::Affine { scale, shift },
            vec![x],
            None,
            span,
            &spans[..1],
            "affine",
        )
    }
}

/// A Python index (negative from the end) into a dimension of `size`.
fn normalize(i: i64, size: usize) -> Option<usize> {
    if i >= 0 {
        usize::try_from(i).ok()
    } else {
        let back = usize::try_from(i.checked_neg()?).ok()?;
        size.checked_sub(back)
    }
}

#[cfg(test)]
mod tests {
    use crate::eval::tests::{errors_of, run};

    #[test]
    fn unbatched_parameters_broadcast_or_take_a_batch_of_one() {
        // Mobile-Former's tokens: [6, 8] gets a leading 1 with `[None]`, then
        // runs per sample; against the batch they broadcast.
        let i = run("pub struct N(x: [6, 8]) {
            let t = tokens: Parameter(6, 8);
            let t = t[None] -> proj: Linear(4);
            let s = layer_scale: Parameter(6, 1);
            (x -> Linear(4)) * s + t
        }")
        .unwrap();
        let out = |name: &str| {
            i.nodes
                .iter()
                .find(|n| n.name == name)
                .map(|n| n.output.clone())
        };
        assert_eq!(out("tokens"), Some(vec![6, 8]));
        assert_eq!(out("unsqueeze"), Some(vec![6, 8]));
        assert_eq!(out("proj"), Some(vec![6, 4]));
        assert_eq!(i.nodes[i.output - 1].output, [6, 4]);
        // params: tokens 48, proj 8·4 + 4 = 36, scale 6, linear 36
        let params: u64 = i.nodes.iter().map(|n| n.costs.params).sum();
        assert_eq!(params, 48 + 36 + 6 + 36);
        // Without the leading 1, a per-sample layer has no batch to read.
        let e = errors_of(
            "pub struct N(x: [6, 8]) { let t = tokens: Parameter(6, 8); t -> Linear(4) }",
        );
        assert!(e[0].contains("reads a batch first"), "{e:?}");
        // Cross-attention through the module is not self-attention.
        let e = errors_of(
            "pub struct N(x: [6, 8]) { (x, x, x) -> attn: MultiheadAttention(2, batch_first = true) }",
        );
        assert!(e[0].contains("self-attention on one input"), "{e:?}");
    }

    #[test]
    fn an_empty_name_is_the_blocks_own_layer() {
        // torchvision's LayerNorm2d: the module's own weight, F.layer_norm.
        let i = run("block LayerNorm2d(x) {
                let y = x.permute(0, 2, 3, 1) -> \"\": LayerNorm(eps = 1e-6);
                y.permute(0, 3, 1, 2)
            }
            pub struct N(x: [4, 2, 2]) { x -> norm: LayerNorm2d }")
        .unwrap();
        let ln = i.nodes.iter().find(|n| n.name == "norm").unwrap();
        assert!(matches!(ln.op, netspec_model::Op::LayerNorm(_)));
        assert!(!ln.module);
        assert_eq!(ln.costs.params, 8);
        let e = errors_of("pub struct N(x: [4]) { x -> [\"\": Linear(4)] }");
        assert!(e[0].contains("block's own path"), "{e:?}");
    }

    #[test]
    fn string_names_format_loop_variables() {
        let i = run("pub struct N(x: [4]) { x -> layers: [for i in 0..2 => \"encoder_layer_{i}\": Linear(4)] }")
            .unwrap();
        let names: Vec<&str> = i.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["layers.encoder_layer_0", "layers.encoder_layer_1"]);
        let e = errors_of("pub struct N(x: [4]) { x -> [for i in 0..2 => \"l_{j}\": Linear(4)] }");
        assert!(e[0].contains("undefined name `j`"), "{e:?}");
        let e = errors_of("pub struct N(x: [4]) { x -> [\"a.b\": Linear(4)] }");
        assert!(e[0].contains("letters, digits and `_`"), "{e:?}");
    }
}
