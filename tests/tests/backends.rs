//! Every zoo model through both backends: the fast kernels (packed matrix
//! products, folded batch norms, fused activations, threads) agree with the
//! reference plain loops to 1e-4 of the largest output, at batch 1 and 2, on
//! one thread and on all cores. The batch norms get random statistics first,
//! so that folding them is really exercised (a fresh model's are identities).

use netspec::zoo::*;
use netspec::Network;

mod common;
use common::{assert_backends_agree, input, perturb_batch_norms};

fn check<N: Network>(net: &N, batch: usize) {
    let mut model = net.model().clone();
    perturb_batch_norms(&mut model);
    assert_backends_agree(N::NAME, &model, &input::<N>(batch, 1));
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
