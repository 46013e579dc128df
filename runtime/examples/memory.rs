//! Peak memory (RSS) of a ResNet-50 forward pass against what netspec's
//! compile-time counts predict: `WEIGHT_BYTES + PEAK_ACTIVATION_BYTES`, plus
//! the fast backend's packed weights and the GEMM workspace.
//!
//! ```text
//! cargo run --release -p netspec --example memory
//! cargo run --release -p netspec --example memory -- --reference --batch 8
//! ```
//!
//! Reads `VmRSS` and `VmHWM` from `/proc/self/status` (Linux): before the
//! model exists, after it is built (weights drawn and packed), and the peak
//! during one forward pass (the peak is reset just before it through
//! `/proc/self/clear_refs`, so it is the forward pass's own).

use netspec::zoo::ResNet50;
use netspec::{Backend, Tensor};
use std::process::ExitCode;

/// A `kB` field of `/proc/self/status`, in bytes.
fn status(field: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = text.lines().find(|l| l.starts_with(field))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn mib(b: u64) -> String {
    format!("{:.1} MiB", b as f64 / (1 << 20) as f64)
}

fn main() -> ExitCode {
    let mut backend = Backend::Fast;
    let mut batch = 1usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--reference" => backend = Backend::Reference,
            "--batch" => match args.next().and_then(|v| v.parse().ok()).filter(|&b| b >= 1) {
                Some(b) => batch = b,
                None => {
                    eprintln!("--batch expects a number >= 1");
                    return ExitCode::FAILURE;
                }
            },
            other => {
                eprintln!("unexpected argument `{other}`\nusage: memory [--reference] [--batch N]");
                return ExitCode::FAILURE;
            }
        }
    }
    let (Some(base), Some(_)) = (status("VmRSS:"), status("VmHWM:")) else {
        eprintln!("/proc/self/status has no VmRSS/VmHWM: this example needs Linux");
        return ExitCode::FAILURE;
    };
    let mut shape = vec![batch];
    shape.extend_from_slice(ResNet50::INPUT_SHAPE);
    let n: usize = shape.iter().product();
    let x = Tensor::new(
        &shape,
        (0..n).map(|i| (i % 255) as f32 / 127.5 - 1.0).collect(),
    )
    .expect("input shape");
    let input_bytes = (n * 4) as u64;
    let model = ResNet50::random(0).model().clone().with_backend(backend);
    let loaded = status("VmRSS:").unwrap_or(0);
    // Reset the peak to the current RSS, so that VmHWM is the forward pass's.
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    if let Err(e) = model.forward(&x) {
        eprintln!("forward: {e}");
        return ExitCode::FAILURE;
    }
    let peak = status("VmHWM:").unwrap_or(0);
    let threads = match backend {
        Backend::Reference => 1,
        _ => netspec::num_threads(),
    };
    let weights = ResNet50::WEIGHT_BYTES;
    let activations = ResNet50::PEAK_ACTIVATION_BYTES * batch as u64;
    let packed = model.packed_weight_bytes() as u64;
    let planned = model.planned_activation_bytes(batch) as u64;
    let workspace = model.workspace_bytes(batch, threads) as u64;
    println!("ResNet-50, batch {batch}, {backend:?} backend, {threads} thread(s)\n");
    println!("| what | bytes |\n| --- | ---: |");
    println!(
        "| RSS before the model (program, libraries, input {}) | {} |",
        mib(input_bytes),
        mib(base)
    );
    println!(
        "| model built: RSS growth | {} |",
        mib(loaded.saturating_sub(base))
    );
    println!("| `WEIGHT_BYTES` | {} |", mib(weights));
    println!(
        "| packed weights of the fast backend (folded batch norms) | {} |",
        mib(packed)
    );
    println!(
        "| forward pass: peak RSS growth over the built model{} | {} |",
        if reset {
            ""
        } else {
            " (peak not reset: since start)"
        },
        mib(peak.saturating_sub(loaded))
    );
    println!("| `PEAK_ACTIVATION_BYTES` x batch | {} |", mib(activations));
    println!(
        "| activation slots the plan allocates (liveness) | {} |",
        mib(planned)
    );
    println!(
        "| im2col workspace ({threads} thread(s)) | {} |",
        mib(workspace)
    );
    println!(
        "| rest of the forward pass's growth (GEMM packing buffers, thread stacks, allocator) | {} |",
        mib(peak.saturating_sub(loaded).saturating_sub(planned + workspace))
    );
    println!(
        "| peak RSS over the program's own | {} |",
        mib(peak.max(loaded).saturating_sub(base))
    );
    println!(
        "| `WEIGHT_BYTES + PEAK_ACTIVATION_BYTES` + packed + workspace | {} |",
        mib(weights + activations + packed + workspace)
    );
    ExitCode::SUCCESS
}
