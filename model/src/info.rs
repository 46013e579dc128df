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
    /// Index of the first node created in the scope: its layers are the
    /// nodes from here on under its path, up to the next scope of the same
    /// path.
    pub start: usize,
    /// For a block module (`let enc = enc: Encoder(64);`): which
    /// application this is, from 1 (each application is a scope of its
    /// own, with the same path); 0 for any other scope.
    pub application: usize,
}

impl<'a> Scope<'a> {
    /// A block instance or list named `path` whose first node is `start`.
    pub const fn new(path: &'a str, kind: &'a str, start: usize) -> Self {
        Scope {
            path,
            kind,
            start,
            application: 0,
        }
    }

    /// The `application`-th application (from 1) of the block module at
    /// `path`, its first node `start`.
    pub const fn applied(path: &'a str, kind: &'a str, start: usize, application: usize) -> Self {
        Scope {
            path,
            kind,
            start,
            application,
        }
    }
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
    /// For a later application of a shared module (a module value applied
    /// more than once): the node whose tensors it uses, the first
    /// application's node at the same path (which has `shares: None`). Its
    /// tensors are that node's: the state dict holds them once, and its
    /// record counts no params or buffers.
    pub shares: Option<usize>,
}

impl<'a> Node<'a> {
    /// A node from its operation and the value ids it reads (what the
    /// `network!` macro emits, `N::new(...)`).
    pub const fn new(op: Op, inputs: &'a [usize]) -> Self {
        Node {
            op,
            inputs,
            shares: None,
        }
    }

    /// A node that uses the tensors of node `owner` (a later application of
    /// a shared module; what the `network!` macro emits, `N::shared(...)`).
    pub const fn shared(op: Op, inputs: &'a [usize], owner: usize) -> Self {
        Node {
            op,
            inputs,
            shares: Some(owner),
        }
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
    /// Value id of the output: the first of [`Graph::outputs`].
    pub output: usize,
    /// Value ids of every output, in order, for a network that returns a
    /// tuple (`(out, aux)`); `[output]` for one that returns a tensor. A
    /// value may appear more than once. Empty reads as `[output]` (see
    /// [`Graph::output_values`]).
    pub outputs: &'a [usize],
    /// Block instances and lists, for the report's hierarchy.
    pub scopes: &'a [Scope<'a>],
    /// The constant tensors computed at compile time (attention masks,
    /// relative-position indices), which [`Op::Constant`] and
    /// [`Op::Gather`] nodes refer to by index.
    pub constants: &'a [Constant<'a>],
    /// Totals.
    pub totals: Totals,
}

impl<'a> Graph<'a> {
    /// Value ids of every output: [`Graph::outputs`], or `[output]` when
    /// that is empty (a graph written by hand).
    pub fn output_values(&self) -> &[usize] {
        if self.outputs.is_empty() {
            core::slice::from_ref(&self.output)
        } else {
            self.outputs
        }
    }

    /// The per-sample shape of value `v`: the input's for 0, node `v - 1`'s
    /// output otherwise (`None` past the last node).
    pub fn value_shape(&self, v: usize) -> Option<&'a [usize]> {
        match v.checked_sub(1) {
            None => Some(self.input),
            Some(i) => self.layers.get(i).map(|l| l.output),
        }
    }

    /// The node whose tensors node `i` uses: its [`Node::shares`] owner, or
    /// `i` itself.
    pub fn tensor_owner(&self, i: usize) -> usize {
        self.nodes.get(i).and_then(|n| n.shares).unwrap_or(i)
    }

    /// Bytes layer `i` moves for a batch of `batch`
    /// ([`Costs::batch_bytes`]): every application of a shared module reads
    /// its weights once per batch, like the first, so a later application's
    /// weights are its owner's params (0 for a layer past the end).
    pub fn batch_bytes(&self, i: usize, batch: u64) -> u64 {
        let owner = self.layers.get(self.tensor_owner(i));
        match (self.layers.get(i), owner) {
            (Some(l), Some(o)) => l.costs.batch_bytes_reading(o.costs.params, batch),
            _ => 0,
        }
    }
}

/// A constant tensor a network computes at compile time from its
/// configuration (a shifted-window attention mask, a relative-position
/// index), in the graph's constants table.
///
/// A constant with a `name` is also a buffer of the PyTorch module (torchvision's
/// `relative_position_index`): a state dict that carries a tensor of that
/// name is checked against these values when loaded, and one that does not
/// is accepted all the same.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Constant<'a> {
    /// The state-dict name of the buffer it stands for, empty if none.
    pub name: &'a str,
    /// Its full shape (a constant has no batch dimension).
    pub shape: &'a [usize],
    /// Whether every value is an integer (PyTorch keeps such buffers as int64).
    pub integer: bool,
    /// The values in row-major order, as [`encode_values`] writes them.
    pub data: &'a str,
}

impl<'a> Constant<'a> {
    /// A constant from its parts (what the `network!` macro emits).
    pub const fn new(name: &'a str, shape: &'a [usize], integer: bool, data: &'a str) -> Self {
        Constant {
            name,
            shape,
            integer,
            data,
        }
    }

    /// The number of values its shape holds (`None` on overflow).
    pub fn len(&self) -> Option<usize> {
        crate::shape::numel(self.shape)
    }

    /// Whether its shape holds no values.
    pub fn is_empty(&self) -> bool {
        self.len() == Some(0)
    }

