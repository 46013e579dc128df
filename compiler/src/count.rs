//! Counting: every layer's counts and the network's totals, computed once
//! from the instantiated graph, with checked arithmetic and the
//! liveness-based peak activation memory (every output of a network that
//! returns several alive to the end). A shared module's later applications
//! carry no params or buffers (the first holds them), and their MACs, FLOPs
//! and activations like any layer's. Budgets, the report and the emitted
//! records all read the result.

use crate::eval::{Instance, NodeRec};
use netspec_model::info::peak_live_elements;
use netspec_model::shape::numel;
use netspec_model::training::{training, Layer};
use netspec_model::{Costs, Counts, Totals, Training};

/// What one layer costs: its [`Costs`], its count under every convention
/// and its training costs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LayerCounts {
    /// Params, buffers, MACs, FLOPs, bytes moved and output elements.
    pub costs: Costs,
    /// The count under every counting convention.
    pub counts: Counts,
    /// Backward MACs and FLOPs, what it keeps for backward.
    pub training: Training,
}

/// The counts of a whole network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Counted {
    /// One entry per node, in execution order.
    pub layers: Vec<LayerCounts>,
    /// The network's totals.
    pub totals: Totals,
}

impl Counted {
    /// Each layer's `(FLOPs, bytes moved)`, the roofline's input.
    pub fn flops_and_bytes(&self) -> Vec<(u64, u64)> {
        self.layers
            .iter()
            .map(|l| (l.costs.flops, l.costs.memory_access_bytes))
            .collect()
    }
}

/// One layer's counts under every counting convention (torchvision, fvcore,
/// thop, ptflops, netspec FLOPs), or `None` if one overflows `u64`.
pub fn layer_counts(node: &NodeRec) -> Option<Counts> {
    let inputs: Vec<&[usize]> = node.input_shapes.iter().map(Vec::as_slice).collect();
    Counts::of(&node.op, &inputs, &node.output, node.module)
}

/// Every layer's training costs (`netspec_model::training`).
fn layer_training(inst: &Instance) -> Option<Vec<Training>> {
    let mut values: Vec<&[usize]> = Vec::with_capacity(inst.nodes.len() + 1);
    values.push(&inst.input);
    values.extend(inst.nodes.iter().map(|n| n.output.as_slice()));
    let layers: Vec<Layer<'_>> = inst
        .nodes
        .iter()
        .map(|n| Layer {
            op: &n.op,
            inputs: &n.inputs,
            inplace: n.inplace,
            macs: n.costs.macs,
            flops: n.costs.flops,
        })
        .collect();
    training(&values, &layers)
}

/// Every layer's counts and the totals of `inst`, or `None` if a count
/// overflows `u64`.
pub fn count(inst: &Instance) -> Option<Counted> {
    let training = layer_training(inst)?;
    let mut layers = Vec::with_capacity(inst.nodes.len());
    let mut sum = Costs::ZERO;
    let mut counts = Counts::ZERO;
    let mut train = Training::ZERO;
    for (node, training) in inst.nodes.iter().zip(training) {
        let layer = LayerCounts {
            costs: node.costs,
            counts: layer_counts(node)?,
            training,
        };
        sum = sum.checked_add(&layer.costs)?;
        counts = counts.checked_add(&layer.counts)?;
        train = train.checked_add(&layer.training)?;
        layers.push(layer);
    }
    let mut values = Vec::with_capacity(inst.nodes.len() + 1);
    values.push(u64::try_from(numel(&inst.input)?).ok()?);
    for node in &inst.nodes {
        values.push(node.costs.activations);
    }
    let reads: Vec<Vec<usize>> = inst.nodes.iter().map(|n| n.inputs.clone()).collect();
    let peak = peak_live_elements(&values, &reads, &inst.outputs)?;
    let totals = Totals {
        costs: sum,
        weight_bytes: sum.params.checked_mul(4)?,
        buffer_bytes: sum.buffers.checked_mul(4)?,
        peak_activation_bytes: peak.checked_mul(4)?,
        counts,
        training: train,
    };
    Some(Counted { layers, totals })
}

#[cfg(test)]
mod tests {
    use super::count;
    use crate::eval::tests::run;

    fn totals(result: &str) -> netspec_model::Totals {
        let src = format!(
            "pub struct N(x: [3, 8, 8]) {{
                let f = x -> stem: Conv2d(8, 3, padding = 1);
                let aux = f -> aux: Conv2d(4, 1);
                let out = f -> ReLU -> c2: Conv2d(8, 3, padding = 1);
                {result}
            }}"
        );
        count(&run(&src).unwrap()).unwrap().totals
    }

    #[test]
    fn every_output_counts_in_the_peak_and_shared_params_once() {
        // Per sample: x 192, stem 512, aux 256, relu 512, c2 512. With aux
        // returned it is alive when c2 runs: 256 + 512 + 512 = 1,280; never
        // read, it dies at once, and the most alive is 1,024.
        assert_eq!(totals("(out, aux)").peak_activation_bytes, 4 * 1_280);
        assert_eq!(totals("out").peak_activation_bytes, 4 * 1_024);
        let i =
            run("pub struct N(x: [4]) { let fc = fc: Linear(4); x -> fc -> fc -> fc }").unwrap();
        let t = count(&i).unwrap().totals;
        // 4·4 + 4 params once; 16 MACs three times.
        assert_eq!((t.params, t.macs, t.weight_bytes), (20, 48, 80));
    }
}
