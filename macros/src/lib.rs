//! The `network!` procedural macro. Everything but the entry point lives in
//! the plain library crate `netspec-compiler`.
use proc_macro::TokenStream;

/// Declares networks; see the `netspec` crate for the language.
#[proc_macro]
pub fn network(input: TokenStream) -> TokenStream {
    netspec_compiler::expand(input.into()).into()
}