    /// The values, decoded ([`decode_values`]), which must fill the shape.
    pub fn values(&self) -> Result<Vec<f32>, String> {
        let n = self
            .len()
            .ok_or_else(|| "the constant's shape overflows".to_string())?;
        decode_values(self.data, n)
    }
}

/// Writes `values` as text, compactly: space-separated numbers (Rust's
/// shortest round-trip form of each f32), a run of `n >= 2` equal values as
/// `v*n`. An attention mask of 150,000 values of two kinds is a few
/// thousand characters; [`decode_values`] reads it back exactly.
pub fn encode_values(values: &[f32]) -> String {
    use core::fmt::Write;
    let mut out = String::new();
    let mut i = 0;
    while let Some(&v) = values.get(i) {
        let run = values[i..]
            .iter()
            .take_while(|&&w| w.to_bits() == v.to_bits())
            .count();
        if !out.is_empty() {
            out.push(' ');
        }
        // Writing to a String cannot fail.
        let _ = if run > 1 {
            write!(out, "{v}*{run}")
        } else {
            write!(out, "{v}")
        };
        i += run.max(1);
    }
    out
}

/// Reads the text of [`encode_values`], which must hold exactly `len` values.
pub fn decode_values(text: &str, len: usize) -> Result<Vec<f32>, String> {
    let mut out = Vec::with_capacity(len.min(1 << 24));
    for token in text.split_ascii_whitespace() {
        let (value, run) = match token.split_once('*') {
            Some((v, n)) => (
                v,
                n.parse::<usize>()
                    .map_err(|e| format!("bad run `{token}`: {e}"))?,
            ),
            None => (token, 1),
        };
        let v = value
            .parse::<f32>()
            .map_err(|e| format!("bad value `{token}`: {e}"))?;
        if run > len - out.len() {
            return Err(format!("more than the {len} values of the shape"));
        }
        out.extend(core::iter::repeat_n(v, run));
    }
    if out.len() != len {
        return Err(format!("{} values for a shape of {len}", out.len()));
    }
    Ok(out)
}

/// The most elements alive at once when `nodes` run in order.
///
/// `values[v]` is the element count of value `v` (0 the input, `i + 1` the
/// output of node `i`); `reads[i]` are the values node `i` reads. A value is
/// alive from its creation to its last read (the output to the end). While
/// node `i` runs, its inputs and its output are all alive. Every value in
/// `outputs` (a network may return several) stays alive to the end.
/// Returns `None` on overflow.
pub fn peak_live_elements(values: &[u64], reads: &[Vec<usize>], outputs: &[usize]) -> Option<u64> {
    let mut last_use = vec![0usize; values.len()];
    for (i, r) in reads.iter().enumerate() {
        for &v in r {
            if let Some(slot) = last_use.get_mut(v) {
                *slot = (*slot).max(i + 1);
            }
        }
    }
    for &output in outputs {
        if let Some(slot) = last_use.get_mut(output) {
            *slot = usize::MAX;
        }
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
        assert_eq!(peak_live_elements(&values, &reads, &[3]), Some(50));
        // A chain only ever holds two values.
        let reads = vec![vec![0], vec![1], vec![2]];
        assert_eq!(peak_live_elements(&values, &reads, &[3]), Some(40));
    }

    #[test]
    fn every_output_stays_alive_to_the_end() {
        // x(10) -> a(20) -> b(30) -> c(5); outputs (c, a): a stays alive
        // after b reads it. Step 1: x + a = 30, x dies -> 20; step 2:
        // a + b = 50, b stays; step 3: a + b + c = 55, b dies -> 25.
        let values = [10, 20, 30, 5];
        let reads = vec![vec![0], vec![1], vec![2]];
        assert_eq!(peak_live_elements(&values, &reads, &[3, 1]), Some(55));
        // With c alone, a dies after step 2: the peak is step 2's 50.
        assert_eq!(peak_live_elements(&values, &reads, &[3]), Some(50));
        // A value never read but returned is alive at the end: x(10) ->
        // a(20), x -> b(5); outputs (b, a).
        let values = [10, 20, 5];
        let reads = vec![vec![0], vec![0]];
        assert_eq!(peak_live_elements(&values, &reads, &[2, 1]), Some(35));
        assert_eq!(peak_live_elements(&values, &reads, &[2]), Some(30));
    }

    #[test]
    fn constants_round_trip_through_their_text() {
        let values = [0.0, 0.0, 0.0, -100.0, 1.5, 1.5, 84.0, 1e-7, -0.0, f32::MAX];
        let text = encode_values(&values);
        assert_eq!(
            text,
            "0*3 -100 1.5*2 84 0.0000001 -0 340282350000000000000000000000000000000"
        );
        let back = decode_values(&text, values.len()).unwrap();
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back), bits(&values));
        assert_eq!(encode_values(&[]), "");
        assert_eq!(decode_values("", 0).unwrap(), Vec::<f32>::new());
        // Too many, too few, malformed: errors, never a panic.
        assert!(decode_values("1*5", 4).is_err());
        assert!(decode_values("1 2", 3).is_err());
        assert!(decode_values("1*x", 1).is_err());
        assert!(decode_values("one", 1).is_err());
        assert!(decode_values("1*99999999999999999999", 1).is_err());
        let c = Constant::new("index", &[2, 2], true, "0 1*2 3");
        assert_eq!(c.values().unwrap(), [0.0, 1.0, 1.0, 3.0]);
        assert_eq!((c.len(), c.is_empty()), (Some(4), false));
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
