//! The graph: each node's shape inference, costs and dotted name, with
//! duplicate weighted names rejected (a shared module's later applications
//! excepted: they use the first's tensors, `eval/modules.rs`) and the layer
//! cap enforced.

use super::limits::MAX_NODES;
use super::{Ctx, Env, NodeRec};
use crate::value::{Range, TensorVal, Value};
use netspec_model::{cost, shape, Blame, Op};

impl Ctx<'_> {
    /// Adds a node for an expression operation (add, mul, cat, chunk).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn node(
        &mut self,
        env: &Env,
        op: Op,
        inputs: Vec<TensorVal>,
        path: Option<String>,
        span: Range,
        spans: &[Range],
        auto: &str,
    ) -> Value {
        let path = path.unwrap_or_else(|| env.join(auto));
        let spans = spans.to_vec();
        self.node_named(op, inputs, path, false, span, &move |b| match b {
            Blame::Input(i) => spans.get(i).copied().unwrap_or(span),
            _ => span,
        })
    }

    /// Adds a node named `path`: infers its output shape (an error under
    /// `blame`'s span otherwise) and its costs. One step.
    pub(super) fn node_named(
        &mut self,
        op: Op,
        inputs: Vec<TensorVal>,
        path: String,
        module: bool,
        span: Range,
        blame: &dyn Fn(Blame) -> Range,
    ) -> Value {
        if self.nodes.len() >= MAX_NODES {
            self.limits.exhausted = true;
            return self.fail(
                span,
                format!("the network expands to more than {MAX_NODES} layers"),
            );
        }
        if !self.step(span) {
            return Value::Poison;
        }
        let (views, batched) = match views(&op, &inputs) {
            Ok(v) => v,
            Err((i, message)) => {
                return self.fail(blame(Blame::Input(i)), format!("`{path}`: {message}"))
            }
        };
        let shapes: Vec<&[usize]> = views.iter().map(Vec::as_slice).collect();
        let output = match shape::output_shape(&op, &shapes) {
            Ok(s) => s,
            Err(e) => return self.fail(blame(e.blame), format!("`{path}`: {}", e.message)),
        };
        let Some(mut costs) = cost::costs(&op, &shapes, &output) else {
            return self.fail(span, format!("`{path}`: a count overflows u64"));
        };
        let mut shares = None;
        if !op.stored_tensors().is_empty() {
            match self.claim_tensors(&path, &op, span) {
                Ok(owner) => shares = owner,
                Err(()) => return Value::Poison,
            }
        }
        if shares.is_some() {
            // The first application carries the tensors.
            costs.params = 0;
            costs.buffers = 0;
        }
        let id = self.shapes.len();
        self.shapes.push(output.clone());
        self.nodes.push(NodeRec {
            op,
            inputs: inputs.iter().map(|t| t.id).collect(),
            name: path,
            module,
            inplace: false,
            input_shapes: shapes.iter().map(|s| s.to_vec()).collect(),
            output: output.clone(),
            costs,
            span,
            shares,
        });
        // An unbatched value computed by a per-sample operation keeps its
        // batch of one as a leading 1 (its full shape).
        let shape = if batched || sees_whole(&op) || broadcasts(&op) {
            output
        } else {
            std::iter::once(1).chain(output).collect()
        };
        Value::Tensor(TensorVal { id, shape, batched })
    }
}

/// The per-sample shapes an operation sees of its inputs, and whether its
/// output is batched.
type Views = (Vec<Vec<usize>>, bool);

/// Operations that see an unbatched operand whole (its full shape) and
/// whose unbatched output is a full shape: sources, and a gather from a
/// learnable table (`table[index]`).
fn sees_whole(op: &Op) -> bool {
    matches!(
        op,
        Op::Parameter { .. } | Op::Constant { .. } | Op::Gather { .. }
    )
}

/// Operations that broadcast their operands against each other (PyTorch's
/// right-aligned rule), so an unbatched operand meets a batched one as is.
fn broadcasts(op: &Op) -> bool {
    matches!(
        op,
        Op::Add
            | Op::Sub
            | Op::Mul
            | Op::Div
            | Op::Maximum
            | Op::Minimum
            | Op::Matmul { .. }
            | Op::Concat { .. }
    )
}

