//! Networks declared with `network!`, with torchvision's layer names (timm's
//! for MobileNetV1 and GhostNet) so that PyTorch state dicts load by name.
//! Each one's params and MACs equal the PyTorch model's to the unit (asserted
//! in `tests/tests/zoo.rs` and `tests/tests/zoo_light.rs`); ShuffleNetV1,
//! which neither library ships, is compared with its paper's table.

mod classic;
mod convnext;
mod efficientnet;
mod espnet;
mod ghostnet;
mod mnasnet;
mod mobile_former;
mod mobilenet;
mod mobilenet_v1;
mod mobilenet_v3;
mod mobilevit;
mod resnet;
mod shufflenet;
mod shufflenet_v1;
mod squeezenet;
mod swin;
mod unet;
mod vit;

pub use classic::{AlexNet, LeNet5, Vgg16};
pub use convnext::{ConvNeXtTiny, SmallConvNeXt};
pub use efficientnet::EfficientNetB0;
pub use espnet::{ESPNet, SmallESPNet};
pub use ghostnet::GhostNet;
pub use mnasnet::MnasNet1_0;
pub use mobile_former::MobileFormer294M;
pub use mobilenet::MobileNetV2;
pub use mobilenet_v1::MobileNetV1;
pub use mobilenet_v3::{
    DeepLabV3MobileNetV3Large, LrasppMobileNetV3Large, MobileNetV3Large, MobileNetV3Small,
    SmallLraspp,
};
pub use mobilevit::{MobileViTS, MobileViTXxs};
pub use resnet::{FcnResNet50, ResNet18, ResNet50};
pub use shufflenet::{ShuffleNetV2X0_5, ShuffleNetV2X1_0, ShuffleNetV2X1_5, ShuffleNetV2X2_0};
pub use shufflenet_v1::ShuffleNetV1;
pub use squeezenet::{SqueezeNet1_0, SqueezeNet1_1};
pub use swin::{SmallSwin, SwinT};
pub use unet::{SmallUNet, UNet};
pub use vit::{DeiTTiny, SmallVit, VitB16};
