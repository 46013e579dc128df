//! Mobile-Former-294M (Chen et al., CVPR 2022) against a count by hand and
//! against its paper. No library ships it: the network follows the authors'
//! code (github.com/AAboys/MobileFormer, `mobile_former_294m`), whose README
//! and the paper give 11.4 M parameters and 294 M MAdds at 224x224.
//!
//! The hand count below is written from the code's modules, layer by layer,
//! with T = 6 tokens of dimension D = 192. Linear layers have biases,
//! convolutions none; a batch norm or a layer norm of C channels holds 2·C
//! parameters. MACs are every matrix product: convolutions, linear layers
//! (per token), and the two products of each attention.

use netspec::zoo::MobileFormer294M;
use netspec::{Backend, Model, Tensor};

/// Tokens and their dimension.
const T: u64 = 6;
const D: u64 = 192;

/// `HyperFunc(192, out)` (reduction 4): `Linear(192, 48)` (9,216 + 48) and
/// `Linear(48, out)` (48·out + out) on token 0.
const fn hyper(out: u64) -> (u64, u64) {
    (9_264 + 49 * out, 9_216 + 48 * out)
}

/// Mobile→Former (`Local2Global`, dynamic) on a map of `c` channels and
/// `hw` positions: `alpha.0` and `q` (`Linear(192, c)`: 193·c each), `proj`
/// (`Linear(c, 192)`: 192·c + 192), `layer_norm` (384):
/// 578·c + 576 params. MACs: the three linears on 6 tokens, 3·6·192·c, and
/// the products `t @ k` and `attn @ kᵀ`, 6·c·hw each.
const fn mobile_to_former(c: u64, hw: u64) -> (u64, u64) {
    (578 * c + 576, 3 * T * D * c + 2 * T * c * hw)
}

/// The Former (`GlobalBlock`, 4 heads, FFN): `q` and `channel_mlp`
/// (`Linear(192, 192)`: 37,056 each), `ffn.0` (`Linear(192, 384)`: 74,112),
/// `ffn.2` (`Linear(384, 192)`: 73,920), `layer_norm` and `ffn_norm` (384
/// each): 222,912 params. MACs: 6·(36,864 + 36,864 + 73,728 + 73,728) =
/// 1,327,104 for the linears, and 2·(6·6·192) = 13,824 for the products:
/// 1,340,928.
const FORMER: (u64, u64) = (222_912, 1_340_928);

/// Former→Mobile (`Global2Local`) to a map of `c` channels and `hw`
/// positions: `proj` and `k` (`Linear(192, c)`: 193·c each): 386·c params.
/// MACs: 2·6·192·c for the linears, and the products `q @ k` and
/// `attn @ v`, hw·6·c each.
const fn former_to_mobile(c: u64, hw: u64) -> (u64, u64) {
    (386 * c, 2 * T * D * c + 2 * T * c * hw)
}

/// The mobile part of a `DnaBlock3` (downsampling, stride 2) from `inp` to
/// `oup` channels with an output of `hw` positions: `conv1` depthwise 3x3
/// to h1 = 6·inp (9·h1, BN 2·h1), `hyper1` (2·h1), `conv2` 1x1 to `oup`
/// (h1·oup, BN 2·oup), `conv3` depthwise 3x3 to h2 = 4·oup (9·h2, BN 2·h2),
/// `hyper3` (2·h2), `conv4` 1x1 to `oup` (h2·oup, BN 2·oup). The
/// convolutions' MACs are their params times `hw`.
const fn dna_block3(inp: u64, oup: u64, hw: u64) -> (u64, u64) {
    let (h1, h2) = (6 * inp, 4 * oup);
    let (hp1, hm1) = hyper(2 * h1);
    let (hp3, hm3) = hyper(2 * h2);
    let convs = 9 * h1 + h1 * oup + 9 * h2 + h2 * oup;
    let bns = 2 * h1 + 2 * oup + 2 * h2 + 2 * oup;
    (convs + bns + hp1 + hp3, convs * hw + hm1 + hm3)
}

/// The mobile part of a `DnaBlock` (stride 1 here) from `inp` to `oup`
/// channels at `hw` positions: `conv1` 1x1 to h = e1·inp (inp·h, BN 2·h),
/// `hyper1` (2·h), `conv2` depthwise 3x3 (9·h, BN 2·h), `hyper2` (2·h),
/// `conv3` 1x1 to `oup` (h·oup, BN 2·oup).
const fn dna_block(inp: u64, oup: u64, e1: u64, hw: u64) -> (u64, u64) {
    let h = e1 * inp;
    let (hp, hm) = hyper(2 * h);
    let convs = inp * h + 9 * h + h * oup;
    let bns = 2 * h + 2 * h + 2 * oup;
    (convs + bns + 2 * hp, convs * hw + 2 * hm)
}

