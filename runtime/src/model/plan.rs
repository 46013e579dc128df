//! The execution plan of a graph, prepared once per graph and shared by every
//! model of it: the state-dict name index, each value's last reader, which
//! layers run in place, and buffer slots assigned by liveness.
//!
//! Values are numbered as in [`Graph`]: value 0 is the input, value `i + 1` is
//! node `i`'s output. Each value from 1 on lives in a slot; a slot is reused
//! once every reader of its value has run, so the slots alive at once are the
//! values alive at once. Every output of the network (a network may return
//! several) is read "after the end": its slot is never reused. Slot sizes are
//! per sample (a batch multiplies them at run time).
//!
//! A later application of a shared module (a node with
//! [`Node::shares`](netspec_model::Node::shares)) has no tensors of its own:
//! its state-dict names are its owner's, in the name index once.

use netspec_model::{Graph, Op};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// What each node does with its buffers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Step {
    /// The slot the node's output is written to.
    pub slot: usize,
    /// The output overwrites the first input, whose last read this is (the
    /// input's slot is `slot`). In-place operations whose input is still read
    /// later (or is the caller's input) copy it into `slot` first.
    pub in_place: bool,
    /// Values read for the last time by this node (or never read: the
    /// node's own output), released after it, except a value taken in place.
    pub frees: Vec<usize>,
}

/// How a graph runs; see the module documentation.
#[derive(Debug)]
pub(crate) struct Plan {
    /// `name -> (node, suffix)` for every stored tensor.
    pub names: HashMap<String, (usize, &'static str)>,
    /// The steps, or why the graph cannot run (the message of
    /// [`Error::Graph`](crate::Error::Graph)).
    pub steps: Result<Vec<Step>, String>,
    /// Per-sample element count of the largest value each slot holds.
    pub slot_sizes: Vec<usize>,
}

/// Whether `op` can write its output over its (first) input.
pub(crate) fn runs_in_place(op: &Op) -> bool {
    matches!(
        op,
        Op::BatchNorm2d(_)
            | Op::BatchNorm1d(_)
            | Op::BatchNorm3d(_)
            | Op::PReLU { .. }
            | Op::Activation(_)
            | Op::Softmax { .. }
            | Op::LayerNorm(_)
            | Op::GroupNorm(_)
            | Op::Affine { .. }
            | Op::Reshape { .. }
            | Op::Flatten
            | Op::Dropout { .. }
            | Op::Identity
            | Op::StochasticDepth { .. }
            | Op::Add
    )
}

/// `{layer}.{suffix}`, `suffix` for an unnamed layer, `{layer}` for a
/// parameter (empty suffix).
pub(crate) fn full_name(graph: &Graph<'_>, index: usize, suffix: &str) -> String {
    match (graph.layers.get(index).map_or("", |l| l.name), suffix) {
        ("", _) => suffix.to_string(),
        (name, "") => name.to_string(),
        (name, _) => format!("{name}.{suffix}"),
    }
}

impl Plan {
    /// The plan of `graph`, built on first use and cached (graphs are
    /// `'static`: the address identifies one).
    pub fn for_graph(graph: &'static Graph<'static>) -> Arc<Plan> {
        static PLANS: OnceLock<Mutex<HashMap<usize, Arc<Plan>>>> = OnceLock::new();
        let key = graph as *const Graph<'static> as usize;
        let plans = PLANS.get_or_init(Default::default);
        if let Some(plan) = plans.lock().ok().and_then(|p| p.get(&key).cloned()) {
            return plan;
        }
        let plan = Arc::new(Plan::new(graph));
        if let Ok(mut p) = plans.lock() {
            p.insert(key, plan.clone());
        }
        plan
    }

