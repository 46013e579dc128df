//! ResNet-18 and ResNet-50 (He et al., 2016), as torchvision builds them.

use crate::network;

network! {
    /// torchvision's `BasicBlock`: two 3x3 convolutions and a shortcut that
    /// projects with a strided 1x1 convolution when the shape changes.
    block BasicBlock(x, planes, stride = 1) {
        let y = x -> conv1: Conv2d(planes, 3, stride = stride, padding = 1, bias = false)
                  -> bn1: BatchNorm2d -> relu: ReLU
                  -> conv2: Conv2d(planes, 3, padding = 1, bias = false) -> bn2: BatchNorm2d;
        let s = if stride != 1 || x.channels != planes {
            x -> downsample: [Conv2d(planes, 1, stride = stride, bias = false), BatchNorm2d]
        } else {
            x
        };
        (y + s) -> relu: ReLU
    }

    /// torchvision's `Bottleneck` (ResNet v1.5: the stride sits on the 3x3 convolution).
    block Bottleneck(x, planes, stride = 1, expansion = 4) {
        let out = planes * expansion;
        let y = x -> conv1: Conv2d(planes, 1, bias = false) -> bn1: BatchNorm2d -> relu: ReLU
                  -> conv2: Conv2d(planes, 3, stride = stride, padding = 1, bias = false)
                  -> bn2: BatchNorm2d -> relu: ReLU
                  -> conv3: Conv2d(out, 1, bias = false) -> bn3: BatchNorm2d;
        let s = if stride != 1 || x.channels != out {
            x -> downsample: [Conv2d(out, 1, stride = stride, bias = false), BatchNorm2d]
        } else {
            x
        };
        (y + s) -> relu: ReLU
    }

    /// ResNet-18 (He et al., 2016), torchvision's `resnet18`.
    #[budget(params <= 12M, macs <= 2G, latency(raspberry_pi_5) <= 30ms)]
    pub struct ResNet18(x: [3, 224, 224]) {
        x -> conv1: Conv2d(64, 7, stride = 2, padding = 3, bias = false) -> bn1: BatchNorm2d
          -> relu: ReLU -> maxpool: MaxPool2d(3, stride = 2, padding = 1)
          -> layer1: [BasicBlock(64); 2]
          -> layer2: [BasicBlock(128, stride = 2), BasicBlock(128)]
          -> layer3: [BasicBlock(256, stride = 2), BasicBlock(256)]
          -> layer4: [BasicBlock(512, stride = 2), BasicBlock(512)]
          -> avgpool: AdaptiveAvgPool2d(1) -> Flatten -> fc: Linear(1000)
    }

    /// ResNet-50 (He et al., 2016), torchvision's `resnet50`.
    #[budget(params <= 26M, macs <= 4.1G)]
    pub struct ResNet50(x: [3, 224, 224]) {
        x -> conv1: Conv2d(64, 7, stride = 2, padding = 3, bias = false) -> bn1: BatchNorm2d
          -> relu: ReLU -> maxpool: MaxPool2d(3, stride = 2, padding = 1)
          -> layer1: [for i in 0..3 => Bottleneck(64)]
          -> layer2: [for i in 0..4 => Bottleneck(128, stride = if i == 0 { 2 } else { 1 })]
          -> layer3: [for i in 0..6 => Bottleneck(256, stride = if i == 0 { 2 } else { 1 })]
          -> layer4: [for i in 0..3 => Bottleneck(512, stride = if i == 0 { 2 } else { 1 })]
          -> avgpool: AdaptiveAvgPool2d(1) -> Flatten -> fc: Linear(1000)
    }
}
