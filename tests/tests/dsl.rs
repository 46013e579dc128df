//! The language feature by feature, each network's numbers computed by hand
//! in the comments.

use netspec::{network, Network};

network! {
    /// A ShuffleNet V2 unit: split, a branch, concatenation, channel shuffle.
    block ShuffleUnit(x) {
        let (a, b) = chunk(x, 2);
        let half = x.channels / 2;
        let y = b -> branch2: [
            Conv2d(half, 1, bias = false), BatchNorm2d, ReLU,
            Conv2d(half, 3, padding = 1, groups = half, bias = false), BatchNorm2d,
            Conv2d(half, 1, bias = false), BatchNorm2d, ReLU,
        ];
        cat(a, y) -> ChannelShuffle(2)
    }

    pub struct Shuffle(x: [16, 8, 8]) {
        x -> unit: ShuffleUnit
    }

    /// Squeeze-and-excitation with make_divisible channel rounding.
    block SqueezeExcite(x, ratio = 0.25) {
        let squeezed = make_divisible(x.channels * ratio, 8);
        let s = x -> avgpool: AdaptiveAvgPool2d(1)
                  -> fc1: Conv2d(squeezed, 1) -> ReLU
                  -> fc2: Conv2d(x.channels, 1) -> Hardsigmoid;
        x * s
    }

    pub(crate) struct Excite(x: [40, 7, 7]) {
        x -> se: SqueezeExcite
    }

    /// Padding "same", dilation, grouped and depthwise convolutions.
    pub struct Convs(x: [8, 10, 10]) {
        x -> same: Conv2d(8, 4, padding = "same", bias = false)
          -> dilated: Conv2d(8, 3, dilation = 2, bias = false)
          -> grouped: Conv2d(16, 3, groups = 4)
          -> depthwise: Conv2d(16, (3, 1), padding = (1, 0), groups = 16, bias = false)
    }

    /// Lists with `for` and `if` items, repeats, and index-dependent arguments.
    block Stage(x, out, first_stride) {
        x -> conv: Conv2d(out, 3, stride = first_stride, padding = 1, bias = false) -> bn: BatchNorm2d
    }

    /// A ghost module: a primary convolution, a cheap depthwise one on its
    /// output, concatenated and narrowed to the wanted channels; then the
    /// spatial mean and stochastic depth.
    block Ghost(x, out, ratio = 2) {
        let init = (out + ratio - 1) / ratio;
        let p = x -> primary_conv: [Conv2d(init, 1, bias = false), BatchNorm2d, ReLU];
        let c = p -> cheap_operation: [Conv2d(init * (ratio - 1), 3, padding = 1, groups = init, bias = false), BatchNorm2d, ReLU];
        narrow(cat(p, c), 0, out)
    }

    pub struct Ghosts(x: [8, 6, 6]) {
        let y = x -> ghost: Ghost(15) -> drop: StochasticDepth(0.2, "row");
        mean(y)
    }

    pub struct Stages(x: [3, 32, 32]) {
        x -> body: [
                for i in 0..3 => Stage(8 * (i + 1), if i == 0 { 2 } else { 1 }),
                if 2 > 3 { Stage(99, 1) } else { Stage(32, 2) },
            ]
          -> tail: [Identity; 2]
          -> pool: MaxPool2d(3, stride = 2, ceil_mode = true)
    }
}

#[test]
fn shuffle_unit_splits_convolves_and_shuffles() {
    assert_eq!(Shuffle::OUTPUT_SHAPE, &[16, 8, 8]);
    // branch2 on 8 channels: 1x1 8·8 = 64, bn 16, dw 8·9 = 72, bn 16, 1x1 64, bn 16
    assert_eq!(Shuffle::PARAMS, 64 + 16 + 72 + 16 + 64 + 16);
    // MACs per 8x8 map: 1x1 8·64·8 = 4,096; dw 8·64·9 = 4,608; 1x1 4,096
    assert_eq!(Shuffle::MACS, 4_096 + 4_608 + 4_096);
    let names: Vec<&str> = Shuffle::LAYERS.iter().map(|l| l.name).collect();
    assert!(names.contains(&"unit.branch2.0"));
    assert!(names.contains(&"unit.branch2.5"));
    let kinds: Vec<&str> = Shuffle::LAYERS.iter().map(|l| l.kind).collect();
    assert_eq!(&kinds[..2], ["Slice", "Slice"]);
    assert_eq!(&kinds[kinds.len() - 2..], ["Concat", "ChannelShuffle"]);
}

