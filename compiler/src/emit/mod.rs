//! Emission: the generated struct, its consts and its `Network` impl.
//!
//! Everything is named by absolute path through `::netspec::__private`, so the
//! generated code works whatever the caller imported.

use crate::ast::NetworkDef;
use crate::count::{Counted, LayerCounts};
use crate::eval::Instance;
use netspec_model::report::render_text;
use netspec_model::{Costs, Counts, Graph, LayerInfo, Node, Scope, Totals, Training};
use proc_macro2::{Literal, TokenStream};
use quote::quote;

mod ops;
use ops::op_src;

fn dims(shape: &[usize]) -> TokenStream {
    let d = shape.iter().map(|x| Literal::usize_unsuffixed(*x));
    quote!(&[#(#d),*])
}

/// The per-layer data (records and graph nodes) is written as Rust source
/// text and parsed once: hundreds of layers of `quote!` cost milliseconds,
/// one parse of the same text a fraction of that (see the `expand` bench).
/// The blocks holding the data start with `use ::netspec::__private as p;`;
/// the records' block imports `p::LayerInfo as L` and the nodes' block
/// `p::Node as N` and `p::Op as O`. Each record is one `L::packed(...)`
/// ([`packed`]): with the training costs per layer, the records written
/// field by field made ResNet-50's expansion 11 % slower.
const P: &str = "p";
/// The alias of `p::Op` in the block of graph nodes.
const O: &str = "O";

fn dims_src(shape: &[usize]) -> String {
    format!("&{}", ops::list_src(shape))
}

/// The constants table: one `p::Constant::new(name, shape, integer, data)`
/// per entry, its values as one string literal ([`encode_values`]).
///
/// [`encode_values`]: netspec_model::info::encode_values
fn constants_src(constants: &[crate::eval::constants::ConstRec]) -> TokenStream {
    let items = constants.iter().map(|c| {
        let name = &c.name;
        let shape = dims(&c.shape);
        let integer = c.integer;
        let values: Vec<f32> = c.data.iter().map(|&v| v as f32).collect();
        let text = Literal::string(&netspec_model::info::encode_values(&values));
        quote!(::netspec::__private::Constant::new(#name, #shape, #integer, #text))
    });
    quote!(&[#(#items),*])
}

/// Parses generated source; a failure (a bug, never the user's input) becomes
/// a compile error rather than a panic.
fn parse_src(src: &str) -> TokenStream {
    src.parse().unwrap_or_else(|e| {
        let message = format!("netspec internal error: generated code does not parse: {e}");
        quote!(::core::compile_error!(#message))
    })
}

/// `Costs::new(...)`, in field order.
fn costs_src(c: &Costs) -> String {
    let Costs {
        params,
        buffers,
        macs,
        flops,
        memory_access_bytes,
        activations,
    } = c;
    format!("C::new({params}, {buffers}, {macs}, {flops}, {memory_access_bytes}, {activations})")
}

/// `Counts::new(...)`, in [`netspec_model::Convention::ALL`] order.
fn counts_src(c: &Counts) -> String {
    let Counts {
        torchvision,
        fvcore,
        thop,
        ptflops,
        flops,
    } = c;
    format!("K::new({torchvision}, {fvcore}, {thop}, {ptflops}, {flops})")
}

/// `Training::new(...)`, in field order.
fn training_src(t: &Training) -> String {
    let Training {
        grad_input_macs,
        grad_weight_macs,
        grad_input_flops,
        grad_weight_flops,
        torch_backward_macs,
        saved_floats,
        saved_indices,
        saved_stats,
    } = t;
    format!(
        "T::new({grad_input_macs}, {grad_weight_macs}, {grad_input_flops}, {grad_weight_flops}, \
         {torch_backward_macs}, {saved_floats}, {saved_indices}, {saved_stats})"
    )
}

/// The totals as an expression (inside a block that imports `p`, `C`, `K` and `T`).
fn totals_src(t: &Totals) -> String {
    format!(
        "{P}::Totals {{ costs: {}, weight_bytes: {}, buffer_bytes: {}, peak_activation_bytes: {}, counts: {}, training: {} }}",
        costs_src(&t.costs),
        t.weight_bytes,
        t.buffer_bytes,
        t.peak_activation_bytes,
        counts_src(&t.counts),
        training_src(&t.training)
    )
}

/// `use` lines of the blocks holding emitted data.
const IMPORTS: &str = "#[allow(unused_imports)] use ::netspec::__private as p; \
    #[allow(unused_imports)] use p::LayerInfo as L; #[allow(unused_imports)] use p::Costs as C; \
    #[allow(unused_imports)] use p::Counts as K; #[allow(unused_imports)] use p::Training as T;";

/// What a successfully compiled network carries.
pub struct Compiled<'a> {
    /// The definition.
    pub def: &'a NetworkDef,
    /// The instantiated graph.
    pub instance: Instance,
    /// Every layer's counts and the totals.
    pub counted: Counted,
}

impl Compiled<'_> {
    /// The totals.
    pub fn totals(&self) -> &Totals {
        &self.counted.totals
    }

    /// Renders the text report (what `REPORT` holds).
    pub fn report(&self) -> String {
        let name = self.def.name.to_string();
        let inputs: Vec<Vec<&[usize]>> = self
            .instance
            .nodes
            .iter()
            .map(|n| n.input_shapes.iter().map(Vec::as_slice).collect())
            .collect();
        let layers: Vec<LayerInfo<'_>> = self
            .instance
            .nodes
            .iter()
            .zip(&inputs)
            .zip(&self.counted.layers)
            .map(|((n, ins), c)| {
                LayerInfo::new(
                    &n.name,
                    n.op.kind(),
                    n.module,
                    ins,
                    &n.output,
                    c.costs,
                    c.counts,
                    c.training,
                )
            })
            .collect();
        let scopes: Vec<Scope<'_>> = self
            .instance
            .scopes
            .iter()
            .map(|s| Scope::applied(&s.path, &s.kind, s.start, s.application))
            .collect();
        let nodes: Vec<Node<'_>> = self
            .instance
            .nodes
            .iter()
            .map(|n| Node {
                op: n.op,
                inputs: &n.inputs,
                shares: n.shares,
            })
            .collect();
        render_text(&Graph {
            name: &name,
            input: &self.instance.input,
            nodes: &nodes,
            layers: &layers,
            output: self.instance.output,
            outputs: &self.instance.outputs,
            scopes: &scopes,
            constants: &[],
            totals: self.counted.totals,
        })
    }

    /// The output shape (the first output's, for a network returning a
    /// tuple).
    pub fn output_shape(&self) -> &[usize] {
        self.value_shape(self.instance.output)
    }

    /// The shape of every output, in order.
    pub fn output_shapes(&self) -> Vec<&[usize]> {
        self.instance
            .outputs
            .iter()
            .map(|&v| self.value_shape(v))
            .collect()
    }

    /// The per-sample shape of value `v` (0 the input).
    fn value_shape(&self, v: usize) -> &[usize] {
        match v.checked_sub(1).and_then(|i| self.instance.nodes.get(i)) {
            Some(n) => &n.output,
            None => &self.instance.input,
        }
    }
}

struct Parts {
    input: TokenStream,
    output: TokenStream,
    /// `&[&[..], ...]`: every output's shape.
    output_shapes: TokenStream,
    /// `&[..]`: every output's value id.
    outputs: TokenStream,
    /// For a network returning a tuple: how many tensors.
    tuple: Option<usize>,
    totals: Totals,
    layers: TokenStream,
    nodes: TokenStream,
    scopes: TokenStream,
    constants: TokenStream,
    out_id: usize,
    report: String,
}

/// Packs a layer's 19 numbers (costs, counts, training, in field order) for
/// `LayerInfo::packed`: one base-36 digit per number (`0` for zero, `k` for
/// the `k`-th distinct nonzero value), a space between the three groups, and
/// the distinct values.
fn packed(k: &LayerCounts) -> (String, Vec<u64>) {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let (c, n, t) = (&k.costs, &k.counts, &k.training);
    let all = [
        c.params,
        c.buffers,
        c.macs,
        c.flops,
        c.memory_access_bytes,
        c.activations,
        n.torchvision,
        n.fvcore,
        n.thop,
        n.ptflops,
        n.flops,
        t.grad_input_macs,
        t.grad_weight_macs,
        t.grad_input_flops,
        t.grad_weight_flops,
        t.torch_backward_macs,
        t.saved_floats,
        t.saved_indices,
        t.saved_stats,
    ];
    let mut values: Vec<u64> = Vec::new();
    let mut slots = String::with_capacity(21);
    for (i, v) in all.into_iter().enumerate() {
        if i == 6 || i == 11 {
            slots.push(' ');
        }
        let k = if v == 0 {
            0
        } else if let Some(k) = values.iter().position(|x| *x == v) {
            k + 1
        } else {
            values.push(v);
            values.len()
        };
        // 19 numbers give at most 19 distinct values, below 36.
        slots.push(char::from(DIGITS.get(k).copied().unwrap_or(b'0')));
    }
    (slots, values)
}

/// The id of `key` in `seen`, adding it if new.
fn intern<K: PartialEq + Clone>(seen: &mut Vec<K>, key: &K) -> usize {
    match seen.iter().position(|x| x == key) {
        Some(i) => i,
        None => {
            seen.push(key.clone());
            seen.len() - 1
        }
    }
}

/// The generated code of a network that compiled.
///
/// `LAYERS` is a block that names each distinct shape once (`const S3:
/// &[usize] = ...;`) and each distinct list of input shapes once (`const I2:
/// &[&[usize]] = &[S3];`), then one `L::packed(...)` per layer.
pub fn network(c: &Compiled<'_>) -> TokenStream {
    use std::fmt::Write;
    let mut records = String::new();
    let mut nodes = String::new();
    let mut shapes: Vec<&[usize]> = Vec::new();
    let mut lists: Vec<Vec<usize>> = Vec::new();
    // Writing to a String cannot fail.
    for (n, k) in c.instance.nodes.iter().zip(&c.counted.layers) {
        let ins: Vec<usize> = n
            .input_shapes
            .iter()
            .map(|s| intern(&mut shapes, &s.as_slice()))
            .collect();
        let list = intern(&mut lists, &ins);
        let out = intern(&mut shapes, &n.output.as_slice());
        let (slots, values) = packed(k);
        let values: Vec<String> = values.iter().map(u64::to_string).collect();
        let _ = write!(
            records,
            "L::packed({:?}, {:?}, {}, I{list}, S{out}, {slots:?}, &[{}]),",
            n.name,
            n.op.kind(),
            n.module,
            values.join(", "),
        );
        let inputs: Vec<String> = n.inputs.iter().map(usize::to_string).collect();
        let _ = match n.shares {
            // A later application of a shared module: the owner's tensors.
            Some(owner) => write!(
                nodes,
                "N::shared({}, &[{}], {owner}),",
                op_src(&n.op),
                inputs.join(", ")
            ),
            None => write!(
                nodes,
                "N::new({}, &[{}]),",
                op_src(&n.op),
                inputs.join(", ")
            ),
        };
    }
    let mut layers = String::from("#[allow(unused_imports)] use p::LayerInfo as L;");
    for (i, s) in shapes.iter().enumerate() {
        let _ = write!(layers, "const S{i}: &[usize] = {};", dims_src(s));
    }
    for (i, l) in lists.iter().enumerate() {
        let l: Vec<String> = l.iter().map(|s| format!("S{s}")).collect();
        let _ = write!(layers, "const I{i}: &[&[usize]] = &[{}];", l.join(", "));
    }
    let _ = write!(layers, "&[{records}]");
    let mut scopes = String::new();
    for s in &c.instance.scopes {
        let (path, kind, start) = (&s.path, &s.kind, s.start);
        let _ = match s.application {
            0 => write!(scopes, "{P}::Scope::new({path:?}, {kind:?}, {start}),"),
            k => write!(
                scopes,
                "{P}::Scope::applied({path:?}, {kind:?}, {start}, {k}),"
            ),
        };
    }
    let shapes: Vec<TokenStream> = c.output_shapes().into_iter().map(dims).collect();
    let ids = c
        .instance
        .outputs
        .iter()
        .map(|v| Literal::usize_unsuffixed(*v));
    emit(
        c.def,
        Parts {
            input: dims(&c.instance.input),
            output: dims(c.output_shape()),
            output_shapes: quote!(&[#(#shapes),*]),
            outputs: quote!(&[#(#ids),*]),
            tuple: c.instance.tuple.then_some(c.instance.outputs.len()),
            totals: c.counted.totals,
            layers: parse_src(&layers),
            nodes: parse_src(&nodes),
            scopes: parse_src(&scopes),
            constants: constants_src(&c.instance.constants),
            out_id: c.instance.output,
            report: c.report(),
        },
    )
}

/// A stand-in for a network that failed to compile: the same items with zero
/// values, so that one mistake does not cascade into "cannot find" errors.
pub fn stub(def: &NetworkDef) -> TokenStream {
    // The tuple the body writes out, if it does: `forward` keeps its type.
    let tuple = def.body.as_ref().and_then(|b| match &b.result.kind {
        crate::ast::ExprKind::Tuple(items) => Some(items.len()),
        _ => None,
    });
    emit(
        def,
        Parts {
            input: quote!(&[]),
            output: quote!(&[]),
            output_shapes: quote!(&[]),
            outputs: quote!(&[]),
            tuple,
            totals: Totals::default(),
            layers: quote!(&[]),
            nodes: TokenStream::new(),
            scopes: TokenStream::new(),
            constants: quote!(&[]),
            out_id: 0,
            report: String::new(),
        },
    )
}

/// What `forward` returns and the bodies of `forward` and
/// `forward_observed`: a `Tensor`, or for a network returning a tuple of
/// `n`, `(Tensor, ...)` taken from the model's outputs by
/// `__private::outputs`, an error if their count is not `n`.
fn forward_src(tuple: Option<usize>) -> (TokenStream, TokenStream, TokenStream) {
    let p = quote!(::netspec::__private);
    match tuple {
        None => (
            quote!(#p::Tensor),
            quote!(self.__model.forward(x)),
            quote!(self.__model.forward_observed(x, observer)),
        ),
        Some(n) => {
            let names: Vec<proc_macro2::Ident> = (0..n)
                .map(|i| proc_macro2::Ident::new(&format!("o{i}"), proc_macro2::Span::call_site()))
                .collect();
            let types = (0..n).map(|_| quote!(#p::Tensor));
            let count = Literal::usize_unsuffixed(n);
            let take = |call: TokenStream| {
                quote! {
                    let [#(#names),*] = #p::outputs::<#count>(self.__model.graph().name, #call?)?;
                    ::core::result::Result::Ok((#(#names,)*))
                }
            };
            (
                quote!((#(#types,)*)),
                take(quote!(self.__model.forward_outputs(x))),
                take(quote!(self.__model.forward_outputs_observed(x, observer))),
            )
        }
    }
}

fn emit(def: &NetworkDef, parts: Parts) -> TokenStream {
    let p = quote!(::netspec::__private);
    let NetworkDef {
        attrs, vis, name, ..
    } = def;
    let name_str = name.to_string();
    let Parts {
        input,
        output,
        output_shapes,
        outputs,
        tuple,
        totals,
        layers,
        nodes,
        scopes,
        constants,
        out_id,
        report,
    } = parts;
    let t = totals;
    let (params, buffers, macs, flops, mem, act, wb, bb, peak) = (
        t.costs.params,
        t.costs.buffers,
        t.costs.macs,
        t.costs.flops,
        t.costs.memory_access_bytes,
        t.costs.activations,
        t.weight_bytes,
        t.buffer_bytes,
        t.peak_activation_bytes,
    );
    let counts = parse_src(&format!(
        "{{ #[allow(unused_imports)] use ::netspec::__private::Counts as K; {} }}",
        counts_src(&t.counts)
    ));
    let totals = parse_src(&format!("{{ {IMPORTS} {} }}", totals_src(&t)));
    let (backward_macs, backward_flops, train_macs, train_flops) = (
        t.backward_macs(),
        t.training.backward_flops(),
        t.train_macs(),
        t.train_flops(),
    );
    let out_id = Literal::usize_unsuffixed(out_id);
    let (forward_type, forward_body, observed_body) = forward_src(tuple);
    quote! {
        #(#attrs)*
        #vis struct #name {
            __model: #p::Model,
        }

        #[allow(dead_code)]
        impl #name {
            /// Type name.
            pub const NAME: &'static str = #name_str;
            /// Input shape per sample.
            pub const INPUT_SHAPE: &'static [usize] = #input;
            /// Output shape per sample (the first output's, for a network
            /// returning a tuple).
            pub const OUTPUT_SHAPE: &'static [usize] = #output;
            /// Every output's shape per sample, in order (one for a network
            /// returning a tensor).
            pub const OUTPUT_SHAPES: &'static [&'static [usize]] = #output_shapes;
            /// Learnable parameters (batch-norm running statistics excluded).
            pub const PARAMS: u64 = #params;
            /// Buffer elements (batch-norm running statistics).
            pub const BUFFERS: u64 = #buffers;
            /// Conv and linear multiply-accumulates per sample, bias excluded.
            pub const MACS: u64 = #macs;
            /// Floating-point operations per sample.
            pub const FLOPS: u64 = #flops;
            /// Bytes of inputs, outputs and parameters of every layer, per sample, as f32.
            pub const MEMORY_ACCESS_BYTES: u64 = #mem;
            /// Elements of all layer outputs per sample.
            pub const ACTIVATIONS: u64 = #act;
            /// Parameter bytes as f32.
            pub const WEIGHT_BYTES: u64 = #wb;
            /// Buffer bytes as f32.
            pub const BUFFER_BYTES: u64 = #bb;
            /// Most f32 activation bytes alive at once per sample.
            pub const PEAK_ACTIVATION_BYTES: u64 = #peak;
            /// One record per layer, in execution order.
            pub const LAYERS: &'static [#p::LayerInfo<'static>] = {
                #[allow(unused_imports)] use ::netspec::__private as p;
                #layers
            };
            /// The graph: operations, wiring, records, scopes and totals.
            pub const GRAPH: &'static #p::Graph<'static> = &#p::Graph {
                name: #name_str,
                input: #input,
                nodes: {
                    #[allow(unused_imports)] use ::netspec::__private as p;
                    #[allow(unused_imports)] use p::{Node as N, Op as O};
                    &[#nodes]
                },
                layers: Self::LAYERS,
                output: #out_id,
                outputs: #outputs,
                scopes: { #[allow(unused_imports)] use ::netspec::__private as p; &[#scopes] },
                constants: #constants,
                totals: #totals,
            };
            /// Backward MACs of a training step per sample (grad-input +
            /// grad-weight; no grad-input for layers whose input needs none).
            pub const BACKWARD_MACS: u64 = #backward_macs;
            /// Backward FLOPs of a training step per sample.
            pub const BACKWARD_FLOPS: u64 = #backward_flops;
            /// MACs of a training step per sample: `MACS + BACKWARD_MACS`.
            pub const TRAIN_MACS: u64 = #train_macs;
            /// FLOPs of a training step per sample: `FLOPS + BACKWARD_FLOPS`.
            pub const TRAIN_FLOPS: u64 = #train_flops;
            /// The text report.
            pub const REPORT: &'static str = #report;
            /// The network's count under every counting convention
            /// (torchvision MACs, fvcore, thop, ptflops, netspec FLOPs).
            pub const COUNTS: #p::Counts = #counts;

            /// The network's count under `convention`, per sample: what
            /// torchvision, fvcore, thop or ptflops report for it, or netspec's
            /// FLOPs. Usable in `const` context.
            pub const fn count_as(convention: #p::Convention) -> u64 {
                Self::COUNTS.get(convention)
            }

            /// Backward MACs per sample as `convention` counts them
            /// (`Convention::TorchFlopCounter`: PyTorch's `FlopCounterMode`).
            pub const fn backward_macs_as(convention: #p::Convention) -> u64 {
                Self::GRAPH.totals.backward_macs_as(convention)
            }

            /// Bytes autograd keeps for the backward pass of a batch, in f32.
            pub const fn saved_bytes(batch: u64) -> u64 {
                Self::GRAPH.totals.saved_bytes(batch)
            }

            /// The memory of a training step in f32: weights, gradients,
            /// optimizer state and what autograd keeps for backward.
            pub const fn train_memory(batch: u64, optimizer: #p::Optimizer) -> u64 {
                Self::GRAPH.totals.train_memory(batch, optimizer, #p::Precision::F32)
            }

            /// [`Self::train_memory`] in a given precision (`Precision::Mixed`).
            pub const fn train_memory_in(
                batch: u64,
                optimizer: #p::Optimizer,
                precision: #p::Precision,
            ) -> u64 {
                Self::GRAPH.totals.train_memory(batch, optimizer, precision)
            }

            /// A network with PyTorch's default initialisation, deterministic in `seed`.
            pub fn random(seed: u64) -> Self {
                Self { __model: #p::Model::random(Self::GRAPH, seed) }
            }

            /// Loads weights from safetensors bytes (a PyTorch state dict, by dotted name).
            pub fn from_safetensors(bytes: &[u8]) -> ::core::result::Result<Self, #p::Error> {
                #p::Model::from_safetensors(Self::GRAPH, bytes).map(|m| Self { __model: m })
            }

            /// Loads weights from a safetensors file (a PyTorch state dict, by dotted name).
            pub fn load_safetensors(
                path: impl ::core::convert::AsRef<::std::path::Path>,
            ) -> ::core::result::Result<Self, #p::Error> {
                #p::Model::load_safetensors(Self::GRAPH, path).map(|m| Self { __model: m })
            }

            /// Writes the weights as safetensors.
            pub fn save_safetensors(
                &self,
                path: impl ::core::convert::AsRef<::std::path::Path>,
            ) -> ::core::result::Result<(), #p::Error> {
                self.__model.save_safetensors(path)
            }

            /// Runs the network on a batch `[N, INPUT_SHAPE...]`: its output
            /// (its outputs, as a tuple, for a network returning a tuple).
            pub fn forward(&self, x: &#p::Tensor) -> ::core::result::Result<#forward_type, #p::Error> {
                #forward_body
            }

            /// Runs the network, calling `observer` after each layer.
            pub fn forward_observed(
                &self,
                x: &#p::Tensor,
                observer: &mut dyn ::core::ops::FnMut(#p::LayerEvent<'_>),
            ) -> ::core::result::Result<#forward_type, #p::Error> {
                #observed_body
            }

            /// The runnable model: graph and weights.
            pub fn model(&self) -> &#p::Model {
                &self.__model
            }
        }

        impl ::core::fmt::Debug for #name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.debug_struct(#name_str).field("model", &self.__model).finish()
            }
        }

        impl ::core::clone::Clone for #name {
            fn clone(&self) -> Self {
                Self { __model: ::core::clone::Clone::clone(&self.__model) }
            }
        }

        impl #p::Network for #name {
            const NAME: &'static str = #name::NAME;
            const INPUT_SHAPE: &'static [usize] = #name::INPUT_SHAPE;
            const OUTPUT_SHAPE: &'static [usize] = #name::OUTPUT_SHAPE;
            const OUTPUT_SHAPES: &'static [&'static [usize]] = #name::OUTPUT_SHAPES;
            const PARAMS: u64 = #name::PARAMS;
            const BUFFERS: u64 = #name::BUFFERS;
            const MACS: u64 = #name::MACS;
            const FLOPS: u64 = #name::FLOPS;
            const MEMORY_ACCESS_BYTES: u64 = #name::MEMORY_ACCESS_BYTES;
            const ACTIVATIONS: u64 = #name::ACTIVATIONS;
            const WEIGHT_BYTES: u64 = #name::WEIGHT_BYTES;
            const PEAK_ACTIVATION_BYTES: u64 = #name::PEAK_ACTIVATION_BYTES;
            const BACKWARD_MACS: u64 = #name::BACKWARD_MACS;
            const TRAIN_MACS: u64 = #name::TRAIN_MACS;
            const TRAIN_FLOPS: u64 = #name::TRAIN_FLOPS;
            const LAYERS: &'static [#p::LayerInfo<'static>] = #name::LAYERS;
            const GRAPH: &'static #p::Graph<'static> = #name::GRAPH;
            const REPORT: &'static str = #name::REPORT;

            fn model(&self) -> &#p::Model {
                &self.__model
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_records_decode_to_the_same_numbers() {
        // A 3x3 convolution 8 -> 8 on 16x16 (hand count: 576 params, 147456
        // MACs), a batch norm with distinct values in every group, and a
        // layer whose 19 numbers are all distinct.
        let conv = LayerCounts {
            costs: Costs::new(576, 0, 147456, 294912, 18688, 2048),
            counts: Counts::new(147456, 147456, 147456, 147456, 294912),
            training: Training::new(0, 147456, 0, 294912, 147456, 2048, 0, 0),
        };
        let bn = LayerCounts {
            costs: Costs::new(16, 16, 0, 4096, 16448, 2048),
            counts: Counts::new(0, 4096, 8192, 4096, 4096),
            training: Training::new(0, 0, 8192, 10240, 0, 2048, 0, 32),
        };
        let all = LayerCounts {
            costs: Costs::new(1, 2, 3, 4, 5, 6),
            counts: Counts::new(7, 8, 9, 10, 11),
            training: Training::new(12, 13, 14, 15, 16, 17, 18, u64::MAX),
        };
        let (slots, values) = packed(&conv);
        assert_eq!(slots, "102345 22223 02032500");
        assert_eq!(values, [576, 147456, 294912, 18688, 2048]);
        for k in [conv, bn, all, LayerCounts::default()] {
            let (slots, values) = packed(&k);
            let r = LayerInfo::packed("x", "Conv2d", true, &[], &[], &slots, &values);
            assert_eq!(
                (r.costs, r.counts, r.training),
                (k.costs, k.counts, k.training)
            );
        }
    }
}
