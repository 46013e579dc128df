//! Throughput of the convolution kernel on ResNet-50 and MobileNetV2 layer shapes.
//!
//! Run with `cargo run --release -p netspec --example conv_throughput`.

use netspec::kernels::conv::conv2d;
use netspec::{Conv2d, Tensor};
use std::time::Instant;

/// Times `conv2d` on a `[1, cin, hw, hw]` input and prints ms and GFLOP/s.
fn bench(name: &str, cin: usize, cout: usize, hw: usize, k: usize, stride: usize, groups: usize) {
    let p = k / 2;
    let c = Conv2d {
        in_channels: cin,
        out_channels: cout,
        kernel: [k, k],
        stride: [stride, stride],
        padding: [[p, p], [p, p]],
        dilation: [1, 1],
        groups,
        bias: true,
    };
    let data = (0..cin * hw * hw).map(|i| (i % 7) as f32 * 0.1).collect();
    let x = Tensor::new(&[1, cin, hw, hw], data).expect("shape matches data");
    let w: Vec<f32> = (0..cout * cin / groups * k * k)
        .map(|i| (i % 5) as f32 * 0.01)
        .collect();
    let b = vec![0.1; cout];
    let y = conv2d(&x, &w, Some(&b), &c).expect("valid convolution");
    let iters = 5;
    let start = Instant::now();
    for _ in 0..iters {
        std::hint::black_box(conv2d(&x, &w, Some(&b), &c).expect("valid convolution"));
    }
    let secs = start.elapsed().as_secs_f64() / iters as f64;
    let macs = (cout * (cin / groups) * k * k * y.shape()[2] * y.shape()[3]) as f64;
    println!(
        "{name:32} {:8.2} ms {:7.2} GFLOP/s",
        secs * 1e3,
        2.0 * macs / secs / 1e9
    );
}

fn main() {
    bench("resnet50 conv1 7x7/2 3->64 @224", 3, 64, 224, 7, 2, 1);
    bench("resnet50 1x1 64->256 @56", 64, 256, 56, 1, 1, 1);
    bench("resnet50 3x3 64->64 @56", 64, 64, 56, 3, 1, 1);
    bench("resnet50 3x3 256->256 @14", 256, 256, 14, 3, 1, 1);
    bench("resnet50 3x3 512->512 @7", 512, 512, 7, 3, 1, 1);
    bench("resnet50 1x1 512->2048 @7", 512, 2048, 7, 1, 1, 1);
    bench("mobilenetv2 dw 3x3 144 @56", 144, 144, 56, 3, 1, 144);
    bench("mobilenetv2 dw 3x3/2 144 @56", 144, 144, 56, 3, 2, 144);
    bench("mobilenetv2 dw 3x3 960 @7", 960, 960, 7, 3, 1, 960);
}