/// A whole Mobile-Former block: Mobile→Former on its input map (`inp`
/// channels, `hw_in` positions), the Former, the mobile part and
/// Former→Mobile on its output map (`oup` channels, `hw_out` positions).
const fn block(inp: u64, oup: u64, hw_in: u64, hw_out: u64, mobile: (u64, u64)) -> (u64, u64) {
    let a = mobile_to_former(inp, hw_in);
    let b = former_to_mobile(oup, hw_out);
    (
        a.0 + FORMER.0 + mobile.0 + b.0,
        a.1 + FORMER.1 + mobile.1 + b.1,
    )
}

const R112: u64 = 112 * 112;
const R56: u64 = 56 * 56;
const R28: u64 = 28 * 28;
const R14: u64 = 14 * 14;
const R7: u64 = 7 * 7;

/// Each scope's (params, MACs), in order. The figures in the comments are
/// the formulas' values, also asserted below.
const HAND: [(&str, (u64, u64)); 16] = [
    // tokens: nn.Embedding(6, 192): 1,152 params
    ("tokens", (T * D, 0)),
    // stem: 3x3 stride-2 conv 3 -> 16 (432 params, 432·112² = 5,419,008
    // MACs), BN 32: 464 params
    ("stem", (432 + 32, 432 * R112)),
    // features.0 (DnaBlock3, e2 = 0, conv alone, 112²): depthwise 3x3
    // 16 -> 32 (288, 288·112² = 3,612,672), BN 64, 1x1 32 -> 16 (512,
    // 512·112² = 6,422,528), BN 32: 896 params, 10,035,200 MACs
    ("features.0", (288 + 64 + 512 + 32, (288 + 512) * R112)),
    // features.1 (DnaBlock3 16 -> 24, 112² -> 56²): 286,160 / 24,669,696
    (
        "features.1",
        block(16, 24, R112, R56, dna_block3(16, 24, R56)),
    ),
    // features.2 (DnaBlock 24 -> 24, e1 4, 56²): 289,872 / 20,482,560
    (
        "features.2",
        block(24, 24, R56, R56, dna_block(24, 24, 4, R56)),
    ),
    // features.3 (DnaBlock3 24 -> 48, 56² -> 28²): 327,360 / 17,955,072
    (
        "features.3",
        block(24, 48, R56, R28, dna_block3(24, 48, R28)),
    ),
    // features.4 (DnaBlock 48 -> 48, e1 4, 28²): 346,944 / 18,381,312
    (
        "features.4",
        block(48, 48, R28, R28, dna_block(48, 48, 4, R28)),
    ),
    // features.5 (DnaBlock3 48 -> 96, 28² -> 14²): 444,960 / 16,318,080
    (
        "features.5",
        block(48, 96, R28, R14, dna_block3(48, 96, R14)),
    ),
    // features.6 (DnaBlock 96 -> 96, e1 4, 14²): 488,736 / 17,565,696
    (
        "features.6",
        block(96, 96, R14, R14, dna_block(96, 96, 4, R14)),
    ),
    // features.7 (DnaBlock 96 -> 128, e1 6, 14²): 596,576 / 28,928,256
    (
        "features.7",
        block(96, 128, R14, R14, dna_block(96, 128, 6, R14)),
    ),
    // features.8 (DnaBlock 128 -> 128, e1 6, 14²): 722,784 / 42,736,128
    (
        "features.8",
        block(128, 128, R14, R14, dna_block(128, 128, 6, R14)),
    ),
    // features.9 (DnaBlock3 128 -> 192, 14² -> 7²): 853,216 / 17,933,568
    (
        "features.9",
        block(128, 192, R14, R7, dna_block3(128, 192, R7)),
    ),
    // features.10, features.11 (DnaBlock 192 -> 192, e1 6, 7²): 1,110,624
    // / 25,096,320 each
    (
        "features.10",
        block(192, 192, R7, R7, dna_block(192, 192, 6, R7)),
    ),
    (
        "features.11",
        block(192, 192, R7, R7, dna_block(192, 192, 6, R7)),
    ),
    // local_global (the last Mobile→Former, 192 channels, 7²): 111,552 /
    // 776,448
    ("local_global", mobile_to_former(192, R7)),
    // classifier: conv 1x1 192 -> 1152 (221,184, ·49 = 10,838,016), BN
    // 2,304; fc.0 Linear(1152 + 192, 1920) (2,580,480 + 1,920), fc.1 BN
    // 3,840; classifier.1 Linear(1920, 1000) (1,920,000 + 1,000): 4,730,728
    // params, 15,338,496 MACs
    (
        "classifier",
        (
            221_184 + 2_304 + 2_582_400 + 3_840 + 1_921_000,
            221_184 * R7 + 2_580_480 + 1_920_000,
        ),
    ),
];

