//! Every fast kernel against the reference kernel it replaces, on random
//! shapes (stride, padding, dilation, groups, batch > 1): the largest
//! difference must stay within 1e-4 of the largest reference output.

use super::elementwise as fel;
use super::{PackedConv, PackedLinear};
use crate::kernels::{activation, conv, elementwise, linear, norm};
use crate::tensor::Tensor;
use crate::threads;
use netspec_model::{Activation, Conv2d, Linear};
use rand_chacha::rand_core::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::{Mutex, MutexGuard};

/// The thread count is global: tests that set it hold this while they run.
static THREADS: Mutex<()> = Mutex::new(());

/// Holds the thread count for one test (every kernel test that sets it).
pub(crate) fn hold_threads() -> MutexGuard<'static, ()> {
    THREADS.lock().unwrap_or_else(|e| e.into_inner())
}

pub(crate) fn pick(rng: &mut ChaCha8Rng, lo: usize, hi: usize) -> usize {
    lo + rng.next_u32() as usize % (hi - lo + 1)
}

pub(crate) fn values(rng: &mut ChaCha8Rng, n: usize) -> Vec<f32> {
    (0..n)
        .map(|_| (rng.next_u32() >> 8) as f32 / (1u32 << 23) as f32 - 1.0)
        .collect()
}

/// `max |a - b| <= 1e-4 · max |b|` (and shapes equal).
pub(crate) fn assert_close(fast: &Tensor, reference: &Tensor, what: &str) {
    assert_eq!(fast.shape(), reference.shape(), "{what}: shapes");
    let largest = reference.data().iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let diff = fast.max_abs_diff(reference).unwrap_or(f32::INFINITY);
    assert!(
        diff <= 1e-4 * largest.max(1e-30),
        "{what}: max difference {diff} against largest output {largest}"
    );
}

/// A random convolution that fits a random input: `(conv, input shape)`.
fn random_conv(rng: &mut ChaCha8Rng) -> (Conv2d, [usize; 4]) {
    let groups = [1, 1, 1, 2, 3, 4][pick(rng, 0, 5)];
    let depthwise = pick(rng, 0, 3) == 0;
    let (cin, cout, groups) = if depthwise {
        let c = pick(rng, 1, 24);
        (c, c * pick(rng, 1, 2), c)
    } else {
        (groups * pick(rng, 1, 12), groups * pick(rng, 1, 20), groups)
    };
    let k = [pick(rng, 1, 5), pick(rng, 1, 5)];
    let stride = [pick(rng, 1, 3), pick(rng, 1, 3)];
    let dilation = [pick(rng, 1, 2), pick(rng, 1, 2)];
    let padding = [
        [pick(rng, 0, 2), pick(rng, 0, 2)],
        [pick(rng, 0, 2), pick(rng, 0, 2)],
    ];
    let extent = |a: usize| dilation[a] * (k[a] - 1) + 1;
    let h = pick(rng, extent(0), extent(0) + 20);
    let w = pick(rng, extent(1), extent(1) + 20);
    let n = pick(rng, 1, 3);
    let c = Conv2d {
        in_channels: cin,
        out_channels: cout,
        kernel: k,
        stride,
        padding,
        dilation,
        groups,
        bias: pick(rng, 0, 1) == 1,
    };
    (c, [n, cin, h, w])
}

#[test]
fn convolutions_match_the_reference() {
    let _threads = hold_threads();
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for case in 0..120 {
        let (c, shape) = random_conv(&mut rng);
        let x = Tensor::new(&shape, values(&mut rng, shape.iter().product())).unwrap();
        let w = values(
            &mut rng,
            c.out_channels * c.in_channels / c.groups * c.kernel[0] * c.kernel[1],
        );
        let b = c.bias.then(|| values(&mut rng, c.out_channels));
        let reference = conv::conv2d(&x, &w, b.as_deref(), &c).unwrap();
        let packed = PackedConv::new(&c, &w, b.as_deref()).unwrap();
        for t in [1, 2] {
            threads::set_num_threads(t);
            let fast = packed.run(&x).unwrap();
            assert_close(
                &fast,
                &reference,
                &format!("case {case} {c:?} {shape:?}, {t} threads"),
            );
        }
    }
    threads::set_num_threads(0);
}

