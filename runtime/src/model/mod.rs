//! A network graph with its built layers, and everything done with it, one
//! stage per file: `init.rs` (random weights), `io.rs` (safetensors load and
//! save), `plan.rs` (execution order, liveness and buffer slots, prepared once
//! per graph), `run.rs` (the forward pass) and `reference.rs` (the reference
//! backend: one plain-loop kernel call per layer).

mod init;
mod io;
mod plan;
mod reference;
mod run;

use crate::error::{Error, WeightProblem};
use crate::layers::Layer;
use crate::tensor::Tensor;
use netspec_model::{Graph, LayerInfo};
use plan::Plan;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub use io::IGNORED_TENSORS;

/// What [`Model::forward_observed`] reports after each layer.
#[derive(Clone, Copy, Debug)]
pub struct LayerEvent<'a> {
    /// Node index in the graph (`graph.nodes[index]`).
    pub index: usize,
    /// The layer's record: name, kind, shapes and costs per sample.
    pub info: &'static LayerInfo<'static>,
    /// Wall time of the layer's kernel (the observer's own time excluded).
    pub elapsed: Duration,
    /// The layer's output, batched: `[N, info.output...]`.
    pub output: &'a Tensor,
}

/// Which kernels run the layers of a [`Model`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// The plain-loop kernels of [`crate::kernels`], one thread: the
    /// reference every other backend is checked against.
    #[default]
    Reference,
}

/// A network ready to run: a `&'static` [`Graph`] (as the `network!` macro
/// emits it), one built [`Layer`] per node, and the execution plan of the
/// graph (shared by every model of that graph).
///
/// Tensors are named as in a PyTorch state dict
/// (`{graph.layers[i].name}.{suffix}`, see [`netspec_model::Op::stored_tensors`])
/// and stored in PyTorch layout (conv weight `[C_out, C_in / groups, k_h, k_w]`,
/// linear weight `[out, in]`, biases and batch-norm statistics `[C]`).
#[derive(Clone)]
pub struct Model {
    graph: &'static Graph<'static>,
    /// `layers[i]` holds node `i`'s tensors.
    layers: Vec<Layer>,
    plan: Arc<Plan>,
    backend: Backend,
}

impl fmt::Debug for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Model")
            .field("graph", &self.graph.name)
            .field("nodes", &self.graph.nodes.len())
            .field(
                "tensors",
                &self
                    .layers
                    .iter()
                    .map(|l| l.tensors().count())
                    .sum::<usize>(),
            )
            .field("backend", &self.backend)
            .finish()
    }
}

impl Model {
    fn new(graph: &'static Graph<'static>, layers: Vec<Layer>) -> Model {
        Model {
            graph,
            layers,
            plan: Plan::for_graph(graph),
            backend: Backend::default(),
        }
    }

    /// The graph this model runs.
    pub fn graph(&self) -> &'static Graph<'static> {
        self.graph
    }

    /// The built layers, one per node (`layers()[i]` for `graph.nodes[i]`).
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// The backend that runs the layers.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// This model, run by `backend` from now on.
    pub fn with_backend(mut self, backend: Backend) -> Model {
        self.backend = backend;
        self
    }

    /// Bytes of activations the execution plan's buffer slots hold at batch
    /// `n`, slots assigned by liveness: what a forward pass allocates for
    /// activations when its backend keeps every slot's buffer. (The
    /// reference backend releases a buffer with its value instead.)
    pub fn planned_activation_bytes(&self, n: usize) -> usize {
        self.plan.slot_bytes(n)
    }

    /// Every tensor with its state-dict name, in graph order.
    pub fn tensors(&self) -> Vec<(String, &Tensor)> {
        let mut out = Vec::new();
        for (i, layer) in self.layers.iter().enumerate() {
            for (suffix, t) in layer.tensors() {
                out.push((plan::full_name(self.graph, i, suffix), t));
            }
        }
        out
    }

    /// The tensor named `name` (`features.0.weight`), if the model has one.
    pub fn tensor(&self, name: &str) -> Option<&Tensor> {
        let &(i, suffix) = self.plan.names.get(name)?;
        self.layers.get(i)?.tensor(suffix)
    }

    /// Replaces the tensor named `name`; `value` must have the same shape.
    pub fn set_tensor(&mut self, name: &str, value: Tensor) -> Result<(), Error> {
        let slot = self
            .plan
            .names
            .get(name)
            .and_then(|&(i, suffix)| self.layers.get_mut(i)?.tensor_mut(suffix));
        let Some(slot) = slot else {
            return Err(Error::UnknownTensor {
                network: self.graph.name.to_string(),
                name: name.to_string(),
            });
        };
        if slot.shape() != value.shape() {
            return Err(Error::Weights {
                network: self.graph.name.to_string(),
                problems: vec![WeightProblem::Shape {
                    name: name.to_string(),
                    expected: slot.shape().to_vec(),
                    found: value.shape().to_vec(),
                }],
            });
        }
        *slot = value;
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests;
