//! ResNet-18 and ResNet-50 (He et al., 2016), as torchvision builds them, and
//! torchvision's FCN (Long et al., 2015) on a dilated ResNet-50.
//!
//! FCN is torchvision's without its auxiliary head (`aux_loss=None`),
//! returning `out`, the head's logits resized bilinearly to the input
//! (`F.interpolate(..., align_corners=False)`). Its backbone is torchvision's
//! `IntermediateLayerGetter` over `resnet50(replace_stride_with_dilation=
//! [False, True, True])`: `conv1` ... `layer4` under `backbone`, `layer3` and
//! `layer4` keeping stride 8 with dilations 2 and 4, through the classifier's
//! own `Bottleneck` (`dilation` defaults to 1) and layers.

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

    /// torchvision's `Bottleneck` (ResNet v1.5: the stride sits on the 3x3
    /// convolution, which has padding and dilation `dilation`), with a
    /// projecting shortcut when the shape changes.
    block Bottleneck(x, planes, stride = 1, expansion = 4, dilation = 1) {
        let out = planes * expansion;
        let y = x -> conv1: Conv2d(planes, 1, bias = false) -> bn1: BatchNorm2d -> relu: ReLU
                  -> conv2: Conv2d(planes, 3, stride = stride, padding = dilation, dilation = dilation, bias = false)
                  -> bn2: BatchNorm2d -> relu: ReLU
                  -> conv3: Conv2d(out, 1, bias = false) -> bn3: BatchNorm2d;
        let s = if stride != 1 || x.channels != out {
            x -> downsample: [Conv2d(out, 1, stride = stride, bias = false), BatchNorm2d]
        } else {
            x
        };
        (y + s) -> relu: ReLU
    }

    /// torchvision's ResNet-50 up to `layer4` (`Bottleneck`, layers of 3, 4,
    /// 6 and 3 blocks), with `replace_stride_with_dilation=[False, dilate3,
    /// dilate4]` by `_make_layer`'s rule: a dilated layer trades its stride 2
    /// for twice the network's dilation, its first block keeping the dilation
    /// from before the layer (and stride 1), the others taking the new one.
    block ResNet50Features(x, dilate3 = false, dilate4 = false) {
        let d3 = if dilate3 { 2 } else { 1 };
        let d4 = if dilate4 { 2 * d3 } else { d3 };
        x -> conv1: Conv2d(64, 7, stride = 2, padding = 3, bias = false) -> bn1: BatchNorm2d
          -> relu: ReLU -> maxpool: MaxPool2d(3, stride = 2, padding = 1)
          -> layer1: [for i in 0..3 => Bottleneck(64)]
          -> layer2: [for i in 0..4 => Bottleneck(128, stride = if i == 0 { 2 } else { 1 })]
          -> layer3: [for i in 0..6 => Bottleneck(256, stride = if i == 0 && !dilate3 { 2 } else { 1 },
                                                  dilation = if i == 0 { 1 } else { d3 })]
          -> layer4: [for i in 0..3 => Bottleneck(512, stride = if i == 0 && !dilate4 { 2 } else { 1 },
                                                  dilation = if i == 0 { d3 } else { d4 })]
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
        x -> ResNet50Features -> avgpool: AdaptiveAvgPool2d(1) -> Flatten -> fc: Linear(1000)
    }

    /// torchvision's `FCNHead`: a 3x3 convolution to a quarter of the input's
    /// channels, batch norm, ReLU, Dropout 0.1, and the 1x1 classifier; named
    /// 0..4.
    block FCNHead(x, channels) {
        x -> [Conv2d(x.channels / 4, 3, padding = 1, bias = false), BatchNorm2d, ReLU, Dropout(0.1),
              Conv2d(channels, 1)]
    }

    /// FCN (Long et al., 2015), torchvision's `fcn_resnet50` (21 classes, no
    /// auxiliary head) at 3x520x520: `FCNHead` on `layer4`, at stride 8.
    pub struct FcnResNet50(x: [3, 520, 520]) {
        let y = x -> backbone: ResNet50Features(dilate3 = true, dilate4 = true) -> classifier: FCNHead(21);
        interpolate(y, size = (x.height, x.width), mode = "bilinear", align_corners = false)
    }
}