#[test]
fn folded_batch_norm_and_fused_activation_match_the_layers() {
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let acts = [
        Activation::ReLU,
        Activation::ReLU6,
        Activation::SiLU,
        Activation::HardSwish,
        Activation::Sigmoid,
    ];
    for case in 0..40 {
        let (c, shape) = random_conv(&mut rng);
        let co = c.out_channels;
        let x = Tensor::new(&shape, values(&mut rng, shape.iter().product())).unwrap();
        let w = values(
            &mut rng,
            co * c.in_channels / c.groups * c.kernel[0] * c.kernel[1],
        );
        let b = c.bias.then(|| values(&mut rng, co));
        let gamma = values(&mut rng, co);
        let beta = values(&mut rng, co);
        let mean = values(&mut rng, co);
        let var: Vec<f32> = values(&mut rng, co).iter().map(|v| v + 1.5).collect();
        let act = acts[case % acts.len()];
        let mut reference = conv::conv2d(&x, &w, b.as_deref(), &c).unwrap();
        norm::batch_norm(&mut reference, &gamma, &beta, &mean, &var, 1e-5).unwrap();
        activation::activation_in_place(&mut reference, act);
        let fast = PackedConv::new(&c, &w, b.as_deref())
            .unwrap()
            .fold_batch_norm(&gamma, &beta, &mean, &var, 1e-5)
            .unwrap()
            .with_activation(act)
            .run(&x)
            .unwrap();
        assert_close(&fast, &reference, &format!("case {case} {c:?} {act:?}"));
        // The batch norm alone, prepared once.
        let mut plain = conv::conv2d(&x, &w, b.as_deref(), &c).unwrap();
        let mut reference = plain.clone();
        norm::batch_norm(&mut reference, &gamma, &beta, &mean, &var, 1e-5).unwrap();
        fel::PackedBatchNorm::new(&gamma, &beta, &mean, &var, 1e-5)
            .unwrap()
            .run_in_place(&mut plain, None)
            .unwrap();
        assert_close(&plain, &reference, &format!("batch norm, case {case}"));
    }
}

#[test]
fn linear_matches_the_reference() {
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    for case in 0..30 {
        let (i, o, n) = (
            pick(&mut rng, 1, 300),
            pick(&mut rng, 1, 200),
            pick(&mut rng, 1, 9),
        );
        let l = Linear {
            in_features: i,
            out_features: o,
            bias: case % 2 == 0,
        };
        let x = Tensor::new(&[n, i], values(&mut rng, n * i)).unwrap();
        let w = values(&mut rng, o * i);
        let b = l.bias.then(|| values(&mut rng, o));
        let reference = linear::linear(&x, &w, b.as_deref(), &l).unwrap();
        let fast = PackedLinear::new(&l, &w, b.as_deref())
            .unwrap()
            .run(&x)
            .unwrap();
        assert_close(&fast, &reference, &format!("linear {i}->{o} batch {n}"));
    }
}

#[test]
fn linear_on_leading_dimensions_matches_the_reference() {
    // [N, L, in] and [N, H, L, in] (tokens, heads): the leading axes fold
    // into the product's rows; [in] alone is one row.
    let mut rng = ChaCha8Rng::seed_from_u64(15);
    let shapes: [&[usize]; 4] = [&[2, 37, 48], &[2, 3, 5, 48], &[48], &[1, 1, 48]];
    for (case, shape) in shapes.into_iter().enumerate() {
        let l = Linear {
            in_features: 48,
            out_features: 20,
            bias: case % 2 == 0,
        };
        let x = Tensor::new(shape, values(&mut rng, shape.iter().product())).unwrap();
        let w = values(&mut rng, 20 * 48);
        let b = l.bias.then(|| values(&mut rng, 20));
        let reference = linear::linear(&x, &w, b.as_deref(), &l).unwrap();
        let mut expect = shape.to_vec();
        *expect.last_mut().unwrap() = 20;
        assert_eq!(reference.shape(), expect.as_slice());
        let fast = PackedLinear::new(&l, &w, b.as_deref())
            .unwrap()
            .run(&x)
            .unwrap();
        assert_close(&fast, &reference, &format!("linear on {shape:?}"));
    }
}

