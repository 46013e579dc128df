//! A network graph with its built layers, and everything done with it, one
//! stage per file: `init.rs` (random weights), `io.rs` (safetensors load and
//! save), `plan.rs` (execution order, liveness and buffer slots, prepared once
//! per graph), `run.rs` (the forward pass), `reference.rs` (the reference
//! backend: one plain-loop kernel call per layer) and `fast.rs` (the fast
//! backend: packed layers, fusions, one fast kernel call per layer).

mod constants;
mod fast;
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
use std::sync::{Arc, OnceLock};
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
    /// The kernels of [`crate::kernels::fast`]: convolutions and linear
    /// layers as packed matrix products (the `gemm` crate), depthwise
    /// convolutions and pooling as vectorised direct loops, batch norms
    /// folded into the convolution before them and activations fused into
    /// the layer before them, on [`num_threads`](crate::threads::num_threads)
    /// threads. Weights are packed once, when the model is built (or at the
    /// first forward pass after [`Model::set_tensor`]).
    #[default]
    Fast,
    /// The plain-loop kernels of [`crate::kernels`], one thread: the
    /// reference every other backend is checked against.
    Reference,
}

/// A network ready to run: a `&'static` [`Graph`] (as the `network!` macro
/// emits it), one built [`Layer`] per node, and the execution plan of the
/// graph (shared by every model of that graph).
///
/// A module applied several times (shared weights, [`Node::shares`]) holds
/// its tensors once, in its first application's layer; every later
/// application's layer is [`Layer::Stateless`] and runs on its owner's
/// tensors, so [`Model::set_tensor`] changes every application at once.
///
/// [`Node::shares`]: netspec_model::Node::shares
///
/// Tensors are named as in a PyTorch state dict
/// (`{graph.layers[i].name}.{suffix}`, see [`netspec_model::Op::stored_tensors`])
/// and stored in PyTorch layout (conv weight `[C_out, C_in / groups, k_h, k_w]`,
/// linear weight `[out, in]`, biases and batch-norm statistics `[C]`).
#[derive(Clone)]
pub struct Model {
    graph: &'static Graph<'static>,
    /// `layers[i]` holds node `i`'s tensors (none for a later application
    /// of a shared module: `layers[graph.tensor_owner(i)]` does).
    layers: Vec<Layer>,
    plan: Arc<Plan>,
    backend: Backend,
    /// The fast backend's packed layers, built on first use and shared by
    /// clones (replaced, not mutated, when a tensor changes).
    fast: Arc<OnceLock<Result<fast::Prepared, String>>>,
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
    fn new(graph: &'static Graph<'static>, mut layers: Vec<Layer>) -> Model {
        constants::attach(graph, &mut layers);
        let model = Model {
            graph,
            layers,
            plan: Plan::for_graph(graph),
            backend: Backend::default(),
            fast: Arc::default(),
        };
        // Pack the weights now, at load time, rather than in the first pass.
        let _ = model.prepared();
        model
    }

    /// The fast backend's packed layers (packed now if they are not yet).
    fn prepared(&self) -> Result<&fast::Prepared, Error> {
        self.fast
            .get_or_init(|| {
                fast::Prepared::new(self.graph, &self.layers).map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|message| Error::Graph {
                network: self.graph.name.to_string(),
                message: format!("the fast backend cannot prepare its layers: {message}"),
            })
    }

    /// The graph this model runs.
    pub fn graph(&self) -> &'static Graph<'static> {
        self.graph
    }

    /// The built layers, one per node (`layers()[i]` for `graph.nodes[i]`;
    /// [`Layer::Stateless`] for a later application of a shared module,
    /// whose tensors are its owner's: see [`Model::layer`]).
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// The layer whose tensors node `i` runs on: its own, or for a later
    /// application of a shared module its owner's.
    pub fn layer(&self, i: usize) -> &Layer {
        static NONE: Layer = Layer::Stateless;
        self.layers.get(self.graph.tensor_owner(i)).unwrap_or(&NONE)
    }

    /// The backend that runs the layers.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// This model, run by `backend` from now on: the fast backend's layers
    /// are packed now if they are not yet; the reference backend drops them
    /// (this copy of the model no longer holds packed weights).
    pub fn with_backend(mut self, backend: Backend) -> Model {
        self.backend = backend;
        match backend {
            Backend::Fast => {
                let _ = self.prepared();
            }
            Backend::Reference => self.fast = Arc::default(),
        }
        self
    }

    /// For a layer whose work the fast backend fuses into an earlier one (a
    /// batch norm folded into its convolution, an activation fused into the
    /// layer before it): that layer's index. The fused layer still runs as
    /// its own step, reported under its own name, in near-zero time; its
    /// work is in the time of the layer it was fused into.
    pub fn fused_into(&self, index: usize) -> Option<usize> {
        if self.backend != Backend::Fast {
            return None;
        }
        match self.fast.get() {
            Some(Ok(p)) => p.fused_into(index),
            _ => None,
        }
    }

    /// Bytes of the fast backend's packed weights (convolution weights with
    /// their batch norms folded in, transposed linear weights, biases, batch
    /// norm scales and shifts), held next to [`Model::layers`]; 0 before
    /// they are packed or if they cannot be. A shared module's weights
    /// count once (once for each different set of layers folded into its
    /// applications).
    pub fn packed_weight_bytes(&self) -> usize {
        match self.fast.get() {
            Some(Ok(p)) => p.weight_bytes(),
            _ => 0,
        }
    }

    /// Bytes of im2col workspace a forward pass of the fast backend uses at
    /// batch `n` on `threads` threads: the largest convolution's tile per
    /// thread (each thread keeps its own, reused from layer to layer).
    pub fn workspace_bytes(&self, n: usize, threads: usize) -> usize {
        match self.fast.get() {
            Some(Ok(p)) => p.workspace_bytes(self.graph, n, threads),
            _ => 0,
        }
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
        // The packed layers are stale: repack at the next forward pass.
        self.fast = Arc::default();
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests;
