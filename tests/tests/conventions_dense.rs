//! The counting conventions of the layers of dense prediction, on networks
//! declared with `network!`: each network is one case measured by
//! `scripts/measure_dense_conventions.py` (torch 2.15, fvcore
//! 0.1.5.post20221221, thop 0.1.1.post2209072238, ptflops 0.7.5, batch 1,
//! eval), and `count_as` equals what each tool said, to the unit.
//!
//! A named stage is a module (the hooks of thop and ptflops see it); an
//! unnamed stage and a function (`interpolate(x, ...)`) are functional
//! calls, as `F.max_pool1d` or `F.interpolate` in PyTorch. A module bound
//! with `let m = m: Layer(...)` and applied twice counts at each
//! application and its parameters once, as every tool does.

use netspec::{network, Convention, Network};

network! {
    // Transposed convolutions: thop counts the output positions, fvcore and
    // ptflops the true products (ptflops with the bias).
    struct Ct1d(x: [4, 5]) { x -> up: ConvTranspose1d(6, 3) }
    struct Ct1dStrided(x: [4, 5]) {
        x -> up: ConvTranspose1d(6, 3, stride = 2, padding = 1, output_padding = 1, bias = false)
    }
    struct Ct2dGrouped(x: [4, 5, 5]) {
        x -> up: ConvTranspose2d(6, 3, stride = 2, padding = 1, output_padding = 1, groups = 2)
    }
    struct Ct2dDilated(x: [4, 5, 4]) {
        x -> up: ConvTranspose2d(6, (3, 2), stride = (2, 1), dilation = 2, bias = false)
    }
    struct Ct2dDepthwise(x: [4, 3, 3]) {
        x -> up: ConvTranspose2d(4, 4, stride = 2, padding = 1, groups = 4)
    }
    struct Ct2dPadDilation(x: [4, 4, 4]) {
        x -> up: ConvTranspose2d(6, 3, dilation = 2, output_padding = 1)
    }
    struct Ct3dGrouped(x: [4, 3, 4, 5]) {
        x -> up: ConvTranspose3d(6, 3, stride = 2, padding = 1, output_padding = 1, groups = 2)
    }
    struct Ct3d(x: [2, 3, 3, 3]) { x -> up: ConvTranspose3d(4, 2, stride = 2, bias = false) }

    struct Conv3dGrouped(x: [4, 4, 5, 6]) { x -> conv: Conv3d(6, 3, padding = 1, groups = 2) }
    struct Conv3dStrided(x: [4, 4, 5, 6]) {
        x -> conv: Conv3d(6, (1, 3, 3), stride = 2, bias = false)
    }

    struct Bn1dVector(x: [6]) { x -> bn: BatchNorm1d }
    struct Bn1d(x: [6, 10]) { x -> bn: BatchNorm1d }
    struct Bn3d(x: [4, 3, 4, 5]) { x -> bn: BatchNorm3d }

    struct MaxPool1dModule(x: [4, 11]) { x -> pool: MaxPool1d(3, 2, 1) }
    struct MaxPool1dFunctional(x: [4, 11]) { x -> MaxPool1d(3, 2, 1) }
    struct MaxPool1dCeil(x: [4, 11]) { x -> pool: MaxPool1d(2, ceil_mode = true) }
    struct AvgPool1dModule(x: [4, 11]) { x -> pool: AvgPool1d(3, 2, 1) }
    struct AvgPool1dFunctional(x: [4, 11]) { x -> AvgPool1d(3, 2, 1) }
    struct MaxPool3dModule(x: [4, 4, 6, 6]) { x -> pool: MaxPool3d(2) }
    struct AvgPool3dModule(x: [4, 4, 6, 6]) { x -> pool: AvgPool3d(2) }
    struct AvgPool3dFunctional(x: [4, 4, 6, 6]) { x -> AvgPool3d(2) }
    struct AvgPool3dExcludePad(x: [4, 5, 6, 7]) {
        x -> pool: AvgPool3d(3, 2, 1, count_include_pad = false)
    }
    struct Adaptive1d(x: [4, 7]) { x -> pool: AdaptiveAvgPool1d(3) }
    struct Adaptive1dFunctional(x: [4, 7]) { x -> AdaptiveAvgPool1d(3) }
    struct Adaptive1dGlobal(x: [4, 10]) { x -> pool: AdaptiveAvgPool1d(1) }
    struct Adaptive3d(x: [4, 5, 7, 5]) { x -> pool: AdaptiveAvgPool3d((2, 3, 2)) }
    struct Adaptive3dFunctional(x: [4, 5, 7, 5]) { x -> AdaptiveAvgPool3d((2, 3, 2)) }
    struct Adaptive3dGlobal(x: [4, 3, 4, 5]) { x -> pool: AdaptiveAvgPool3d(1) }

    // nn.Upsample (named stages) and F.interpolate.
    struct UpNearest(x: [4, 5, 6]) { x -> up: Upsample(scale_factor = 2) }
    struct UpNearestSize(x: [4, 5, 6]) { x -> up: Upsample(size = (7, 9)) }
    struct UpNearestOneSize(x: [4, 5, 6]) { x -> up: Upsample(size = 7) }
    struct UpNearestFactors(x: [4, 5, 6]) { x -> up: Upsample(scale_factor = (2, 3)) }
    struct UpNearestHalf(x: [4, 5, 6]) { x -> up: Upsample(scale_factor = 1.5) }
    struct UpNearestFractions(x: [4, 5, 6]) { x -> up: Upsample(scale_factor = (1.5, 2.5)) }
    struct UpNearestExact(x: [4, 5, 6]) {
        x -> up: Upsample(scale_factor = 2, mode = "nearest-exact")
    }
    struct UpBilinear(x: [4, 5, 6]) { x -> up: Upsample(scale_factor = 2, mode = "bilinear") }
    struct UpBilinearCorners(x: [4, 5, 6]) {
        x -> up: Upsample(scale_factor = 2, mode = "bilinear", align_corners = true)
    }
    struct UpBilinearSize(x: [4, 5, 6]) {
        x -> up: Upsample(size = (8, 8), mode = "bilinear", align_corners = true)
    }
    struct UpBilinearHalf(x: [4, 5, 6]) {
        x -> up: Upsample(scale_factor = 1.5, mode = "bilinear")
    }
    struct UpBicubic(x: [4, 5, 6]) { x -> up: Upsample(scale_factor = 2, mode = "bicubic") }
    struct UpBicubicSize(x: [4, 5, 6]) {
        x -> up: Upsample(size = (7, 9), mode = "bicubic", align_corners = true)
    }
    struct UpLinear(x: [4, 5]) { x -> up: Upsample(scale_factor = 2, mode = "linear") }
    struct UpLinearSize(x: [4, 5]) {
        x -> up: Upsample(size = 9, mode = "linear", align_corners = true)
    }
    struct UpNearest1d(x: [4, 5]) { x -> up: Upsample(scale_factor = 2) }
    struct UpTrilinear(x: [2, 3, 4, 5]) {
        x -> up: Upsample(scale_factor = 2, mode = "trilinear")
    }
    struct UpTrilinearSize(x: [2, 3, 4, 5]) {
        x -> up: Upsample(size = (4, 5, 6), mode = "trilinear", align_corners = true)
    }
    struct UpNearest3d(x: [2, 3, 4, 5]) { x -> up: Upsample(scale_factor = 2) }

    struct InterpNearest(x: [4, 5, 6]) { interpolate(x, scale_factor = 2) }
    struct InterpNearestSize(x: [4, 5, 6]) { interpolate(x, size = (7, 9)) }
    struct InterpNearestOneSize(x: [4, 5, 6]) { interpolate(x, size = 7) }
    struct InterpNearestFactors(x: [4, 5, 6]) { interpolate(x, scale_factor = (2, 3)) }
    struct InterpNearestHalf(x: [4, 5, 6]) { interpolate(x, scale_factor = 1.5) }
    struct InterpNearestFractions(x: [4, 5, 6]) { interpolate(x, scale_factor = (1.5, 2.5)) }
    struct InterpNearestExact(x: [4, 5, 6]) {
        interpolate(x, scale_factor = 2, mode = "nearest-exact")
    }
    struct InterpBilinear(x: [4, 5, 6]) { interpolate(x, scale_factor = 2, mode = "bilinear") }
    struct InterpBilinearCorners(x: [4, 5, 6]) {
        interpolate(x, scale_factor = 2, mode = "bilinear", align_corners = true)
    }
    struct InterpBilinearSize(x: [4, 5, 6]) {
        interpolate(x, size = (8, 8), mode = "bilinear", align_corners = false)
    }
    struct InterpBilinearHalf(x: [4, 5, 6]) {
        interpolate(x, scale_factor = 1.5, mode = "bilinear")
    }
    struct InterpBicubic(x: [4, 5, 6]) { interpolate(x, scale_factor = 2, mode = "bicubic") }
    struct InterpLinearSize(x: [4, 5]) { interpolate(x, size = 9, mode = "linear") }
    struct InterpNearest1d(x: [4, 5]) { interpolate(x, scale_factor = 2) }
    struct InterpTrilinear(x: [2, 3, 4, 5]) {
        interpolate(x, scale_factor = 2, mode = "trilinear")
    }
    struct InterpNearest3dSize(x: [2, 3, 4, 5]) { interpolate(x, size = (4, 5, 6)) }
    // An unnamed Upsample stage is F.interpolate, as in a chain of functions.
    struct UpUnnamedBilinear(x: [4, 5, 6]) { x -> Upsample(scale_factor = 2, mode = "bilinear") }

    struct PReLUOne(x: [4, 5, 5]) { x -> act: PReLU }
    struct PReLUChannels(x: [4, 5, 5]) { x -> act: PReLU(4) }
    struct PReLUFunctional(x: [4, 5, 5]) { x -> PReLU(4) }
    struct HardtanhModule(x: [4, 5, 5]) { x -> act: Hardtanh }
    struct HardtanhBounds(x: [4, 5, 5]) { x -> act: Hardtanh(-2.0, 3.0) }
    struct HardtanhFunctional(x: [4, 5, 5]) { x -> Hardtanh }
    struct EluModule(x: [4, 5, 5]) { x -> act: ELU }
    struct EluAlpha(x: [4, 5, 5]) { x -> act: ELU(0.5) }
    struct EluFunctional(x: [4, 5, 5]) { x -> ELU }

    // Shared modules: bound once, applied twice.
    struct ConvOnce(x: [4, 5, 5]) { x -> conv: Conv2d(4, 3, padding = 1) }
    struct ConvTwice(x: [4, 5, 5]) {
        let conv = conv: Conv2d(4, 3, padding = 1);
        x -> conv -> conv
    }
    struct Siamese(x: [4, 5, 5]) {
        let (a, b) = chunk(x, 2);
        let m = m: Conv2d(3, 3, padding = 1);
        cat(m(a), m(b))
    }
    struct BnTwice(x: [4, 5, 5]) {
        let bn = bn: BatchNorm2d;
        x -> bn -> bn
    }
    struct ReluTwice(x: [4, 5, 5]) {
        let act = act: ReLU;
        x -> act -> act
    }
    struct LinearTwice(x: [4, 6]) {
        let fc = fc: Linear(6);
        x -> fc -> fc
    }
    struct DeconvTwice(x: [4, 3, 3]) {
        let up = up: ConvTranspose2d(4, 2, stride = 2);
        x -> up -> up
    }
    struct PReLUTwice(x: [4, 5, 5]) {
        let act = act: PReLU(4);
        x -> act -> act
    }
    struct UpsampleTwice(x: [4, 3, 3]) {
        let up = up: Upsample(scale_factor = 2, mode = "bilinear");
        x -> up -> up
    }
}

