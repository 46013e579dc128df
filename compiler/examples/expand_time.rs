//! Times `netspec_compiler::expand` on the body of a `network!` invocation
//! read from a file (or stdin), for reproducing a slow fuzz input:
//!
//! ```text
//! cargo run --release -p netspec-compiler --example expand_time -- input.txt
//! ```
//!
//! Prints the median of five expansions and the number of errors reported.

use proc_macro2::TokenStream;
use std::io::Read;
use std::str::FromStr;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut src = String::new();
    match std::env::args().nth(1) {
        Some(path) => src = std::fs::read_to_string(path)?,
        None => {
            std::io::stdin().read_to_string(&mut src)?;
        }
    }
    let tokens = TokenStream::from_str(&src).map_err(|e| format!("the input does not lex: {e}"))?;
    let mut times = Vec::new();
    let mut errors = 0;
    for _ in 0..5 {
        let start = Instant::now();
        let out = netspec_compiler::expand(tokens.clone());
        times.push(start.elapsed());
        errors = out.to_string().matches("compile_error").count();
    }
    times.sort();
    // The stages apart: parse, then instantiate, count and check.
    let start = Instant::now();
    let ast: netspec_compiler::ast::Input = syn::parse2(tokens.clone())?;
    let parsed = start.elapsed();
    let mut errs = netspec_compiler::errors::Errors::default();
    let start = Instant::now();
    let analyzed = netspec_compiler::analyze(&ast, &mut errs).len();
    let analysis = start.elapsed();
    println!(
        "parse {:.2} ms, analyze {:.2} ms ({analyzed} networks)",
        parsed.as_secs_f64() * 1e3,
        analysis.as_secs_f64() * 1e3
    );
    println!(
        "median {:.2} ms over 5 expansions, {errors} errors",
        times[2].as_secs_f64() * 1e3
    );
    Ok(())
}
