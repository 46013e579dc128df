//! netspec against PyTorch on the same models, back to back in one run:
//! ResNet-50, ResNet-18, MobileNetV2 and EfficientNet-B0 at 1 thread and at
//! all threads, batch 1 and batch 8.
//!
//! ```text
//! cargo run --release -p netspec --example speed                       # netspec only
//! cargo run --release -p netspec --example speed -- --torch python3    # and PyTorch after each
//! cargo run --release -p netspec --example speed -- --torch python3 --runs 10 --model resnet18
//! ```
//!
//! For each configuration netspec's fast backend runs first (2 untimed
//! forward passes, then `--runs` timed ones, median), then, with `--torch`,
//! `scripts/torch_speed.py` times PyTorch on the same configuration in a
//! child process (`torch.set_num_threads` to the same count, `no_grad`,
//! eval mode, same warm-up and run count). The closing table gives both
//! medians and their ratio, in Markdown.

use netspec::zoo::{EfficientNetB0, MobileNetV2, ResNet18, ResNet50};
use netspec::{set_num_threads, threads, Model, Tensor};
use std::process::{Command, ExitCode};
use std::time::Instant;

struct Args {
    torch: Option<String>,
    runs: usize,
    models: Vec<String>,
    threads: Vec<usize>,
    batches: Vec<usize>,
}

const MODELS: [&str; 4] = ["resnet50", "resnet18", "mobilenet_v2", "efficientnet_b0"];
const USAGE: &str =
    "usage: speed [--torch PYTHON] [--runs N] [--model NAME]... [--threads N]... [--batch N]...";

fn parse() -> Result<Args, String> {
    let mut a = Args {
        torch: None,
        runs: 10,
        models: Vec::new(),
        threads: Vec::new(),
        batches: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    let number = |flag: &str, v: Option<String>| -> Result<usize, String> {
        let v = v.ok_or(format!("{flag} expects a number"))?;
        v.parse()
            .ok()
            .filter(|&n| n >= 1)
            .ok_or(format!("{flag} expects a number >= 1, found `{v}`"))
    };
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--torch" => a.torch = Some(it.next().ok_or("--torch expects a python")?),
            "--runs" => a.runs = number("--runs", it.next())?,
            "--threads" => a.threads.push(number("--threads", it.next())?),
            "--batch" => a.batches.push(number("--batch", it.next())?),
            "--model" => {
                let m = it.next().ok_or("--model expects a name")?;
                if !MODELS.contains(&m.as_str()) {
                    return Err(format!("unknown model `{m}`, expected one of {MODELS:?}"));
                }
                a.models.push(m);
            }
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unexpected argument `{other}`\n{USAGE}")),
        }
    }
    if a.models.is_empty() {
        a.models = MODELS.iter().map(|s| s.to_string()).collect();
    }
    if a.threads.is_empty() {
        a.threads = vec![1, threads::available()];
        a.threads.dedup();
    }
    if a.batches.is_empty() {
        a.batches = vec![1, 8];
    }
    Ok(a)
}

fn model(name: &str) -> (Model, &'static [usize]) {
    match name {
        "resnet50" => (ResNet50::random(0).model().clone(), ResNet50::INPUT_SHAPE),
        "resnet18" => (ResNet18::random(0).model().clone(), ResNet18::INPUT_SHAPE),
        "mobilenet_v2" => (
            MobileNetV2::random(0).model().clone(),
            MobileNetV2::INPUT_SHAPE,
        ),
        _ => (
            EfficientNetB0::random(0).model().clone(),
            EfficientNetB0::INPUT_SHAPE,
        ),
    }
}

fn median(mut t: Vec<f64>) -> f64 {
    t.sort_by(f64::total_cmp);
    let n = t.len();
    if n % 2 == 1 {
        t[n / 2]
    } else {
        (t[n / 2 - 1] + t[n / 2]) / 2.0
    }
}

/// PyTorch's median in ms for one configuration, from the script's output line.
fn torch_ms(
    python: &str,
    name: &str,
    threads: usize,
    batch: usize,
    runs: usize,
) -> Result<f64, String> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/torch_speed.py");
    let out = Command::new(python)
        .args([script, "--model", name])
        .args([
            "--threads",
            &threads.to_string(),
            "--batch",
            &batch.to_string(),
        ])
        .args(["--runs", &runs.to_string()])
        .output()
        .map_err(|e| format!("{python}: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| {
            let mut w = l.split_whitespace();
            while let Some(t) = w.next() {
                if t == "median_ms" {
                    return w.next()?.parse().ok();
                }
            }
            None
        })
        .ok_or_else(|| {
            format!(
                "no median in the output of {script}: {}{}",
                text,
                String::from_utf8_lossy(&out.stderr)
            )
        })
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let mut rows = Vec::new();
    for name in &args.models {
        let (m, input) = model(name);
        for &t in &args.threads {
            for &b in &args.batches {
                set_num_threads(t);
                let mut shape = vec![b];
                shape.extend_from_slice(input);
                let n: usize = shape.iter().product();
                let x = Tensor::new(
                    &shape,
                    (0..n)
                        .map(|i| ((i * 7919 % 255) as f32 / 127.5) - 1.0)
                        .collect(),
                )
                .expect("input shape");
                let mut times = Vec::new();
                for r in 0..args.runs + 2 {
                    let start = Instant::now();
                    let y = m.forward(&x);
                    let s = start.elapsed().as_secs_f64();
                    if let Err(e) = y {
                        eprintln!("{name}: {e}");
                        return ExitCode::FAILURE;
                    }
                    if r >= 2 {
                        times.push(s);
                    }
                }
                let ours = median(times) * 1e3;
                let theirs = match &args.torch {
                    Some(py) => match torch_ms(py, name, t, b, args.runs) {
                        Ok(ms) => Some(ms),
                        Err(e) => {
                            eprintln!("{e}");
                            return ExitCode::FAILURE;
                        }
                    },
                    None => None,
                };
                let line = match theirs {
                    Some(p) => format!(
                        "| {name} | {t} | {b} | {ours:.2} | {p:.2} | {:.2} |",
                        ours / p
                    ),
                    None => format!("| {name} | {t} | {b} | {ours:.2} | | |"),
                };
                println!("{line}");
                rows.push(line);
            }
        }
    }
    set_num_threads(0);
    println!(
        "\n{} timed runs per configuration, medians in ms\n\n| model | threads | batch | netspec | PyTorch | netspec / PyTorch |\n| --- | ---: | ---: | ---: | ---: | ---: |",
        args.runs
    );
    for r in rows {
        println!("{r}");
    }
    ExitCode::SUCCESS
}