#[test]
fn activations_and_add_match_the_reference() {
    let mut rng = ChaCha8Rng::seed_from_u64(14);
    // Large enough to be split over threads; values up to ±40 reach the
    // saturated ends of the sigmoid.
    let n = 3 * (1 << 15) + 17;
    let x = Tensor::new(
        &[1, 1, 1, n],
        values(&mut rng, n).iter().map(|v| v * 40.0).collect(),
    )
    .unwrap();
    let other = Tensor::new(&[1, 1, 1, n], values(&mut rng, n)).unwrap();
    for act in [
        Activation::ReLU,
        Activation::ReLU6,
        Activation::SiLU,
        Activation::Sigmoid,
        Activation::HardSwish,
        Activation::HardSigmoid,
        Activation::Tanh,
        Activation::GELU { tanh: false },
    ] {
        let mut reference = x.clone();
        activation::activation_in_place(&mut reference, act);
        let mut fast = x.clone();
        fel::activation_in_place(&mut fast, act);
        assert_close(&fast, &reference, &format!("{act:?}"));
        // Elementwise, the sigmoid's relative error stays small too.
        if act == Activation::Sigmoid {
            for (f, r) in fast.data().iter().zip(reference.data()) {
                assert!(
                    (f - r).abs() <= 1e-6 * r.abs().max(1e-30) + 1e-37,
                    "{f} vs {r}"
                );
            }
        }
        let mut reference = x.clone();
        elementwise::add_assign(&mut reference, &other).unwrap();
        activation::activation_in_place(&mut reference, act);
        let mut fast = x.clone();
        fel::add_assign(&mut fast, &other, Some(act)).unwrap();
        assert_close(&fast, &reference, &format!("add + {act:?}"));
    }
}

#[test]
fn errors_name_the_numbers() {
    let c = Conv2d {
        in_channels: 4,
        out_channels: 6,
        kernel: [3, 3],
        stride: [1, 1],
        padding: [[0, 0], [0, 0]],
        dilation: [1, 1],
        groups: 4,
        bias: false,
    };
    let e = PackedConv::new(&c, &[0.0; 54], None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Conv2d: groups = 4 must divide both 4 input and 6 output channels"
    );
    let c = Conv2d { groups: 2, ..c };
    let p = PackedConv::new(&c, &[0.0; 108], None).unwrap();
    let e = p.run(&Tensor::zeros(&[1, 3, 5, 5]).unwrap()).unwrap_err();
    assert_eq!(e.to_string(), "Conv2d: expects 4 input channels, found 3");
    let e = PackedConv::new(&c, &[0.0; 10], None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Conv2d: weight must have shape [6, 2, 3, 3] (108 values), found 10 values"
    );
}

#[test]
fn pooling_matches_the_reference() {
    let _threads = hold_threads();
    use crate::kernels::pool;
    use netspec_model::Pool2d;
    let mut rng = ChaCha8Rng::seed_from_u64(15);
    for case in 0..60 {
        let k = [pick(&mut rng, 1, 4), pick(&mut rng, 1, 4)];
        let dilation = [pick(&mut rng, 1, 2), pick(&mut rng, 1, 2)];
        // PyTorch's rule: padding at most half the kernel.
        let padding = [pick(&mut rng, 0, k[0] / 2), pick(&mut rng, 0, k[1] / 2)];
        let p = Pool2d {
            kernel: k,
            stride: [pick(&mut rng, 1, 3), pick(&mut rng, 1, 3)],
            padding,
            dilation,
            ceil_mode: case % 2 == 1,
            count_include_pad: false,
        };
        let extent = |a: usize| dilation[a] * (k[a] - 1) + 1;
        let shape = [
            pick(&mut rng, 1, 2),
            pick(&mut rng, 1, 5),
            pick(&mut rng, extent(0), extent(0) + 12),
            pick(&mut rng, extent(1), extent(1) + 12),
        ];
        let mut data = values(&mut rng, shape.iter().product());
        if case % 7 == 0 {
            data[0] = f32::NAN;
        }
        let x = Tensor::new(&shape, data).unwrap();
        let Ok(reference) = pool::max_pool2d(&x, &p) else {
            continue;
        };
        for t in [1, 2] {
            threads::set_num_threads(t);
            let fast = super::pool::max_pool2d(&x, &p, Tensor::zeros(&[3]).unwrap()).unwrap();
            assert_eq!(fast.shape(), reference.shape(), "case {case} {p:?}");
            // Max pooling picks elements: equal bit for bit, NaN where NaN.
            for (a, b) in fast.data().iter().zip(reference.data()) {
                assert!(
                    a == b || (a.is_nan() && b.is_nan()),
                    "case {case} {p:?}: {a} vs {b}"
                );
            }
        }
        let reference = pool::adaptive_avg_pool2d(&x, [1, 1]).unwrap();
        let fast = super::pool::global_avg_pool(&x, Tensor::zeros(&[0]).unwrap()).unwrap();
        if case % 7 != 0 {
            assert_close(&fast, &reference, &format!("global average, case {case}"));
        }
    }
    threads::set_num_threads(0);
}

