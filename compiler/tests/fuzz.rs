//! Fuzzing `netspec_compiler::expand` as a hostile user would: random
//! networks of valid shape with hostile values (huge dimensions, strides,
//! dilations and paddings, `ceil_mode`, repeat counts and ranges near the
//! integer limits, deep nesting), and token-level mutations of the zoo's
//! sources. Every input must expand to code or to spanned errors: no panic,
//! no abort, no stack overflow.
//!
//! `cargo test` runs a few hundred cases. For a long run:
//!
//! ```text
//! NETSPEC_FUZZ_CASES=1000000 cargo test --release -p netspec-compiler --test fuzz -- --nocapture
//! ```
//!
//! which prints the number of inputs, the panics (the test fails on any) and
//! the slowest input with its time. `NETSPEC_FUZZ_SEED` picks another seed;
//! `NETSPEC_FUZZ_MAX_MS` (long runs only) fails the run when an input takes
//! longer than that many milliseconds.

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use std::fmt::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::str::FromStr;
use std::time::{Duration, Instant};

/// Cases under plain `cargo test`.
const CI_CASES: u64 = 300;

/// The zoo: real programs to mutate.
#[path = "common/zoo.rs"]
mod zoo;
use zoo::{items, SOURCES as ZOO};

/// SplitMix64: small, fast, and the same sequence everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// Integers a hostile user tries: edges of every integer type, and values
/// whose products, sums or doubled values overflow.
const HOSTILE: &[&str] = &[
    "0",
    "1",
    "2",
    "3",
    "4",
    "7",
    "8",
    "64",
    "1000",
    "1000000000",
    "2147483647",
    "4294967296",
    "4611686018427387905",
    "9223372036854775807",
    "18446744073709551615",
    "-1",
    "-9223372036854775808",
];

fn small_or_hostile(rng: &mut Rng) -> String {
    if rng.chance(70) {
        (1 + rng.below(8)).to_string()
    } else {
        rng.pick(HOSTILE).to_string()
    }
}

/// A repeat count or range bound: rarely hostile, since every hostile one
/// expands to the layer cap (100,000 layers, the costliest input there is)
/// and one in a hundred covers that class many times over.
fn count(rng: &mut Rng) -> String {
    if rng.chance(97) {
        rng.below(5).to_string()
    } else {
        rng.pick(HOSTILE).to_string()
    }
}

/// A random integer expression over the names in scope.
fn int_expr(rng: &mut Rng, names: &[&str], depth: usize) -> String {
    if depth == 0 || rng.chance(50) {
        return match rng.below(4) {
            0 if !names.is_empty() => names[rng.below(names.len())].to_string(),
            1 => "x.channels".to_string(),
            _ => small_or_hostile(rng),
        };
    }
    let a = int_expr(rng, names, depth - 1);
    let b = int_expr(rng, names, depth - 1);
    match rng.below(9) {
        0 => format!("{a} + {b}"),
        1 => format!("{a} - {b}"),
        2 => format!("{a} * {b}"),
        3 => format!("{a} / {b}"),
        4 => format!("{a} % {b}"),
        5 => format!("make_divisible({a}, {b}, {})", small_or_hostile(rng)),
        6 => format!("min({a}, {b})"),
        7 => format!("if {a} > {b} {{ {a} }} else {{ {b} }}"),
        _ => format!("-({a})"),
    }
}

fn pair_or_int(rng: &mut Rng, names: &[&str]) -> String {
    if rng.chance(25) {
        format!("({}, {})", int_expr(rng, names, 1), int_expr(rng, names, 1))
    } else {
        int_expr(rng, names, 1)
    }
}

