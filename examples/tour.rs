//! A quick tour: declare a network, read its compile-time costs and report,
//! check a budget, and run it.
//!
//! `cargo run --release --example tour`

use clap::Parser;
use netspec::{network, Network, Tensor};

network! {
    /// A depthwise-separable unit in the MobileNet style.
    block Separable(x, out, stride = 1) {
        x -> dw: Conv2d(x.channels, 3, stride = stride, padding = 1, groups = x.channels, bias = false)
          -> dw_bn: BatchNorm2d -> ReLU6
          -> pw: Conv2d(out, 1, bias = false) -> pw_bn: BatchNorm2d -> ReLU6
    }

    /// A small classifier for 64x64 images, held to a budget: adding a stage
    /// that breaks it makes this file fail to compile, with the numbers.
    #[budget(params <= 25K, macs <= 2M, peak_activation <= 256KiB)]
    pub struct TinyNet(x: [3, 64, 64]) {
        x -> stem: [Conv2d(16, 3, stride = 2, padding = 1, bias = false), BatchNorm2d, ReLU6]
          -> stages: [
                for i in 0..4 => Separable(32 * (i / 2 + 1), stride = if i % 2 == 0 { 2 } else { 1 }),
                Separable(128, stride = 2),
            ]
          -> AdaptiveAvgPool2d(1) -> Flatten -> Dropout(0.2) -> fc: Linear(10)
    }
}

// The same check from anywhere, on any network type (here a zoo model):
netspec::assert_budget!(
    netspec::zoo::ResNet18,
    params <= 12_000_000,
    macs <= 2_000_000_000
);

/// A quick tour of netspec: declare a network, read its compile-time costs
/// and report, check a budget, and run it.
#[derive(Parser)]
#[command(name = "tour")]
struct Args {}

fn main() -> Result<(), netspec::Error> {
    Args::parse();
    println!("{}", TinyNet::REPORT);
    println!(
        "{}: {} params, {} MACs, {} FLOPs, {} bytes moved, peak activations {} bytes",
        TinyNet::NAME,
        TinyNet::PARAMS,
        TinyNet::MACS,
        TinyNet::FLOPS,
        TinyNet::MEMORY_ACCESS_BYTES,
        TinyNet::PEAK_ACTIVATION_BYTES,
    );

    // The numbers are consts: usable in const contexts and generic code.
    const HALF_A_MEGAFLOP_LAYERS: usize = {
        let mut n = 0;
        let mut i = 0;
        while i < TinyNet::LAYERS.len() {
            if TinyNet::LAYERS[i].flops > 500_000 {
                n += 1;
            }
            i += 1;
        }
        n
    };
    println!("layers above 0.5 MFLOPs: {HALF_A_MEGAFLOP_LAYERS}");

    // Run it: random PyTorch-style weights, a batch of two images.
    let net = TinyNet::random(42);
    let x = Tensor::zeros(&[2, 3, 64, 64])?;
    let logits = net.forward(&x)?;
    println!("output shape {:?}", logits.shape());

    // A wrong input is an error naming both shapes, not a panic.
    if let Err(e) = net.forward(&Tensor::zeros(&[1, 3, 32, 32])?) {
        println!("as expected: {e}");
    }
    println!("\nAs Markdown:\n\n{}", TinyNet::report_markdown());
    Ok(())
}