/// (torchvision = FlopCounterMode / 2, fvcore, thop, ptflops) of `N`.
fn tools<N: Network>() -> [u64; 4] {
    [
        Convention::Torchvision,
        Convention::Fvcore,
        Convention::Thop,
        Convention::Ptflops,
    ]
    .map(N::count_as)
}

type Case = (&'static str, fn() -> [u64; 4], [u64; 4]);

/// Each measured case (the script's name), our counts, and the tools'
/// (FlopCounterMode / 2, fvcore, thop, ptflops), as the script printed them.
const MEASURED: &[Case] = &[
    (
        "ConvTranspose1d(4, 6, 3)",
        tools::<Ct1d>,
        [360, 360, 504, 402],
    ),
    (
        "ConvTranspose1d(4, 6, 3, stride=2, padding=1, output_padding=1, bias=False)",
        tools::<Ct1dStrided>,
        [360, 360, 720, 360],
    ),
    (
        "ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2)",
        tools::<Ct2dGrouped>,
        [2_700, 2_700, 10_800, 3_300],
    ),
    (
        "ConvTranspose2d(4, 6, (3, 2), stride=(2, 1), dilation=2, bias=False)",
        tools::<Ct2dDilated>,
        [2_880, 2_880, 11_232, 2_880],
    ),
    (
        "ConvTranspose2d(4, 4, 4, stride=2, padding=1, groups=4)",
        tools::<Ct2dDepthwise>,
        [576, 576, 2_304, 720],
    ),
    (
        "ConvTranspose2d(4, 6, 3, dilation=2, output_padding=1)",
        tools::<Ct2dPadDilation>,
        [3_456, 3_456, 17_496, 3_942],
    ),
    (
        "ConvTranspose3d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2)",
        tools::<Ct3dGrouped>,
        [19_440, 19_440, 155_520, 22_320],
    ),
    (
        "ConvTranspose3d(2, 4, 2, stride=2, bias=False)",
        tools::<Ct3d>,
        [1_728, 1_728, 13_824, 1_728],
    ),
    (
        "Conv3d(4, 6, 3, padding=1, groups=2)",
        tools::<Conv3dGrouped>,
        [38_880, 38_880, 38_880, 39_600],
    ),
    (
        "Conv3d(4, 6, (1, 3, 3), stride=2, bias=False)",
        tools::<Conv3dStrided>,
        [1_728, 1_728, 1_728, 1_728],
    ),
    (
        "BatchNorm1d(6) on [6]",
        tools::<Bn1dVector>,
        [0, 12, 24, 12],
    ),
    (
        "BatchNorm1d(6) on [6, 10]",
        tools::<Bn1d>,
        [0, 120, 240, 120],
    ),
    ("BatchNorm3d(4)", tools::<Bn3d>, [0, 480, 960, 480]),
    (
        "MaxPool1d(3, 2, 1)",
        tools::<MaxPool1dModule>,
        [0, 0, 0, 88],
    ),
    (
        "F.max_pool1d(3, 2, 1)",
        tools::<MaxPool1dFunctional>,
        [0, 0, 0, 44],
    ),
    (
        "MaxPool1d(2, ceil_mode=True)",
        tools::<MaxPool1dCeil>,
        [0, 0, 0, 88],
    ),
    (
        "AvgPool1d(3, 2, 1)",
        tools::<AvgPool1dModule>,
        [0, 0, 24, 88],
    ),
    (
        "F.avg_pool1d(3, 2, 1)",
        tools::<AvgPool1dFunctional>,
        [0, 0, 0, 44],
    ),
    ("MaxPool3d(2)", tools::<MaxPool3dModule>, [0, 0, 0, 1_152]),
    ("AvgPool3d(2)", tools::<AvgPool3dModule>, [0, 0, 72, 1_152]),
    (
        "F.avg_pool3d(2)",
        tools::<AvgPool3dFunctional>,
        [0, 0, 0, 576],
    ),
    (
        "AvgPool3d(3, 2, 1, count_include_pad=False)",
        tools::<AvgPool3dExcludePad>,
        [0, 0, 144, 1_680],
    ),
    (
        "AdaptiveAvgPool1d(3) on [4, 7]",
        tools::<Adaptive1d>,
        [0, 0, 40, 56],
    ),
    (
        "F.adaptive_avg_pool1d(3) on [4, 7]",
        tools::<Adaptive1dFunctional>,
        [0, 0, 0, 28],
    ),
    (
        "AdaptiveAvgPool1d(1) on [4, 10]",
        tools::<Adaptive1dGlobal>,
        [0, 0, 44, 80],
    ),
    (
        "AdaptiveAvgPool3d((2, 3, 2)) on [4, 5, 7, 5]",
        tools::<Adaptive3d>,
        [0, 0, 748, 1_400],
    ),
    (
        "F.adaptive_avg_pool3d((2, 3, 2)) on [4, 5, 7, 5]",
        tools::<Adaptive3dFunctional>,
        [0, 0, 0, 700],
    ),
    (
        "AdaptiveAvgPool3d(1) on [4, 3, 4, 5]",
        tools::<Adaptive3dGlobal>,
        [0, 0, 244, 480],
    ),
    (
        "Upsample(scale_factor=2) on [4, 5, 6]",
        tools::<UpNearest>,
        [0, 480, 480, 960],
    ),
    (
        "Upsample(size=(7, 9)) on [4, 5, 6]",
        tools::<UpNearestSize>,
        [0, 252, 252, 504],
    ),
    (
        "Upsample(size=7) on [4, 5, 6]",
        tools::<UpNearestOneSize>,
        [0, 196, 196, 392],
    ),
    (
        "Upsample(scale_factor=(2, 3)) on [4, 5, 6]",
        tools::<UpNearestFactors>,
        [0, 720, 720, 1_440],
    ),
    (
        "Upsample(scale_factor=1.5) on [4, 5, 6]",
        tools::<UpNearestHalf>,
        [0, 252, 252, 522],
    ),
    (
        "Upsample(scale_factor=(1.5, 2.5)) on [4, 5, 6]",
        tools::<UpNearestFractions>,
        [0, 420, 420, 660],
    ),
    (
        "Upsample(scale_factor=2, mode='nearest-exact') on [4, 5, 6]",
        tools::<UpNearestExact>,
        [0, 0, 0, 960],
    ),
    (
        "Upsample(scale_factor=2, mode='bilinear') on [4, 5, 6]",
        tools::<UpBilinear>,
        [0, 1_920, 5_280, 960],
    ),
    (
        "Upsample(scale_factor=2, mode='bilinear', align_corners=True) on [4, 5, 6]",
        tools::<UpBilinearCorners>,
        [0, 1_920, 5_280, 960],
    ),
    (
        "Upsample(size=(8, 8), mode='bilinear', align_corners=True) on [4, 5, 6]",
        tools::<UpBilinearSize>,
        [0, 1_024, 2_816, 512],
    ),
    (
        "Upsample(scale_factor=1.5, mode='bilinear') on [4, 5, 6]",
        tools::<UpBilinearHalf>,
        [0, 1_008, 2_772, 522],
    ),
    (
        "Upsample(scale_factor=2, mode='bicubic') on [4, 5, 6]",
        tools::<UpBicubic>,
        [0, 0, 124_320, 960],
    ),
    (
        "Upsample(size=(7, 9), mode='bicubic', align_corners=True) on [4, 5, 6]",
        tools::<UpBicubicSize>,
        [0, 0, 65_268, 504],
    ),
    (
        "Upsample(scale_factor=2, mode='linear') on [4, 5]",
        tools::<UpLinear>,
        [0, 0, 200, 80],
    ),
    (
        "Upsample(size=9, mode='linear', align_corners=True) on [4, 5]",
        tools::<UpLinearSize>,
        [0, 0, 180, 72],
    ),
    (
        "Upsample(scale_factor=2) on [4, 5]",
        tools::<UpNearest1d>,
        [0, 0, 40, 80],
    ),
    (
        "Upsample(scale_factor=2, mode='trilinear') on [2, 3, 4, 5]",
        tools::<UpTrilinear>,
        [0, 0, 0, 1_920],
    ),
    (
        "Upsample(size=(4, 5, 6), mode='trilinear', align_corners=True) on [2, 3, 4, 5]",
        tools::<UpTrilinearSize>,
        [0, 0, 0, 480],
    ),
    (
        "Upsample(scale_factor=2) on [2, 3, 4, 5]",
        tools::<UpNearest3d>,
        [0, 0, 960, 1_920],
    ),
    (
        "F.interpolate(scale_factor=2) on [4, 5, 6]",
        tools::<InterpNearest>,
        [0, 480, 0, 480],
    ),
    (
        "F.interpolate(size=(7, 9)) on [4, 5, 6]",
        tools::<InterpNearestSize>,
        [0, 252, 0, 252],
    ),
    (
        "F.interpolate(size=7) on [4, 5, 6]",
        tools::<InterpNearestOneSize>,
        [0, 196, 0, 196],
    ),
    (
        "F.interpolate(scale_factor=(2, 3)) on [4, 5, 6]",
        tools::<InterpNearestFactors>,
        [0, 720, 0, 720],
    ),
    (
        "F.interpolate(scale_factor=1.5) on [4, 5, 6]",
        tools::<InterpNearestHalf>,
        [0, 252, 0, 270],
    ),
    (
        "F.interpolate(scale_factor=(1.5, 2.5)) on [4, 5, 6]",
        tools::<InterpNearestFractions>,
        [0, 420, 0, 240],
    ),
    (
        "F.interpolate(scale_factor=2, mode='nearest-exact') on [4, 5, 6]",
        tools::<InterpNearestExact>,
        [0, 0, 0, 480],
    ),
    (
        "F.interpolate(scale_factor=2, mode='bilinear') on [4, 5, 6]",
        tools::<InterpBilinear>,
        [0, 1_920, 0, 480],
    ),
    (
        "F.interpolate(scale_factor=2, mode='bilinear', align_corners=True) on [4, 5, 6]",
        tools::<InterpBilinearCorners>,
        [0, 1_920, 0, 480],
    ),
    (
        "F.interpolate(size=(8, 8), mode='bilinear', align_corners=False) on [4, 5, 6]",
        tools::<InterpBilinearSize>,
        [0, 1_024, 0, 256],
    ),
    (
        "F.interpolate(scale_factor=1.5, mode='bilinear') on [4, 5, 6]",
        tools::<InterpBilinearHalf>,
        [0, 1_008, 0, 270],
    ),
    (
        "F.interpolate(scale_factor=2, mode='bicubic') on [4, 5, 6]",
        tools::<InterpBicubic>,
        [0, 0, 0, 480],
    ),
    (
        "F.interpolate(size=9, mode='linear') on [4, 5]",
        tools::<InterpLinearSize>,
        [0, 0, 0, 36],
    ),
    (
        "F.interpolate(scale_factor=2) on [4, 5]",
        tools::<InterpNearest1d>,
        [0, 0, 0, 40],
    ),
    (
        "F.interpolate(scale_factor=2, mode='trilinear') on [2, 3, 4, 5]",
        tools::<InterpTrilinear>,
        [0, 0, 0, 960],
    ),
    (
        "F.interpolate(size=(4, 5, 6)) on [2, 3, 4, 5]",
        tools::<InterpNearest3dSize>,
        [0, 0, 0, 240],
    ),
    (
        "F.interpolate(scale_factor=2, mode='bilinear') on [4, 5, 6], an unnamed Upsample",
        tools::<UpUnnamedBilinear>,
        [0, 1_920, 0, 480],
    ),
    ("PReLU() on [4, 5, 5]", tools::<PReLUOne>, [0, 0, 100, 200]),
    (
        "PReLU(4) on [4, 5, 5]",
        tools::<PReLUChannels>,
        [0, 0, 100, 200],
    ),
    (
        "F.prelu(w [4]) on [4, 5, 5]",
        tools::<PReLUFunctional>,
        [0, 0, 0, 100],
    ),
    (
        "Hardtanh() on [4, 5, 5]",
        tools::<HardtanhModule>,
        [0, 0, 0, 0],
    ),
    (
        "Hardtanh(-2, 3) on [4, 5, 5]",
        tools::<HardtanhBounds>,
        [0, 0, 0, 0],
    ),
    (
        "F.hardtanh on [4, 5, 5]",
        tools::<HardtanhFunctional>,
        [0, 0, 0, 0],
    ),
    ("ELU() on [4, 5, 5]", tools::<EluModule>, [0, 0, 0, 200]),
    ("ELU(0.5) on [4, 5, 5]", tools::<EluAlpha>, [0, 0, 0, 200]),
    ("F.elu on [4, 5, 5]", tools::<EluFunctional>, [0, 0, 0, 100]),
    (
        "Conv2d(4, 4, 3, padding=1) once",
        tools::<ConvOnce>,
        [3_600, 3_600, 3_600, 3_700],
    ),
    (
        "Conv2d(4, 4, 3, padding=1) twice: m(m(x))",
        tools::<ConvTwice>,
        [7_200, 7_200, 7_200, 7_400],
    ),
    (
        "Conv2d(2, 3, 3, padding=1) siamese on two halves",
        tools::<Siamese>,
        [2_700, 2_700, 2_700, 2_850],
    ),
    ("BatchNorm2d(4) twice", tools::<BnTwice>, [0, 400, 800, 400]),
    ("ReLU() twice", tools::<ReluTwice>, [0, 0, 0, 400]),
    (
        "Linear(6, 6) twice on [4, 6]",
        tools::<LinearTwice>,
        [288, 288, 288, 336],
    ),
    (
        "ConvTranspose2d(4, 4, 2, stride=2) twice",
        tools::<DeconvTwice>,
        [2_880, 2_880, 11_520, 3_600],
    ),
    ("PReLU(4) twice", tools::<PReLUTwice>, [0, 0, 200, 400]),
    (
        "Upsample(scale_factor=2, mode='bilinear') twice",
        tools::<UpsampleTwice>,
        [0, 2_880, 7_920, 1_440],
    ),
];

#[test]
fn every_measured_case_is_reproduced_to_the_unit() {
    let problems: Vec<String> = MEASURED
        .iter()
        .filter(|(_, ours, theirs)| ours() != *theirs)
        .map(|(case, ours, theirs)| {
            format!(
                "{case}: measured (fcm/2, fvcore, thop, ptflops) {theirs:?}, ours {:?}",
                ours()
            )
        })
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The conventions are const: a budget can be written against a tool's count.
const _: () = assert!(Ct2dGrouped::count_as(Convention::Thop) == 10_800);
const _: () = assert!(Ct2dGrouped::count_as(Convention::Ptflops) == 3_300);
const _: () = assert!(Ct2dGrouped::count_as(Convention::Torchvision) == Ct2dGrouped::MACS);

#[test]
fn thop_counts_a_transposed_convolution_by_its_output_positions() {
    // thop = MACs · S_out / S_in exactly: 2,700 · 100 / 25.
    assert_eq!(Ct2dGrouped::MACS, 2_700);
    assert_eq!(Ct2dGrouped::OUTPUT_SHAPE, &[6, 10, 10]);
    assert_eq!(Ct2dGrouped::count_as(Convention::Thop), 2_700 * 100 / 25);
    // ptflops = MACs + one bias add per output element.
    assert_eq!(Ct2dGrouped::count_as(Convention::Ptflops), 2_700 + 600);
    // In 3-D with stride 2: 2^3 times. 1,728 · 216 / 27.
    assert_eq!(Ct3d::count_as(Convention::Thop), 8 * Ct3d::MACS);
}

#[test]
fn a_shared_module_counts_its_parameters_once_and_its_work_every_time() {
    // Measured parameters (PyTorch's model.parameters(), ptflops' total):
    // Conv2d(4, 4, 3) 148 once or twice; the Siamese Conv2d(2, 3, 3) 57;
    // ConvTranspose2d(4, 4, 2) 68; PReLU(4) 4; BatchNorm2d(4) 8.
    assert_eq!((ConvOnce::PARAMS, ConvTwice::PARAMS), (148, 148));
    assert_eq!(Siamese::PARAMS, 57);
    assert_eq!(DeconvTwice::PARAMS, 68);
    assert_eq!(PReLUTwice::PARAMS, 4);
    assert_eq!(BnTwice::PARAMS, 8);
    assert_eq!(ConvTwice::MACS, 2 * ConvOnce::MACS);
    // Every application is its own row, counted; the first carries the
    // parameters.
    let convs: Vec<_> = ConvTwice::LAYERS
        .iter()
        .filter(|l| l.kind == "Conv2d")
        .collect();
    assert_eq!(convs.len(), 2);
    assert_eq!((convs[0].params, convs[1].params), (148, 0));
    for l in &convs {
        assert_eq!(l.count_as(Convention::Ptflops), 3_700);
    }
}

#[test]
fn totals_are_the_sums_of_the_layers_and_match_macs_and_flops() {
    fn check<N: Network>() -> Vec<String> {
        let mut problems = Vec::new();
        for c in Convention::ALL {
            let sum: u64 = N::LAYERS.iter().map(|l| l.count_as(c)).sum();
            if sum != N::count_as(c) {
                problems.push(format!("{}: {} layers sum to {sum}", N::NAME, c.name()));
            }
        }
        if N::count_as(Convention::Torchvision) != N::MACS
            || N::count_as(Convention::Flops) != N::FLOPS
        {
            problems.push(format!(
                "{}: torchvision / flops differ from MACS / FLOPS",
                N::NAME
            ));
        }
        problems
    }
    let problems: Vec<String> = [
        check::<Ct2dGrouped>(),
        check::<Ct3dGrouped>(),
        check::<Conv3dGrouped>(),
        check::<Bn3d>(),
        check::<Adaptive3d>(),
        check::<UpBilinear>(),
        check::<InterpBicubic>(),
        check::<UpTrilinear>(),
        check::<PReLUChannels>(),
        check::<EluModule>(),
        check::<Siamese>(),
        check::<UpsampleTwice>(),
    ]
    .concat();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn netspec_flops_of_the_new_layers() {
    // netspec's own FLOPs (the formulas table): bilinear 7 per output
    // element on 4x10x12 = 3,360; bicubic 31 · 480 = 14,880; trilinear 15 ·
    // 960 = 14,400; nearest 0; PReLU and Hardtanh 2, ELU 4 per element of
    // 4x5x5; a biased transposed convolution 2·MACs + its 600 outputs.
    assert_eq!(UpBilinear::FLOPS, 7 * 480);
    assert_eq!(InterpBicubic::FLOPS, 31 * 480);
    assert_eq!(UpTrilinear::FLOPS, 15 * 960);
    assert_eq!(UpNearest::FLOPS, 0);
    assert_eq!(PReLUChannels::FLOPS, 200);
    assert_eq!(HardtanhModule::FLOPS, 200);
    assert_eq!(EluModule::FLOPS, 400);
    assert_eq!(Ct2dGrouped::FLOPS, 2 * 2_700 + 600);
}
