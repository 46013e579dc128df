//! Every zoo network side by side: what each costs, known at compile time.
//!
//! ```text
//! cargo run --release --example zoo
//! cargo run --release --example zoo -- --measure
//! ```
//!
//! Prints one Markdown table over the zoo: parameters, MACs, FLOPs, weight
//! size, memory access, peak activation memory and arithmetic intensity (FLOPs
//! per byte moved), all per 1-sample forward pass and read from the types'
//! consts. With `--measure`, it also measures this CPU
//! (`HardwareProfile::measure`) and times each network with `netspec::measure`
//! (random weights, batch 1, a few runs each: about a minute in all), adding
//! the median latency, the achieved GFLOP/s and the utilization of one core's
//! peak (the kernels run on one thread).
//!
//! Writes the table to `target/netspec/zoo.md` and a log-log chart of MACs
//! against parameters, one labelled point per network, to
//! `target/netspec/zoo.svg`.

use clap::Parser;
use netspec::format::{bytes, si, thousands};
use netspec::hardware::{HardwareProfile, ProfileOptions};
use netspec::measure::{measure, MeasureOptions};
use netspec::zoo::*;
use netspec::{Network, Tensor};
use plotters::prelude::*;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// What `--measure` finds for one network.
struct Measured {
    /// Median forward time of one sample, seconds.
    latency: f64,
    /// Achieved FLOP/s.
    flop_rate: f64,
    /// `flop_rate` over the one-core peak.
    utilization: f64,
}

/// One zoo network's compile-time figures, and how to time it.
struct Entry {
    name: &'static str,
    input: &'static [usize],
    params: u64,
    macs: u64,
    flops: u64,
    weight_bytes: u64,
    memory_access: u64,
    peak_activation: u64,
    time: fn(&HardwareProfile) -> Result<Measured, String>,
}

impl Entry {
    fn of<N: Network>(time: fn(&HardwareProfile) -> Result<Measured, String>) -> Entry {
        Entry {
            name: N::NAME,
            input: N::INPUT_SHAPE,
            params: N::PARAMS,
            macs: N::MACS,
            flops: N::FLOPS,
            weight_bytes: N::WEIGHT_BYTES,
            memory_access: N::MEMORY_ACCESS_BYTES,
            peak_activation: N::PEAK_ACTIVATION_BYTES,
            time,
        }
    }

    /// FLOPs per byte moved.
    fn intensity(&self) -> f64 {
        self.flops as f64 / self.memory_access.max(1) as f64
    }

    /// The input per sample, `3x224x224`.
    fn input(&self) -> String {
        let dims: Vec<String> = self.input.iter().map(usize::to_string).collect();
        dims.join("x")
    }
}

/// Times `net` on one sample of 0.5s: one untimed run, then enough runs for
/// about a second (3 to 10).
fn time<N: Network>(net: &N, profile: &HardwareProfile) -> Result<Measured, String> {
    let mut shape = vec![1];
    shape.extend_from_slice(N::INPUT_SHAPE);
    let x = Tensor::full(&shape, 0.5).map_err(|e| e.to_string())?;
    let start = Instant::now();
    net.model().forward(&x).map_err(|e| e.to_string())?;
    let once = start.elapsed().max(Duration::from_micros(1));
    let runs = (1.0 / once.as_secs_f64()).clamp(3.0, 10.0) as usize;
    let options = MeasureOptions {
        warmup: 0,
        runs,
        profile: profile.clone(),
    };
    let m = measure(net, &x, &options).map_err(|e| e.to_string())?;
    Ok(Measured {
        latency: m.total.time.median,
        flop_rate: m.total.flop_rate.unwrap_or(0.0),
        utilization: m.total.utilization.unwrap_or(0.0),
    })
}

/// Every zoo network, with a timing function that builds it with random weights.
macro_rules! zoo {
    ($($ty:ident),* $(,)?) => {
        vec![$(Entry::of::<$ty>(|p| time(&$ty::random(0), p))),*]
    };
}

fn entries() -> Vec<Entry> {
    zoo![
        LeNet5,
        AlexNet,
        Vgg16,
        ResNet18,
        ResNet50,
        SqueezeNet1_0,
        SqueezeNet1_1,
        MobileNetV1,
        MobileNetV2,
        MobileNetV3Small,
        MobileNetV3Large,
        ShuffleNetV1,
        ShuffleNetV2X0_5,
        ShuffleNetV2X1_0,
        ShuffleNetV2X1_5,
        ShuffleNetV2X2_0,
        MnasNet1_0,
        EfficientNetB0,
        GhostNet,
        VitB16,
        DeiTTiny,
        ConvNeXtTiny,
        MobileViTXxs,
        MobileViTS,
        MobileFormer294M,
        SwinT,
        LrasppMobileNetV3Large,
        DeepLabV3MobileNetV3Large,
        FcnResNet50,
        ESPNet,
        UNet,
    ]
}

