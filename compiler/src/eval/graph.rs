//! The graph: each node's shape inference, costs and dotted name, with
//! duplicate weighted names rejected and the layer cap enforced.

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
        let shapes: Vec<&[usize]> = inputs.iter().map(|t| t.shape.as_slice()).collect();
        let output = match shape::output_shape(&op, &shapes) {
            Ok(s) => s,
            Err(e) => return self.fail(blame(e.blame), format!("`{path}`: {}", e.message)),
        };
        let Some(costs) = cost::costs(&op, &shapes, &output) else {
            return self.fail(span, format!("`{path}`: a count overflows u64"));
        };
        if !op.stored_tensors().is_empty() {
            if self.weighted.contains_key(&path) {
                return self.fail(
                    span,
                    format!(
                        "duplicate layer name `{path}`: another layer with weights has this path"
                    ),
                );
            }
            self.weighted.insert(path.clone(), span);
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
        });
        Value::Tensor(TensorVal { id, shape: output })
    }
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
