//! The dense-prediction networks no library ships, against counts by hand:
//! ESPNet (Mehta et al., ECCV 2018) as its authors' code builds it, and the
//! classic U-Net (Ronneberger et al., 2015). Each count is written from the
//! architecture, module by module, independently of the `network!` source;
//! the small variants (`SmallESPNet`, `SmallUNet`) are the same layers at a
//! small input, counted by the same formulas and run through both backends.
//! ESPNet's state dict is the authors' released checkpoint's, name by name,
//! and every count is also checked against PyTorch's FlopCounterMode, fvcore,
//! thop and ptflops measured on the authors' code (ESPNet) and on a PyTorch
//! transcription (U-Net).

use netspec::zoo::{ESPNet, SmallESPNet, SmallUNet, UNet};
use netspec::{Convention, LayerInfo, Model, Network, Tensor};

mod common;
use common::{assert_backends_agree, input, perturb_batch_norms};

/// (params, MACs) of a convolution without bias from `c_in` to `c_out`
/// channels with a `k`x`k` kernel. MACs: one product per weight per output
/// position (`positions` of them); for a transposed convolution, per
/// *input* position (the true products), so `positions` is then the input's.
const fn conv(c_out: u64, c_in: u64, k: u64, positions: u64) -> (u64, u64) {
    let w = c_out * c_in * k * k;
    (w, w * positions)
}

/// The sum of (params, MACs) pairs.
const fn sum(parts: &[(u64, u64)]) -> (u64, u64) {
    let (mut p, mut m, mut i) = (0, 0, 0);
    while i < parts.len() {
        p += parts[i].0;
        m += parts[i].1;
        i += 1;
    }
    (p, m)
}

/// The summed params and MACs of `layers`.
fn costs<'a, 'b: 'a>(layers: impl IntoIterator<Item = &'a LayerInfo<'b>>) -> (u64, u64) {
    layers
        .into_iter()
        .fold((0, 0), |(p, m), l| (p + l.costs.params, m + l.costs.macs))
}