/// The table as Markdown, columns padded so that it also reads as text.
fn markdown(entries: &[Entry], measured: Option<&[Result<Measured, String>]>) -> String {
    let mut header = vec![
        "model",
        "input",
        "params",
        "MACs",
        "FLOPs",
        "weights",
        "memory access",
        "peak activations",
        "FLOP/byte",
    ];
    if measured.is_some() {
        header.extend(["latency", "GFLOP/s", "utilization (1 core)"]);
    }
    let mut rows: Vec<Vec<String>> = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let mut row = vec![
            format!("`{}`", e.name),
            e.input(),
            thousands(e.params),
            thousands(e.macs),
            si(e.flops),
            bytes(e.weight_bytes),
            bytes(e.memory_access),
            bytes(e.peak_activation),
            format!("{:.2}", e.intensity()),
        ];
        if let Some(m) = measured {
            match &m[i] {
                Ok(m) => row.extend([
                    format!("{:.1} ms", m.latency * 1e3),
                    format!("{:.2}", m.flop_rate / 1e9),
                    format!("{:.1} %", m.utilization * 100.0),
                ]),
                Err(e) => row.extend([format!("error: {e}"), "-".into(), "-".into()]),
            }
        }
        rows.push(row);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .map(|r| r[c].chars().count())
                .chain([header[c].len(), 3])
                .max()
                .unwrap_or(3)
        })
        .collect();
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(c, s)| {
                if c == 0 {
                    format!("{s:<w$}", w = widths[c])
                } else {
                    format!("{s:>w$}", w = widths[c])
                }
            })
            .collect();
        format!("| {} |\n", padded.join(" | "))
    };
    let mut out = line(header.iter().map(|h| h.to_string()).collect());
    let rule: Vec<String> = widths
        .iter()
        .enumerate()
        .map(|(c, &w)| {
            if c == 0 {
                "-".repeat(w)
            } else {
                format!("{}:", "-".repeat(w - 1))
            }
        })
        .collect();
    out.push_str(&format!("| {} |\n", rule.join(" | ")));
    for r in rows {
        out.push_str(&line(r));
    }
    out
}

