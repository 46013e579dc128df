//! The fast kernels against the reference kernels, and the GEMM crates
//! against each other, as one table of medians.
//!
//! ```text
//! cargo bench -p netspec --bench kernels            # every group
//! cargo bench -p netspec --bench kernels -- gemm    # groups whose name contains `gemm`
//! MATMUL_NUM_THREADS=2 cargo bench -p netspec --bench kernels -- gemm
//! ```
//!
//! Groups: `peak` (the chosen GEMM on a large square product as a share of
//! the measured one-core FMA peak), `gemm` (the `gemm` crate on 1 and all
//! threads against `matrixmultiply`, whose thread count is read once from
//! `MATMUL_NUM_THREADS`, default 1 here), `conv`, `depthwise`, `linear`,
//! `elementwise`, `pool`, `decoder` (transposed and 3-D convolutions,
//! bilinear upsampling) (reference kernel, then the fast one on 1 and all
//! threads).
//! Each figure is the median of at least 5 runs (and about 0.4 s) after one
//! untimed run; with `NETSPEC_BENCH_CPU=1`, the minimum thread CPU time of 15
//! runs instead (single-thread figures on a machine busy with other work;
//! multi-thread figures are then meaningless).

use netspec::hardware::{HardwareProfile, ProfileOptions};
use netspec::kernels::fast::gemm::{matmul, square_rate, MatMut, MatRef};
use netspec::kernels::fast::{elementwise as fel, PackedConv, PackedLinear};
use netspec::kernels::{activation, conv, elementwise, linear, norm};
use netspec::{set_num_threads, threads, Activation, Conv2d, Linear, Tensor};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Median seconds of `f` (at least 5 runs, about 0.4 s, after one untimed run).
/// With `NETSPEC_BENCH_CPU=1`: the minimum thread CPU time of 15 runs instead
/// (single-thread figures on a machine busy with other work).
fn median(mut f: impl FnMut()) -> f64 {
    if std::env::var_os("NETSPEC_BENCH_CPU").is_some() {
        return cpu_min(f);
    }
    f();
    let mut t = Vec::new();
    let start = Instant::now();
    while t.len() < 5 || (start.elapsed() < Duration::from_millis(400) && t.len() < 200) {
        let s = Instant::now();
        f();
        t.push(s.elapsed().as_secs_f64());
    }
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

fn data(n: usize, seed: usize) -> Vec<f32> {
    (0..n)
        .map(|i| ((i * 7919 + seed * 104_729) % 1013) as f32 / 506.5 - 1.0)
        .collect()
}

fn ms(s: f64) -> String {
    format!("{:>9.3} ms", s * 1e3)
}

/// Medians of `run` on 1 and on `all` threads, each run handed the
/// previous run's output to write into, as a forward pass reuses its
/// buffers (a kernel that allocates its output ignores it).
fn one_and_all(all: usize, mut run: impl FnMut(Tensor) -> Tensor) -> (f64, f64) {
    let mut buffer = Some(Tensor::zeros(&[0]).expect("empty"));
    let mut fast = |t: usize| {
        set_num_threads(t);
        median(|| {
            let y = run(buffer.take().expect("buffer"));
            buffer = Some(black_box(y));
        })
    };
    let times = (fast(1), fast(all));
    set_num_threads(0);
    times
}

/// A row of a table with the reference's time, then the fast kernel's on
/// 1 and on all threads, each with its speedup.
fn speedup_row(name: &str, input: &str, reference: f64, (one, many): (f64, f64)) {
    println!(
        "| {name} | {input} | {} | {} | {:.1}x | {} | {:.1}x |",
        ms(reference),
        ms(one),
        reference / one,
        ms(many),
        reference / many
    );
}

/// `gemm` crate against `matrixmultiply`: `(name, m, k, n)`, C = A·B row-major.
fn gemm_group() {
    let mm_threads = std::env::var("MATMUL_NUM_THREADS").unwrap_or_else(|_| "1".into());
    // SAFETY: no other thread reads the environment at this point.
    unsafe { std::env::set_var("MATMUL_NUM_THREADS", &mm_threads) };
    let all = threads::available();
    println!(
        "\n## gemm: GFLOP/s (median), C[m,n] = A[m,k]·B[k,n] row-major\n\n\
         | shape | m | k | n | gemm 1 thread | gemm {all} threads | matrixmultiply ({mm_threads} thread(s)) |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    let shapes = [
        ("square 256", 256, 256, 256),
        ("square 512", 512, 512, 512),
        ("square 1024", 1024, 1024, 1024),
        ("resnet conv1 (im2col)", 64, 147, 12544),
        ("resnet50 1x1 64->256 @56", 256, 64, 3136),
        ("resnet18 3x3 64 @56 (im2col)", 64, 576, 3136),
        ("resnet50 3x3 256 @14 (im2col)", 256, 2304, 196),
        ("resnet50 1x1 512->2048 @7", 2048, 512, 49),
        ("linear 2048->1000, batch 8", 8, 2048, 1000),
    ];
    for (name, m, k, n) in shapes {
        let a = data(m * k, 1);
        let b = data(k * n, 2);
        let mut c = vec![0.0f32; m * n];
        let flops = 2.0 * (m * k * n) as f64;
        let mut ours = |t: usize| {
            set_num_threads(t);
            let s = median(|| {
                threads_run(&mut c, &a, &b, m, k, n);
            });
            flops / s / 1e9
        };
        let one = ours(1);
        let many = ours(all);
        let s = median(|| {
            // SAFETY: a, b and c hold m·k, k·n and m·n values, row-major.
            unsafe {
                matrixmultiply::sgemm(
                    m,
                    k,
                    n,
                    1.0,
                    a.as_ptr(),
                    k as isize,
                    1,
                    b.as_ptr(),
                    n as isize,
                    1,
                    0.0,
                    c.as_mut_ptr(),
                    n as isize,
                    1,
                );
            }
            black_box(&c);
        });
        println!(
            "| {name} | {m} | {k} | {n} | {one:.1} | {many:.1} | {:.1} |",
            flops / s / 1e9
        );
    }
    set_num_threads(0);
}

/// One product on `num_threads()` threads through the public entry point.
fn threads_run(c: &mut [f32], a: &[f32], b: &[f32], m: usize, k: usize, n: usize) {
    threads::install(|t| {
        matmul(
            MatMut::row_major(c, m, n, n),
            MatRef::row_major(a, m, k, k),
            MatRef::row_major(b, k, n, n),
            false,
            t,
        )
        .expect("shapes fit")
    });
    black_box(c);
}

fn peak_group() {
    let profile = HardwareProfile::measure_with(
        &ProfileOptions {
            triad_array_bytes: 8 << 20,
            triad_runs: 1,
            ..ProfileOptions::default()
        },
        &mut |_| {},
    );
    let peak = profile.one_core().peak_flops;
    set_num_threads(1);
    for size in [512, 1024, 2048] {
        let rate = square_rate(size, 5);
        println!(
            "peak: GEMM {size}x{size}x{size} on 1 thread {:.1} GFLOP/s = {:.1} % of the one-core FMA peak {:.1} GFLOP/s",
            rate / 1e9,
            100.0 * rate / peak,
            peak / 1e9
        );
    }
    set_num_threads(0);
}

#[allow(clippy::too_many_arguments)]
fn conv_cfg(
    cin: usize,
    cout: usize,
    k: usize,
    s: usize,
    p: usize,
    groups: usize,
    bias: bool,
) -> Conv2d {
    Conv2d {
        in_channels: cin,
        out_channels: cout,
        kernel: [k, k],
        stride: [s, s],
        padding: [[p, p], [p, p]],
        dilation: [1, 1],
        groups,
        bias,
    }
}

/// Reference conv + batch norm + ReLU against the fast conv with the batch
/// norm folded in and ReLU fused.
fn conv_rows(title: &str, cases: &[(&str, Conv2d, usize, usize)]) {
    let all = threads::available();
    println!(
        "\n## {title}: conv + batch norm + ReLU, median\n\n\
         | layer | input | reference | fast, 1 thread | speedup | fast, {all} threads | speedup |\n\
         | --- | --- | ---: | ---: | ---: | ---: | ---: |"
    );
    for &(name, c, hw, n) in cases {
        let x = Tensor::new(
            &[n, c.in_channels, hw, hw],
            data(n * c.in_channels * hw * hw, 3),
        )
        .expect("input");
        let w = data(
            c.out_channels * c.in_channels / c.groups * c.kernel[0] * c.kernel[1],
            4,
        );
        let co = c.out_channels;
        let (g, b, m, v) = (data(co, 5), data(co, 6), data(co, 7), vec![1.5; co]);
        let reference = median(|| {
            let mut y = conv::conv2d(&x, &w, None, &c).expect("conv");
            norm::batch_norm(&mut y, &g, &b, &m, &v, 1e-5).expect("bn");
            activation::activation_in_place(&mut y, Activation::ReLU);
            black_box(y);
        });
        let packed = PackedConv::new(&c, &w, None)
            .and_then(|p| p.fold_batch_norm(&g, &b, &m, &v, 1e-5))
            .expect("pack")
            .with_activation(Activation::ReLU);
        let fast = one_and_all(all, |b| packed.run_reusing(&x, b).expect("conv"));
        let input = format!("[{n}, {}, {hw}, {hw}]", c.in_channels);
        speedup_row(name, &input, reference, fast);
    }
}

fn conv_group() {
    conv_rows(
        "conv",
        &[
            (
                "resnet conv1 7x7/2",
                conv_cfg(3, 64, 7, 2, 3, 1, false),
                224,
                1,
            ),
            (
                "resnet18 3x3 64",
                conv_cfg(64, 64, 3, 1, 1, 1, false),
                56,
                1,
            ),
            (
                "resnet18 3x3 128",
                conv_cfg(128, 128, 3, 1, 1, 1, false),
                28,
                1,
            ),
            (
                "resnet18 3x3 512",
                conv_cfg(512, 512, 3, 1, 1, 1, false),
                7,
                1,
            ),
            (
                "resnet50 1x1 64->256",
                conv_cfg(64, 256, 1, 1, 0, 1, false),
                56,
                1,
            ),
            (
                "resnet50 1x1 1024->256",
                conv_cfg(1024, 256, 1, 1, 0, 1, false),
                14,
                1,
            ),
            (
                "resnet50 1x1/2 256->512",
                conv_cfg(256, 512, 1, 2, 0, 1, false),
                56,
                1,
            ),
            (
                "resnet18 3x3 64, batch 8",
                conv_cfg(64, 64, 3, 1, 1, 1, false),
                56,
                8,
            ),
            (
                "shufflenet 1x1 g3 240",
                conv_cfg(240, 240, 1, 1, 0, 3, false),
                28,
                1,
            ),
        ],
    );
}

fn depthwise_group() {
    conv_rows(
        "depthwise",
        &[
            (
                "mobilenet_v2 dw3x3 96/2",
                conv_cfg(96, 96, 3, 2, 1, 96, false),
                112,
                1,
            ),
            (
                "mobilenet_v2 dw3x3 144",
                conv_cfg(144, 144, 3, 1, 1, 144, false),
                56,
                1,
            ),
            (
                "mobilenet_v2 dw3x3 960",
                conv_cfg(960, 960, 3, 1, 1, 960, false),
                7,
                1,
            ),
            (
                "efficientnet dw5x5 240",
                conv_cfg(240, 240, 5, 1, 2, 240, false),
                28,
                1,
            ),
            (
                "mobilenet_v2 dw3x3 144, batch 8",
                conv_cfg(144, 144, 3, 1, 1, 144, false),
                56,
                8,
            ),
        ],
    );
}

fn linear_group() {
    let all = threads::available();
    println!(
        "\n## linear, median\n\n| layer | batch | reference | fast, 1 thread | fast, {all} threads |\n| --- | ---: | ---: | ---: | ---: |"
    );
    for (i, o, n) in [
        (2048, 1000, 1),
        (2048, 1000, 8),
        (1280, 1000, 8),
        (4096, 4096, 1),
    ] {
        let l = Linear {
            in_features: i,
            out_features: o,
            bias: true,
        };
        let x = Tensor::new(&[n, i], data(n * i, 1)).expect("input");
        let (w, b) = (data(i * o, 2), data(o, 3));
        let reference = median(|| {
            black_box(linear::linear(&x, &w, Some(&b), &l).expect("linear"));
        });
        let packed = PackedLinear::new(&l, &w, Some(&b)).expect("pack");
        let (one, many) = one_and_all(all, |_| packed.run(&x).expect("linear"));
        println!(
            "| {i}->{o} | {n} | {} | {} | {} |",
            ms(reference),
            ms(one),
            ms(many)
        );
    }
}

fn elementwise_group() {
    let all = threads::available();
    println!(
        "\n## elementwise on [1, 144, 56, 56], median\n\n| layer | reference | fast, 1 thread | fast, {all} threads |\n| --- | ---: | ---: | ---: |"
    );
    let shape = [1, 144, 56, 56];
    let x = Tensor::new(&shape, data(144 * 56 * 56, 1)).expect("input");
    for act in [
        Activation::ReLU,
        Activation::SiLU,
        Activation::Sigmoid,
        Activation::HardSwish,
    ] {
        let reference = median(|| {
            let mut y = x.clone();
            activation::activation_in_place(&mut y, act);
            black_box(y);
        });
        let (one, many) = one_and_all(all, |_| {
            let mut y = x.clone();
            fel::activation_in_place(&mut y, act);
            y
        });
        println!(
            "| {act:?} | {} | {} | {} |",
            ms(reference),
            ms(one),
            ms(many)
        );
    }
    let reference = median(|| {
        let mut y = x.clone();
        elementwise::add_assign(&mut y, &x).expect("add");
        activation::activation_in_place(&mut y, Activation::ReLU);
        black_box(y);
    });
    let (one, many) = one_and_all(all, |_| {
        let mut y = x.clone();
        fel::add_assign(&mut y, &x, Some(Activation::ReLU)).expect("add");
        y
    });
    println!(
        "| Add + ReLU | {} | {} | {} |",
        ms(reference),
        ms(one),
        ms(many)
    );
}

fn pool_group() {
    use netspec::kernels::fast::pool as fpool;
    use netspec::kernels::pool;
    let all = threads::available();
    println!(
        "\n## pooling, median\n\n| layer | input | reference | fast, 1 thread | fast, {all} threads |\n| --- | --- | ---: | ---: | ---: |"
    );
    let stem = netspec::Pool2d {
        kernel: [3, 3],
        stride: [2, 2],
        padding: [1, 1],
        dilation: [1, 1],
        ceil_mode: false,
        count_include_pad: true,
    };
    let cases: [(&str, [usize; 4], bool); 3] = [
        ("resnet max pool 3x3/2", [1, 64, 112, 112], true),
        ("global mean (SE squeeze)", [1, 96, 112, 112], false),
        ("global mean (head)", [1, 1280, 7, 7], false),
    ];
    for (name, shape, max) in cases {
        let x = Tensor::new(&shape, data(shape.iter().product(), 1)).expect("input");
        let reference = median(|| {
            let y = if max {
                pool::max_pool2d(&x, &stem)
            } else {
                pool::adaptive_avg_pool2d(&x, [1, 1])
            };
            black_box(y.expect("pool"));
        });
        let (one, many) = one_and_all(all, |b| {
            let y = if max {
                fpool::max_pool2d(&x, &stem, b)
            } else {
                fpool::global_avg_pool(&x, b)
            };
            y.expect("pool")
        });
        println!(
            "| {name} | {shape:?} | {} | {} | {} |",
            ms(reference),
            ms(one),
            ms(many)
        );
    }
}

/// Transposed convolutions (UNet's and ESPNet's decoders), a 3-D
/// convolution and a bilinear upsampling (LR-ASPP's last resize): the
/// plain-loop reference against the packed product on 1 and all threads.
fn decoder_group() {
    use netspec::kernels::conv_nd::conv_any;
    use netspec::kernels::fast::PackedConvNd;
    use netspec::kernels::interpolate::interpolate;
    use netspec::op::{ConvNd, Interpolate, InterpolationMode};
    let all = threads::available();
    println!(
        "\n## decoder layers, median\n\n\
         | layer | input | reference | fast, 1 thread | speedup | fast, {all} threads | speedup |\n\
         | --- | --- | ---: | ---: | ---: | ---: | ---: |"
    );
    let t2 = |cin, cout, k: usize, s: usize| {
        ConvNd::new(
            2,
            true,
            cin,
            cout,
            [1, k, k],
            [1, s, s],
            [[0, 0]; 3],
            [0; 3],
            [1; 3],
            1,
            true,
        )
    };
    let c3 = ConvNd::new(
        3,
        false,
        32,
        32,
        [3; 3],
        [1; 3],
        [[1, 1]; 3],
        [0; 3],
        [1; 3],
        1,
        true,
    );
    let cases: [(&str, ConvNd, Vec<usize>); 4] = [
        (
            "UNet up-conv 1024->512 k2 s2",
            t2(1024, 512, 2, 2),
            vec![1, 1024, 28, 28],
        ),
        (
            "UNet up-conv 128->64 k2 s2",
            t2(128, 64, 2, 2),
            vec![1, 128, 196, 196],
        ),
        (
            "ESPNet up 20->20 k2 s2",
            t2(20, 20, 2, 2),
            vec![1, 20, 128, 256],
        ),
        ("Conv3d 32->32 k3 p1", c3, vec![1, 32, 8, 28, 28]),
    ];
    for (name, c, shape) in cases {
        let x = Tensor::new(&shape, data(shape.iter().product(), 3)).expect("input");
        let w = data(c.weight_shape().iter().product(), 4);
        let b = data(c.out_channels, 5);
        let reference = median(|| {
            black_box(conv_any(&x, &w, Some(&b), &c).expect("conv"));
        });
        let packed = PackedConvNd::new(&c, &w, Some(&b)).expect("pack");
        let fast = one_and_all(all, |b| packed.run_reusing(&x, b).expect("conv"));
        speedup_row(name, &format!("{shape:?}"), reference, fast);
    }
    let up = Interpolate {
        mode: InterpolationMode::Linear,
        rank: 2,
        size: [1, 520, 520],
        scale: [0.0; 3],
        align_corners: false,
        upsample: false,
    };
    let x = Tensor::new(&[1, 21, 65, 65], data(21 * 65 * 65, 6)).expect("input");
    let t = median(|| {
        black_box(interpolate(&x, &up).expect("interpolate"));
    });
    println!(
        "| bilinear 65x65 -> 520x520 (both backends) | [1, 21, 65, 65] | {} | | | | |",
        ms(t)
    );
}

fn main() {
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wanted = |g: &str| filter.is_empty() || filter.iter().any(|f| g.contains(f.as_str()));
    let groups: [(&str, fn()); 8] = [
        ("peak", peak_group),
        ("gemm", gemm_group),
        ("conv", conv_group),
        ("depthwise", depthwise_group),
        ("linear", linear_group),
        ("elementwise", elementwise_group),
        ("pool", pool_group),
        ("decoder", decoder_group),
    ];
    for (name, run) in groups {
        if wanted(name) {
            run();
        }
    }
}

fn cpu_now() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid timespec pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// Minimum thread CPU seconds of `f` over 15 runs (robust to other processes).
fn cpu_min(mut f: impl FnMut()) -> f64 {
    f();
    let mut best = f64::INFINITY;
    for _ in 0..15 {
        let s = cpu_now();
        f();
        best = best.min(cpu_now() - s);
    }
    best
}
