//! What a compiled network carries: per-layer records, scopes, totals and the graph.

use crate::convention::{Convention, Counts};
use crate::cost::Costs;
use crate::op::Op;
use crate::training::{train_memory, Optimizer, Precision, Training};
use core::ops::Deref;

/// One layer as the compiler saw it: name, shapes and costs (per sample).
///
/// The costs are one [`Costs`]; the record dereferences to it, so
/// `layer.flops` reads `layer.costs.flops`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LayerInfo<'a> {
    /// Dotted path, as in a PyTorch state dict (`layer1.0.conv1`).
    pub name: &'a str,
    /// Layer kind (`Conv2d`, `Add`, ...).
    pub kind: &'a str,
    /// Whether the layer is a named module (a stage name or a list index,
    /// like a PyTorch `nn.Module` attribute) rather than a functional
    /// operation (unnamed stages, `+`, `*`, `cat`, `chunk`, `narrow`, `mean`).
    /// Hook-based counters such as thop and ptflops see modules only.
    pub module: bool,
    /// Shapes of the inputs, per sample.
    pub inputs: &'a [&'a [usize]],
    /// Shape of the output, per sample.
    pub output: &'a [usize],
    /// Params, buffers, MACs, FLOPs, bytes moved and output elements.
    pub costs: Costs,
    /// The layer's count under every [`Convention`] (torchvision, fvcore,
    /// thop, ptflops, netspec FLOPs), by `netspec::convention::count`.
    pub counts: Counts,
    /// What the layer costs in a training step: backward MACs and FLOPs,
    /// what it keeps for backward ([`crate::training`]).
    pub training: Training,
}

impl<'a> LayerInfo<'a> {
    /// A record from its parts. This is what the `network!` macro emits, one
    /// short call per layer.
    #[allow(clippy::too_many_arguments)]
    pub const fn new(
        name: &'a str,
        kind: &'a str,
        module: bool,
        inputs: &'a [&'a [usize]],
        output: &'a [usize],
        costs: Costs,
        counts: Counts,
        training: Training,
    ) -> Self {
        LayerInfo {
            name,
            kind,
            module,
            inputs,
            output,
            costs,
            counts,
            training,
        }
    }

    /// A record whose 19 numbers (the [`Costs`], [`Counts`] and [`Training`]
    /// fields, in that order) are packed: `slots` has one character per
    /// number (spaces between the three groups are skipped), `0` for zero and
    /// digit `k` in base 36 (`1`-`9`, `a`-`z`) for `values[k - 1]`, so a value
    /// that repeats within the layer is written once. This is what the
    /// `network!` macro emits, one short call per layer (fewer tokens to parse
    /// at expansion). A missing slot, or one past the end of `values`, reads
    /// as 0.
    ///
    /// `L::packed("conv", "Conv2d", true, I0, S0, "102345 22223 02032500",
    /// &[576, 147456, 294912, 18688, 2048])` is a 3x3 convolution 8 -> 8 on
    /// 16x16: 576 params, 147456 MACs, 294912 FLOPs, ..., 2048 saved floats.
    pub const fn packed(
        name: &'a str,
        kind: &'a str,
        module: bool,
        inputs: &'a [&'a [usize]],
        output: &'a [usize],
        slots: &str,
        values: &[u64],
    ) -> Self {
        let bytes = slots.as_bytes();
        let mut n = [0u64; 19];
        let (mut i, mut j) = (0, 0);
        while i < bytes.len() && j < n.len() {
            let k = match bytes[i] {
                b' ' => {
                    i += 1;
                    continue;
                }
                b @ b'0'..=b'9' => (b - b'0') as usize,
                b @ b'a'..=b'z' => (b - b'a') as usize + 10,
                _ => 0,
            };
            if k > 0 && k <= values.len() {
                n[j] = values[k - 1];
            }
            i += 1;
            j += 1;
        }
        let [params, buffers, macs, flops, bytes_moved, activations, torchvision, fvcore, thop, ptflops, flops_count, gim, gwm, gif, gwf, tbm, saved_floats, saved_indices, saved_stats] =
            n;
        Self::new(
            name,
            kind,
            module,
            inputs,
            output,
            Costs::new(params, buffers, macs, flops, bytes_moved, activations),
            Counts {
                torchvision,
                fvcore,
                thop,
                ptflops,
                flops: flops_count,
            },
            Training::new(
                gim,
                gwm,
                gif,
                gwf,
                tbm,
                saved_floats,
                saved_indices,
                saved_stats,
            ),
        )
    }

    /// A record from positional arrays: `costs` in [`Costs::new`] order and
    /// `counts` in [`Convention::ALL`] order, without training costs. Kept
    /// for tests that build records by hand; prefer [`LayerInfo::new`].
    #[allow(clippy::too_many_arguments)]
    pub const fn from_parts(
        name: &'a str,
        kind: &'a str,
        module: bool,
        inputs: &'a [&'a [usize]],
        output: &'a [usize],
        costs: [u64; 6],
        counts: [u64; 5],
    ) -> Self {
        let [params, buffers, macs, flops, bytes, activations] = costs;
        let [torchvision, fvcore, thop, ptflops, flops_count] = counts;
        Self::new(
            name,
            kind,
            module,
            inputs,
            output,
            Costs::new(params, buffers, macs, flops, bytes, activations),
            Counts {
                torchvision,
                fvcore,
                thop,
                ptflops,
                flops: flops_count,
            },
            Training::ZERO,
        )
    }

    /// The layer's count under `convention`.
    pub const fn count_as(&self, convention: Convention) -> u64 {
        self.counts.get(convention)
    }

    /// FLOPs per byte moved (0 for a layer that moves nothing).
    pub const fn arithmetic_intensity(&self) -> f64 {
        self.costs.arithmetic_intensity()
    }
}

