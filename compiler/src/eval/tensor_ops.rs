//! Operations on tensors of any rank: reshapes, permutations, matrix
//! products, softmax, indexing, rolls and padding, and scaled dot-product
//! attention, lowered to nodes of [`netspec_model::Op`].
//!
//! Dimension arguments are PyTorch's, with the batch as dimension 0 and
//! negative dimensions counted from the end; shapes written in `reshape` are
//! per sample (the batch is never written, as in the input declaration).

use super::{Ctx, Env};
use crate::layers::ArgVal;
use crate::value::{Range, TensorVal, Value};
use netspec_model::{shape, Dims, Op, MAX_RANK};

/// The tensor methods and functions of this module, for messages.
pub(super) const TENSOR_FUNCTIONS: &[&str] = &[
    "reshape",
    "view",
    "flatten",
    "transpose",
    "permute",
    "unsqueeze",
    "squeeze",
    "matmul",
    "softmax",
    "roll",
    "pad",
    "attention",
    "size",
    "contiguous",
];

impl Ctx<'_> {
    /// `reshape(x, d...)` / `view`: per-sample sizes, one of them `-1`.
    fn reshape(
        &mut self,
        env: &Env,
        t: TensorVal,
        sizes: &[ArgVal],
        span: Range,
        x_span: Range,
    ) -> Value {
        let Some(list) = self.int_list(sizes, "reshape sizes") else {
            return Value::Poison;
        };
        if list.is_empty() || list.len() > MAX_RANK {
            return self.fail(span, format!("reshape takes 1 to {MAX_RANK} per-sample sizes (the batch is not written), found {}", list.len()));
        }
        let have = shape::numel(Self::sample_shape(&t)).unwrap_or(usize::MAX);
        let mut known = 1usize;
        let mut free: Option<(usize, Range)> = None;
        let mut out = Vec::with_capacity(list.len());
        for (i, &(d, sp)) in list.iter().enumerate() {
            if d == -1 {
                if free.is_some() {
                    return self.fail(sp, "only one size of a reshape may be -1");
                }
                free = Some((i, sp));
                out.push(0);
                continue;
            }
            let Some(d) = usize::try_from(d).ok().filter(|&d| d > 0) else {
                return self.fail(
                    sp,
                    format!("a reshape size must be positive or -1, found {d}"),
                );
            };
            known = match known.checked_mul(d) {
                Some(k) => k,
                None => return self.fail(sp, "the reshape sizes overflow"),
            };
            out.push(d);
        }
        let sizes_str = || {
            let parts: Vec<String> = list.iter().map(|(d, _)| d.to_string()).collect();
            format!("({})", parts.join(", "))
        };
        if let Some((i, sp)) = free {
            if !have.is_multiple_of(known) {
                return self.fail(
                    sp,
                    format!(
                        "cannot reshape {} ({have} elements per sample) into {}: {have} is not a multiple of {known}",
                        shape::shape_str(Self::sample_shape(&t)),
                        sizes_str()
                    ),
                );
            }
            out[i] = have / known;
        } else if known != have {
            let sp = match (sizes.first(), sizes.last()) {
                (Some(a), Some(b)) => a.span.to(b.span),
                _ => span,
            };
            return self.fail(
                sp,
                format!(
                    "cannot reshape {} ({have} elements per sample) into {}, which has {known}",
                    shape::shape_str(Self::sample_shape(&t)),
                    sizes_str()
                ),
            );
        }
        self.unary(
            env,
            Op::Reshape {
                shape: Dims::new(&out),
            },
            t,
            span,
            x_span,
            "reshape",
        )
    }

    /// Calls the tensor function `key` on `vals` (the receiver first for a
    /// method), or `None` if `key` is not one of them.
    pub(super) fn tensor_call(
        &mut self,
        env: &mut Env,
        key: &str,
        vals: Vec<ArgVal>,
        span: Range,
    ) -> Option<Value> {
        if !TENSOR_FUNCTIONS.contains(&key) {
            return None;
        }
        if vals.iter().any(|a| a.value == Value::Poison) {
            return Some(Value::Poison);
        }
        let vals = match self.route_arrays(env, key, vals, span) {
            Ok(vals) => vals,
            Err(done) => return Some(done),
        };
        let Some(first) = vals.first() else {
            return Some(self.fail(
                span,
                format!("`{key}` needs a tensor as its first argument"),
            ));
        };
        let x_span = first.span;
        let Some(t) = self.tensor_arg(first, &format!("the first argument of `{key}`")) else {
            return Some(Value::Poison);
        };
        let rest = &vals[1..];
        Some(self.tensor_call_on(env, key, t, rest, span, x_span))
    }

    fn tensor_call_on(
        &mut self,
        env: &mut Env,
        key: &str,
        t: TensorVal,
        rest: &[ArgVal],
        span: Range,
        x_span: Range,
    ) -> Value {
        let usage = |k: &str| -> &'static str {
            match k {
                "flatten" => "flatten(x, start_dim = 1, end_dim = -1)",
                "transpose" => "transpose(x, dim0, dim1)",
                "unsqueeze" => "unsqueeze(x, dim)",
                "squeeze" => "squeeze(x, dim)",
                "matmul" => "matmul(a, b)",
                "softmax" => "softmax(x, dim)",
                "roll" => "roll(x, shifts, dims)",
                "pad" => "pad(x, (left, right, top, bottom, ...), value = 0.0)",
                "size" => "size(x, dim)",
                "contiguous" => "contiguous(x)",
                _ => "",
            }
        };
        match key {
            "reshape" | "view" => {
                let Some(pos) = self.split_args(key, rest, &[]) else {
                    return Value::Poison;
                };
                let sizes: Vec<ArgVal> = pos.into_iter().cloned().collect();
                self.reshape(env, t, &sizes, span, x_span)
            }
            "contiguous" => {
                if !rest.is_empty() {
                    return self.fail(
                        span,
                        format!("`contiguous` takes no arguments: {}", usage(key)),
                    );
                }
                Value::Tensor(t)
            }
            "size" => {
                let [d] = rest else {
                    return self.fail(span, format!("`size` takes one dimension: {}", usage(key)));
                };
                let Some(axis) = self.axis(&t, &d.value, d.span, 0) else {
                    return Value::Poison;
                };
                match Self::sample_shape(&t).get(axis).map(|&s| i64::try_from(s)) {
                    Some(Ok(s)) => Value::Int(s),
                    _ => self.fail(d.span, "the size does not fit an integer"),
                }
            }
            "flatten" => {
                let Some(pos) = self.split_args(key, rest, &["start_dim", "end_dim"]) else {
                    return Value::Poison;
                };
                if pos.len() > 2 {
                    return self.fail(
                        span,
                        format!("`flatten` takes at most two dimensions: {}", usage(key)),
                    );
                }
                let start = pos.first().copied().or(Self::named(rest, "start_dim"));
                let end = pos.get(1).copied().or(Self::named(rest, "end_dim"));
                let s = match start {
                    Some(a) => self.axis(&t, &a.value, a.span, 0),
                    None => Some(0),
                };
                let rank = Self::rank_of(&t);
                let e = match end {
                    Some(a) => self.axis(&t, &a.value, a.span, 0),
                    None => Some(rank.saturating_sub(1)),
                };
                let (Some(s), Some(e)) = (s, e) else {
                    return Value::Poison;
                };
                if rank == 0 {
                    return Value::Tensor(t);
                }
                if s > e {
                    return self.fail(
                        span,
                        format!(
                            "flatten's start dimension {} is after its end dimension {}",
                            s + 1,
                            e + 1
                        ),
                    );
                }
                let shp = Self::sample_shape(&t);
                let mut out: Vec<usize> = shp[..s].to_vec();
                let Some(n) = shape::numel(&shp[s..=e]) else {
                    return self.fail(span, "the flattened size overflows");
                };
                out.push(n);
                out.extend_from_slice(&shp[e + 1..]);
                self.unary(
                    env,
                    Op::Reshape {
                        shape: Dims::new(&out),
                    },
                    t,
                    span,
                    x_span,
                    "flatten",
                )
            }
            "transpose" => {
                let [a, b] = rest else {
                    return self.fail(
                        span,
                        format!("`transpose` takes two dimensions: {}", usage(key)),
                    );
                };
                let (Some(a), Some(b)) = (
                    self.axis(&t, &a.value, a.span, 0),
                    self.axis(&t, &b.value, b.span, 0),
                ) else {
                    return Value::Poison;
                };
                let mut dims: Vec<usize> = (0..Self::rank_of(&t)).collect();
                dims.swap(a, b);
                self.unary(
                    env,
                    Op::Permute {
                        dims: Dims::new(&dims),
                    },
                    t,
                    span,
                    x_span,
                    "transpose",
                )
            }
            "permute" => {
                let Some(list) = self.int_list(rest, "permute dimensions") else {
                    return Value::Poison;
                };
                let full = Self::rank_of(&t) + 1;
                if list.len() != full {
                    return self.fail(
                        span,
                        format!(
                            "permute of a tensor {} (with the batch, {full} dimensions) needs {full} dimensions, found {}",
                            shape::shape_str(&t.shape),
                            list.len()
                        ),
                    );
                }
                let first = list
                    .first()
                    .map(|&(d, sp)| (d == 0 || d == -i64::try_from(full).unwrap_or(0), sp));
                if let Some((false, sp)) = first {
                    return self.fail(
                        sp,
                        "permute must keep the batch first: its first dimension must be 0",
                    );
                }
                let mut dims = Vec::with_capacity(full - 1);
                for &(d, sp) in &list[1..] {
                    let Some(a) = self.axis(&t, &Value::Int(d), sp, 0) else {
                        return Value::Poison;
                    };
                    if dims.contains(&a) {
                        return self.fail(sp, format!("permute lists dimension {} twice: a permutation names each dimension once", a + 1));
                    }
                    dims.push(a);
                }
                self.unary(
                    env,
                    Op::Permute {
                        dims: Dims::new(&dims),
                    },
                    t,
                    span,
                    x_span,
                    "permute",
                )
            }
            "unsqueeze" | "squeeze" => {
                let [d] = rest else {
                    return self.fail(span, format!("`{key}` takes one dimension: {}", usage(key)));
                };
                let extra = usize::from(key == "unsqueeze");
                let Some(a) = self.axis(&t, &d.value, d.span, extra) else {
                    return Value::Poison;
                };
                let mut out = Self::sample_shape(&t).to_vec();
                if key == "unsqueeze" {
                    if out.len() >= MAX_RANK {
                        return self.fail(
                            d.span,
                            format!("at most {MAX_RANK} dimensions per sample are supported"),
                        );
                    }
                    out.insert(a, 1);
                } else if out.get(a) == Some(&1) {
                    out.remove(a);
                } else {
                    // PyTorch: squeezing a dimension that is not 1 changes nothing.
                    return Value::Tensor(t);
                }
                self.unary(
                    env,
                    Op::Reshape {
                        shape: Dims::new(&out),
                    },
                    t,
                    span,
                    x_span,
                    key,
                )
            }
            "matmul" => {
                let [b] = rest else {
                    return self.fail(span, format!("`matmul` takes two tensors: {}", usage(key)));
                };
                let Some(bt) = self.tensor_arg(b, "the second operand of `matmul`") else {
                    return Value::Poison;
                };
                let op = Op::Matmul {
                    trans_b: false,
                    alpha: 1.0,
                    fused: false,
                    operator: false,
                };
                self.node(
                    env,
                    op,
                    vec![t, bt],
                    None,
                    span,
                    &[x_span, b.span],
                    "matmul",
                )
            }
            "softmax" => {
                let Some(pos) = self.split_args(key, rest, &["dim"]) else {
                    return Value::Poison;
                };
                let Some(d) = pos.first().copied().or(Self::named(rest, "dim")) else {
                    return self.fail(
                        span,
                        format!("`softmax` needs its dimension: {}", usage(key)),
                    );
                };
                let Some(dim) = self.axis(&t, &d.value, d.span, 0) else {
                    return Value::Poison;
                };
                self.unary(
                    env,
                    Op::Softmax {
                        dim,
                        causal: false,
                        fused: false,
                    },
                    t,
                    span,
                    x_span,
                    "softmax",
                )
            }
            "roll" => {
                let [shifts, dims] = rest else {
                    return self.fail(
                        span,
                        format!("`roll` takes shifts and dimensions: {}", usage(key)),
                    );
                };
                let (Some(s), Some(d)) = (
                    self.int_list(std::slice::from_ref(shifts), "roll shifts"),
                    self.int_list(std::slice::from_ref(dims), "roll dimensions"),
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
                let mut axes = Vec::new();
                let mut amounts = Vec::new();
                for (&(shift, _), &(dim, sp)) in s.iter().zip(&d) {
                    let Some(a) = self.axis(&t, &Value::Int(dim), sp, 0) else {
                        return Value::Poison;
                    };
                    let size = Self::sample_shape(&t).get(a).copied().unwrap_or(1).max(1);
                    let size_i = i64::try_from(size).unwrap_or(i64::MAX);
                    amounts.push(usize::try_from(shift.rem_euclid(size_i)).unwrap_or(0));
                    axes.push(a);
                }
                let op = Op::Roll {
                    shifts: Dims::new(&amounts),
                    dims: Dims::new(&axes),
                };
                self.unary(env, op, t, span, x_span, "roll")
            }
            "pad" => {
                let Some(pos) = self.split_args(key, rest, &["value", "mode"]) else {
                    return Value::Poison;
                };
                let [p] = pos.as_slice() else {
                    return self.fail(
                        span,
                        format!("`pad` takes the padding as one tuple: {}", usage(key)),
                    );
                };
                let Some(list) = self.int_list(std::slice::from_ref(*p), "paddings") else {
                    return Value::Poison;
                };
                if let Some(m) = Self::named(rest, "mode") {
                    if m.value != Value::Str("constant".into()) {
                        return self
                            .fail(m.span, "only `mode = \"constant\"` padding is supported");
                    }
                }
                let value = match Self::named(rest, "value").map(|a| (&a.value, a.span)) {
                    None => 0.0,
                    Some((Value::Float(f), _)) => *f,
                    Some((Value::Int(i), _)) => *i as f64,
                    Some((v, sp)) => {
                        return self.fail(
                            sp,
                            format!("the padding value must be a number, found {}", v.describe()),
                        )
                    }
                };
                let rank = Self::rank_of(&t);
                if list.len() % 2 != 0 || list.len() / 2 > rank {
                    return self.fail(p.span, format!("pad takes pairs (before, after) for up to the {rank} per-sample dimensions, last first; found {} numbers", list.len()));
                }
                let mut before = vec![0usize; rank];
                let mut after = vec![0usize; rank];
                for (i, pair) in list.chunks(2).enumerate() {
                    let axis = rank - 1 - i;
                    for (slot, &(v, sp)) in
                        [&mut before[axis], &mut after[axis]].into_iter().zip(pair)
                    {
                        let Ok(v) = usize::try_from(v) else {
                            return self
                                .fail(sp, format!("a padding must not be negative, found {v}"));
                        };
                        *slot = v;
                    }
                }
                let op = Op::Pad {
                    before: Dims::new(&before),
                    after: Dims::new(&after),
                    value,
                };
                self.unary(env, op, t, span, x_span, "pad")
            }
            "attention" => self.attention_call(env, key, t, rest, span, x_span),
            _ => self.fail(span, format!("`{key}` is not a tensor function")),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::eval::tests::{errors_of, run};
    use netspec_model::Op;

    /// A tiny ViT: image 8x8, patch 4 (4 patches + class token = 5 tokens),
    /// hidden 6, 2 heads, MLP 12, 3 classes.
    const TINY_VIT: &str = "
        block Encoder(x, heads) {
            let y = x -> ln_1: LayerNorm(eps = 1e-6)
                      -> self_attention: MultiheadAttention(heads, batch_first = true);
            let x = y + x;
            let z = x -> ln_2: LayerNorm(eps = 1e-6) -> mlp: [Linear(12), GELU, Linear(6)];
            x + z
        }
        pub struct Vit(x: [3, 8, 8]) {
            let x = x -> conv_proj: Conv2d(6, 4, stride = 4);
            let x = x.flatten(2).transpose(1, 2);
            let cls = class_token: Parameter(1, 1, 6);
            let x = cat(cls, x, dim = 1);
            let pos = pos_embedding: Parameter(1, 5, 6);
            let x = (x + pos) -> layers: [Encoder(2)] -> ln: LayerNorm(eps = 1e-6);
            x[:, 0] -> heads: [head: Linear(3)]
        }";

    #[test]
    fn a_tiny_vit_counts_by_hand() {
        let i = run(TINY_VIT).unwrap();
        let out = &i.nodes[i.output - 1];
        assert_eq!(out.output, [3]);
        let params: u64 = i.nodes.iter().map(|n| n.costs.params).sum();
        // conv 6·3·16 + 6 = 294; class token 6; position 30;
        // encoder: 2 layer norms 2·12 = 24, in_proj 18·6 + 18 = 126,
        // out_proj 36 + 6 = 42, mlp 6·12 + 12 + 12·6 + 6 = 162: 354;
        // final norm 12, head 6·3 + 3 = 21. Total 294 + 36 + 354 + 33 = 717.
        assert_eq!(params, 717);
        let macs: u64 = i.nodes.iter().map(|n| n.costs.macs).sum();
        // conv 6·4·(3·16) = 1152; in_proj 5·6·18 = 540; q·kᵀ 2·5·5·3 = 150;
        // a·v 150; out_proj 5·36 = 180; mlp 5·72·2 = 720; head 18.
        assert_eq!(macs, 1152 + 540 + 150 + 150 + 180 + 720 + 18);
        let names: Vec<&str> = i.nodes.iter().map(|n| n.name.as_str()).collect();
        assert!(names.contains(&"layers.0.self_attention"), "{names:?}");
        assert!(names.contains(&"layers.0.self_attention.qk"), "{names:?}");
        assert!(
            names.contains(&"layers.0.self_attention.out_proj"),
            "{names:?}"
        );
        let qk = i
            .nodes
            .iter()
            .find(|n| n.name == "layers.0.self_attention.qk")
            .unwrap();
        assert_eq!(qk.output, [2, 5, 5]);
        assert!(matches!(qk.op, Op::Matmul { trans_b: true, .. }));
    }

    #[test]
    fn shape_mistakes_are_errors() {
        let e = errors_of("pub struct N(x: [4, 6]) { let y = x -> Linear(5); x @ y }");
        assert_eq!(e.len(), 1);
        assert!(e[0].contains("`matmul`: inner dimensions differ"), "{e:?}");
        let e = errors_of("pub struct N(x: [4, 6]) { x.reshape(5, -1) }");
        assert!(e[0].contains("not a multiple of 5"), "{e:?}");
        let e = errors_of("pub struct N(x: [4, 6]) { x.reshape(5, 5) }");
        assert!(e[0].contains("which has 25"), "{e:?}");
        let e =
            errors_of("pub struct N(x: [4, 6]) { x -> MultiheadAttention(4, batch_first = true) }");
        assert!(
            e[0].contains("num_heads = 4 does not divide the embedding dimension 6"),
            "{e:?}"
        );
        let e = errors_of("pub struct N(x: [4, 6, 2]) { x.permute(0, 1, 1, 2) }");
        assert!(e[0].contains("twice"), "{e:?}");
        let e = errors_of("pub struct N(x: [4, 6, 2]) { x.permute(1, 0, 2, 3) }");
        assert!(e[0].contains("batch first"), "{e:?}");
        let e = errors_of("pub struct N(x: [4, 6]) { x.transpose(1, 3) }");
        assert!(e[0].contains("out of range"), "{e:?}");
        let e = errors_of("pub struct N(x: [4, 6]) { let y = x -> Linear(5); x + y }");
        assert!(e[0].contains("do not broadcast"), "{e:?}");
        let e = errors_of("pub struct N(x: [4, 6]) { x.softmax(0) }");
        assert!(e[0].contains("is the batch"), "{e:?}");
    }

    #[test]
    fn any_rank_ops_follow_pytorch() {
        let i = run("pub struct N(x: [2, 3, 4]) {
            let a = x.permute(0, 3, 1, 2);
            let b = a.flatten(1, 2);
            let c = b.unsqueeze(-1).squeeze(3);
            let d = c.mean(-1, keepdim = true);
            let e = roll(x, (1, -1), (2, 3))[:, 1:, -1];
            let f = pad(e, (1, 2));
            let g = attention(x, x, x, is_causal = true);
            let h = attention(x, x, x, heads = 2);
            let (p, q) = chunk(x, 2, dim = -1);
            let s = softmax(x * 0.5 - 1.0, -1) + p.size(-1);
            f
        }")
        .unwrap();
        let out = |name: &str| {
            i.nodes
                .iter()
                .find(|n| n.name == name)
                .map(|n| n.output.clone())
        };
        assert_eq!(out("permute"), Some(vec![4, 2, 3]));
        assert_eq!(out("flatten"), Some(vec![8, 3]));
        assert_eq!(out("mean"), Some(vec![8, 1]));
        // [2, 3, 4] rolled, then [:, 1:, -1]: rows 1.. of dim 1, the last of dim 2
        assert_eq!(out("slice"), Some(vec![1, 3, 4]));
        assert_eq!(out("select"), Some(vec![1, 4]));
        assert_eq!(out("pad"), Some(vec![1, 7]));
        let ps = i.nodes.iter().find(|n| n.name == "affine");
        assert!(ps.is_some());
    }
}