/// A random layer call, its arguments drawn from hostile values.
fn layer(rng: &mut Rng, names: &[&str]) -> String {
    let a = |rng: &mut Rng| int_expr(rng, names, 1);
    match rng.below(25) {
        21 => {
            let kind = rng.pick(&["ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"]);
            format!(
                "{kind}({}, {}, stride = {}, padding = {}, output_padding = {}, dilation = {})",
                a(rng),
                pair_or_int(rng, names),
                a(rng),
                a(rng),
                a(rng),
                a(rng)
            )
        }
        22 => format!(
            "{}({}, stride = {}, padding = {})",
            rng.pick(&["Conv3d(4, ", "MaxPool1d(", "AvgPool3d(", "MaxPool3d("]),
            pair_or_int(rng, names),
            a(rng),
            a(rng)
        ),
        23 => format!(
            "Upsample({} = {}, mode = \"{}\")",
            rng.pick(&["size", "scale_factor"]),
            rng.pick(&["2", "0.5", "1e300", "-1.0", "(2, 3)", "9223372036854775807"]),
            rng.pick(&["nearest", "bilinear", "linear", "trilinear", "bicubic"])
        ),
        24 => rng
            .pick(&[
                "BatchNorm1d",
                "BatchNorm3d",
                "PReLU",
                "PReLU(3)",
                "Hardtanh(0.0, 6.0)",
                "ELU(alpha = 1e308)",
                "AdaptiveAvgPool1d(2)",
                "AdaptiveAvgPool3d((1, 2, 3))",
            ])
            .to_string(),
        16 => rng
            .pick(&["LayerNorm", "LayerNorm(eps = 1e-6)", "LayerNorm((4, 4))"])
            .to_string(),
        17 => format!("MultiheadAttention({}, batch_first = true)", a(rng)),
        18 => format!("GroupNorm({})", a(rng)),
        19 => format!("Conv1d({}, {})", a(rng), a(rng)),
        20 => format!("Softmax(dim = {})", rng.pick(&["-2", "3", "0", "-9"])),
        0 | 1 => {
            let mut s = format!("Conv2d({}, {}", a(rng), pair_or_int(rng, names));
            if rng.chance(50) {
                let _ = write!(s, ", stride = {}", pair_or_int(rng, names));
            }
            if rng.chance(50) {
                let padding = match rng.below(4) {
                    0 => "\"same\"".to_string(),
                    1 => "\"valid\"".to_string(),
                    _ => pair_or_int(rng, names),
                };
                let _ = write!(s, ", padding = {padding}");
            }
            if rng.chance(40) {
                let _ = write!(s, ", dilation = {}", pair_or_int(rng, names));
            }
            if rng.chance(30) {
                let _ = write!(s, ", groups = {}", a(rng));
            }
            if rng.chance(20) {
                s.push_str(", bias = false");
            }
            s + ")"
        }
        2 | 3 => {
            let kind = if rng.chance(50) {
                "MaxPool2d"
            } else {
                "AvgPool2d"
            };
            let mut s = format!("{kind}({}", pair_or_int(rng, names));
            if rng.chance(60) {
                let _ = write!(s, ", stride = {}", pair_or_int(rng, names));
            }
            if rng.chance(40) {
                let _ = write!(s, ", padding = {}", pair_or_int(rng, names));
            }
            if kind == "MaxPool2d" && rng.chance(40) {
                let _ = write!(s, ", dilation = {}", pair_or_int(rng, names));
            }
            if rng.chance(50) {
                s.push_str(", ceil_mode = true");
            }
            s + ")"
        }
        4 => format!("AdaptiveAvgPool2d({})", pair_or_int(rng, names)),
        5 => format!("Linear({})", a(rng)),
        6 => "BatchNorm2d".to_string(),
        7 => format!("ChannelShuffle({})", a(rng)),
        8 => "Flatten".to_string(),
        9 => format!("Dropout({})", rng.pick(&["0.2", "1.5", "-0.1", "1e308"])),
        10 => format!("Softmax(dim = {})", rng.pick(&["1", "-1", "2"])),
        11 => "StochasticDepth(0.1, \"row\")".to_string(),
        12 => "Identity".to_string(),
        _ => rng
            .pick(&["ReLU", "ReLU6", "SiLU", "Hardswish", "Sigmoid", "GELU"])
            .to_string(),
    }
}

