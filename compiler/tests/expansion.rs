//! The generated code of a small network, rendered with prettyplease and
//! snapshotted: a change to what `network!` emits shows in review.

use proc_macro2::TokenStream;
use std::str::FromStr;

#[test]
fn a_small_network_expands_to_its_consts_and_methods() {
    let input = TokenStream::from_str(
        r#"
        block Unit(x, planes) {
            let y = x -> conv: Conv2d(planes, 3, padding = 1, bias = false) -> bn: BatchNorm2d;
            (x + y) -> ReLU
        }
        /// A tiny residual network.
        #[budget(params <= 10K)]
        pub struct Tiny(x: [8, 16, 16]) {
            x -> unit: Unit(8) -> AdaptiveAvgPool2d(1) -> Flatten -> fc: Linear(4)
        }
        "#,
    )
    .expect("the input lexes");
    let expanded = netspec_compiler::expand(input);
    let file: syn::File = syn::parse2(expanded).expect("the expansion parses as Rust");
    insta::assert_snapshot!(prettyplease::unparse(&file));
}