/// MACs against parameters, log-log, one labelled point per network, each
/// at its own input: the label carries the input wherever it is not the one
/// most of the zoo shares.
fn chart(entries: &[Entry]) -> Result<String, String> {
    let mut inputs: Vec<&[usize]> = entries.iter().map(|e| e.input).collect();
    inputs.sort();
    let common = inputs
        .chunk_by(|a, b| a == b)
        .max_by_key(|run| run.len())
        .and_then(|run| run.first().copied())
        .unwrap_or(&[]);
    let labels: Vec<String> = entries
        .iter()
        .map(|e| {
            if e.input == common {
                e.name.to_string()
            } else {
                format!("{} ({})", e.name, e.input())
            }
        })
        .collect();
    let err = |e: &dyn std::fmt::Display| e.to_string();
    let (mut p0, mut p1, mut m0, mut m1) = (f64::INFINITY, 0.0f64, f64::INFINITY, 0.0f64);
    for e in entries {
        p0 = p0.min(e.params as f64);
        p1 = p1.max(e.params as f64);
        m0 = m0.min(e.macs as f64);
        m1 = m1.max(e.macs as f64);
    }
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (1200, 800)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(&e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "netspec zoo: MACs against parameters (each at its own input, batch 1; \
                 labels name the input where it is not the zoo's usual one)",
                ("sans-serif", 20),
            )
            .margin(20)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d(
                (p0 / 2.0..p1 * 3.0).log_scale(),
                (m0 / 2.0..m1 * 3.0).log_scale(),
            )
            .map_err(|e| err(&e))?;
        chart
            .configure_mesh()
            .x_desc("parameters")
            .y_desc("MACs")
            .x_label_formatter(&|v| si(*v as u64))
            .y_label_formatter(&|v| si(*v as u64))
            .draw()
            .map_err(|e| err(&e))?;
        // Labels go beside their point, at the first offset where they overlap
        // no label placed before and no other point (the middle of the chart is crowded).
        let pixel: Vec<(i32, i32)> = entries
            .iter()
            .map(|e| chart.backend_coord(&(e.params as f64, e.macs as f64)))
            .collect();
        let mut placed: Vec<(i32, i32, i32, i32)> = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            let p = (e.params as f64, e.macs as f64);
            let color = Palette99::pick(i).to_rgba();
            chart
                .draw_series(std::iter::once(Circle::new(p, 5, color.filled())))
                .map_err(|e| err(&e))?;
            let (w, h) = (7 * labels[i].len() as i32, 15);
            let (x, y) = pixel[i];
            let candidates = [
                (8, -7),
                (8, -21),
                (8, 7),
                (-w - 8, -7),
                (-w - 8, -21),
                (-w - 8, 7),
                (8, -35),
                (8, 21),
                (-w - 8, 21),
                (-w - 8, -35),
                (8, 35),
                (-w - 8, 35),
            ];
            let overlaps = |(dx, dy): (i32, i32)| {
                let (x0, y0) = (x + dx, y + dy);
                let boxes = placed
                    .iter()
                    .any(|&(a, b, c, d)| x0 < c && a < x0 + w && y0 < d && b < y0 + h);
                let points = pixel.iter().enumerate().any(|(j, &(px, py))| {
                    j != i && px + 5 > x0 && px - 5 < x0 + w && py + 5 > y0 && py - 5 < y0 + h
                });
                boxes || points
            };
            let (dx, dy) = candidates
                .iter()
                .copied()
                .find(|&c| !overlaps(c))
                .unwrap_or(candidates[0]);
            placed.push((x + dx, y + dy, x + dx + w, y + dy + h));
            // A label moved away from its point gets a thin leader line.
            let lead = if (dx, dy) == candidates[0] {
                vec![(0, 0), (0, 0)]
            } else {
                let lx = if dx < 0 { dx + w } else { dx };
                vec![(0, 0), (lx, dy + h / 2)]
            };
            chart
                .draw_series(std::iter::once(
                    EmptyElement::at(p)
                        + PathElement::new(lead, color.stroke_width(1))
                        + Text::new(labels[i].clone(), (dx, dy), ("sans-serif", 13)),
                ))
                .map_err(|e| err(&e))?;
        }
        root.present().map_err(|e| err(&e))?;
    }
    Ok(svg)
}

/// The target directory this example was built into (`target/release/examples/..`).
fn target_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().nth(3).map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("target"))
}

/// Every zoo network side by side: what each costs, known at compile time.
///
/// Prints one Markdown table over the zoo and writes it to
/// `target/netspec/zoo.md`, with a chart of MACs against parameters in
/// `target/netspec/zoo.svg`.
#[derive(Parser)]
#[command(name = "zoo")]
struct Args {
    /// Also measure this CPU and time each network (about a minute)
    #[arg(long)]
    measure: bool,
}

fn main() -> ExitCode {
    let measure_too = Args::parse().measure;
    let entries = entries();

    let measured = if measure_too {
        // The kernels run on one thread: utilization is against one core.
        netspec::set_num_threads(1);
        let profile =
            HardwareProfile::measure_with_progress_bar(&ProfileOptions::default()).one_core();
        eprintln!("{profile}");
        let results: Vec<Result<Measured, String>> = entries
            .iter()
            .map(|e| {
                eprintln!("timing {}...", e.name);
                (e.time)(&profile)
            })
            .collect();
        Some((profile, results))
    } else {
        None
    };

    let table = markdown(&entries, measured.as_ref().map(|(_, r)| r.as_slice()));
    println!("{table}");
    let mut doc = String::from("# The netspec zoo\n\n");
    doc.push_str(
        "Per 1-sample forward pass: MACs of convolutions and linear layers (bias excluded), \
         FLOPs of every layer, weights and memory access as f32, peak activation memory \
         by liveness, FLOP/byte = FLOPs / memory access.\n\n",
    );
    doc.push_str(&table);
    if let Some((profile, _)) = &measured {
        doc.push_str(&format!(
            "\nMeasured with `netspec::measure`, random weights, batch 1, median of 3 to 10 runs, \
             against {}.\n",
            profile.name
        ));
    }

    let dir = target_dir().join("netspec");
    let written = std::fs::create_dir_all(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))
        .and_then(|()| {
            let md = dir.join("zoo.md");
            std::fs::write(&md, doc).map_err(|e| format!("{}: {e}", md.display()))?;
            let svg = dir.join("zoo.svg");
            std::fs::write(&svg, chart(&entries)?)
                .map_err(|e| format!("{}: {e}", svg.display()))?;
            Ok((md, svg))
        });
    match written {
        Ok((md, svg)) => {
            println!("table written to {}", md.display());
            println!("chart written to {}", svg.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
