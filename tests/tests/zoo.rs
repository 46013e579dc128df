//! The zoo against torchvision: parameter and MAC counts to the unit, and
//! every parameterised layer's dotted name, output shape, params and MACs in
//! execution order, from `tests/data/reference/*.json` (measured with PyTorch).

use netspec::zoo::{AlexNet, LeNet5, MobileNetV2, ResNet18, ResNet50, SqueezeNet1_0, Vgg16};
use netspec::Network;
use serde_json::Value;

fn reference(model: &str) -> Value {
    let path = format!("{}/data/reference/{model}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {path}: {e}"))
}

fn check<N: Network>(model: &str) {
    let r = reference(model);
    assert_eq!(N::PARAMS, r["params"].as_u64().unwrap(), "{model}: params");
    assert_eq!(N::MACS, r["macs"].as_u64().unwrap(), "{model}: MACs");

    // Every layer holding parameters, in order, with torchvision's name.
    let theirs: Vec<(String, u64, u64, Vec<usize>)> = r["layers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["params"].as_u64().unwrap() > 0 || l["macs"].as_u64().unwrap() > 0)
        .map(|l| {
            (
                l["name"].as_str().unwrap().to_string(),
                l["params"].as_u64().unwrap(),
                l["macs"].as_u64().unwrap(),
                l["output_shape"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|d| d.as_u64().unwrap() as usize)
                    .collect(),
            )
        })
        .collect();
    let ours: Vec<(String, u64, u64, Vec<usize>)> = N::LAYERS
        .iter()
        .filter(|l| l.params > 0 || l.macs > 0)
        .map(|l| (l.name.to_string(), l.params, l.macs, l.output.to_vec()))
        .collect();
    assert_eq!(ours, theirs, "{model}: parameterised layers");

    // The output shape of every module torchvision lists, looked up by name;
    // a module called several times (ResNet's `relu`) is matched call by call.
    let mut calls: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let mut matched = 0;
    for l in r["layers"].as_array().unwrap() {
        let name = l["name"].as_str().unwrap();
        let shape: Vec<usize> = l["output_shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_u64().unwrap() as usize)
            .collect();
        let k = calls.entry(name).or_insert(0);
        if let Some(ours) = N::LAYERS.iter().filter(|x| x.name == name).nth(*k) {
            assert_eq!(
                ours.output,
                shape.as_slice(),
                "{model}: output shape of {name} (call {k})"
            );
            matched += 1;
        }
        *k += 1;
    }
    // Every module but the few torchvision calls functionally is found by name.
    assert!(
        matched * 10 >= r["layers"].as_array().unwrap().len() * 9,
        "{model}: only {matched} modules matched by name"
    );
    assert_sums::<N>();
}

/// The totals are the sums over `LAYERS`.
fn assert_sums<N: Network>() {
    let sum = |f: fn(&netspec::LayerInfo<'_>) -> u64| N::LAYERS.iter().map(f).sum::<u64>();
    assert_eq!(sum(|l| l.params), N::PARAMS);
    assert_eq!(sum(|l| l.macs), N::MACS);
    assert_eq!(sum(|l| l.flops), N::FLOPS);
    assert_eq!(sum(|l| l.memory_access_bytes), N::MEMORY_ACCESS_BYTES);
    assert_eq!(sum(|l| l.activations), N::ACTIVATIONS);
    assert_eq!(N::WEIGHT_BYTES, 4 * N::PARAMS);
}

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