/// A random stage: a layer, a block call, a module bound by `let` (bare,
/// applied again), a list (with `for` and `if` items) or a repetition,
/// nested up to `depth` levels.
fn stage(
    rng: &mut Rng,
    names: &[&str],
    blocks: &[String],
    modules: &[String],
    depth: usize,
) -> String {
    let named = if rng.chance(30) {
        format!("s{}: ", rng.below(4))
    } else {
        String::new()
    };
    if !modules.is_empty() && rng.chance(25) {
        // A module stage; rarely given a name or arguments (both errors).
        let m = &modules[rng.below(modules.len())];
        return match rng.below(20) {
            0 => format!("{named}{m}"),
            1 => format!("{m}({})", int_expr(rng, names, 1)),
            _ => m.clone(),
        };
    }
    let spec = match rng.below(if depth == 0 { 2 } else { 6 }) {
        0 if !blocks.is_empty() => {
            let b = &blocks[rng.below(blocks.len())];
            // A module as the block's argument: tied layers (or, where the
            // block wants a number, an error).
            let arg = if !modules.is_empty() && rng.chance(20) {
                modules[rng.below(modules.len())].clone()
            } else {
                int_expr(rng, names, 1)
            };
            format!("{b}({arg})")
        }
        0 | 1 => layer(rng, names),
        2 | 3 => {
            let n = rng.below(4);
            let items: Vec<String> = (0..n)
                .map(|_| match rng.below(5) {
                    0 => format!(
                        "for i in {}..{} => {}",
                        count(rng),
                        count(rng),
                        stage(rng, &[names, &["i"]].concat(), blocks, modules, depth - 1)
                    ),
                    1 => format!(
                        "if {} > {} {{ {} }} else {{ }}",
                        int_expr(rng, names, 1),
                        int_expr(rng, names, 1),
                        stage(rng, names, blocks, modules, depth - 1)
                    ),
                    _ => stage(rng, names, blocks, modules, depth - 1),
                })
                .collect();
            format!("[{}]", items.join(", "))
        }
        4 => format!(
            "[{}; {}]",
            stage(rng, names, blocks, modules, depth - 1),
            count(rng)
        ),
        _ => "[]".to_string(),
    };
    named + &spec
}

/// Zero to two module bindings (`let m0 = p0: Conv2d(8, 3);`), a layer or
/// a block bound under a path without being applied, and the variables
/// they bind (`prefix0`, `prefix1`). Rarely a path used twice, a module
/// never applied, or a callee that is neither layer nor block (errors).
fn modules(
    rng: &mut Rng,
    prefix: &str,
    names: &[&str],
    blocks: &[String],
) -> (String, Vec<String>) {
    if !rng.chance(30) {
        return (String::new(), Vec::new());
    }
    let mut defs = String::new();
    let mut vars = Vec::new();
    for k in 0..1 + rng.below(2) {
        let var = format!("{prefix}{k}");
        let path = if rng.chance(5) {
            "s0".to_string()
        } else {
            format!("{prefix}_path{k}")
        };
        let callee = match rng.below(10) {
            0 | 1 if !blocks.is_empty() => {
                let b = &blocks[rng.below(blocks.len())];
                if rng.chance(50) {
                    format!("{b}({})", int_expr(rng, names, 1))
                } else {
                    b.clone()
                }
            }
            2 if rng.chance(20) => rng
                .pick(&["Parameter(1, 2)", "Unknown(3)", "3"])
                .to_string(),
            // Layers that keep the shape, so that applying them again is
            // valid and the expansion goes on to counting and emission.
            3..=5 => rng
                .pick(&[
                    "ReLU",
                    "BatchNorm2d",
                    "Identity",
                    "Conv2d(x.channels, 1)",
                    "Conv2d(x.channels, 3, padding = 1, bias = false)",
                    "PReLU",
                ])
                .to_string(),
            _ => layer(rng, names),
        };
        let _ = write!(defs, "let {var} = {path}: {callee}; ");
        vars.push(var);
    }
    (defs, vars)
}

/// The expression a body returns: `y`, or (one case in five) a tuple of
/// outputs built from `y`, a module call and the stages in scope; rarely
/// with an item that is not a tensor, or nested (errors).
fn output(rng: &mut Rng, blocks: &[String], modules: &[String]) -> String {
    if !rng.chance(20) {
        return "y".to_string();
    }
    let items: Vec<String> = (0..1 + rng.below(3))
        .map(|_| match rng.below(12) {
            0 | 1 => "y".to_string(),
            2 => "x".to_string(),
            3 if !modules.is_empty() => format!("{}(y)", modules[rng.below(modules.len())]),
            4 => "(y, y)".to_string(),
            5 => rng.pick(&["3", "1.5", "true"]).to_string(),
            6 => format!("chunk(y, {}).0", small_or_hostile(rng)),
            _ => format!("y -> {}", stage(rng, &[], blocks, modules, 1)),
        })
        .collect();
    if items.len() == 1 && rng.chance(50) {
        // A tuple from a builtin: chunk's pieces as the outputs.
        return format!("chunk(y, {})", small_or_hostile(rng));
    }
    format!("(y, {})", items.join(", "))
}

