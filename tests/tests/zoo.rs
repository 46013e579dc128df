//! The zoo against torchvision: parameter and MAC counts to the unit, and
//! every parameterised layer's dotted name, output shape, params and MACs in
//! execution order, from `tests/data/reference/*.json` (measured with PyTorch).

use netspec::zoo::{AlexNet, LeNet5, MobileNetV2, ResNet18, ResNet50, SqueezeNet1_0, Vgg16};

mod common;
use common::{assert_sums, check};

#[test]
fn resnet18_matches_torchvision() {
    check::<ResNet18>("resnet18");
}

#[test]
fn resnet50_matches_torchvision() {
    check::<ResNet50>("resnet50");
}

#[test]
fn mobilenet_v2_matches_torchvision() {
    check::<MobileNetV2>("mobilenet_v2");
}

#[test]
fn alexnet_matches_torchvision() {
    check::<AlexNet>("alexnet");
}

#[test]
fn vgg16_matches_torchvision() {
    check::<Vgg16>("vgg16");
}

#[test]
fn squeezenet1_0_matches_torchvision() {
    check::<SqueezeNet1_0>("squeezenet1_0");
}

#[test]
fn lenet5_matches_the_hand_count() {
    // 1x32x32 input, 5x5 kernels, no padding:
    // conv1  6@28x28:  params 6·1·25 + 6 = 156;        MACs 6·28·28·25 = 117,600
    // pool1  6@14x14
    // conv2 16@10x10:  params 16·6·25 + 16 = 2,416;    MACs 16·10·10·150 = 240,000
    // pool2 16@5x5
    // conv3 120@1x1:   params 120·16·25 + 120 = 48,120; MACs 120·400 = 48,000
    // fc1   84:        params 120·84 + 84 = 10,164;     MACs 10,080
    // fc2   10:        params 84·10 + 10 = 850;         MACs 840
    // total params 61,706; MACs 416,520
    assert_eq!(LeNet5::PARAMS, 61_706);
    assert_eq!(LeNet5::MACS, 416_520);
    assert_eq!(LeNet5::OUTPUT_SHAPE, &[10]);
    // FLOPs: conv and linear 2·MACs + one add per biased output
    //   = 2·416,520 + (4,704 + 1,600 + 120 + 84 + 10) = 839,558
    // tanh ×4: 4,704 + 1,600 + 120 + 84 = 6,508 (1 each)
    // avg pools: 2·2 per output: 4·(1,176 + 400) = 6,304
    // total 839,558 + 6,508 + 6,304 = 852,370
    assert_eq!(LeNet5::FLOPS, 852_370);
    assert_sums::<LeNet5>();
}

#[test]
fn peak_activation_memory_follows_liveness() {
    // LeNet-5 is a chain: the peak is the largest input+output pair, the tanh
    // after conv1: 6·28·28 + 6·28·28 = 9,408 elements, 37,632 bytes
    // (conv1 itself holds 1·32·32 + 4,704 = 5,728).
    assert_eq!(LeNet5::PEAK_ACTIVATION_BYTES, 37_632);
    // ResNet-18: bn1 reads conv1's output and writes its own, 2·64·112·112 =
    // 1,605,632 elements (conv1: 150,528 + 802,816; the first block's add:
    // 3·64·56·56 = 602,112), so 6,422,528 bytes.
    assert_eq!(ResNet18::PEAK_ACTIVATION_BYTES, 6_422_528);
}