    /// Builds the plan of `graph` (see the module documentation).
    pub fn new(graph: &Graph<'static>) -> Plan {
        let mut names = HashMap::new();
        for (i, node) in graph.nodes.iter().enumerate() {
            if node.shares.is_some() {
                continue;
            }
            for s in node.op.stored_tensors() {
                names.insert(full_name(graph, i, s.suffix), (i, s.suffix));
            }
        }
        let mut slot_sizes = Vec::new();
        let steps = schedule(graph, &mut slot_sizes);
        Plan {
            names,
            steps,
            slot_sizes,
        }
    }

    /// Bytes of f32 activations the slots hold at batch `n` when every slot
    /// keeps its buffer: what a backend that reuses buffers allocates.
    pub fn slot_bytes(&self, n: usize) -> usize {
        self.slot_sizes.iter().sum::<usize>() * n * 4
    }
}

/// Liveness and slot assignment, or why the graph cannot run.
fn schedule(graph: &Graph<'static>, slot_sizes: &mut Vec<usize>) -> Result<Vec<Step>, String> {
    let n = graph.nodes.len();
    if graph.layers.len() != n {
        return Err(format!(
            "{n} nodes but {} layer records",
            graph.layers.len()
        ));
    }
    let outputs = graph.output_values();
    if outputs.first() != Some(&graph.output) {
        return Err(format!(
            "the output value {} is not the first of the outputs {outputs:?}",
            graph.output
        ));
    }
    if let Some(v) = outputs.iter().find(|&&v| v > n) {
        return Err(format!("output value {v} does not exist ({n} nodes)"));
    }
    for (i, node) in graph.nodes.iter().enumerate() {
        let Some(owner) = node.shares else { continue };
        let same = graph.nodes.get(owner).is_some_and(|o| {
            owner < i
                && o.shares.is_none()
                && o.op.stored_tensors() == node.op.stored_tensors()
                && graph.layers.get(owner).map(|l| l.name) == graph.layers.get(i).map(|l| l.name)
        });
        if !same {
            return Err(format!(
                "node {i} shares the tensors of node {owner}, which is not an earlier node of the same name and tensors"
            ));
        }
    }
    // The last node reading each value; the output is read "after the end".
    let mut last: Vec<Option<usize>> = vec![None; n + 1];
    for (i, node) in graph.nodes.iter().enumerate() {
        for &v in node.inputs {
            if v > i {
                return Err(format!(
                    "node {i} reads value {v}, which is not computed before it"
                ));
            }
            last[v] = Some(i);
        }
    }
    for &v in outputs {
        last[v] = Some(n);
    }

    let mut slot_of = vec![usize::MAX; n + 1];
    let mut free: Vec<usize> = Vec::new();
    let mut steps = Vec::with_capacity(n);
    for (i, node) in graph.nodes.iter().enumerate() {
        let size = graph.layers[i]
            .output
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d))
            .unwrap_or(0);
        let reads = |v: usize| node.inputs.iter().filter(|&&u| u == v).count();
        let in_place = runs_in_place(&node.op)
            && match node.inputs.first() {
                Some(&v) => v != 0 && last[v] == Some(i) && reads(v) == 1,
                None => false,
            };
        let slot = if in_place {
            slot_of[node.inputs[0]]
        } else {
            take_slot(&mut free, slot_sizes, size)
        };
        if let Some(s) = slot_sizes.get_mut(slot) {
            *s = (*s).max(size);
        }
        slot_of[i + 1] = slot;
        let mut frees: Vec<usize> = Vec::new();
        for (k, &v) in node.inputs.iter().enumerate() {
            let taken = in_place && k == 0;
            if last[v] == Some(i) && !frees.contains(&v) && !taken {
                frees.push(v);
            }
        }
        if last[i + 1].is_none() {
            frees.push(i + 1);
        }
        for &v in &frees {
            if v != 0 {
                free.push(slot_of[v]);
            }
        }
        steps.push(Step {
            slot,
            in_place,
            frees,
        });
    }
    Ok(steps)
}