/// Something nested far deeper than anyone writes, of one of the kinds
/// that once overflowed the stack or took exponential time.
fn deep(rng: &mut Rng) -> String {
    let n = 1 + rng.below(400);
    match rng.below(6) {
        0 => format!("x -> Conv2d({}1{}, 1)", "(".repeat(n), ")".repeat(n)),
        1 => format!("x -> Conv2d({}1, 1)", "-".repeat(n)),
        2 => format!(
            "x -> Conv2d({}1{}, 1)",
            "if true { ".repeat(n),
            " } else { 2 }".repeat(n)
        ),
        3 => format!("x -> {}ReLU{}", "[".repeat(n), "]".repeat(n)),
        4 => format!("x -> Conv2d(1{}, 1)", " + 1".repeat(n)),
        _ => format!("x -> Conv2d(x{}, 1)", ".channels".repeat(n)),
    }
}

/// A small network of shared modules that is mostly valid: a layer module
/// and a block module each applied several times (as stages, calls, in
/// lists and repetitions, and passed to a block), and a tuple of outputs.
/// The sizes are rarely hostile, and an application may get other channels
/// (an error at that application).
fn shared_program(rng: &mut Rng) -> String {
    let c = if rng.chance(90) {
        (1 + rng.below(8)).to_string()
    } else {
        rng.pick(HOSTILE).to_string()
    };
    let hw = 1 + rng.below(12);
    let k = rng.pick(&["1", "3", "5"]);
    let other = if rng.chance(15) { "+ 1" } else { "" };
    let applications = count(rng);
    let out = match rng.below(4) {
        0 => "(a, b)".to_string(),
        1 => "(b -> head: Flatten, a, enc(b))".to_string(),
        2 => "chunk(cat(a, b), 2)".to_string(),
        _ => "b".to_string(),
    };
    format!(
        "block Unit(x, c) {{ x -> conv: Conv2d(c, {k}, padding = {k} / 2) -> bn: BatchNorm2d -> ReLU }}\n\
         block Twice(x, m) {{ x -> m -> m }}\n\
         pub struct Net(x: [{c}, {hw}, {hw}]) {{ \
         let conv = conv: Conv2d({c}, {k}, padding = {k} / 2); \
         let enc = enc: Unit({c} {other}); \
         let a = x -> conv -> ReLU -> [conv, enc]; \
         let b = enc(conv(a)) -> [enc; {applications}] -> tied: Twice(conv); \
         {out} }}"
    )
}

