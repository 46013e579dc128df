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
            input_shapes: shapes.iter().map(|s| s.to_vec()).collect(),
            output: output.clone(),
            costs,
            span,
        });
        Value::Tensor(TensorVal { id, shape: output })
    }
}