#[test]
fn squeeze_excite_broadcasts_and_rounds_channels() {
    // squeezed = make_divisible(40 · 0.25 = 10, 8): max(8, int(10 + 4) // 8 · 8) = 8,
    // but 8 < 0.9 · 10, so torchvision's rule adds the divisor: 16.
    // fc1: 40·16 + 16 = 656; fc2: 16·40 + 40 = 680
    assert_eq!(Excite::PARAMS, 656 + 680);
    assert_eq!(Excite::MACS, 640 + 640);
    let mul = Excite::LAYERS.iter().find(|l| l.kind == "Mul").unwrap();
    assert_eq!(mul.inputs, &[&[40, 7, 7][..], &[40, 1, 1][..]]);
    assert_eq!(mul.output, &[40, 7, 7]);
    assert_eq!(mul.flops, 40 * 49);
    // Adaptive pooling of 7x7 to 1x1 reads every element once: 40·49 FLOPs.
    let pool = Excite::LAYERS
        .iter()
        .find(|l| l.name == "se.avgpool")
        .unwrap();
    assert_eq!(pool.flops, 40 * 49);
}

#[test]
fn convolution_variants_follow_pytorch() {
    let l = |name: &str| *Convs::LAYERS.iter().find(|l| l.name == name).unwrap();
    // "same" with an even kernel pads 1 before and 2 after: 10x10 stays 10x10.
    assert_eq!(l("same").output, &[8, 10, 10]);
    // dilation 2, kernel 3: extent 5, 10 - 5 + 1 = 6
    assert_eq!(l("dilated").output, &[8, 6, 6]);
    // groups 4: weight [16, 8/4, 3, 3] = 288 + bias 16;
    // MACs C_out·H_out·W_out·(C_in/groups)·k·k = 16·4·4·2·9 = 4,608
    assert_eq!(l("grouped").output, &[16, 4, 4]);
    assert_eq!(l("grouped").params, 288 + 16);
    assert_eq!(l("grouped").macs, 4_608);
    // FLOPs of a biased conv: 2·MACs + one add per output = 9,216 + 256
    assert_eq!(l("grouped").flops, 9_216 + 256);
    // depthwise 3x1, padding (1, 0): 4x4 stays 4x4; MACs 16·16·1·3 = 768
    assert_eq!(l("depthwise").output, &[16, 4, 4]);
    assert_eq!(l("depthwise").params, 48);
    assert_eq!(l("depthwise").macs, 768);
    // memory access of `grouped`: 4·(input 8·6·6 + output 16·4·4 + params 304)
    assert_eq!(l("grouped").memory_access_bytes, 4 * (288 + 256 + 304));
}

#[test]
fn lists_number_their_items() {
    let convs: Vec<&str> = Stages::LAYERS
        .iter()
        .filter(|l| l.kind == "Conv2d")
        .map(|l| l.name)
        .collect();
    assert_eq!(
        convs,
        ["body.0.conv", "body.1.conv", "body.2.conv", "body.3.conv"]
    );
    let shapes: Vec<&[usize]> = Stages::LAYERS
        .iter()
        .filter(|l| l.kind == "Conv2d")
        .map(|l| l.output)
        .collect();
    // 32 -> stride 2 -> 16, then 16, 16, then stride 2 -> 8
    assert_eq!(
        shapes,
        [&[8, 16, 16][..], &[16, 16, 16], &[24, 16, 16], &[32, 8, 8]]
    );
    assert!(Stages::LAYERS.iter().any(|l| l.name == "tail.1"));
    // ceil mode: (8 - 3) / 2 rounded up = 3, + 1 = 4 (floor mode would give 3)
    assert_eq!(Stages::OUTPUT_SHAPE, &[32, 4, 4]);
    let scopes: Vec<(&str, &str)> = Stages::GRAPH
        .scopes
        .iter()
        .map(|s| (s.path, s.kind))
        .collect();
    assert!(scopes.contains(&("body", "Sequential")));
    assert!(scopes.contains(&("body.3", "Stage")));
}

