//! Scaled dot-product attention: `attention(q, k, v, ...)` and
//! `nn.MultiheadAttention`, written into the graph as their parts (`qk`,
//! an optional `mask` add, `softmax`, `av`), so that each product has its own
//! row in every report, measurement and roofline.

use super::{Ctx, Env};
use crate::layers::ArgVal;
use crate::value::{Range, TensorVal, Value};
use netspec_model::{shape, Dims, Op, MAX_RANK};

/// What `attention(...)` was given, resolved.
pub(super) struct Attention {
    /// Additive mask, broadcast against the scores.
    pub mask: Option<(TensorVal, Range)>,
    /// Mask the upper triangle.
    pub causal: bool,
    /// Scale of `Q·Kᵀ`; `1/√d` when `None`.
    pub scale: Option<f64>,
    /// Split the last dimension into this many heads first.
    pub heads: Option<usize>,
}

impl Ctx<'_> {
    /// `attention(q, k, v, mask = m, is_causal = false, scale = s, heads = h)`
    /// with `q` already evaluated (`t`) and the rest of its arguments.
    pub(super) fn attention_call(
        &mut self,
        env: &mut Env,
        key: &str,
        t: TensorVal,
        rest: &[ArgVal],
        span: Range,
        x_span: Range,
    ) -> Value {
        let Some(pos) = self.split_args(
            key,
            rest,
            &[
                "mask",
                "attn_mask",
                "is_causal",
                "scale",
                "heads",
                "dropout_p",
            ],
        ) else {
            return Value::Poison;
        };
        let [k, v] = pos.as_slice() else {
            return self.fail(span, "`attention` takes queries, keys and values: attention(q, k, v, mask = m, is_causal = false, scale = s, heads = h)");
        };
        let (Some(kt), Some(vt)) = (
            self.tensor_arg(k, "the keys"),
            self.tensor_arg(v, "the values"),
        ) else {
            return Value::Poison;
        };
        let mask = match Self::named(rest, "mask").or(Self::named(rest, "attn_mask")) {
            None => None,
            Some(m) => match self.tensor_arg(m, "the attention mask") {
                Some(mt) => Some((mt, m.span)),
                None => return Value::Poison,
            },
        };
        let causal = match Self::named(rest, "is_causal").map(|a| (&a.value, a.span)) {
            None => false,
            Some((Value::Bool(b), _)) => *b,
            Some((other, sp)) => {
                return self.fail(
                    sp,
                    format!("`is_causal` must be a boolean, found {}", other.describe()),
                )
            }
        };
        let scale = match Self::named(rest, "scale").map(|a| (&a.value, a.span)) {
            None => None,
            Some((Value::Float(f), _)) => Some(*f),
            Some((Value::Int(i), _)) => Some(*i as f64),
            Some((other, sp)) => {
                return self.fail(
                    sp,
                    format!("`scale` must be a number, found {}", other.describe()),
                )
            }
        };
        let heads = match Self::named(rest, "heads").map(|a| (&a.value, a.span)) {
            None => None,
            Some((Value::Int(h), sp)) => match usize::try_from(*h) {
                Ok(h) if h > 0 => Some((h, sp)),
                _ => return self.fail(sp, format!("`heads` must be positive, found {h}")),
            },
            Some((other, sp)) => {
                return self.fail(
                    sp,
                    format!("`heads` must be an integer, found {}", other.describe()),
                )
            }
        };
        if let Some(d) = Self::named(rest, "dropout_p") {
            if !matches!(d.value, Value::Float(f) if f == 0.0) && d.value != Value::Int(0) {
                return self.fail(
                    d.span,
                    "netspec runs inference: attention dropout must be 0.0",
                );
            }
        }
        let spans = [x_span, k.span, v.span];
        let a = Attention {
            mask,
            causal,
            scale,
            heads: heads.map(|h| h.0),
        };
        let heads_span = heads.map_or(span, |h| h.1);
        self.attention(env, [t, kt, vt], spans, a, span, heads_span)
    }

    /// Splits the last dimension of `t` into `heads` and moves the heads
    /// before the tokens: `[.., L, E]` to `[.., heads, L, E / heads]`.
    fn split_heads(
        &mut self,
        env: &Env,
        t: TensorVal,
        heads: usize,
        span: Range,
        at: Range,
    ) -> Option<TensorVal> {
        let shp = Self::sample_shape(&t).to_vec();
        let r = shp.len();
        if r < 2 || r + 1 > MAX_RANK {
            self.errors.push(
                at,
                format!(
                    "attention with heads needs [.., L, E] tokens, found {}",
                    shape::shape_str(&shp)
                ),
            );
            return None;
        }
        let e = shp[r - 1];
        if e % heads != 0 {
            self.errors.push(
                at,
                format!("{heads} heads do not divide the embedding dimension {e}"),
            );
            return None;
        }
        let mut split = shp[..r - 1].to_vec();
        split.extend([heads, e / heads]);
        let v = self.unary(
            env,
            Op::Reshape {
                shape: Dims::new(&split),
            },
            t,
            span,
            span,
            "reshape",
        );
        let Value::Tensor(v) = v else { return None };
        // [.., L, h, d] -> [.., h, L, d]
        let mut dims: Vec<usize> = (0..r + 1).collect();
        dims.swap(r - 2, r - 1);
        match self.unary(
            env,
            Op::Permute {
                dims: Dims::new(&dims),
            },
            v,
            span,
            span,
            "permute",
        ) {
            Value::Tensor(v) => Some(v),
            _ => None,
        }
    }

    /// Scaled dot-product attention: `softmax(Q·Kᵀ · scale + mask) · V`,
    /// as two matrix products (`qk`, `av`) and a softmax, each its own node.
    pub(super) fn attention(
        &mut self,
        env: &Env,
        [q, k, v]: [TensorVal; 3],
        spans: [Range; 3],
        a: Attention,
        span: Range,
        heads_span: Range,
    ) -> Value {
        let (q, k, v) = match a.heads {
            Some(h) => {
                let (Some(q), Some(k), Some(v)) = (
                    self.split_heads(env, q, h, span, heads_span),
                    self.split_heads(env, k, h, span, heads_span),
                    self.split_heads(env, v, h, span, heads_span),
                ) else {
                    return Value::Poison;
                };
                (q, k, v)
            }
            None => (q, k, v),
        };
        let d = Self::sample_shape(&q).last().copied().unwrap_or(1).max(1);
        let alpha = a.scale.unwrap_or(1.0 / (d as f64).sqrt());
        let qk = self.node(
            env,
            Op::Matmul {
                trans_b: true,
                alpha,
                fused: true,
                operator: false,
            },
            vec![q, k],
            None,
            span,
            &spans[..2],
            "qk",
        );
        let Value::Tensor(mut scores) = qk else {
            return Value::Poison;
        };
        if let Some((m, m_span)) = a.mask {
            match self.node(
                env,
                Op::Add,
                vec![scores, m],
                None,
                span,
                &[span, m_span],
                "mask",
            ) {
                Value::Tensor(s) => scores = s,
                other => return other,
            }
        }
        let dim = Self::sample_shape(&scores).len().saturating_sub(1);
        let soft = self.node(
            env,
            Op::Softmax {
                dim,
                causal: a.causal,
                fused: true,
            },
            vec![scores],
            None,
            span,
            &[span],
            "softmax",
        );
        let Value::Tensor(weights) = soft else {
            return Value::Poison;
        };
        let out = self.node(
            env,
            Op::Matmul {
                trans_b: false,
                alpha: 1.0,
                fused: true,
                operator: false,
            },
            vec![weights, v],
            None,
            span,
            &[span, spans[2]],
            "av",
        );
        let (Some(_), Value::Tensor(o)) = (a.heads, &out) else {
            return out;
        };
        // [.., h, L, d] -> [.., L, h, d] -> [.., L, h·d]
        let shp = Self::sample_shape(o).to_vec();
        let r = shp.len();
        let mut dims: Vec<usize> = (0..r).collect();
        dims.swap(r - 3, r - 2);
        let Value::Tensor(p) = self.unary(
            env,
            Op::Permute {
                dims: Dims::new(&dims),
            },
            o.clone(),
            span,
            span,
            "permute",
        ) else {
            return Value::Poison;
        };
        let mut merged = shp[..r - 3].to_vec();
        merged.push(shp[r - 2]);
        merged.push(shp[r - 3].saturating_mul(shp[r - 1]));
        self.unary(
            env,
            Op::Reshape {
                shape: Dims::new(&merged),
            },
            p,
            span,
            span,
            "reshape",
        )
    }
}