/// A random program: zero to two blocks and one network, either of which
/// may bind modules and apply them, and a network that may return a tuple.
fn generated(rng: &mut Rng) -> String {
    let mut src = String::new();
    let mut blocks = Vec::new();
    for b in 0..rng.below(3) {
        let name = format!("B{b}");
        let (defs, mut vars) = modules(rng, "k", &["n"], &blocks);
        // The block's `n` applied as a module, as a block that receives
        // one does (an error where a number is passed).
        if rng.chance(10) {
            vars.push("n".to_string());
        }
        let body = stage(rng, &["n"], &blocks, &vars, 2);
        let tail = match rng.below(5) {
            0 => "(x + y) -> ReLU".to_string(),
            1 => "cat(x, y)".to_string(),
            2 => format!("let (a, b) = chunk(y, {}); a * b", small_or_hostile(rng)),
            3 if !vars.is_empty() => format!("{}(y)", vars[rng.below(vars.len())]),
            _ => "y".to_string(),
        };
        let _ = writeln!(
            src,
            "block {name}(x, n, m = {}) {{ {defs}let y = x -> {body}; {tail} }}",
            small_or_hostile(rng)
        );
        blocks.push(name);
    }
    let dims: Vec<String> = (0..1 + rng.below(3))
        .map(|_| {
            if rng.chance(75) {
                (1 + rng.below(32)).to_string()
            } else {
                rng.pick(&["2147483647", "4294967296", "9223372036854775807"])
                    .to_string()
            }
        })
        .collect();
    if rng.chance(10) {
        return shared_program(rng);
    }
    let body = if rng.chance(8) {
        deep(rng)
    } else {
        let (defs, vars) = modules(rng, "m", &[], &blocks);
        let stages: Vec<String> = (0..1 + rng.below(4))
            .map(|_| stage(rng, &[], &blocks, &vars, 3))
            .collect();
        // The chain starts at the input or at a module applied to it.
        let head = match vars.first() {
            Some(m) if rng.chance(30) => format!("{m}(x)"),
            _ => "x".to_string(),
        };
        let chain = format!("{head} -> {}", stages.join(" -> "));
        let mut body = match output(rng, &blocks, &vars) {
            out if out == "y" => format!("{defs}{chain}"),
            out => format!("{defs}let y = {chain}; {out}"),
        };
        if rng.chance(25) {
            // The tensor language: methods, indexing, products, parameters,
            // attention, over hostile dimensions and sizes.
            let d = |rng: &mut Rng| {
                rng.pick(&["0", "1", "2", "-1", "-3", "7", "9223372036854775807"])
                    .to_string()
            };
            let tensor_op = match rng.below(11) {
                9 => format!(
                    "interpolate(x, scale_factor = {}, mode = \"bilinear\", align_corners = true)",
                    rng.pick(&["2", "0.25", "1e300", "(2, 2)"])
                ),
                0 => format!("x.reshape({}, -1)", small_or_hostile(rng)),
                1 => format!("x.flatten({}).transpose({}, {})", d(rng), d(rng), d(rng)),
                2 => format!("x.permute(0, {}, {}, {})", d(rng), d(rng), d(rng)),
                3 => format!("x[:, {}] @ x[:, {}:]", d(rng), d(rng)),
                4 => format!("attention(x, x, x, heads = {})", small_or_hostile(rng)),
                5 => format!(
                    "x + p: Parameter({}, {})",
                    small_or_hostile(rng),
                    small_or_hostile(rng)
                ),
                6 => format!("softmax(x * 0.5 - 1.0, {}).mean({})", d(rng), d(rng)),
                7 => format!("roll(x, ({}, 1), ({}, 2))", small_or_hostile(rng), d(rng)),
                8 => format!(
                    "pad(x, ({}, 1)).unsqueeze({})",
                    small_or_hostile(rng),
                    d(rng)
                ),
                _ => format!("max(x, x[..., None]).size({})", d(rng)),
            };
            body = format!("let x = {tensor_op}; {body}");
        }
        if rng.chance(15) {
            body = format!(
                "let (a, b) = chunk(x, {}); {}",
                rng.pick(HOSTILE),
                body.replacen("x", "cat(a, b)", 1)
            );
        }
        body
    };
    let budget = if rng.chance(10) {
        "#[budget(params <= 1M, latency(raspberry_pi_5) <= 1ms)]\n"
    } else {
        ""
    };
    let _ = write!(
        src,
        "{budget}pub struct Net(x: [{}]) {{ {body} }}",
        dims.join(", ")
    );
    src
}

/// A token of a flattened program: a leaf, or a delimiter.
#[derive(Clone)]
enum Tok {
    Leaf(String),
    Open(Delimiter),
    Close(Delimiter),
}

fn flatten(stream: TokenStream, out: &mut Vec<Tok>) {
    for tt in stream {
        match tt {
            TokenTree::Group(g) => {
                out.push(Tok::Open(g.delimiter()));
                flatten(g.stream(), out);
                out.push(Tok::Close(g.delimiter()));
            }
            other => out.push(Tok::Leaf(other.to_string())),
        }
    }
}