/// A free slot for a value of `size` elements per sample: the smallest that
/// is large enough, else the largest (which grows), else a new one.
fn take_slot(free: &mut Vec<usize>, sizes: &mut Vec<usize>, size: usize) -> usize {
    let fits = free
        .iter()
        .enumerate()
        .filter(|(_, &s)| sizes[s] >= size)
        .min_by_key(|(_, &s)| sizes[s]);
    let largest = free.iter().enumerate().max_by_key(|(_, &s)| sizes[s]);
    match fits.or(largest).map(|(k, _)| k) {
        Some(k) => free.swap_remove(k),
        None => {
            sizes.push(size);
            sizes.len() - 1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tests::{CONCAT, RESIDUAL, SHARED};

    #[test]
    fn every_output_keeps_its_slot_and_shared_nodes_have_no_names() {
        // SHARED: conv (value 1) -> relu (2) -> the same conv again (3) ->
        // add(3, 1) (4); outputs (4, 2). relu's value is an output, so the
        // second conv cannot take its slot, nor the add run in place on it.
        let plan = Plan::new(&SHARED);
        let steps = plan.steps.as_ref().unwrap();
        let slots: Vec<usize> = steps.iter().map(|s| s.slot).collect();
        assert!(
            !steps[1].in_place,
            "relu copies: the conv's value is read again"
        );
        assert_eq!(slots.len(), 4);
        assert_ne!(slots[1], slots[2]);
        assert_ne!(slots[1], slots[3]);
        // No step frees an output.
        assert!(steps
            .iter()
            .all(|s| !s.frees.contains(&4) && !s.frees.contains(&2)));
        // The conv's two tensors are named once, by the owner.
        assert_eq!(plan.names.get("conv.weight"), Some(&(0, "weight")));
        assert_eq!(plan.names.len(), 2);
    }

    #[test]
    fn malformed_outputs_and_sharing_are_errors() {
        let mut g = SHARED;
        g.outputs = &[9];
        assert!(Plan::new(&g).steps.unwrap_err().contains("not the first"));
        g.output = 9;
        assert!(Plan::new(&g).steps.unwrap_err().contains("does not exist"));
        let mut g = SHARED;
        let mut nodes = SHARED.nodes.to_vec();
        nodes[2].shares = Some(1);
        g.nodes = Box::leak(nodes.into_boxed_slice());
        assert!(Plan::new(&g)
            .steps
            .unwrap_err()
            .contains("shares the tensors of node 1"));
    }

    #[test]
    fn residual_reuses_slots_by_liveness() {
        let plan = Plan::new(&RESIDUAL);
        let steps = plan.steps.as_ref().unwrap();
        // conv writes slot 0; bn and relu run in place on it; the add takes
        // it over (value 0 is the caller's input, still read: not freed);
        // the last relu runs in place too. One slot of 2·2·2 per sample.
        let shape: Vec<_> = steps.iter().map(|s| (s.slot, s.in_place)).collect();
        assert_eq!(
            shape,
            [(0, false), (0, true), (0, true), (0, true), (0, true)]
        );
        assert_eq!(steps[3].frees, [0]);
        // The test records have no shapes: one element per sample.
        assert_eq!(plan.slot_sizes, [1]);
        assert_eq!(
            plan.names.get("block.bn.running_var"),
            Some(&(1, "running_var"))
        );
        assert_eq!(plan.names.len(), 6);
    }

    #[test]
    fn branches_get_their_own_slots_and_dead_ones_are_reused() {
        let plan = Plan::new(&CONCAT);
        let steps = plan.steps.as_ref().unwrap();
        // expand1x1 -> slot 0, expand3x3 -> slot 1 (both alive), cat -> slot 2
        // (frees 0 and 1), pool -> a freed slot, flatten in place, fc -> the
        // other freed slot.
        let slots: Vec<_> = steps.iter().map(|s| s.slot).collect();
        assert_eq!(slots[..3], [0, 1, 2]);
        assert!(slots[3] < 2);
        assert_eq!(slots[4], slots[3]);
        assert!(steps[4].in_place);
        assert_eq!(slots[5], 1 - slots[3]);
        assert_eq!(plan.slot_sizes.len(), 3);
    }
}
