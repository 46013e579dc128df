//! Networks declared with `network!`, with torchvision's layer names so that
//! PyTorch state dicts load by name. Each one's params and MACs equal
//! torchvision's to the unit (asserted in `tests/tests/zoo.rs`).

mod classic;
mod mobilenet;
mod resnet;
mod squeezenet;

pub use classic::{AlexNet, LeNet5, Vgg16};
pub use mobilenet::MobileNetV2;
pub use resnet::{ResNet18, ResNet50};
pub use squeezenet::SqueezeNet1_0;