fn render(tokens: &[Tok]) -> String {
    let mut s = String::new();
    for t in tokens {
        let text = match t {
            Tok::Leaf(l) => l.as_str(),
            Tok::Open(Delimiter::Parenthesis) => "(",
            Tok::Open(Delimiter::Bracket) => "[",
            Tok::Open(Delimiter::Brace) => "{",
            Tok::Close(Delimiter::Parenthesis) => ")",
            Tok::Close(Delimiter::Bracket) => "]",
            Tok::Close(Delimiter::Brace) => "}",
            Tok::Open(Delimiter::None) | Tok::Close(Delimiter::None) => "",
        };
        s.push_str(text);
        s.push(' ');
    }
    s
}

/// The zoo's programs, flattened: one per network, with the blocks of its
/// invocation (so that one input expands one network, as the benchmark does).
fn zoo_programs() -> Vec<Vec<Tok>> {
    let mut out = Vec::new();
    for src in ZOO {
        let Ok(file) = syn::parse_file(src) else {
            continue;
        };
        for item in file.items {
            let syn::Item::Macro(m) = item else {
                continue;
            };
            let items = items(m.mac.tokens);
            let is_block = |t: &TokenStream| {
                t.clone()
                    .into_iter()
                    .any(|tt| matches!(&tt, TokenTree::Ident(i) if i == "block"))
            };
            let blocks: TokenStream = items.iter().filter(|t| is_block(t)).cloned().collect();
            for net in items.iter().filter(|t| !is_block(t)) {
                let mut program = blocks.clone();
                program.extend(net.clone());
                let mut tokens = Vec::new();
                flatten(program, &mut tokens);
                out.push(tokens);
            }
        }
    }
    out
}

/// Words to insert or substitute: keywords, punctuation, layer and block
/// names of the zoo, and hostile numbers.
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
    "Conv2d",
    "Linear",
    "ReLU",
    "MaxPool2d",
    "AdaptiveAvgPool2d",
    "BatchNorm2d",
    "cat",
    "chunk",
    "Bottleneck",
    "stride",
    "padding",
    "dilation",
    "ceil_mode",
    "groups",
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
    "+",
    "-",
    "*",
    "/",
    "%",
    "&&",
    "||",
    "!",
    "<",
    "#",
    "\"same\"",
    "1e308",
    "0.5",
];

/// One to five token-level edits of a zoo program: substitute, insert or
/// delete a leaf, put a hostile number in place of a number, or duplicate
/// or drop a whole group.
fn mutated(rng: &mut Rng, programs: &[Vec<Tok>]) -> String {
    let mut tokens = programs[rng.below(programs.len())].clone();
    for _ in 0..1 + rng.below(5) {
        if tokens.is_empty() {
            break;
        }
        let i = rng.below(tokens.len());
        match rng.below(6) {
            0 => {
                if let Tok::Leaf(_) = tokens[i] {
                    tokens[i] = Tok::Leaf(rng.pick(WORDS).to_string());
                }
            }
            1 => tokens.insert(i, Tok::Leaf(rng.pick(WORDS).to_string())),
            2 => {
                if let Tok::Leaf(_) = tokens[i] {
                    tokens.remove(i);
                }
            }
            3 => {
                // A hostile number in place of the next integer literal.
                if let Some(j) = (i..tokens.len()).find(|&j| {
                    matches!(&tokens[j], Tok::Leaf(l) if l.bytes().all(|b| b.is_ascii_digit()))
                }) {
                    tokens[j] = Tok::Leaf(rng.pick(HOSTILE).to_string());
                }
            }
            _ => {
                // The group opening at or after `i`: duplicated or dropped.
                let Some(open) = (i..tokens.len()).find(|&j| matches!(tokens[j], Tok::Open(_)))
                else {
                    continue;
                };
                let mut depth = 0usize;
                let mut close = open;
                for (j, t) in tokens.iter().enumerate().skip(open) {
                    match t {
                        Tok::Open(_) => depth += 1,
                        Tok::Close(_) => {
                            depth -= 1;
                            if depth == 0 {
                                close = j;
                                break;
                            }
                        }
                        Tok::Leaf(_) => {}
                    }
                }
                if rng.chance(50) {
                    let group: Vec<Tok> = tokens[open..=close].to_vec();
                    tokens.splice(close + 1..close + 1, group);
                } else {
                    tokens.drain(open..=close);
                }
            }
        }
    }
    render(&tokens)
}

