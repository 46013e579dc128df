//! Tensors of any rank, attention and normalisation: the transformer and
//! hybrid zoo against PyTorch. Counts equal the reference files
//! (`tests/data/reference/`, PyTorch's `FlopCounterMode` / 2 with the math
//! attention backend) to the unit, and the forward pass on the fixtures'
//! weights reproduces PyTorch's output (`tests/data/fixtures/`).

use netspec::zoo::{
    ConvNeXtTiny, DeiTTiny, MobileViTS, MobileViTXxs, SmallConvNeXt, SmallVit, VitB16,
};
use netspec::{Model, Network, Tensor};
use safetensors::tensor::TensorView;
use safetensors::SafeTensors;

mod common;
use common::{assert_product_counts as assert_counts, assert_reproduces, data};

#[test]
fn vit_counts_equal_torchvision_and_timm() {
    assert_counts::<VitB16>("vit_b_16");
    assert_counts::<SmallVit>("small_vit");
    assert_counts::<DeiTTiny>("timm_deit_tiny_patch16_224");
}

#[test]
fn convnext_counts_equal_torchvision() {
    assert_counts::<ConvNeXtTiny>("convnext_tiny");
    assert_counts::<SmallConvNeXt>("small_convnext");
}

#[test]
fn mobilevit_counts_equal_timm() {
    assert_counts::<MobileViTXxs>("timm_mobilevit_xxs");
    assert_counts::<MobileViTS>("timm_mobilevit_s");
}

/// The fixture's weights without the `__input__` / `__output__` pair and the
/// counters (`total_ops`, `total_params`) that thop leaves on every module of
/// the timm fixtures, as a safetensors file, plus the input and the output.
fn fixture(name: &str) -> (Vec<u8>, Tensor, Tensor) {
    let bytes = data(&format!("fixtures/{name}.safetensors"));
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let tensor = |n: &str| common::tensor(&st, n);
    let (x, y) = (tensor("__input__"), tensor("__output__"));
    let kept: Vec<(String, TensorView<'_>)> = st
        .iter()
        .filter(|(n, _)| {
            !n.starts_with("__") && !n.ends_with("total_ops") && !n.ends_with("total_params")
        })
        .map(|(n, v)| (n.to_string(), v))
        .collect();
    (safetensors::serialize(kept, None).unwrap(), x, y)
}

/// The network on PyTorch's weights reproduces PyTorch's output, alone and
/// as both samples of a batch of two (the learnable class tokens, position
/// embeddings and layer scales broadcast over the batch).
fn assert_agrees<N: Network>(fixture_name: &str) {
    let (weights, x, y) = fixture(fixture_name);
    let net = Model::from_safetensors(N::GRAPH, &weights).unwrap();
    assert_reproduces(fixture_name, &net, &x, &y);
}

#[test]
fn small_convnext_matches_pytorch() {
    assert_agrees::<SmallConvNeXt>("small_convnext");
}

#[test]
fn mobilevit_xxs_matches_pytorch() {
    assert_agrees::<MobileViTXxs>("timm_mobilevit_xxs");
}

#[test]
fn small_vit_matches_pytorch() {
    assert_agrees::<SmallVit>("small_vit");
}

#[test]
fn deit_tiny_matches_pytorch() {
    assert_agrees::<DeiTTiny>("timm_deit_tiny_patch16_224");
}
