//! The stages of netspec's `network!` macro, as a plain library so that they
//! can be unit-tested, property-tested and benchmarked outside a compiler:
//!
//! parse ([`parse`] into the types of [`ast`]) -> instantiate and infer
//! shapes ([`eval`], with the layer catalogue in [`layers`] and the one
//! argument binder of layers and blocks in [`bind`]) -> count ([`count`]) -> parse and check budgets ([`budget`]) -> emit
//! ([`emit`]). Values live in [`value`], spans in [`span`], the error
//! collector in [`errors`], "did you mean" in [`suggest`].
//!
//! Nothing here panics on user input, and time, memory and stack stay
//! bounded on any input (see [`parse::MAX_NESTING`] and [`eval::limits`]):
//! every failure is a spanned [`syn::Error`], and all errors of one
//! invocation are reported together. A syntax error inside one body still
//! leaves that network's struct and consts, as a stub.
#![warn(missing_docs)]

pub mod ast;
pub mod bind;
pub mod budget;
pub mod count;
pub mod emit;
pub mod errors;
pub mod eval;
pub mod layers;
pub mod parse;
pub mod span;
pub mod suggest;
pub mod value;

use ast::{BlockDef, Input, Item};
use proc_macro2::TokenStream;
use std::collections::HashMap;
use value::Errors;

/// The macro's whole job: tokens in, generated code (and any compile errors) out.
pub fn expand(input: TokenStream) -> TokenStream {
    match syn::parse2::<Input>(input) {
        Ok(ast) => {
            let (code, errors) = compile(&ast);
            let errors = errors.map(|e| e.into_compile_error());
            quote::quote!(#code #errors)
        }
        Err(e) => e.into_compile_error(),
    }
}

/// Compiles every network of `ast`: the generated code (a stub for each
/// network that failed) and the combined errors, if any: the syntax errors
/// inside bodies first.
pub fn compile(ast: &Input) -> (TokenStream, Option<syn::Error>) {
    let mut errors = Errors::default();
    for e in &ast.errors {
        errors.push_error(e.clone());
    }
    let mut code = TokenStream::new();
    for network in analyze(ast, &mut errors) {
        match network {
            Ok(c) => code.extend(emit::network(&c)),
            Err(def) => code.extend(emit::stub(def)),
        }
    }
    (code, errors.combined())
}

/// Instantiates, counts and checks every network of `ast`. Each entry is the
/// compiled network, or its definition when it failed (errors go to `errors`).
pub fn analyze<'a>(
    ast: &'a Input,
    errors: &mut Errors,
) -> Vec<Result<emit::Compiled<'a>, &'a ast::NetworkDef>> {
    let mut blocks: HashMap<String, &BlockDef> = HashMap::new();
    let mut type_names: HashMap<String, ()> = HashMap::new();
    for item in &ast.items {
        match item {
            Item::Block(b) => {
                let name = b.name.to_string();
                if layers::is_layer(&name) {
                    errors.push(
                        b.name.span(),
                        format!("block `{name}` has the name of a built-in layer"),
                    );
                } else if let std::collections::hash_map::Entry::Vacant(slot) = blocks.entry(name) {
                    slot.insert(b);
                } else {
                    errors.push(
                        b.name.span(),
                        format!("block `{}` is defined twice", b.name),
                    );
                }
                check_block_params(b, errors);
            }
            Item::Network(n) => {
                if type_names.insert(n.name.to_string(), ()).is_some() {
                    errors.push(
                        n.name.span(),
                        format!("network `{}` is defined twice", n.name),
                    );
                }
            }
        }
    }
    let mut out = Vec::new();
    for item in &ast.items {
        let Item::Network(def) = item else { continue };
        let before = errors.len();
        let instance = eval::instantiate(def, &blocks, errors);
        let counted = instance.as_ref().and_then(|instance| {
            let counted = count::count(instance);
            if counted.is_none() {
                errors.push(
                    def.name.span(),
                    format!("a total of `{}` overflows u64", def.name),
                );
            }
            counted
        });
        let budget = budget::parse(&def.budgets, errors);
        if let Some(counted) = &counted {
            budget::check(&budget, counted, errors);
        }
        let compiled = instance
            .zip(counted)
            .map(|(instance, counted)| emit::Compiled {
                def,
                instance,
                counted,
            });
        match compiled {
            Some(c) if errors.len() == before => out.push(Ok(c)),
            _ => out.push(Err(def)),
        }
    }
    out
}

/// Block parameters: no duplicates, and no parameter named like the input.
fn check_block_params(b: &BlockDef, errors: &mut Errors) {
    let mut seen = vec![b.input.to_string()];
    let mut defaults = false;
    for p in &b.params {
        let name = p.name.to_string();
        if seen.contains(&name) {
            errors.push(
                p.name.span(),
                format!("parameter `{name}` of block `{}` is declared twice", b.name),
            );
        }
        if p.default.is_some() {
            defaults = true;
        } else if defaults {
            errors.push(
                p.name.span(),
                format!("parameter `{name}` needs a default: it follows a parameter with one"),
            );
        }
        seen.push(name);
    }
}

#[cfg(test)]
mod tests {
    use proc_macro2::TokenStream;
    use std::str::FromStr;

    #[test]
    fn a_body_syntax_error_leaves_a_stub_and_the_other_networks() {
        let input = TokenStream::from_str(
            "pub struct A(x: [3, 8, 8]) { x -> Conv2d(8 3) }
             pub struct B(x: [3, 8, 8]) { x -> Conv2d(8, 3) }",
        )
        .unwrap();
        let ast: crate::ast::Input = syn::parse2(input).unwrap();
        let (code, errors) = crate::compile(&ast);
        let messages: Vec<String> = errors
            .into_iter()
            .flatten()
            .map(|e| e.to_string())
            .collect();
        assert_eq!(messages, ["expected `,`"]);
        let code = code.to_string();
        assert!(code.contains("pub struct A"), "the stub of A");
        assert!(code.contains("pub struct B"), "B compiles");
    }
}
