//! Prints the totals and report of every network in a Rust file's
//! `network! { ... }` invocations, straight from the compiler stages.
//!
//! `cargo run -p netspec-compiler --example dump -- runtime/src/zoo/resnet.rs`

use netspec_compiler::{analyze, ast::Input, value::Errors};

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: dump FILE.rs");
        std::process::exit(2);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("cannot read {path}: {e}");
            std::process::exit(2);
        }
    };
    let file: syn::File = match syn::parse_file(&text) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(1);
        }
    };
    for item in file.items {
        let syn::Item::Macro(m) = item else { continue };
        let input: Input = match syn::parse2(m.mac.tokens) {
            Ok(i) => i,
            Err(e) => {
                eprintln!("parse error: {e}");
                continue;
            }
        };
        let mut errors = Errors::default();
        for net in analyze(&input, &mut errors).into_iter().flatten() {
            println!("{}", net.report());
        }
        if let Some(e) = errors.combined() {
            for e in e {
                eprintln!("error: {e}");
            }
        }
    }
}