/// The params and MACs of the layers at `scope` or below it in `layers`.
fn scope_costs(layers: &[LayerInfo<'_>], scope: &str) -> (u64, u64) {
    costs(layers.iter().filter(|l| {
        l.name == scope
            || (l.name.starts_with(scope) && l.name.as_bytes().get(scope.len()) == Some(&b'.'))
    }))
}

// ---------------------------------------------------------------- ESPNet

/// The authors' `BR(c)`: `BatchNorm2d(c)` (2·c: weight, bias) and
/// `PReLU(c)` (c slopes): 3·c params, no MACs.
const fn br(c: u64) -> (u64, u64) {
    (3 * c, 0)
}

/// The authors' two ESP modules from `c_in` to `c_out` channels at
/// `positions` output positions, with a `k1`x`k1` reduction `c1` (c_in →
/// n, n = c_out / 5): `DownSamplerB` (`k1` = 3, stride 2, `positions` after
/// it) and `DilatedParllelResidualBlockB` (`k1` = 1, stride 1). Then `d1`
/// 3x3 n → n1 (n1 = c_out − 4·n), `d2`, `d4`, `d8`, `d16` 3x3 n → n
/// (dilation changes neither params nor MACs), and a batch norm and PReLU on
/// c_out (`bn` + `act`, or `bn` a `BR`: 3·c_out either way). The residual add
/// costs no MACs.
const fn esp(c_in: u64, c_out: u64, k1: u64, positions: u64) -> (u64, u64) {
    let n = c_out / 5;
    let n1 = c_out - 4 * n;
    let d = conv(n, n, 3, positions);
    sum(&[
        conv(n, c_in, k1, positions),
        conv(n1, n, 3, positions),
        d,
        d,
        d,
        d,
        br(c_out),
    ])
}

/// ESPNet (p = 2, q = 8, 20 classes) on an `h`x`w` image, scope by scope
/// in the authors' forward order. S1, S2, S3 are the positions at 1/2, 1/4
/// and 1/8 of the input's height and width.
fn espnet_hand(h: u64, w: u64) -> Vec<(String, (u64, u64))> {
    let (s1, s2, s3) = ((h / 2) * (w / 2), (h / 4) * (w / 4), (h / 8) * (w / 8));
    let mut v: Vec<(String, (u64, u64))> = vec![
        // level1: CBR(3, 16, 3, 2): conv 3 -> 16 3x3 stride 2 (432), BR(16) (48)
        ("encoder.level1".into(), sum(&[conv(16, 3, 3, s1), br(16)])),
        // b1: BR(16 + 3), on level1's output and the 1/2 image (sample1, pools only)
        ("encoder.b1".into(), br(19)),
        // level2_0: DownSamplerB(19, 64): n = 12, n1 = 16
        ("encoder.level2_0".into(), esp(19, 64, 3, s2)),
    ];
    // level2: p = 2 ESP modules 64 -> 64
    for i in 0..2 {
        v.push((format!("encoder.level2.{i}"), esp(64, 64, 1, s2)));
    }
    // b2: BR(128 + 3) on [level2's output, level2_0's, the 1/4 image]
    v.push(("encoder.b2".into(), br(131)));
    // level3_0: DownSamplerB(131, 128): n = 25, n1 = 28
    v.push(("encoder.level3_0".into(), esp(131, 128, 3, s3)));
    // level3: q = 8 ESP modules 128 -> 128
    for i in 0..8 {
        v.push((format!("encoder.level3.{i}"), esp(128, 128, 1, s3)));
    }
    v.extend([
        // b3: BR(256) on [level3_0's output, level3's]
        ("encoder.b3".into(), br(256)),
        // classifier: C(256, 20, 1)
        ("encoder.classifier".into(), conv(20, 256, 1, s3)),
        // br: BatchNorm2d(20): 40
        ("br".into(), (40, 0)),
        // up_l3.0: ConvTranspose2d(20, 20, 2, stride 2) on the 1/8 map
        ("up_l3".into(), conv(20, 20, 2, s3)),
        // level3_C: C(131, 20, 1) on b2's output
        ("level3_C".into(), conv(20, 131, 1, s2)),
        // combine_l2_l3: BR(40), ESP module 40 -> 20 without the add (n = n1 = 4)
        ("combine_l2_l3".into(), sum(&[br(40), esp(40, 20, 1, s2)])),
        // up_l2: ConvTranspose2d(20, 20, 2, stride 2) on the 1/4 map, BR(20)
        ("up_l2".into(), sum(&[conv(20, 20, 2, s2), br(20)])),
        // conv: CBR(16 + 20, 20, 3) on [up_l2's output, level1's]
        ("conv".into(), sum(&[conv(20, 36, 3, s1), br(20)])),
        // classifier: ConvTranspose2d(20, 20, 2, stride 2) on the 1/2 map
        ("classifier".into(), conv(20, 20, 2, s1)),
    ]);
    v
}

/// ESPNet's FLOPs beyond its products' 2·MACs (no convolution has a
/// bias), by the README's formulas: batch norm 2 and PReLU 2 per element (a
/// `BR` of c channels at s positions: 4·c·s), an add of two tensors 1 per
/// element, a 3x3 average pool 9 per output.
fn espnet_elementwise_flops(h: u64, w: u64) -> u64 {
    let (s1, s2, s3) = ((h / 2) * (w / 2), (h / 4) * (w / 4), (h / 8) * (w / 8));
    let br = |c: u64, s: u64| 4 * c * s;
    // The hierarchical fusion of a module to c channels: three adds of
    // n = c / 5 channels (add2, add3, add4).
    let fusion = |c: u64, s: u64| 3 * (c / 5) * s;
    br(16, s1) // level1
        + 9 * 3 * s1 // sample1.pool.0
        + 9 * 3 * s1 + 9 * 3 * s2 // sample2.pool.0 and .1
        + br(19, s1) // b1
        + fusion(64, s2) + br(64, s2) // level2_0
        + 2 * (fusion(64, s2) + 64 * s2 + br(64, s2)) // level2: fusion, residual, BR
        + br(131, s2) // b2
        + fusion(128, s3) + br(128, s3) // level3_0
        + 8 * (fusion(128, s3) + 128 * s3 + br(128, s3)) // level3
        + br(256, s3) // b3
        + 2 * 20 * s3 // br (a batch norm alone)
        + br(40, s2) + fusion(20, s2) + br(20, s2) // combine_l2_l3 (no residual)
        + br(20, s1) // up_l2.1
        + br(20, s1) // conv
}

/// The authors' state dict for p = 2, q = 8, 20 classes (parameters and
/// batch-norm running statistics), names and shapes, written from their
/// module attributes: what their released checkpoint
/// `pretrained/decoder/espnet_p_2_q_8.pth` holds.
fn espnet_state_dict() -> Vec<(String, Vec<usize>)> {
    let mut v: Vec<(String, Vec<usize>)> = Vec::new();
    let bn = |v: &mut Vec<(String, Vec<usize>)>, p: &str, c: usize| {
        for s in ["weight", "bias", "running_mean", "running_var"] {
            v.push((format!("{p}.{s}"), vec![c]));
        }
    };
    let br = |v: &mut Vec<(String, Vec<usize>)>, p: &str, c: usize| {
        bn(v, &format!("{p}.bn"), c);
        v.push((format!("{p}.act.weight"), vec![c]));
    };
    let conv = |v: &mut Vec<(String, Vec<usize>)>, p: &str, o: usize, i: usize, k: usize| {
        v.push((format!("{p}.weight"), vec![o, i, k, k]));
    };
    // DownSamplerB and DilatedParllelResidualBlockB: c1, d1..d16, then bn/act
    let esp =
        |v: &mut Vec<(String, Vec<usize>)>, p: &str, i: usize, o: usize, k1: usize, down: bool| {
            let (n, n1) = (o / 5, o - 4 * (o / 5));
            conv(v, &format!("{p}.c1.conv"), n, i, k1);
            conv(v, &format!("{p}.d1.conv"), n1, n, 3);
            for d in [2, 4, 8, 16] {
                conv(v, &format!("{p}.d{d}.conv"), n, n, 3);
            }
            if down {
                br(v, p, o);
            } else {
                br(v, &format!("{p}.bn"), o);
            }
        };
    conv(&mut v, "encoder.level1.conv", 16, 3, 3);
    bn(&mut v, "encoder.level1.bn", 16);
    v.push(("encoder.level1.act.weight".into(), vec![16]));
    br(&mut v, "encoder.b1", 19);
    esp(&mut v, "encoder.level2_0", 19, 64, 3, true);
    for i in 0..2 {
        esp(&mut v, &format!("encoder.level2.{i}"), 64, 64, 1, false);
    }
    br(&mut v, "encoder.b2", 131);
    esp(&mut v, "encoder.level3_0", 131, 128, 3, true);
    for i in 0..8 {
        esp(&mut v, &format!("encoder.level3.{i}"), 128, 128, 1, false);
    }
    br(&mut v, "encoder.b3", 256);
    conv(&mut v, "encoder.classifier.conv", 20, 256, 1);
    bn(&mut v, "br", 20);
    conv(&mut v, "up_l3.0", 20, 20, 2);
    conv(&mut v, "level3_C.conv", 20, 131, 1);
    br(&mut v, "combine_l2_l3.0", 40);
    esp(&mut v, "combine_l2_l3.1", 40, 20, 1, false);
    conv(&mut v, "up_l2.0", 20, 20, 2);
    br(&mut v, "up_l2.1", 20);
    conv(&mut v, "conv.conv", 20, 36, 3);
    bn(&mut v, "conv.bn", 20);
    v.push(("conv.act.weight".into(), vec![20]));
    conv(&mut v, "classifier", 20, 20, 2);
    v
}

/// Checks a network against `espnet_hand` scope by scope and in total.
fn check_espnet_scopes(layers: &[LayerInfo<'_>], hand: &[(String, (u64, u64))]) -> (u64, u64) {
    for (scope, want) in hand {
        assert_eq!(
            scope_costs(layers, scope),
            *want,
            "{scope}: (params, MACs), network against hand"
        );
    }
    let total = hand
        .iter()
        .fold((0, 0), |(p, m), (_, c)| (p + c.0, m + c.1));
    assert_eq!(
        costs(layers),
        total,
        "every layer lies in one of the hand's scopes"
    );
    total
}

#[test]
fn espnet_matches_the_hand_count_and_the_paper() {
    let hand = espnet_hand(512, 1024);
    // The formulas' values, scope by scope (params, MACs), in the order above.
    let figures: [(u64, u64); 24] = [
        (480, 56_623_104),
        (57, 0),
        (9_156, 293_732_352),
        (7_872, 251_658_240),
        (7_872, 251_658_240),
        (393, 0),
        (58_659, 477_388_800),
        (32_384, 262_144_000),
        (32_384, 262_144_000),
        (32_384, 262_144_000),
        (32_384, 262_144_000),
        (32_384, 262_144_000),
        (32_384, 262_144_000),
        (32_384, 262_144_000),
        (32_384, 262_144_000),
        (768, 0),
        (5_120, 41_943_040),
        (40, 0),
        (1_600, 13_107_200),
        (2_620, 85_852_160),
        (1_060, 28_835_840),
        (1_660, 52_428_800),
        (6_540, 849_346_560),
        (1_600, 209_715_200),
    ];
    assert_eq!(hand.len(), figures.len());
    for ((scope, h), f) in hand.iter().zip(figures) {
        assert_eq!(*h, f, "{scope}: formula against its figure");
    }
    let (params, macs) = check_espnet_scopes(ESPNet::LAYERS, &hand);
    // Encoder 349,449 + decoder 15,120 params; 4,709,441,536 MACs.
    assert_eq!(params, 364_569);
    assert_eq!(macs, 4_709_441_536);
    assert_eq!(ESPNet::PARAMS, params);
    assert_eq!(ESPNet::MACS, macs);
    assert_eq!(espnet_elementwise_flops(512, 1024), 165_994_496);
    assert_eq!(ESPNet::FLOPS, 2 * macs + 165_994_496);
    // Running statistics: 2 per batch-norm channel, 1,886 channels.
    assert_eq!(ESPNet::BUFFERS, 3_772);
    assert_eq!(ESPNet::INPUT_SHAPE, &[3, 512, 1024]);
    assert_eq!(ESPNet::OUTPUT_SHAPE, &[20, 512, 1024]);
    // The three transposed convolutions: 2x2 stride 2, 20 -> 20, on the
    // 1/8, 1/4 and 1/2 maps: 1,600 products per input position each.
    let transposed: u64 = ESPNet::LAYERS
        .iter()
        .filter(|l| l.kind == "ConvTranspose2d")
        .map(|l| l.costs.macs)
        .sum();
    assert_eq!(transposed, 13_107_200 + 52_428_800 + 209_715_200);

    // Measured with the authors' Model.py at afe71c3 (github.com/sacmehta/
    // ESPNet, `test/Model.py`, `ESPNet(20, p=2, q=8)`, which loads their
    // released `pretrained/decoder/espnet_p_2_q_8.pth` with every key
    // matched), by `scripts/measure_espnet.py`: 364,569 params, and PyTorch's
    // FlopCounterMode on a 1x3x512x1024 input gives 9,418,883,072 FLOPs (aten.convolution only),
    // 4,709,441,536 MACs. (`train/Model.py` differs in `conv`, CBR(19 + 20,
    // ...) on level1's output after `b1`: 365,109 params, which the released
    // Cityscapes checkpoints do not fit.)
    assert_eq!(ESPNet::PARAMS, 364_569);
    assert_eq!(2 * ESPNet::MACS, 9_418_883_072);

    // The paper: 0.364 M parameters; within 2 % (0.15 % here).
    let paper = 364_000u64;
    assert!(ESPNet::PARAMS.abs_diff(paper) * 100 < 2 * paper);
}

#[test]
fn espnet_state_dict_names_are_the_authors() {
    let want = espnet_state_dict();
    // 189 tensors, as the released checkpoint holds.
    assert_eq!(want.len(), 189);
    for model in [
        Model::random(ESPNet::GRAPH, 0),
        Model::random(SmallESPNet::GRAPH, 0),
    ] {
        let mut got: Vec<(String, Vec<usize>)> = model
            .tensors()
            .into_iter()
            .map(|(n, t)| (n, t.shape().to_vec()))
            .collect();
        let mut want = want.clone();
        got.sort();
        want.sort();
        assert_eq!(got, want);
    }
}

#[test]
fn small_espnet_matches_the_hand_count() {
    // The same layers at 64x128: the same params, MACs by the same formulas
    // (measured with the authors' code as above: 73,585,024 MACs).
    let hand = espnet_hand(64, 128);
    let (params, macs) = check_espnet_scopes(SmallESPNet::LAYERS, &hand);
    assert_eq!(params, 364_569);
    assert_eq!(macs, 73_585_024);
    assert_eq!(SmallESPNet::PARAMS, params);
    assert_eq!(SmallESPNet::MACS, macs);
    assert_eq!(
        SmallESPNet::FLOPS,
        2 * macs + espnet_elementwise_flops(64, 128)
    );
    assert_eq!(SmallESPNet::OUTPUT_SHAPE, &[20, 64, 128]);
}

// ------------------------------------------------------------------ U-Net

/// One parameterised layer of the hand count: its dotted name, output
/// shape, params and MACs.
type Row = (String, Vec<usize>, u64, u64);

/// The classic U-Net with `c` channels at the first level and 2 classes on
/// a 1-channel `size`x`size` tile, layer by layer. An unpadded 3x3
/// convolution takes 2 off each side: from `c_in` channels to `c_out` at
/// `h` x `h` it holds `c_out·c_in·9 + c_out` params and does
/// `c_out·h·h·c_in·9` MACs. A 2x2 max pool halves the size. The
/// up-convolution (ConvTranspose2d(c_in, c_in / 2, 2, stride 2)) doubles
/// it: `c_in·(c_in/2)·4 + c_in/2` params, `c_in·h_in·h_in·(c_in/2)·4` MACs
/// (every input element times every weight of its output channels). The
/// crop of the encoder's feature to the decoder's size and the
/// concatenation cost nothing; the final 1x1 convolution to 2 classes holds
/// `2·c + 2`.
fn unet_hand(c: usize, size: usize) -> Vec<Row> {
    let mut rows: Vec<Row> = Vec::new();
    fn conv3(rows: &mut Vec<Row>, name: String, c_in: usize, c_out: usize, h: &mut usize) {
        *h -= 2;
        let (ci, co, hh) = (c_in as u64, c_out as u64, *h as u64);
        rows.push((
            name,
            vec![c_out, *h, *h],
            co * ci * 9 + co,
            co * hh * hh * ci * 9,
        ));
    }
    let mut h = size;
    let mut channels = 1;
    let mut skips = Vec::new();
    // The contracting path: down1..down4, then the bottleneck, each after a
    // max pool except the first.
    for (level, name) in ["down1", "down2", "down3", "down4", "bottleneck"]
        .iter()
        .enumerate()
    {
        if level > 0 {
            assert_eq!(h % 2, 0, "the pool before {name} takes an even size");
            h /= 2;
        }
        let out = c << level;
        conv3(&mut rows, format!("{name}.conv1"), channels, out, &mut h);
        conv3(&mut rows, format!("{name}.conv2"), out, out, &mut h);
        channels = out;
        skips.push((out, h));
    }
    skips.pop();
    // The expanding path: up1..up4, each on the matching encoder level.
    for (i, (skip_c, skip_h)) in skips.into_iter().rev().enumerate() {
        let name = format!("up{}", i + 1);
        let out = channels / 2;
        let (ci, co, hh) = (channels as u64, out as u64, h as u64);
        h *= 2;
        rows.push((
            format!("{name}.up"),
            vec![out, h, h],
            ci * co * 4 + co,
            ci * hh * hh * co * 4,
        ));
        assert_eq!(skip_c, out);
        assert_eq!((skip_h - h) % 2, 0, "{name}: the crop is centred");
        // conv1 on the concatenation: skip_c + out channels
        conv3(
            &mut rows,
            format!("{name}.conv1"),
            skip_c + out,
            out,
            &mut h,
        );
        conv3(&mut rows, format!("{name}.conv2"), out, out, &mut h);
        channels = out;
    }
    let (ci, hh) = (channels as u64, h as u64);
    rows.push(("final".into(), vec![2, h, h], 2 * ci + 2, 2 * hh * hh * ci));
    rows
}

/// A U-Net's FLOPs from its hand rows, by the README's formulas: 2·MACs
/// and one add per output element for every bias, one per element for the
/// ReLU after each 3x3 convolution, and 3 comparisons per output of each
/// 2x2 max pool (after `down1` ... `down4`, a quarter of their outputs).
fn unet_flops(rows: &[Row]) -> u64 {
    let elements = |r: &Row| r.1.iter().product::<usize>() as u64;
    let mut flops = 0;
    for r in rows {
        flops += 2 * r.3 + elements(r);
        if r.0.ends_with(".conv1") || r.0.ends_with(".conv2") {
            flops += elements(r);
        }
        if r.0.starts_with("down") && r.0.ends_with(".conv2") {
            flops += 3 * elements(r) / 4;
        }
    }
    flops
}

/// Checks a U-Net's parameterised layers against `unet_hand`, row by row:
/// returns the totals.
fn check_unet(layers: &[LayerInfo<'_>], hand: &[Row]) -> (u64, u64) {
    let got: Vec<Row> = layers
        .iter()
        .filter(|l| l.costs.params > 0)
        .map(|l| {
            (
                l.name.to_string(),
                l.output.to_vec(),
                l.costs.params,
                l.costs.macs,
            )
        })
        .collect();
    assert_eq!(got, hand);
    let total = hand.iter().fold((0, 0), |(p, m), r| (p + r.2, m + r.3));
    assert_eq!(costs(layers), total, "no other layer has params or MACs");
    total
}

#[test]
fn unet_matches_the_hand_count() {
    let hand = unet_hand(64, 572);
    // The formulas' values for the classic (channels 64..1024, 572 -> 388):
    // (name, output side, params, MACs).
    let figures: [(&str, usize, u64, u64); 23] = [
        ("down1.conv1", 570, 640, 187_142_400),
        ("down1.conv2", 568, 36_928, 11_893_211_136),
        ("down2.conv1", 282, 73_856, 5_863_145_472),
        ("down2.conv2", 280, 147_584, 11_560_550_400),
        ("down3.conv1", 138, 295_168, 5_616_304_128),
        ("down3.conv2", 136, 590_080, 10_909_384_704),
        ("down4.conv1", 66, 1_180_160, 5_138_546_688),
        ("down4.conv2", 64, 2_359_808, 9_663_676_416),
        ("bottleneck.conv1", 30, 4_719_616, 4_246_732_800),
        ("bottleneck.conv2", 28, 9_438_208, 7_398_752_256),
        ("up1.up", 56, 2_097_664, 1_644_167_168),
        ("up1.conv1", 54, 4_719_104, 13_759_414_272),
        ("up1.conv2", 52, 2_359_808, 6_379_536_384),
        ("up2.up", 104, 524_544, 1_417_674_752),
        ("up2.conv1", 102, 1_179_904, 12_273_057_792),
        ("up2.conv2", 100, 590_080, 5_898_240_000),
        ("up3.up", 200, 131_200, 1_310_720_000),
        ("up3.conv1", 198, 295_040, 11_561_730_048),
        ("up3.conv2", 196, 147_584, 5_664_669_696),
        ("up4.up", 392, 32_832, 1_258_815_488),
        ("up4.conv1", 390, 73_792, 11_214_028_800),
        ("up4.conv2", 388, 36_928, 5_549_654_016),
        ("final", 388, 130, 19_269_632),
    ];
    assert_eq!(hand.len(), figures.len());
    for (row, (name, side, params, macs)) in hand.iter().zip(figures) {
        assert_eq!(row.0, name);
        assert_eq!(row.1[1..], [side, side], "{name}: output side");
        assert_eq!(
            (row.2, row.3),
            (params, macs),
            "{name}: formula against its figure"
        );
    }
    let (params, macs) = check_unet(UNet::LAYERS, &hand);
    assert_eq!(params, 31_030_658);
    assert_eq!(macs, 150_428_424_448);
    assert_eq!(UNet::PARAMS, params);
    assert_eq!(UNet::MACS, macs);
    assert_eq!(unet_flops(&hand), 301_134_062_112);
    assert_eq!(UNet::FLOPS, unet_flops(&hand));
    assert_eq!(UNet::INPUT_SHAPE, &[1, 572, 572]);
    assert_eq!(UNet::OUTPUT_SHAPE, &[2, 388, 388]);
    // No batch norm: no buffers.
    assert_eq!(UNet::BUFFERS, 0);
    // Measured with PyTorch's FlopCounterMode on a PyTorch transcription of
    // this network (the same modules and crops, `scripts/measure_unet.py`):
    // 31,030,658 params and
    // 300,856,848,896 FLOPs, 150,428,424,448 MACs, at 1x1x572x572.
    assert_eq!(2 * UNet::MACS, 300_856_848_896);

    // The crops: each up level's concatenation takes the encoder feature
    // cut to the upsampled size, centred (64 -> 56, 136 -> 104, 280 -> 200,
    // 568 -> 392), the cropped feature first.
    for (level, skip, side) in [(1, 512, 56), (2, 256, 104), (3, 128, 200), (4, 64, 392)] {
        let cat = UNet::LAYERS
            .iter()
            .find(|l| l.name.starts_with(&format!("up{level}.")) && l.kind == "Concat")
            .unwrap_or_else(|| panic!("up{level}: a concatenation"));
        assert_eq!(
            cat.inputs,
            &[&[skip, side, side][..], &[skip, side, side][..]]
        );
        assert_eq!(cat.output, &[2 * skip, side, side]);
    }
}

#[test]
fn small_unet_matches_the_hand_count() {
    // 4 to 64 channels on 188x188: 121,658 params, 24,989,584 MACs (the same
    // PyTorch transcription, `scripts/measure_unet.py`), output 2x4x4.
    let hand = unet_hand(4, 188);
    let (params, macs) = check_unet(SmallUNet::LAYERS, &hand);
    assert_eq!((params, macs), (121_658, 24_989_584));
    assert_eq!(SmallUNet::PARAMS, params);
    assert_eq!(SmallUNet::MACS, macs);
    assert_eq!(SmallUNet::FLOPS, unet_flops(&hand));
    assert_eq!(SmallUNet::FLOPS, 51_115_200);
    assert_eq!(SmallUNet::OUTPUT_SHAPE, &[2, 4, 4]);
}

// ------------------------------------------------------ the conventions

/// Each network's count under every tool's convention equals the tool's
/// own measurement, to the unit: fvcore 0.1.5, thop 0.1.1 and ptflops 0.7.5
/// on the authors' ESPNet (`test/Model.py` at afe71c3,
/// `scripts/measure_espnet.py`) and on the PyTorch transcription of the
/// U-Net (`scripts/measure_unet.py`), at each network's input size.
#[test]
fn dense_models_match_the_counting_tools() {
    fn counts<N: Network>() -> [u64; 3] {
        [
            N::count_as(Convention::Fvcore),
            N::count_as(Convention::Thop),
            N::count_as(Convention::Ptflops),
        ]
    }
    // [fvcore, thop, ptflops], as the tools print them.
    assert_eq!(
        counts::<ESPNet>(),
        [4_777_598_976, 5_706_309_632, 4_852_506_624]
    );
    assert_eq!(
        counts::<SmallESPNet>(),
        [74_649_984, 89_161_088, 75_820_416]
    );
    assert_eq!(
        counts::<UNet>(),
        [150_428_424_448, 167_322_556_672, 150_867_255_072]
    );
    assert_eq!(counts::<SmallUNet>(), [24_989_584, 25_511_824, 26_893_968]);
    for (name, torchvision, macs) in [
        (
            "ESPNet",
            ESPNet::count_as(Convention::Torchvision),
            ESPNet::MACS,
        ),
        ("UNet", UNet::count_as(Convention::Torchvision), UNet::MACS),
    ] {
        assert_eq!(torchvision, macs, "{name}");
    }
}

// ------------------------------------------------- running both backends

/// Runs `N` on a batch of 2 and of 1 through both backends: the backends
/// agree to 1e-4 of the largest output (`common::assert_backends_agree`), the
/// output shape is the batch and `OUTPUT_SHAPE`, and each sample of the batch
/// of two is its own.
fn runs_on_both_backends<N: Network>() {
    let mut model = Model::random(N::GRAPH, 7);
    perturb_batch_norms(&mut model);
    let per_sample: usize = N::INPUT_SHAPE.iter().product();
    let out_per_sample: usize = N::OUTPUT_SHAPE.iter().product();
    let x2 = input::<N>(2, 1);
    let x1 = {
        let mut shape = vec![1];
        shape.extend_from_slice(N::INPUT_SHAPE);
        Tensor::new(&shape, x2.data()[per_sample..].to_vec()).unwrap()
    };
    let (reference, fast, want2) = assert_backends_agree(N::NAME, &model, &x2);
    let mut shape = vec![2];
    shape.extend_from_slice(N::OUTPUT_SHAPE);
    assert_eq!(
        want2.shape(),
        &shape[..],
        "{}: reference output shape",
        N::NAME
    );
    let largest = want2.data().iter().fold(0.0f32, |m, v| m.max(v.abs()));
    for net in [&reference, &fast] {
        let one = net.forward(&x1).unwrap();
        shape[0] = 1;
        assert_eq!(one.shape(), &shape[..]);
        let second = &want2.data()[out_per_sample..];
        let err = one
            .data()
            .iter()
            .zip(second)
            .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
        assert!(
            err <= 1e-4 * largest,
            "{}: the second sample alone differs by {err}",
            N::NAME
        );
    }
}

#[test]
fn small_espnet_runs_on_both_backends() {
    runs_on_both_backends::<SmallESPNet>();
}

#[test]
fn small_unet_runs_on_both_backends() {
    runs_on_both_backends::<SmallUNet>();
}