impl Ctx<'_> {
    /// The rest of `nn.MultiheadAttention` after its input projection
    /// (`qkv`, `[L, 3E]`, the node at `path`): split into queries, keys and
    /// values of `heads` heads, attention (its two products and softmax as
    /// nodes of their own), heads merged, and `out_proj` (`path.out_proj`).
    /// The functional steps are named under `path`.
    pub(super) fn attention_module(
        &mut self,
        _env: &Env,
        qkv: TensorVal,
        path: &str,
        linear: netspec_model::Linear,
        heads: usize,
        span: Range,
    ) -> Value {
        let inner = Env {
            vars: std::collections::HashMap::new(),
            prefix: path.to_string(),
        };
        let e = linear.in_features;
        let shp = Self::sample_shape(&qkv).to_vec();
        let [l, _] = shp[..] else {
            return self.fail(span, format!("`{path}`: MultiheadAttention takes [L, E] tokens per sample (batch first), found {}", shape::shape_str(&shp)));
        };
        let d = e / heads.max(1);
        let split = Op::Reshape {
            shape: Dims::new(&[l, 3, heads, d]),
        };
        let Value::Tensor(t) = self.unary(&inner, split, qkv, span, span, "reshape") else {
            return Value::Poison;
        };
        // [L, 3, h, d] -> [3, h, L, d]
        let Value::Tensor(t) = self.unary(
            &inner,
            Op::Permute {
                dims: Dims::new(&[1, 2, 0, 3]),
            },
            t,
            span,
            span,
            "permute",
        ) else {
            return Value::Poison;
        };
        let mut parts = Vec::with_capacity(3);
        for (index, name) in ["q", "k", "v"].into_iter().enumerate() {
            match self.unary(
                &inner,
                Op::Select { dim: 0, index },
                t.clone(),
                span,
                span,
                name,
            ) {
                Value::Tensor(p) => parts.push(p),
                other => return other,
            }
        }
        let Ok([q, k, v]) = <[TensorVal; 3]>::try_from(parts) else {
            return Value::Poison;
        };
        let a = Attention {
            mask: None,
            causal: false,
            scale: None,
            heads: None,
        };
        let Value::Tensor(o) = self.attention(&inner, [q, k, v], [span; 3], a, span, span) else {
            return Value::Poison;
        };
        // [h, L, d] -> [L, h, d] -> [L, E]
        let Value::Tensor(o) = self.unary(
            &inner,
            Op::Permute {
                dims: Dims::new(&[1, 0, 2]),
            },
            o,
            span,
            span,
            "permute",
        ) else {
            return Value::Poison;
        };
        let Value::Tensor(o) = self.unary(
            &inner,
            Op::Reshape {
                shape: Dims::new(&[l, e]),
            },
            o,
            span,
            span,
            "reshape",
        ) else {
            return Value::Poison;
        };
        let out_proj = Op::Linear(netspec_model::Linear {
            in_features: e,
            out_features: e,
            bias: linear.bias,
        });
        // PyTorch's module applies `out_proj`'s weights with `F.linear`,
        // never calling the submodule: a functional call to hook counters.
        self.node_named(
            out_proj,
            vec![o],
            format!("{path}.out_proj"),
            false,
            span,
            &|_| span,
        )
    }
}
