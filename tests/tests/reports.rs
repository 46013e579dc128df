//! Snapshots of everything a person reads: the text report of every zoo
//! model, and one model's Markdown, JSON and CSV. An architecture change
//! shows in review as a snapshot diff (`cargo insta review`).

use netspec::zoo::{
    AlexNet, LeNet5, MobileNetV2, ResNet18, ResNet50, SmallConvNeXt, SmallVit, SqueezeNet1_0, Vgg16,
};
use netspec::Network;

#[test]
fn zoo_reports() {
    insta::assert_snapshot!("lenet5", LeNet5::REPORT);
    insta::assert_snapshot!("alexnet", AlexNet::REPORT);
    insta::assert_snapshot!("vgg16", Vgg16::REPORT);
    insta::assert_snapshot!("resnet18", ResNet18::REPORT);
    insta::assert_snapshot!("resnet50", ResNet50::REPORT);
    insta::assert_snapshot!("mobilenet_v2", MobileNetV2::REPORT);
    insta::assert_snapshot!("squeezenet1_0", SqueezeNet1_0::REPORT);
    // Tensors of any rank: tokens, attention's products as rows of their own.
    insta::assert_snapshot!("small_vit", SmallVit::REPORT);
    insta::assert_snapshot!("small_convnext", SmallConvNeXt::REPORT);
}

#[test]
fn other_formats() {
    insta::assert_snapshot!("lenet5_markdown", LeNet5::report_markdown());
    insta::assert_snapshot!("lenet5_json", LeNet5::report_json());
    insta::assert_snapshot!("lenet5_csv", LeNet5::report_csv());
}

#[test]
fn json_round_trips_the_totals() {
    let v: serde_json::Value = serde_json::from_str(&ResNet18::report_json()).unwrap();
    assert_eq!(v["totals"]["params"], ResNet18::PARAMS);
    assert_eq!(v["totals"]["macs"], ResNet18::MACS);
    assert_eq!(
        v["totals"]["training"]["backward_macs"],
        ResNet18::BACKWARD_MACS
    );
    assert_eq!(v["totals"]["train_flops"], ResNet18::TRAIN_FLOPS);
    assert_eq!(
        v["layers"].as_array().unwrap().len(),
        ResNet18::LAYERS.len()
    );
}
