//! Emission: the generated struct, its consts and its `Network` impl.
//!
//! Everything is named by absolute path through `::netspec::__private`, so the
//! generated code works whatever the caller imported.

use crate::ast::NetworkDef;
use crate::count::layer_counts;
use crate::eval::Instance;
use netspec_model::report::render_text;
use netspec_model::{Counts, Graph, LayerInfo, Node, Op, Scope, Totals};
use proc_macro2::{Literal, TokenStream};
use quote::quote;

fn dims(shape: &[usize]) -> TokenStream {
    let d = shape.iter().map(|x| Literal::usize_unsuffixed(*x));
    quote!(&[#(#d),*])
}

fn pair(v: [usize; 2]) -> TokenStream {
    let [a, b] = v.map(Literal::usize_unsuffixed);
    quote!([#a, #b])
}

fn float(v: f64) -> TokenStream {
    let lit = Literal::f64_suffixed(if v.is_finite() { v } else { 0.0 });
    quote!(#lit)
}

fn op_tokens(op: &Op) -> TokenStream {
    let p = quote!(::netspec::__private);
    match op {
        Op::Conv2d(c) => {
            let (i, o, g) = (c.in_channels, c.out_channels, c.groups);
            let (k, s, d) = (pair(c.kernel), pair(c.stride), pair(c.dilation));
            let (ph, pw) = (pair(c.padding[0]), pair(c.padding[1]));
            let bias = c.bias;
            quote!(#p::Op::Conv2d(#p::Conv2d {
                in_channels: #i, out_channels: #o, kernel: #k, stride: #s,
                padding: [#ph, #pw], dilation: #d, groups: #g, bias: #bias,
            }))
        }
        Op::Linear(l) => {
            let (i, o, b) = (l.in_features, l.out_features, l.bias);
            quote!(#p::Op::Linear(#p::Linear { in_features: #i, out_features: #o, bias: #b }))
        }
        Op::BatchNorm2d(b) => {
            let (c, eps) = (b.channels, float(b.eps));
            quote!(#p::Op::BatchNorm2d(#p::BatchNorm2d { channels: #c, eps: #eps }))
        }
        Op::Activation(a) => {
            let a = match a {
                netspec_model::Activation::ReLU => quote!(ReLU),
                netspec_model::Activation::ReLU6 => quote!(ReLU6),
                netspec_model::Activation::LeakyReLU { slope } => {
                    let s = float(*slope);
                    quote!(LeakyReLU { slope: #s })
                }
                netspec_model::Activation::Sigmoid => quote!(Sigmoid),
                netspec_model::Activation::Tanh => quote!(Tanh),
                netspec_model::Activation::SiLU => quote!(SiLU),
                netspec_model::Activation::HardSigmoid => quote!(HardSigmoid),
                netspec_model::Activation::HardSwish => quote!(HardSwish),
                netspec_model::Activation::GELU { tanh } => quote!(GELU { tanh: #tanh }),
            };
            quote!(#p::Op::Activation(#p::Activation::#a))
        }
        Op::MaxPool2d(q) | Op::AvgPool2d(q) => {
            let variant = if matches!(op, Op::MaxPool2d(_)) {
                quote!(MaxPool2d)
            } else {
                quote!(AvgPool2d)
            };
            let (k, s, pd, d) = (
                pair(q.kernel),
                pair(q.stride),
                pair(q.padding),
                pair(q.dilation),
            );
            let (c, inc) = (q.ceil_mode, q.count_include_pad);
            quote!(#p::Op::#variant(#p::Pool2d {
                kernel: #k, stride: #s, padding: #pd, dilation: #d, ceil_mode: #c, count_include_pad: #inc,
            }))
        }
        Op::AdaptiveAvgPool2d { output } => {
            let o = pair(*output);
            quote!(#p::Op::AdaptiveAvgPool2d { output: #o })
        }
        Op::Flatten => quote!(#p::Op::Flatten),
        Op::Dropout { p: prob } => {
            let v = float(*prob);
            quote!(#p::Op::Dropout { p: #v })
        }
        Op::Identity => quote!(#p::Op::Identity),
        Op::StochasticDepth { p: prob } => {
            let v = float(*prob);
            quote!(#p::Op::StochasticDepth { p: #v })
        }
        Op::Mean { keepdim } => quote!(#p::Op::Mean { keepdim: #keepdim }),
        Op::Softmax => quote!(#p::Op::Softmax),
        Op::Add => quote!(#p::Op::Add),
        Op::Mul => quote!(#p::Op::Mul),
        Op::Concat => quote!(#p::Op::Concat),
        Op::Slice { start, len } => quote!(#p::Op::Slice { start: #start, len: #len }),
        Op::ChannelShuffle { groups } => quote!(#p::Op::ChannelShuffle { groups: #groups }),
    }
}

fn counts_tokens(c: &Counts) -> TokenStream {
    let Counts {
        torchvision,
        fvcore,
        thop,
        ptflops,
        flops,
    } = *c;
    quote!(::netspec::__private::Counts {
        torchvision: #torchvision, fvcore: #fvcore, thop: #thop, ptflops: #ptflops, flops: #flops,
    })
}

fn totals_tokens(t: &Totals) -> TokenStream {
    let Totals {
        params,
        buffers,
        macs,
        flops,
        memory_access_bytes,
        activations,
        weight_bytes,
        buffer_bytes,
        peak_activation_bytes,
        counts,
    } = *t;
    let counts = counts_tokens(&counts);
    quote!(::netspec::__private::Totals {
        params: #params, buffers: #buffers, macs: #macs, flops: #flops,
        memory_access_bytes: #memory_access_bytes, activations: #activations,
        weight_bytes: #weight_bytes, buffer_bytes: #buffer_bytes,
        peak_activation_bytes: #peak_activation_bytes, counts: #counts,
    })
}

/// What a successfully compiled network carries.
pub struct Compiled<'a> {
    /// The definition.
    pub def: &'a NetworkDef,
    /// The instantiated graph.
    pub instance: Instance,
    /// Totals.
    pub totals: Totals,
}

impl Compiled<'_> {
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
            .map(|(n, ins)| LayerInfo {
                name: &n.name,
                kind: n.op.kind(),
                module: n.module,
                inputs: ins,
                output: &n.output,
                params: n.costs.params,
                buffers: n.costs.buffers,
                macs: n.costs.macs,
                flops: n.costs.flops,
                memory_access_bytes: n.costs.memory_access_bytes,
                activations: n.costs.activations,
                counts: layer_counts(n).unwrap_or_default(),
            })
            .collect();
        let scopes: Vec<Scope<'_>> = self
            .instance
            .scopes
            .iter()
            .map(|(path, kind)| Scope { path, kind })
            .collect();
        let nodes: Vec<Node<'_>> = self
            .instance
            .nodes
            .iter()
            .map(|n| Node {
                op: n.op,
                inputs: &n.inputs,
            })
            .collect();
        render_text(&Graph {
            name: &name,
            input: &self.instance.input,
            nodes: &nodes,
            layers: &layers,
            output: self.instance.output,
            scopes: &scopes,
            totals: self.totals,
        })
    }

    /// The output shape.
    pub fn output_shape(&self) -> &[usize] {
        match self
            .instance
            .output
            .checked_sub(1)
            .and_then(|i| self.instance.nodes.get(i))
        {
            Some(n) => &n.output,
            None => &self.instance.input,
        }
    }
}

struct Parts {
    input: TokenStream,
    output: TokenStream,
    totals: Totals,
    layers: Vec<TokenStream>,
    nodes: Vec<TokenStream>,
    scopes: Vec<TokenStream>,
    out_id: usize,
    report: String,
}

/// The generated code of a network that compiled.
pub fn network(c: &Compiled<'_>) -> TokenStream {
    let p = quote!(::netspec::__private);
    let layers = c
        .instance
        .nodes
        .iter()
        .map(|n| {
            let name = &n.name;
            let kind = n.op.kind();
            let module = n.module;
            let ins = n.input_shapes.iter().map(|s| dims(s));
            let out = dims(&n.output);
            let k = n.costs;
            // `count::totals` already checked that no count overflows.
            let counts = counts_tokens(&layer_counts(n).unwrap_or_default());
            let (params, buffers, macs, flops, mem, act) = (
                k.params,
                k.buffers,
                k.macs,
                k.flops,
                k.memory_access_bytes,
                k.activations,
            );
            quote!(#p::LayerInfo {
                name: #name, kind: #kind, module: #module, inputs: &[#(#ins),*], output: #out,
                params: #params, buffers: #buffers, macs: #macs, flops: #flops,
                memory_access_bytes: #mem, activations: #act, counts: #counts,
            })
        })
        .collect();
    let nodes = c
        .instance
        .nodes
        .iter()
        .map(|n| {
            let op = op_tokens(&n.op);
            let ins = n.inputs.iter().map(|i| Literal::usize_unsuffixed(*i));
            quote!(#p::Node { op: #op, inputs: &[#(#ins),*] })
        })
        .collect();
    let scopes = c
        .instance
        .scopes
        .iter()
        .map(|(path, kind)| quote!(#p::Scope { path: #path, kind: #kind }))
        .collect();
    emit(
        c.def,
        Parts {
            input: dims(&c.instance.input),
            output: dims(c.output_shape()),
            totals: c.totals,
            layers,
            nodes,
            scopes,
            out_id: c.instance.output,
            report: c.report(),
        },
    )
}

/// A stand-in for a network that failed to compile: the same items with zero
/// values, so that one mistake does not cascade into "cannot find" errors.
pub fn stub(def: &NetworkDef) -> TokenStream {
    emit(
        def,
        Parts {
            input: quote!(&[]),
            output: quote!(&[]),
            totals: Totals::default(),
            layers: Vec::new(),
            nodes: Vec::new(),
            scopes: Vec::new(),
            out_id: 0,
            report: String::new(),
        },
    )
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
        totals,
        layers,
        nodes,
        scopes,
        out_id,
        report,
    } = parts;
    let t = totals;
    let (params, buffers, macs, flops, mem, act, wb, bb, peak) = (
        t.params,
        t.buffers,
        t.macs,
        t.flops,
        t.memory_access_bytes,
        t.activations,
        t.weight_bytes,
        t.buffer_bytes,
        t.peak_activation_bytes,
    );
    let counts = counts_tokens(&totals.counts);
    let totals = totals_tokens(&totals);
    let out_id = Literal::usize_unsuffixed(out_id);
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
            /// Output shape per sample.
            pub const OUTPUT_SHAPE: &'static [usize] = #output;
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
            pub const LAYERS: &'static [#p::LayerInfo<'static>] = &[#(#layers),*];
            /// The graph: operations, wiring, records, scopes and totals.
            pub const GRAPH: &'static #p::Graph<'static> = &#p::Graph {
                name: #name_str,
                input: #input,
                nodes: &[#(#nodes),*],
                layers: Self::LAYERS,
                output: #out_id,
                scopes: &[#(#scopes),*],
                totals: #totals,
            };
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

            /// Runs the network on a batch `[N, INPUT_SHAPE...]`.
            pub fn forward(&self, x: &#p::Tensor) -> ::core::result::Result<#p::Tensor, #p::Error> {
                self.__model.forward(x)
            }

            /// Runs the network, calling `observer` after each layer.
            pub fn forward_observed(
                &self,
                x: &#p::Tensor,
                observer: &mut dyn ::core::ops::FnMut(#p::LayerEvent<'_>),
            ) -> ::core::result::Result<#p::Tensor, #p::Error> {
                self.__model.forward_observed(x, observer)
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
            const PARAMS: u64 = #name::PARAMS;
            const BUFFERS: u64 = #name::BUFFERS;
            const MACS: u64 = #name::MACS;
            const FLOPS: u64 = #name::FLOPS;
            const MEMORY_ACCESS_BYTES: u64 = #name::MEMORY_ACCESS_BYTES;
            const ACTIVATIONS: u64 = #name::ACTIVATIONS;
            const WEIGHT_BYTES: u64 = #name::WEIGHT_BYTES;
            const PEAK_ACTIVATION_BYTES: u64 = #name::PEAK_ACTIVATION_BYTES;
            const LAYERS: &'static [#p::LayerInfo<'static>] = #name::LAYERS;
            const GRAPH: &'static #p::Graph<'static> = #name::GRAPH;
            const REPORT: &'static str = #name::REPORT;

            fn model(&self) -> &#p::Model {
                &self.__model
            }
        }
    }
}