#[test]
fn the_trait_and_the_inherent_consts_agree() {
    fn via_trait<N: Network>() -> (u64, u64, &'static str) {
        (N::PARAMS, N::MACS, N::NAME)
    }
    assert_eq!(via_trait::<Convs>(), (Convs::PARAMS, Convs::MACS, "Convs"));
    assert_eq!(Convs::GRAPH.totals.flops, Convs::FLOPS);
}

#[test]
fn budgets_that_hold_compile() {
    // params 1,024 + 576 + 304 + 48 = 1,952; MACs 102,400 + 20,736 + 4,608 + 768 = 128,512
    netspec::assert_budget!(
        Convs,
        params <= 1_952,
        macs < 130 * netspec::budget::units::K
    );
    netspec::assert_budget!(
        netspec::zoo::MobileNetV2,
        params <= 3_600_000,
        macs <= 320_000_000
    );
}

#[test]
fn ghost_modules_narrow_and_mean_reduces() {
    // init = (15 + 1) / 2 = 8; primary 8·8 = 64 + bn 16; cheap depthwise 8·9 = 72 + bn 16
    assert_eq!(Ghosts::PARAMS, 64 + 16 + 72 + 16);
    let l = |kind: &str| *Ghosts::LAYERS.iter().find(|l| l.kind == kind).unwrap();
    assert_eq!(l("Concat").output, &[16, 6, 6]);
    assert_eq!(l("Slice").output, &[15, 6, 6]);
    assert_eq!(l("StochasticDepth").output, &[15, 6, 6]);
    // the mean reads 15·36 elements: one FLOP each (adds and the divide)
    assert_eq!(l("Mean").output, &[15]);
    assert_eq!(l("Mean").flops, 15 * 36);
    assert_eq!(Ghosts::OUTPUT_SHAPE, &[15]);
}

#[test]
fn named_layers_are_modules_and_operations_are_not() {
    let module = |name: &str| {
        Ghosts::LAYERS
            .iter()
            .find(|l| l.name == name)
            .unwrap()
            .module
    };
    assert!(module("ghost.primary_conv.0"));
    assert!(module("drop"));
    assert!(!module("ghost.cat"));
    assert!(!module("ghost.narrow"));
    assert!(!module("mean"));
    let relu = Shuffle::LAYERS
        .iter()
        .find(|l| l.name == "unit.branch2.2")
        .unwrap();
    assert!(relu.module);
}

#[test]
fn latency_budgets_use_the_runtime_roofline() {
    use netspec::hardware::presets::{PresetProfile, RASPBERRY_PI_5};
    use netspec::zoo::ResNet18;
    // ResNet18 carries `latency(raspberry_pi_5) <= 30ms`: the compiler's bound
    // is the sum over layers of max(FLOPs / peak, bytes / bandwidth), the same
    // as the runtime's roofline estimate.
    let layers = ResNet18::LAYERS
        .iter()
        .map(|l| (l.flops, l.memory_access_bytes));
    let compile_time = RASPBERRY_PI_5.roofline_seconds(layers);
    let estimate = netspec::roofline(ResNet18::GRAPH, &RASPBERRY_PI_5.profile());
    assert!((compile_time - estimate.latency).abs() <= 1e-9 * estimate.latency);
    assert!(
        compile_time > 0.020 && compile_time <= 0.030,
        "{compile_time}"
    );
}