impl Deref for LayerInfo<'_> {
    type Target = Costs;

    fn deref(&self) -> &Costs {
        &self.costs
    }
}

/// A named group of layers: a block instance or a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scope<'a> {
    /// Dotted path of the group (`layer1`, `layer1.0`).
    pub path: &'a str,
    /// The block's name, or `Sequential` for a list.
    pub kind: &'a str,
}

/// Whole-network totals, per sample. Dereferences to the summed [`Costs`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// The sums of the layers' costs.
    pub costs: Costs,
    /// `4 · params`.
    pub weight_bytes: u64,
    /// `4 · buffers`.
    pub buffer_bytes: u64,
    /// Most f32 activation bytes alive at once.
    pub peak_activation_bytes: u64,
    /// The sums of the layers' counts under every [`Convention`].
    pub counts: Counts,
    /// The sums of the layers' training costs (each saved storage once).
    pub training: Training,
}

impl Totals {
    /// All zero (usable in const context, unlike `Default`).
    pub const ZERO: Totals = Totals {
        costs: Costs::ZERO,
        weight_bytes: 0,
        buffer_bytes: 0,
        peak_activation_bytes: 0,
        counts: Counts::ZERO,
        training: Training::ZERO,
    };

    /// The network's count under `convention`.
    pub const fn count_as(&self, convention: Convention) -> u64 {
        self.counts.get(convention)
    }

    /// Backward MACs per sample (grad-input + grad-weight).
    pub const fn backward_macs(&self) -> u64 {
        self.training.backward_macs()
    }

    /// Backward MACs per sample as `convention` counts them:
    /// [`Convention::TorchFlopCounter`] gives PyTorch's `FlopCounterMode`
    /// count (grouped convolutions' grad-weight `groups` times over), every
    /// other convention the multiply-accumulates done.
    pub const fn backward_macs_as(&self, convention: Convention) -> u64 {
        match convention {
            Convention::TorchFlopCounter => self.training.torch_backward_macs,
            _ => self.training.backward_macs(),
        }
    }

    /// MACs of a training step per sample: forward + backward.
    pub const fn train_macs(&self) -> u64 {
        self.costs
            .macs
            .saturating_add(self.training.backward_macs())
    }

    /// FLOPs of a training step per sample: forward (`FLOPS`) + backward.
    pub const fn train_flops(&self) -> u64 {
        self.costs
            .flops
            .saturating_add(self.training.backward_flops())
    }

    /// Bytes autograd keeps for backward at `batch` samples, in f32.
    pub const fn saved_bytes(&self, batch: u64) -> u64 {
        self.training.saved_bytes(batch)
    }

    /// The memory of a training step at `batch` samples with `optimizer`
    /// ([`crate::training::train_memory`]).
    pub const fn train_memory(
        &self,
        batch: u64,
        optimizer: Optimizer,
        precision: Precision,
    ) -> u64 {
        train_memory(
            self.costs.params,
            &self.training,
            batch,
            optimizer,
            precision,
        )
    }
}

impl Deref for Totals {
    type Target = Costs;

    fn deref(&self) -> &Costs {
        &self.costs
    }
}

