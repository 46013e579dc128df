//! The zoo's `network!` sources and how to split an invocation into its
//! items: shared by the fuzz target (`tests/fuzz.rs`) and the expansion
//! benchmark (`benches/expand.rs`).

use proc_macro2::{Delimiter, TokenStream, TokenTree};

/// Every zoo module's source text.
pub const SOURCES: &[&str] = &[
    include_str!("../../../runtime/src/zoo/classic.rs"),
    include_str!("../../../runtime/src/zoo/resnet.rs"),
    include_str!("../../../runtime/src/zoo/mobilenet.rs"),
    include_str!("../../../runtime/src/zoo/squeezenet.rs"),
    include_str!("../../../runtime/src/zoo/shufflenet.rs"),
    include_str!("../../../runtime/src/zoo/shufflenet_v1.rs"),
    include_str!("../../../runtime/src/zoo/mobilenet_v1.rs"),
    include_str!("../../../runtime/src/zoo/mobilenet_v3.rs"),
    include_str!("../../../runtime/src/zoo/efficientnet.rs"),
    include_str!("../../../runtime/src/zoo/mnasnet.rs"),
    include_str!("../../../runtime/src/zoo/ghostnet.rs"),
    include_str!("../../../runtime/src/zoo/vit.rs"),
    include_str!("../../../runtime/src/zoo/convnext.rs"),
    include_str!("../../../runtime/src/zoo/mobilevit.rs"),
    include_str!("../../../runtime/src/zoo/mobile_former.rs"),
    include_str!("../../../runtime/src/zoo/swin.rs"),
    include_str!("../../../runtime/src/zoo/espnet.rs"),
    include_str!("../../../runtime/src/zoo/unet.rs"),
];

/// The items of a `network!` invocation: each ends with its `{ ... }` body.
pub fn items(tokens: TokenStream) -> Vec<TokenStream> {
    let mut out = Vec::new();
    let mut current = TokenStream::new();
    let mut previous_was_hash = false;
    for tt in tokens {
        let ends = matches!(&tt, TokenTree::Group(g) if g.delimiter() == Delimiter::Brace)
            && !previous_was_hash;
        previous_was_hash = matches!(&tt, TokenTree::Punct(p) if p.as_char() == '#');
        current.extend([tt]);
        if ends {
            out.push(std::mem::take(&mut current));
        }
    }
    out
}