/// The sums of `HAND`.
const fn total(i: usize) -> u64 {
    let mut s = 0;
    let mut k = 0;
    while k < HAND.len() {
        s += if i == 0 { HAND[k].1 .0 } else { HAND[k].1 .1 };
        k += 1;
    }
    s
}
const HAND_PARAMS: u64 = total(0);
const HAND_MACS: u64 = total(1);

/// Elements of the 20 dynamic-ReLU outputs (`act1` and `act3` of each
/// DnaBlock3 with e2 > 0, `act1` and `act2` of each DnaBlock), each of which
/// costs two products (`out * a1`, `out * a2`) that are not matrix
/// products: DnaBlock3 (h1 + h2)·hw_out, DnaBlock 2·h·hw.
const DYRELU_ELEMENTS: u64 = (96 + 96) * R56
    + 2 * 96 * R56
    + (144 + 192) * R28
    + 2 * 192 * R28
    + (288 + 384) * R14
    + 2 * 384 * R14
    + 2 * 576 * R14
    + 2 * 768 * R14
    + (768 + 768) * R7
    + 2 * 2 * 1152 * R7;

#[test]
fn mobile_former_294m_matches_the_hand_count_and_the_paper() {
    // The formulas' values, as written in the comments above.
    let figures: [(u64, u64); 16] = [
        (1_152, 0),
        (464, 5_419_008),
        (896, 10_035_200),
        (286_160, 24_669_696),
        (289_872, 20_482_560),
        (327_360, 17_955_072),
        (346_944, 18_381_312),
        (444_960, 16_318_080),
        (488_736, 17_565_696),
        (596_576, 28_928_256),
        (722_784, 42_736_128),
        (853_216, 17_933_568),
        (1_110_624, 25_096_320),
        (1_110_624, 25_096_320),
        (111_552, 776_448),
        (4_730_728, 15_338_496),
    ];
    for ((name, hand), figure) in HAND.iter().zip(figures) {
        assert_eq!(*hand, figure, "{name}: formula against its figure");
        // The network's layers under that scope, summed.
        let (p, m) = MobileFormer294M::LAYERS
            .iter()
            .filter(|l| {
                l.name == *name
                    || (l.name.starts_with(name) && l.name.as_bytes()[name.len()] == b'.')
            })
            .fold((0, 0), |(p, m), l| (p + l.params, m + l.macs));
        assert_eq!(
            (p, m),
            *hand,
            "{name}: (params, MACs), network against hand"
        );
    }
    // Sums: 11,422,648 params and 286,732,160 MACs.
    assert_eq!(HAND_PARAMS, 11_422_648);
    assert_eq!(HAND_MACS, 286_732_160);
    assert_eq!(MobileFormer294M::PARAMS, HAND_PARAMS);
    assert_eq!(MobileFormer294M::MACS, HAND_MACS);
    assert_eq!(MobileFormer294M::INPUT_SHAPE, &[3, 224, 224]);
    assert_eq!(MobileFormer294M::OUTPUT_SHAPE, &[1000]);

    // Measured independently on the authors' code (github.com/AAboys/MobileFormer at
    // f447310) with PyTorch's FlopCounterMode by `scripts/measure_mobile_former.py`:
    // 11,422,648 params, 286,732,160 MACs: aten.convolution 248,791,424, aten.addmm
    // (linear layers) 27,176,448, aten.bmm (attention products) 10,764,288.
    let macs_of = |kinds: &[&str]| -> u64 {
        MobileFormer294M::LAYERS
            .iter()
            .filter(|l| kinds.contains(&l.kind))
            .map(|l| l.macs)
            .sum()
    };
    assert_eq!(macs_of(&["Conv2d"]), 248_791_424);
    assert_eq!(macs_of(&["Linear"]), 27_176_448);
    assert_eq!(macs_of(&["Matmul"]), 10_764_288);

    // The paper and the authors' README: 11.4 M params, 294 M
    // MAdds. Params: 11.42 M, 0.2 % above.
    let (paper_params, paper_macs) = (11_400_000u64, 294_000_000u64);
    assert!(MobileFormer294M::PARAMS.abs_diff(paper_params) * 100 < 2 * paper_params);
    // MACs: the matrix products are 286.7 M (PyTorch's own count of the authors'
    // code, above), 2.47 % below 294 M, outside 2 %.
    // The code has no other matrix product; its dynamic ReLUs multiply each
    // of 2,878,848 activations by two coefficients (`torch.max(out * a1,
    // out * a2)`), 5,757,696 products, and with them the count is 292.5 M,
    // 0.5 % below: the paper evidently counts them as MAdds, which netspec's
    // MACs (matrix products only) do not.
    assert_eq!(DYRELU_ELEMENTS, 2_878_848);
    let diff = paper_macs - MobileFormer294M::MACS;
    assert!(
        diff * 1000 < 25 * paper_macs,
        "within 2.5 % of the paper's 294 M"
    );
    let with_dyrelu = MobileFormer294M::MACS + 2 * DYRELU_ELEMENTS;
    assert_eq!(with_dyrelu, 292_489_856);
    assert!(
        paper_macs.abs_diff(with_dyrelu) * 100 < paper_macs,
        "within 1 %"
    );

    // Names follow the authors' code (its state dict).
    let names: Vec<&str> = MobileFormer294M::LAYERS
        .iter()
        .filter(|l| l.params > 0)
        .map(|l| l.name)
        .collect();
    for name in [
        "tokens.weight",
        "stem.0",
        "features.0.conv.4",
        "features.1.local_global.alpha.0",
        "features.1.local_global.q",
        "features.1.global_block.ffn.2",
        "features.1.hyper1.hyper.2",
        "features.1.conv4.1",
        "features.2.hyper2.hyper.0",
        "features.11.global_local.k",
        "local_global.layer_norm",
        "classifier.conv.1",
        "classifier.fc.1",
        "classifier.classifier.1",
    ] {
        assert!(names.contains(&name), "{name}");
    }
}