struct Report {
    inputs: u64,
    panics: Vec<String>,
    slowest: (Duration, String),
    /// Programs that bind a module, and how many of them expanded without
    /// an error (the generator reaches past the parser into evaluation).
    modules: (u64, u64),
    /// Networks that return a tuple, and how many expanded without an error.
    tuples: (u64, u64),
}

/// Whether a generated program binds a module (`let m0 = m_path0: ...`,
/// or a [`shared_program`]) and whether its network returns a tuple
/// (`let y = ...; (y, ...)`, `chunk(y, ...)`, or a tuple of
/// [`shared_program`]).
fn features(src: &str) -> (bool, bool) {
    let net = src.rsplit("pub struct Net").next().unwrap_or("");
    let shared = src.contains("block Twice");
    let modules = shared || src.contains("_path0: ");
    let tuple = if shared {
        !net.ends_with("b }")
    } else {
        net.contains("; (y, ") || net.contains("; chunk(y, ")
    };
    (modules, tuple)
}

fn run(cases: u64, seed: u64) -> Report {
    let programs = zoo_programs();
    assert!(!programs.is_empty(), "the zoo sources parse");
    let mut rng = Rng(seed);
    let mut report = Report {
        inputs: 0,
        panics: Vec::new(),
        slowest: (Duration::ZERO, String::new()),
        modules: (0, 0),
        tuples: (0, 0),
    };
    for case in 0..cases {
        if case > 0 && case % 50_000 == 0 {
            eprintln!(
                "fuzz: {case} cases, {} panics, slowest {:?}",
                report.panics.len(),
                report.slowest.0
            );
        }
        // Mostly generated programs (small, many shapes of hostility); one
        // in five a mutated zoo network (large, realistic).
        let src = if rng.chance(80) {
            generated(&mut rng)
        } else {
            mutated(&mut rng, &programs)
        };
        let Ok(tokens) = TokenStream::from_str(&src) else {
            continue;
        };
        report.inputs += 1;
        let start = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| netspec_compiler::expand(tokens)));
        let took = start.elapsed();
        match &outcome {
            Err(_) => report.panics.push(src.clone()),
            Ok(code) => {
                let clean = !code.to_string().contains("compile_error");
                let (modules, tuple) = features(&src);
                for (counted, seen) in [(modules, &mut report.modules), (tuple, &mut report.tuples)]
                {
                    if counted {
                        seen.0 += 1;
                        seen.1 += u64::from(clean);
                    }
                }
            }
        }
        if took > report.slowest.0 {
            report.slowest = (took, src);
        }
    }
    report
}

#[test]
fn hostile_programs_expand_without_panicking() {
    let cases = std::env::var("NETSPEC_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok());
    let seed = std::env::var("NETSPEC_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x006e_6574_7370_6563);
    // Silence the default hook: panics are collected and reported below.
    std::panic::set_hook(Box::new(|_| {}));
    // The compiler runs macros on a thread with an 8 MiB stack; so do we.
    let report = std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(move || run(cases.unwrap_or(CI_CASES), seed))
        .expect("the fuzz thread starts")
        .join()
        .expect("the fuzz thread finishes");
    let _ = std::panic::take_hook();
    let (slowest, input) = &report.slowest;
    println!(
        "fuzz: {} inputs, {} panics; modules in {} ({} expanded cleanly), tuple outputs in {} ({} cleanly); slowest {:.1} ms:\n{input}",
        report.inputs,
        report.panics.len(),
        report.modules.0,
        report.modules.1,
        report.tuples.0,
        report.tuples.1,
        slowest.as_secs_f64() * 1e3
    );
    assert!(
        report.panics.is_empty(),
        "{} inputs panicked, the first:\n{}",
        report.panics.len(),
        report.panics[0]
    );
    // The generator reaches evaluation with both: some such programs are
    // valid networks, not only parse or shape errors.
    assert!(
        report.modules.1 > 0 && report.tuples.1 > 0,
        "no program with a module ({:?}) or a tuple output ({:?}) expanded cleanly",
        report.modules,
        report.tuples
    );
    if cases.is_some() {
        if let Some(max) = std::env::var("NETSPEC_FUZZ_MAX_MS")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
        {
            assert!(
                *slowest <= Duration::from_millis(max),
                "an input took {slowest:?}, over {max} ms"
            );
        }
    }
}
