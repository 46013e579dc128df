//! The forward pass: follows the [`Plan`](super::plan::Plan), one step per
//! node, each value in its slot, and hands every layer to the model's
//! [`Backend`].

use super::{fast, reference, Backend, LayerEvent, Model};
use crate::error::Error;
use crate::tensor::Tensor;
use std::time::Instant;

/// A layer's operands: its inputs, borrowed, and for an in-place layer its
/// first input, owned (moved out of its slot or copied into the output slot).
pub(crate) struct Operands<'a> {
    /// Every input in the node's order (for an in-place layer, the first is
    /// also `owned`, and `inputs[0]` is not available: use `owned`).
    pub inputs: Vec<&'a Tensor>,
    /// The first input, owned, for layers that run in place.
    pub owned: Option<Tensor>,
    /// The output slot's buffer (stale contents, any size), for layers that
    /// are not in place: a backend may write its output into it.
    pub out: Tensor,
}

impl Model {
    /// Runs the network on a batch `x` of shape `[N, graph.input...]`, `N >= 1`,
    /// and returns `[N, output...]`: for a network that returns several
    /// outputs, the first ([`Model::forward_outputs`] returns them all). Each
    /// intermediate value is released after its last read.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor, Error> {
        self.forward_observed(x, &mut |_| {})
    }

    /// [`Model::forward`], calling `observer` after each layer with the layer's
    /// index, record, kernel time and output (for per-layer timing or checks).
    pub fn forward_observed(
        &self,
        x: &Tensor,
        observer: &mut dyn FnMut(LayerEvent<'_>),
    ) -> Result<Tensor, Error> {
        let mut all = self.forward_outputs_observed(x, observer)?;
        if all.is_empty() {
            return Err(Error::Graph {
                network: self.graph.name.to_string(),
                message: "the graph has no output".to_string(),
            });
        }
        Ok(all.swap_remove(0))
    }

    /// Runs the network on `x` and returns every output, in the order of
    /// [`Graph::outputs`](netspec_model::Graph::outputs) (one for a network
    /// that returns a tensor), each `[N, shape...]`. Every output stays alive
    /// to the end of the pass; one value returned twice is cloned.
    pub fn forward_outputs(&self, x: &Tensor) -> Result<Vec<Tensor>, Error> {
        self.forward_outputs_observed(x, &mut |_| {})
    }

    /// [`Model::forward_outputs`], calling `observer` after each layer.
    pub fn forward_outputs_observed(
        &self,
        x: &Tensor,
        observer: &mut dyn FnMut(LayerEvent<'_>),
    ) -> Result<Vec<Tensor>, Error> {
        let g = self.graph;
        let malformed = |message: String| Error::Graph {
            network: g.name.to_string(),
            message,
        };
        let steps = self.plan.steps.as_ref().map_err(|m| malformed(m.clone()))?;
        let s = x.shape();
        if s.len() != g.input.len() + 1 || s[0] == 0 || s[1..] != *g.input {
            return Err(Error::InputShape {
                network: g.name.to_string(),
                expected: g.input.to_vec(),
                found: s.to_vec(),
            });
        }
        let outputs = g.output_values();
        if outputs.iter().all(|&v| v == 0) {
            return Ok(outputs.iter().map(|_| x.clone()).collect());
        }
        // A backend that writes into the slots keeps their buffers; the
        // reference kernels allocate their outputs, so a slot's buffer is
        // released with its value (memory stays at the live values).
        let keep = self.backend != Backend::Reference;
        let mut slots: Vec<Tensor> = vec![Tensor::empty(); self.plan.slot_sizes.len()];
        for (i, (node, step)) in g.nodes.iter().zip(steps).enumerate() {
            let start = Instant::now();
            let result = {
                let mut out = std::mem::replace(&mut slots[step.slot], Tensor::empty());
                let owned = match node.inputs.first() {
                    Some(&first) if super::plan::runs_in_place(&node.op) => {
                        let mut own = std::mem::replace(&mut out, Tensor::empty());
                        if !step.in_place {
                            own.copy_from(value(x, &slots, steps, first));
                        }
                        Some(own)
                    }
                    _ => None,
                };
                let skip = usize::from(owned.is_some());
                let inputs = node
                    .inputs
                    .iter()
                    .skip(skip)
                    .map(|&v| value(x, &slots, steps, v))
                    .collect();
                self.execute(i, Operands { inputs, owned, out })
            };
            let out = result.map_err(|e| Error::Layer {
                index: i,
                name: g.layers.get(i).map_or("", |l| l.name).to_string(),
                source: Box::new(e),
            })?;
            slots[step.slot] = out;
            let elapsed = start.elapsed();
            observer(LayerEvent {
                index: i,
                info: &g.layers[i],
                elapsed,
                output: &slots[step.slot],
            });
            for &v in &step.frees {
                if v > 0 && !keep {
                    slots[steps[v - 1].slot] = Tensor::empty();
                }
            }
        }
        // Each output out of its slot; the input, and a value returned
        // again, cloned.
        let mut out: Vec<Tensor> = Vec::with_capacity(outputs.len());
        for (k, &v) in outputs.iter().enumerate() {
            let t = match (v.checked_sub(1), outputs[..k].iter().position(|&u| u == v)) {
                (None, _) => x.clone(),
                (Some(_), Some(first)) => out[first].clone(),
                (Some(node), None) => {
                    std::mem::replace(&mut slots[steps[node].slot], Tensor::empty())
                }
            };
            out.push(t);
        }
        Ok(out)
    }

    /// Runs layer `i` on its operands with the model's backend.
    ///
    /// A new backend adds a [`Backend`] variant, prepares what it needs once
    /// (weights packed from [`Model::layers`]) in [`Model::with_backend`],
    /// and an arm here. It may write its output into `operands.out` (the
    /// slot's buffer, resized with [`Tensor::reset`]; kept across steps, so
    /// a pass allocates only [`Model::planned_activation_bytes`]) and must
    /// agree with [`Backend::Reference`] up to rounding.
    fn execute(&self, i: usize, operands: Operands<'_>) -> Result<Tensor, Error> {
        let op = &self.graph.nodes[i].op;
        // A later application of a shared module runs on its owner's tensors.
        let layer = self.layer(i);
        match self.backend {
            Backend::Reference => reference::execute(op, layer, operands),
            Backend::Fast => {
                let prepared = self.prepared()?;
                match prepared.layer(i) {
                    Some(f) => fast::execute(op, f, layer, operands),
                    None => reference::execute(op, layer, operands),
                }
            }
        }
    }
}

/// Value `v`: the caller's input, or the tensor in its slot.
fn value<'a>(
    x: &'a Tensor,
    slots: &'a [Tensor],
    steps: &[super::plan::Step],
    v: usize,
) -> &'a Tensor {
    match v.checked_sub(1) {
        None => x,
        Some(node) => &slots[steps[node].slot],
    }
}