/// A deterministic input of `batch` images.
fn input(batch: usize) -> Tensor {
    let data = (0..batch * 3 * 224 * 224)
        .map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0)
        .collect();
    Tensor::new(&[batch, 3, 224, 224], data).unwrap()
}

/// max |a - b| / max |b|
fn relative_error(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    let scale = b.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let err = a
        .iter()
        .zip(b)
        .fold(0.0f32, |m, (x, y)| m.max((x - y).abs()));
    err / scale
}

#[test]
fn mobile_former_294m_runs() {
    let net = Model::random(MobileFormer294M::GRAPH, 0);
    let x = input(1);
    let y = net.forward(&x).unwrap();
    assert_eq!(y.shape(), &[1, 1000]);
    assert!(y.data().iter().all(|v| v.is_finite()));
    assert!(y.data().iter().any(|v| *v != 0.0));
    // The fast backend (the default) against the reference kernels.
    let reference = net.with_backend(Backend::Reference);
    let r = reference.forward(&x).unwrap();
    let err = relative_error(y.data(), r.data());
    assert!(err <= 1e-4, "fast against reference: {err}");
}

/// A batch of two: the tokens (a batch of one, `t[None]`) broadcast over
/// it, and each sample's output is its own.
fn batch_of_two(backend: Backend) {
    let net = Model::random(MobileFormer294M::GRAPH, 0).with_backend(backend);
    let x = input(2);
    let y = net.forward(&x).unwrap();
    assert_eq!(y.shape(), &[2, 1000]);
    let n = 3 * 224 * 224;
    for b in 0..2 {
        let one = Tensor::new(&[1, 3, 224, 224], x.data()[b * n..(b + 1) * n].to_vec()).unwrap();
        let single = net.forward(&one).unwrap();
        let err = relative_error(&y.data()[b * 1000..(b + 1) * 1000], single.data());
        assert!(err <= 1e-4, "sample {b}: {err}");
    }
}

#[test]
fn mobile_former_294m_runs_a_batch_on_the_reference_backend() {
    batch_of_two(Backend::Reference);
}

// The tokens (`t[None]`, a batch of one) meet the batch of two in
// `features.1.local_global.add`: the fast backend's sum broadcasts them.
#[test]
fn mobile_former_294m_runs_a_batch_on_the_fast_backend() {
    batch_of_two(Backend::Fast);
}