#[test]
fn large_convolutions_split_over_threads_and_tiles_match() {
    let _threads = hold_threads();
    // Sizes past the random cases: several im2col tiles (K = 576 gives
    // 112-column tiles over 420 outputs), output channels split over the
    // threads (40 >= 16 per thread), strided and 1x1 products, batch 2.
    let mut rng = ChaCha8Rng::seed_from_u64(16);
    for (cin, cout, k, s, p, groups, hw) in [
        (64, 40, 3, 1, 1, 1, [20, 21]),
        (64, 48, 3, 2, 1, 2, [23, 19]),
        (96, 64, 1, 1, 0, 1, [17, 17]),
        (32, 40, 1, 2, 0, 1, [15, 16]),
        (3, 32, 7, 2, 3, 1, [40, 38]),
    ] {
        let c = Conv2d {
            in_channels: cin,
            out_channels: cout,
            kernel: [k, k],
            stride: [s, s],
            padding: [[p, p], [p, p]],
            dilation: [1, 1],
            groups,
            bias: true,
        };
        let shape = [2, cin, hw[0], hw[1]];
        let x = Tensor::new(&shape, values(&mut rng, shape.iter().product())).unwrap();
        let w = values(&mut rng, cout * cin / groups * k * k);
        let b = values(&mut rng, cout);
        let reference = conv::conv2d(&x, &w, Some(&b), &c).unwrap();
        let packed = PackedConv::new(&c, &w, Some(&b)).unwrap();
        for t in [1, 2, 3] {
            threads::set_num_threads(t);
            // Batch 2 (split by samples) and each sample alone (split inside).
            assert_close(
                &packed.run(&x).unwrap(),
                &reference,
                &format!("{c:?}, {t} threads"),
            );
            let one =
                Tensor::new(&[1, cin, hw[0], hw[1]], x.data()[..x.len() / 2].to_vec()).unwrap();
            let r1 = conv::conv2d(&one, &w, Some(&b), &c).unwrap();
            assert_close(
                &packed.run(&one).unwrap(),
                &r1,
                &format!("{c:?}, batch 1, {t} threads"),
            );
        }
    }
    threads::set_num_threads(0);
}

#[test]
fn gather_takes_every_stride_th_element() {
    let src: Vec<f32> = (0..11).map(|i| i as f32).collect();
    for stride in 1..=4 {
        for len in 0..=src.len().div_ceil(stride) {
            let mut dst = vec![-1.0; len];
            super::gather(&mut dst, &src, stride);
            let expect: Vec<f32> = (0..len).map(|i| (i * stride) as f32).collect();
            assert_eq!(dst, expect, "stride {stride}, {len} values");
        }
    }
}

/// The polynomial `exp` as first written, with `2^n` from a float-to-int cast.
fn exp_with_cast(x: f32) -> f32 {
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    let x = x.clamp(-87.0, 88.0);
    let n = (x * std::f32::consts::LOG2_E).round_ties_even();
    let r = -n * LN2_LO + (-n * LN2_HI + x);
    let mut p = 1.0 / 720.0;
    for c in [1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0] {
        p = p * r + c;
    }
    p * f32::from_bits(((n as i32 + 127) as u32) << 23)
}

#[test]
fn exp_builds_the_same_power_of_two_as_a_cast() {
    // Every 1/512 of [-100, 100] (both clamps) and the special values: the
    // bit trick for 2^n gives bit-identical results to the cast.
    let specials = [
        f32::INFINITY,
        f32::NEG_INFINITY,
        -0.0,
        0.0,
        f32::MAX,
        f32::MIN,
    ];
    let grid = (-51_200..=51_200).map(|i| i as f32 / 512.0);
    for x in grid.chain(specials) {
        let (a, b) = (fel::exp::<super::Plain>(x), exp_with_cast(x));
        assert_eq!(a.to_bits(), b.to_bits(), "exp({x}) = {a}, with a cast {b}");
    }
    assert!(fel::exp::<super::Plain>(f32::NAN).is_nan());
    // And e^1 to 2e-7.
    let e = fel::exp::<super::Plain>(1.0);
    assert!((e - std::f32::consts::E).abs() <= 2e-7 * std::f32::consts::E);
}
