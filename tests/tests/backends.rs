//! Every zoo model through both backends: the fast kernels (packed matrix
//! products, folded batch norms, fused activations, threads) agree with the
//! reference plain loops to 1e-4 of the largest output, at batch 1 and 2, on
//! one thread and on all cores. The batch norms get random statistics first,
//! so that folding them is really exercised (a fresh model's are identities).

use netspec::zoo::*;
use netspec::{set_num_threads, Backend, Model, Network, Tensor};
use std::sync::Mutex;

/// The thread count is global: tests hold this while they set it and run.
static THREADS: Mutex<()> = Mutex::new(());

/// Deterministic pseudo-random values in [lo, hi).
fn values(n: usize, seed: usize, lo: f32, hi: f32) -> Vec<f32> {
    (0..n)
        .map(|i| {
            let u = ((i * 7919 + seed * 104_729 + 13) % 10_007) as f32 / 10_007.0;
            lo + (hi - lo) * u
        })
        .collect()
}

/// Random batch-norm statistics and affine parameters for every batch norm.
fn perturb_batch_norms(model: &mut Model) {
    let prefixes: Vec<String> = model
        .tensors()
        .iter()
        .filter_map(|(name, _)| name.strip_suffix(".running_var").map(str::to_string))
        .collect();
    for (k, p) in prefixes.iter().enumerate() {
        let c = model
            .tensor(&format!("{p}.running_var"))
            .map_or(0, Tensor::len);
        for (suffix, lo, hi) in [
            ("weight", 0.5, 1.5),
            ("bias", -0.2, 0.2),
            ("running_mean", -0.2, 0.2),
            ("running_var", 0.5, 2.0),
        ] {
            let t = Tensor::new(&[c], values(c, k * 4 + suffix.len(), lo, hi)).unwrap();
            model.set_tensor(&format!("{p}.{suffix}"), t).unwrap();
        }
    }
}

fn check<N: Network>(net: &N, batch: usize) {
    let mut model = net.model().clone();
    perturb_batch_norms(&mut model);
    let reference = model.clone().with_backend(Backend::Reference);
    let fast = model.with_backend(Backend::Fast);
    let mut shape = vec![batch];
    shape.extend_from_slice(N::INPUT_SHAPE);
    let n: usize = shape.iter().product();
    let x = Tensor::new(&shape, values(n, 1, -1.0, 1.0)).unwrap();
    let want = reference.forward(&x).unwrap();
    let largest = want.data().iter().fold(0.0f32, |m, v| m.max(v.abs()));
    assert!(
        largest > 0.0,
        "{}: the reference output is all zero",
        N::NAME
    );
    let _guard = THREADS.lock().unwrap_or_else(|e| e.into_inner());
    for threads in [1, 0] {
        set_num_threads(threads);
        let got = fast.forward(&x).unwrap();
        let diff = got.max_abs_diff(&want).unwrap();
        eprintln!(
            "{} batch {batch}, {} thread(s): max |fast - reference| / max |reference| = {:e}",
            N::NAME,
            netspec::num_threads(),
            diff / largest
        );
        assert!(
            diff <= 1e-4 * largest,
            "{} batch {batch}, threads {threads}: difference {diff} against largest output {largest}",
            N::NAME
        );
    }
    set_num_threads(0);
}

macro_rules! zoo {
    ($($test:ident: $ty:ident, $batch:expr;)*) => {
        $(
            #[test]
            fn $test() {
                check(&$ty::random(7), $batch);
            }
        )*
    };
}

zoo! {
    lenet5: LeNet5, 2;
    alexnet: AlexNet, 1;
    vgg16: Vgg16, 1;
    resnet18: ResNet18, 2;
    resnet50: ResNet50, 1;
    squeezenet1_0: SqueezeNet1_0, 2;
    squeezenet1_1: SqueezeNet1_1, 2;
    mobilenet_v1: MobileNetV1, 1;
    mobilenet_v2: MobileNetV2, 2;
    mobilenet_v3_small: MobileNetV3Small, 2;
    mobilenet_v3_large: MobileNetV3Large, 1;
    shufflenet_v1: ShuffleNetV1, 2;
    shufflenet_v2_x0_5: ShuffleNetV2X0_5, 2;
    shufflenet_v2_x1_0: ShuffleNetV2X1_0, 1;
    shufflenet_v2_x1_5: ShuffleNetV2X1_5, 1;
    shufflenet_v2_x2_0: ShuffleNetV2X2_0, 1;
    mnasnet1_0: MnasNet1_0, 1;
    efficientnet_b0: EfficientNetB0, 2;
    ghostnet: GhostNet, 1;
    vit_b_16: VitB16, 1;
    deit_tiny: DeiTTiny, 2;
    small_vit: SmallVit, 2;
    convnext_tiny: ConvNeXtTiny, 1;
    small_convnext: SmallConvNeXt, 2;
    mobilevit_xxs: MobileViTXxs, 2;
    mobilevit_s: MobileViTS, 1;
    mobile_former_294m: MobileFormer294M, 2;
    swin_t: SwinT, 1;
    small_swin: SmallSwin, 2;
    // The segmentation models at 3x520x520 are too slow for a debug build;
    // the small LR-ASPP (3x72x56) runs the dilated depthwise convolutions and
    // the bilinear resizing they share.
    small_lraspp: SmallLraspp, 2;
}