/// The per-sample shapes `op` sees of `inputs`, and whether its output is
/// batched. An unbatched operand (a learnable tensor, full shape `U`) meets
/// batched ones of per-sample rank `r` as `U` if it has at most `r`
/// dimensions, or as `U[1..]` if it has `r + 1` with a leading 1 (the batch
/// it broadcasts over). A per-sample operation (anything but the
/// broadcasting ones) on an unbatched tensor reads its leading 1 as a batch
/// of one. Errors name the input.
fn views(op: &Op, inputs: &[TensorVal]) -> Result<Views, (usize, String)> {
    let batched = inputs.iter().any(|t| t.batched);
    let rank = inputs
        .iter()
        .filter(|t| t.batched)
        .map(|t| t.shape.len())
        .max()
        .unwrap_or(0);
    let mut out = Vec::with_capacity(inputs.len());
    for (i, t) in inputs.iter().enumerate() {
        let u = &t.shape;
        let view = if t.batched || sees_whole(op) {
            u.clone()
        } else if broadcasts(op) && batched {
            if u.len() <= rank {
                u.clone()
            } else if u.len() == rank + 1 && u.first() == Some(&1) {
                u[1..].to_vec()
            } else {
                return Err((
                    i,
                    format!(
                        "the unbatched tensor {} has more dimensions than the batched {} it meets (with the batch, {} dimensions)",
                        shape::shape_str(u),
                        inputs
                            .iter()
                            .find(|t| t.batched)
                            .map_or_else(String::new, |t| shape::shape_str(&t.shape)),
                        rank + 1
                    ),
                ));
            }
        } else if broadcasts(op) {
            if matches!(op, Op::Concat { .. }) {
                return Err((
                    i,
                    "cat joins unbatched tensors only with a batched one".to_string(),
                ));
            }
            u.clone()
        } else if u.first() == Some(&1) {
            u[1..].to_vec()
        } else if matches!(op, Op::Reshape { shape } if shape.as_slice() == u.as_slice()) {
            // `t[None]` / `t.unsqueeze(0)`: the whole tensor becomes a batch of one.
            u.clone()
        } else {
            return Err((
                i,
                format!(
                    "{} reads a batch first, and the unbatched tensor {} has none: give it a leading 1 (`t[None]`)",
                    op.kind(),
                    shape::shape_str(u)
                ),
            ));
        };
        out.push(view);
    }
    Ok((out, batched))
}

#[cfg(test)]
mod tests {
    use crate::eval::tests::{errors_of, run};

    #[test]
    fn nodes_carry_shapes_and_costs() {
        let i = run("pub struct N(x: [3, 8, 8]) { x -> c: Conv2d(4, 3, padding = 1) }").unwrap();
        let c = &i.nodes[0];
        assert_eq!(
            (c.input_shapes.clone(), c.output.clone()),
            (vec![vec![3, 8, 8]], vec![4, 8, 8])
        );
        // 4·3·9 weights + 4 biases; MACs 4·8·8·3·9
        assert_eq!((c.costs.params, c.costs.macs), (112, 6912));
        assert!(c.module);
    }

    #[test]
    fn duplicate_weighted_names_are_rejected() {
        let e = errors_of("pub struct N(x: [3, 8, 8]) { x -> c: Conv2d(4, 1) -> c: Conv2d(4, 1) }");
        assert_eq!(
            e,
            ["duplicate layer name `c`: another layer with weights has this path"]
        );
    }

    #[test]
    fn hostile_pooling_arguments_are_errors_or_exact() {
        let e = errors_of(
            "pub struct N(x: [1, 8, 8]) { x -> MaxPool2d(4, dilation = 9223372036854775807) }",
        );
        assert_eq!(
            e,
            ["`maxpool2d`: kernel 4 with dilation 9223372036854775807 overflows"]
        );
        // A trillion rows: one window of stride 4.6e18 fits (ceil mode may not
        // start a window past the input); a billion adaptive bins cost in closed
        // form, 1e12 + 1e9 - gcd(1e12, 1e9) = 1e12 additions.
        let i = run("pub struct N(x: [1, 1000000000000, 1]) {
                let a = x -> MaxPool2d(1, stride = 4611686018427387905, ceil_mode = true);
                let b = x -> AdaptiveAvgPool2d((1000000000, 1));
                a
            }")
        .unwrap();
        assert_eq!(i.nodes[0].output, [1, 1, 1]);
        assert_eq!(i.nodes[1].output, [1, 1_000_000_000, 1]);
        assert_eq!(i.nodes[1].costs.flops, 1_000_000_000_000);
        // The whole input shape overflows the byte count: an error, not a wrap.
        let e = errors_of("pub struct N(x: [1, 9223372036854775807, 9223372036854775807]) { x -> MaxPool2d(1, stride = 4611686018427387905, ceil_mode = true) }");
        assert_eq!(e, ["`maxpool2d`: a count overflows u64"]);
    }
}
