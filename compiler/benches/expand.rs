//! How long `network!` takes to expand the zoo, outside the compiler, and how
//! the generated code grows with the number of layers.
//!
//! `cargo bench -p netspec-compiler --bench expand`

use criterion::{criterion_group, criterion_main, Criterion};
use proc_macro2::{TokenStream, TokenTree};
use std::hint::black_box;

#[path = "../tests/common/zoo.rs"]
mod zoo;
use zoo::{items, SOURCES};

fn networks() -> Vec<(String, TokenStream)> {
    let mut out = Vec::new();
    for src in SOURCES {
        let file = syn::parse_file(src).expect("zoo sources parse");
        for item in file.items {
            let syn::Item::Macro(m) = item else { continue };
            let items = items(m.mac.tokens);
            let is_block = |t: &TokenStream| {
                t.clone()
                    .into_iter()
                    .any(|tt| matches!(&tt, TokenTree::Ident(i) if i == "block"))
            };
            let blocks: TokenStream = items.iter().filter(|t| is_block(t)).cloned().collect();
            for net in items.iter().filter(|t| !is_block(t)) {
                let name = net
                    .clone()
                    .into_iter()
                    .skip_while(|tt| !matches!(tt, TokenTree::Ident(i) if i == "struct"))
                    .nth(1)
                    .map(|tt| tt.to_string())
                    .unwrap_or_default();
                let mut tokens = blocks.clone();
                tokens.extend(net.clone());
                out.push((name, tokens));
            }
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    println!("\ngenerated code per network (prettyplease lines):");
    for (name, tokens) in networks() {
        let expanded = netspec_compiler::expand(tokens.clone());
        let file: syn::File = syn::parse2(expanded).expect("expansion parses");
        let lines = prettyplease::unparse(&file).lines().count();
        let ast: netspec_compiler::ast::Input = syn::parse2(tokens.clone()).expect("input parses");
        let mut errors = netspec_compiler::value::Errors::default();
        let layers: usize = netspec_compiler::analyze(&ast, &mut errors)
            .iter()
            .map(|r| r.as_ref().map_or(0, |c| c.instance.nodes.len()))
            .sum();
        println!(
            "  {name:<14} {layers:>4} layers {lines:>6} lines  {:.1} lines per layer",
            lines as f64 / layers.max(1) as f64
        );
    }
    for (name, tokens) in networks() {
        c.bench_function(&format!("expand {name}"), |b| {
            b.iter(|| netspec_compiler::expand(black_box(tokens.clone())))
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
