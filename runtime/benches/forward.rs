//! Forward pass of every zoo model at batch 1 on one core (the fast backend,
//! `set_num_threads(1)`): criterion's estimates, then the median time and
//! achieved GFLOP/s (`FLOPS / median`). The `speed` example compares with
//! PyTorch on one thread and on all.
//!
//! `cargo bench -p netspec --bench forward` (a model name filters, e.g. `-- resnet50`);
//! `NETSPEC_BACKEND=reference` runs the reference backend (the plain loops) instead.

use criterion::{criterion_group, criterion_main, Criterion};
use netspec::zoo::{AlexNet, LeNet5, MobileNetV2, ResNet18, ResNet50, SqueezeNet1_0, Vgg16};
use netspec::{Backend, Network, Tensor};
use std::cell::RefCell;
use std::time::{Duration, Instant};

fn input<N: Network>() -> Tensor {
    let mut shape = vec![1];
    shape.extend_from_slice(N::INPUT_SHAPE);
    let n: usize = shape.iter().product();
    Tensor::new(
        &shape,
        (0..n)
            .map(|i| ((i * 7919 % 255) as f32 / 127.5) - 1.0)
            .collect(),
    )
    .expect("valid input")
}

fn bench_model<N: Network>(c: &mut Criterion, name: &str, run: impl Fn(&Tensor) -> Tensor) {
    let x = input::<N>();
    let times = RefCell::new(Vec::new());
    let mut group = c.benchmark_group("forward");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    group.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                std::hint::black_box(run(&x));
                let t = start.elapsed();
                times.borrow_mut().push(t);
                total += t;
            }
            total
        })
    });
    group.finish();
    let mut t = times.into_inner();
    if t.is_empty() {
        return; // filtered out
    }
    t.sort();
    let median = t[t.len() / 2];
    println!(
        "{name:<14} median {:>9.2} ms over {:>3} runs  {:>6.2} GFLOP/s  ({} FLOPs per sample)",
        median.as_secs_f64() * 1e3,
        t.len(),
        N::FLOPS as f64 / median.as_secs_f64() / 1e9,
        N::FLOPS
    );
}

/// The backend `NETSPEC_BACKEND` names (`reference`), else the default.
fn backend() -> Backend {
    match std::env::var("NETSPEC_BACKEND").as_deref() {
        Ok("reference") => Backend::Reference,
        _ => Backend::default(),
    }
}

macro_rules! models {
    ($c:expr, $($ty:ident => $name:literal),* $(,)?) => {
        $(
            let model = $ty::random(0).model().clone().with_backend(backend());
            bench_model::<$ty>($c, $name, |x| model.forward(x).expect("forward"));
        )*
    };
}

fn forward(c: &mut Criterion) {
    netspec::set_num_threads(1);
    models!(c,
        LeNet5 => "lenet5",
        MobileNetV2 => "mobilenet_v2",
        SqueezeNet1_0 => "squeezenet1_0",
        ResNet18 => "resnet18",
        AlexNet => "alexnet",
        ResNet50 => "resnet50",
        Vgg16 => "vgg16",
    );
}

criterion_group!(benches, forward);
criterion_main!(benches);
