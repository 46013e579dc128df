//! How much of this CPU a zoo network uses, layer by layer, and why.
//!
//! ```text
//! cargo run --release --example utilization -- resnet18
//! cargo run --release --example utilization -- resnet18 --threads 1
//! cargo run --release --example utilization -- mobilenet_v2 --batch 4 --reference
//! cargo run --release --example utilization -- resnet18 --train --batch 64
//! ```
//!
//! Measures the CPU (peak FLOP/s per SIMD width, triad bandwidth) and how
//! much of the one-core peak the GEMM reaches, prints the network's
//! compile-time report and its utilization table (fast kernels on all cores
//! by default, against the roofline of that many cores), the roofline lower
//! bound on each preset device (with `--train`, of a training step too), and
//! writes the roofline plot to `target/netspec/<model>-roofline.svg`.

use clap::error::ErrorKind;
use clap::{CommandFactory, Parser};
use netspec::hardware::{HardwareProfile, PresetProfile, ProfileOptions, PRESETS};
use netspec::kernels::fast::gemm::square_rate;
use netspec::measure::{measure_model, MeasureOptions};
use netspec::zoo::*;
use netspec::{set_num_threads, Backend, Network, Tensor};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Every zoo model by its PyTorch-style name, and how to run it.
macro_rules! zoo {
    ($($name:literal => $ty:ident),* $(,)?) => {
        const MODELS: &[&str] = &[$($name),*];

        /// Runs `name` with random weights, `None` for an unknown name.
        fn run_model(name: &str, args: &Args, profile: &HardwareProfile) -> Option<Result<(), String>> {
            match name {
                $($name => Some(run(&$ty::random(0), args, profile)),)*
                _ => None,
            }
        }
    };
}

zoo! {
    "lenet5" => LeNet5,
    "alexnet" => AlexNet,
    "vgg16" => Vgg16,
    "resnet18" => ResNet18,
    "resnet50" => ResNet50,
    "squeezenet1_0" => SqueezeNet1_0,
    "squeezenet1_1" => SqueezeNet1_1,
    "mobilenet_v1" => MobileNetV1,
    "mobilenet_v2" => MobileNetV2,
    "mobilenet_v3_small" => MobileNetV3Small,
    "mobilenet_v3_large" => MobileNetV3Large,
    "shufflenet_v1" => ShuffleNetV1,
    "shufflenet_v2_x0_5" => ShuffleNetV2X0_5,
    "shufflenet_v2_x1_0" => ShuffleNetV2X1_0,
    "shufflenet_v2_x1_5" => ShuffleNetV2X1_5,
    "shufflenet_v2_x2_0" => ShuffleNetV2X2_0,
    "mnasnet1_0" => MnasNet1_0,
    "efficientnet_b0" => EfficientNetB0,
    "ghostnet" => GhostNet,
    "vit_b_16" => VitB16,
    "deit_tiny_patch16_224" => DeiTTiny,
    "convnext_tiny" => ConvNeXtTiny,
    "mobilevit_xxs" => MobileViTXxs,
    "mobilevit_s" => MobileViTS,
    "mobile_former_294m" => MobileFormer294M,
    "swin_t" => SwinT,
    "lraspp_mobilenet_v3_large" => LrasppMobileNetV3Large,
    "deeplabv3_mobilenet_v3_large" => DeepLabV3MobileNetV3Large,
    "fcn_resnet50" => FcnResNet50,
    "espnet" => ESPNet,
    "unet" => UNet,
}

/// How much of this CPU a zoo network uses, layer by layer, and why.
///
/// Measures the CPU (peak FLOP/s per SIMD width, triad bandwidth), prints the
/// network's compile-time report and its utilization table, the roofline lower
/// bound on each preset device, and writes the roofline plot to
/// `target/netspec/<model>-roofline.svg`.
#[derive(Parser)]
#[command(name = "utilization")]
struct Args {
    /// The zoo model, by its PyTorch-style name (any case)
    #[arg(value_parser = model_name, hide_possible_values = true)]
    model: Option<String>,
    /// Samples per forward pass
    #[arg(long, default_value_t = 1, value_parser = at_least_one)]
    batch: usize,
    /// Threads of the fast kernels (default: every core); the roofline is that many cores'
    #[arg(long, value_parser = at_least_one)]
    threads: Option<usize>,
    /// Run the reference kernels (plain loops, one thread) instead of the fast ones
    #[arg(long)]
    reference: bool,
    /// Also show a training step's roofline lower bound (forward + backward)
    /// at --batch on each preset device, and its memory with Adam
    #[arg(long)]
    train: bool,
}

/// Side of the square product whose rate the header compares with the peak.
const GEMM_SIZE: usize = 1024;

/// A model name, lowercased, that the zoo has.
fn model_name(s: &str) -> Result<String, String> {
    let name = s.to_lowercase();
    if MODELS.contains(&name.as_str()) {
        Ok(name)
    } else {
        Err(format!(
            "unknown model, expected one of {}",
            MODELS.join(", ")
        ))
    }
}