/// One node of a network graph. Value 0 is the network input; node `i`
/// produces value `i + 1`. Its record is `Graph::layers[i]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Node<'a> {
    /// What the node computes.
    pub op: Op,
    /// Value ids it reads.
    pub inputs: &'a [usize],
}

impl<'a> Node<'a> {
    /// A node from its operation and the value ids it reads (what the
    /// `network!` macro emits, `N::new(...)`).
    pub const fn new(op: Op, inputs: &'a [usize]) -> Self {
        Node { op, inputs }
    }
}

/// A whole compiled network.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Graph<'a> {
    /// Type name.
    pub name: &'a str,
    /// Input shape, per sample.
    pub input: &'a [usize],
    /// Nodes in execution order.
    pub nodes: &'a [Node<'a>],
    /// One record per node, in the same order.
    pub layers: &'a [LayerInfo<'a>],
    /// Value id of the output.
    pub output: usize,
    /// Block instances and lists, for the report's hierarchy.
    pub scopes: &'a [Scope<'a>],
    /// Totals.
    pub totals: Totals,
}

/// The most elements alive at once when `nodes` run in order.
///
/// `values[v]` is the element count of value `v` (0 the input, `i + 1` the
/// output of node `i`); `reads[i]` are the values node `i` reads. A value is
/// alive from its creation to its last read (the output to the end). While
/// node `i` runs, its inputs and its output are all alive. Returns `None` on
/// overflow.
pub fn peak_live_elements(values: &[u64], reads: &[Vec<usize>], output: usize) -> Option<u64> {
    let mut last_use = vec![0usize; values.len()];
    for (i, r) in reads.iter().enumerate() {
        for &v in r {
            if let Some(slot) = last_use.get_mut(v) {
                *slot = (*slot).max(i + 1);
            }
        }
    }
    if let Some(slot) = last_use.get_mut(output) {
        *slot = usize::MAX;
    }
    // What dies after each step: the values whose last read it is (summed
    // once up front, so the walk is linear in the nodes).
    let mut dies = vec![0u64; values.len()];
    for (v, &last) in last_use.iter().enumerate() {
        if let Some(slot) = dies.get_mut(last) {
            *slot = slot.checked_add(values[v])?;
        }
    }
    // Step s (1-based) runs node s - 1 and creates value s.
    let mut live = *values.first()?;
    let mut peak = live;
    for step in 1..values.len() {
        live = live.checked_add(values[step])?;
        peak = peak.max(live);
        live = live.checked_sub(dies[step])?;
        // A value never read (and not the output) dies as soon as it is made.
        if last_use[step] == 0 {
            live = live.checked_sub(values[step])?;
        }
    }
    Some(peak)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn residual_keeps_the_input_alive() {
        // x(10) -> a(20) -> b(20); out = a + x ... value ids: 0 x, 1 a, 2 b, 3 add(b, x)
        // step 1: x + a = 30; x stays (read at step 3), a dies after step 2
        // step 2: x + a + b = 50; a dies -> 30
        // step 3: x + b + out(20) = 50
        let values = [10, 20, 20, 20];
        let reads = vec![vec![0], vec![1], vec![2, 0]];
        assert_eq!(peak_live_elements(&values, &reads, 3), Some(50));
        // A chain only ever holds two values.
        let reads = vec![vec![0], vec![1], vec![2]];
        assert_eq!(peak_live_elements(&values, &reads, 3), Some(40));
    }

    #[test]
    fn packed_records_read_their_slots() {
        // Evaluated in const, as the macro's records are.
        const R: LayerInfo<'static> = LayerInfo::packed(
            "conv",
            "Conv2d",
            true,
            &[&[8, 16, 16]],
            &[8, 16, 16],
            "102345 22223 02032500",
            &[576, 147456, 294912, 18688, 2048],
        );
        assert_eq!(R.costs, Costs::new(576, 0, 147456, 294912, 18688, 2048));
        assert_eq!(
            R.counts,
            Counts::new(147456, 147456, 147456, 147456, 294912)
        );
        assert_eq!(
            R.training,
            Training::new(0, 147456, 0, 294912, 147456, 2048, 0, 0)
        );
        // Short slots, unknown characters and digits past `values` read as 0.
        let r = LayerInfo::packed("x", "Add", false, &[], &[], "1z?", &[7]);
        assert_eq!(r.costs, Costs::new(7, 0, 0, 0, 0, 0));
        assert_eq!((r.counts, r.training), (Counts::ZERO, Training::ZERO));
    }
}
