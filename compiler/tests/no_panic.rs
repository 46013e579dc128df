//! Property tests: random and mutated token streams never make the compiler
//! stages panic; every outcome is generated code or a spanned error.
//! Bounded (a few hundred cases each) so CI stays fast.

use proc_macro2::TokenStream;
use proptest::prelude::*;
use std::str::FromStr;

/// A valid source touching every construct: blocks with defaults and
/// conditionals, lists with `for` and `if` items, repeats, graph operations.
const SEED: &str = r#"
    block Unit(x, planes, stride = 1, expand = 2) {
        let hidden = make_divisible(x.channels * expand, 8);
        let y = x -> conv: [
            if expand != 1 { Conv2d(hidden, 1, bias = false) },
            Conv2d(hidden, 3, stride = stride, padding = 1, groups = hidden),
            BatchNorm2d(eps = 0.001), Hardswish,
            Conv2d(planes, 1),
        ];
        let s = y -> AdaptiveAvgPool2d(1) -> se: Conv2d(planes, 1) -> Hardsigmoid;
        let (a, b) = chunk(y * s, 2);
        let z = cat(a, b -> ReLU6) -> ChannelShuffle(2);
        if stride == 1 && x.channels == planes { x + z } else { z }
    }
    /// doc
    #[budget(params <= 10M, macs <= 1G, memory_access <= 64MiB, latency(raspberry_pi_5) <= 1s)]
    pub struct Net(x: [3, 64, 64]) {
        x -> stem: Conv2d(16, 3, stride = 2, padding = 1) -> ReLU -> Conv2d(16, 4, padding = "same", dilation = 2)
          -> blocks: [for i in 0..3 => Unit(16 * (i + 1), stride = if i == 0 { 2 } else { 1 })]
          -> stack: [Unit(48); 2]
          -> MaxPool2d(3, stride = 2, ceil_mode = true) -> AvgPool2d(2, count_include_pad = false)
          -> AdaptiveAvgPool2d((2, 1)) -> Flatten -> Dropout(0.2)
          -> fc: Linear(10) -> Softmax(dim = 1)
    }
"#;

const WORDS: &[&str] = &[
    "block",
    "pub",
    "struct",
    "let",
    "if",
    "else",
    "for",
    "in",
    "x",
    "y",
    "Net",
    "Unit",
    "Conv2d",
    "Linear",
    "ReLU",
    "BatchNorm2d",
    "MaxPool2d",
    "cat",
    "chunk",
    "make_divisible",
    "stride",
    "padding",
    "groups",
    "channels",
    "0",
    "1",
    "3",
    "64",
    "-1",
    "18446744073709551615",
    "1e308",
    "2.5",
    "\"same\"",
    "true",
    "->",
    "=>",
    ":",
    ";",
    ",",
    ".",
    "..",
    "=",
    "==",
    "!=",
    "+",
    "-",
    "*",
    "/",
    "%",
    "&&",
    "||",
    "!",
    "<",
    "<=",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "#",
    "budget",
    "params",
    "4M",
    "64MiB",
];

fn expand(src: &str) {
    if let Ok(tokens) = TokenStream::from_str(src) {
        let _ = netspec_compiler::expand(tokens);
    }
}

#[test]
fn the_seed_compiles() {
    let tokens = TokenStream::from_str(SEED).unwrap();
    let ast: netspec_compiler::ast::Input = syn::parse2(tokens).unwrap();
    let (_, errors) = netspec_compiler::compile(&ast);
    assert!(errors.is_none(), "{errors:?}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn random_words_do_not_panic(words in prop::collection::vec(prop::sample::select(WORDS), 0..60)) {
        expand(&words.join(" "));
        expand(&format!("pub struct Net(x: [3, 16, 16]) {{ {} }}", words.join(" ")));
    }

    #[test]
    fn mutated_seed_does_not_panic(
        edits in prop::collection::vec((any::<prop::sample::Index>(), prop::sample::select(WORDS), 0..3u8), 1..6)
    ) {
        let mut tokens: Vec<String> = SEED.split_whitespace().map(str::to_string).collect();
        for (at, word, kind) in edits {
            if tokens.is_empty() {
                break;
            }
            let i = at.index(tokens.len());
            match kind {
                0 => tokens[i] = word.to_string(),
                1 => tokens.insert(i, word.to_string()),
                _ => {
                    tokens.remove(i);
                }
            }
        }
        expand(&tokens.join(" "));
    }

    #[test]
    fn arbitrary_numbers_do_not_panic(
        c in any::<i64>(),
        k in any::<i64>(),
        s in any::<i64>(),
        h in any::<u64>(),
        d in any::<i64>(),
        p in any::<i64>(),
        same in any::<bool>(),
        ceil in any::<bool>(),
    ) {
        expand(&format!(
            "pub struct Net(x: [3, {h}, 8]) {{ x -> Conv2d({c}, {k}, stride = {s}, padding = {k} / 2) -> MaxPool2d({k}, ceil_mode = true) -> Flatten -> Linear({c}) }}"
        ));
        // Dilation and padding, integer or "same", on convolutions and pools.
        let padding = if same { "\"same\"".to_string() } else { p.to_string() };
        expand(&format!(
            "pub struct Net(x: [3, {h}, {h}]) {{ x -> Conv2d({c}, {k}, dilation = {d}, padding = {padding}) -> MaxPool2d({k}, stride = {s}, padding = {p}, dilation = {d}, ceil_mode = {ceil}) -> AvgPool2d({k}, padding = {p}, ceil_mode = {ceil}) }}"
        ));
        expand(&format!(
            "pub struct Net(x: [{c}, 9, 9]) {{ x -> Conv2d(8, ({k}, 3), dilation = ({d}, {s}), padding = ({p}, {k})) -> MaxPool2d(({k}, 2), dilation = ({d}, 1), padding = ({p}, 0)) }}"
        ));
        expand(&format!(
            "block B(x, n) {{ x -> [Conv2d(n, 1); n] }} pub struct Net(x: [{h}, 4, 4]) {{ x -> b: B({c} % 7) -> AdaptiveAvgPool2d(({k}, {s})) }}"
        ));
    }
}