fn at_least_one(s: &str) -> Result<usize, String> {
    s.parse()
        .ok()
        .filter(|&b| b >= 1)
        .ok_or(format!("expected a number >= 1, found `{s}`"))
}

/// The target directory this example was built into (`target/release/examples/..`).
fn target_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().nth(3).map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("target"))
}

fn run<N: Network>(net: &N, args: &Args, profile: &HardwareProfile) -> Result<(), String> {
    println!("{}", N::REPORT);

    let mut shape = vec![args.batch];
    shape.extend_from_slice(N::INPUT_SHAPE);
    let x = Tensor::full(&shape, 0.5).map_err(|e| e.to_string())?;
    let backend = if args.reference {
        Backend::Reference
    } else {
        Backend::Fast
    };
    let model = net.model().clone().with_backend(backend);
    // One untimed run also sizes the timed ones: about 3 s in all, 3 to 20 runs.
    let start = Instant::now();
    model.forward(&x).map_err(|e| e.to_string())?;
    let once = start.elapsed().max(Duration::from_micros(1));
    let runs = (3.0 / once.as_secs_f64()).clamp(3.0, 20.0) as usize;
    eprintln!(
        "timing {} x {runs} runs (one run takes {:.1} ms)...",
        N::NAME,
        once.as_secs_f64() * 1e3
    );
    let options = MeasureOptions {
        warmup: 1,
        runs,
        profile: profile.clone(),
    };
    let m = measure_model(&model, &x, &options).map_err(|e| e.to_string())?;
    println!("{}", m.to_text());
    let fused: Vec<String> = (0..N::LAYERS.len())
        .filter_map(|i| {
            let into = model.fused_into(i)?;
            Some(format!(
                "{} into {}",
                N::LAYERS[i].name,
                N::LAYERS[into].name
            ))
        })
        .collect();
    if !fused.is_empty() {
        println!(
            "{} layers fused into the layer before them (their time is in that layer's): {}",
            fused.len(),
            fused.join(", ")
        );
    }

    println!(
        "roofline lower bound of {} (batch {}) on preset devices, without running:",
        N::NAME,
        args.batch
    );
    for p in PRESETS {
        let e = netspec::roofline::estimate_batch(N::GRAPH, args.batch as u64, &p.profile());
        println!(
            "  {:<36} {:>10.3} ms ({:.3} ms if layers overlapped)",
            p.name,
            e.latency * 1e3,
            e.fused_latency * 1e3
        );
    }

    if args.train {
        let batch = args.batch as u64;
        println!(
            "\ntraining step of {} (batch {batch}: forward + backward, optimizer update excluded), without running:",
            N::NAME
        );
        for p in PRESETS {
            let e = netspec::roofline::estimate_training(N::GRAPH, batch, &p.profile());
            println!(
                "  {:<36} {:>10.3} ms ({:.3} ms if layers overlapped)",
                p.name,
                e.latency * 1e3,
                e.fused_latency * 1e3
            );
        }
        let adam = N::train_memory(batch, netspec::Optimizer::Adam, netspec::Precision::F32);
        println!(
            "  memory with Adam in f32: {} ({} kept for backward)",
            netspec::format::bytes(adam),
            netspec::format::bytes(N::saved_bytes(batch))
        );
    }

    let svg = m.to_svg().map_err(|e| e.to_string())?;
    let dir = target_dir().join("netspec");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let model = args.model.as_deref().unwrap_or(N::NAME);
    let path = dir.join(format!("{model}-roofline.svg"));
    std::fs::write(&path, svg).map_err(|e| format!("{}: {e}", path.display()))?;
    println!("\nroofline plot written to {}", path.display());
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    let Some(model) = args.model.clone() else {
        Args::command()
            .error(
                ErrorKind::MissingRequiredArgument,
                format!("expected a model name, one of: {}", MODELS.join(", ")),
            )
            .exit()
    };

    let measured = HardwareProfile::measure_with_progress_bar(&ProfileOptions::default());
    // The GEMM every convolution and linear layer runs, on one core, against
    // the one-core FMA peak just measured.
    set_num_threads(1);
    let gemm = square_rate(GEMM_SIZE, 5);
    let one_core = measured.one_core().peak_flops;
    println!("{measured}");
    println!(
        "  GEMM reaches {:.1} % of peak: {GEMM_SIZE}x{GEMM_SIZE}x{GEMM_SIZE} f32 product, 1 thread, {:.1} GFLOP/s of {:.1}\n",
        100.0 * gemm / one_core,
        gemm / 1e9,
        one_core / 1e9
    );
    // The measurement uses the roofline of the threads the kernels run on.
    set_num_threads(if args.reference {
        1
    } else {
        args.threads.unwrap_or(0)
    });
    let profile = measured;

    let Some(result) = run_model(&model, &args, &profile) else {
        eprintln!(
            "unknown model `{model}`: expected one of {}",
            MODELS.join(", ")
        );
        return ExitCode::FAILURE;
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
