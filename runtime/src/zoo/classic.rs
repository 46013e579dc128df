//! The classics: LeNet-5, AlexNet and VGG-16.

use crate::network;

network! {
    /// LeNet-5 (LeCun et al., 1998) on a 1x32x32 image: C1 6@5x5, S2, C3 16@5x5,
    /// S4, C5 120@5x5, F6 84, output 10, with tanh and average pooling.
    pub struct LeNet5(x: [1, 32, 32]) {
        x -> conv1: Conv2d(6, 5) -> Tanh -> pool1: AvgPool2d(2)
          -> conv2: Conv2d(16, 5) -> Tanh -> pool2: AvgPool2d(2)
          -> conv3: Conv2d(120, 5) -> Tanh -> Flatten
          -> fc1: Linear(84) -> Tanh -> fc2: Linear(10)
    }

    /// AlexNet (Krizhevsky et al., 2012), torchvision's `alexnet` (the one-GPU variant).
    pub struct AlexNet(x: [3, 224, 224]) {
        x -> features: [
                Conv2d(64, 11, stride = 4, padding = 2), ReLU, MaxPool2d(3, stride = 2),
                Conv2d(192, 5, padding = 2), ReLU, MaxPool2d(3, stride = 2),
                Conv2d(384, 3, padding = 1), ReLU,
                Conv2d(256, 3, padding = 1), ReLU,
                Conv2d(256, 3, padding = 1), ReLU, MaxPool2d(3, stride = 2),
            ]
          -> avgpool: AdaptiveAvgPool2d(6) -> Flatten
          -> classifier: [
                Dropout(0.5), Linear(4096), ReLU,
                Dropout(0.5), Linear(4096), ReLU,
                Linear(1000),
            ]
    }

    /// VGG-16 (Simonyan and Zisserman, 2015), configuration D, torchvision's `vgg16`.
    pub struct Vgg16(x: [3, 224, 224]) {
        x -> features: [
                Conv2d(64, 3, padding = 1), ReLU, Conv2d(64, 3, padding = 1), ReLU, MaxPool2d(2),
                Conv2d(128, 3, padding = 1), ReLU, Conv2d(128, 3, padding = 1), ReLU, MaxPool2d(2),
                Conv2d(256, 3, padding = 1), ReLU, Conv2d(256, 3, padding = 1), ReLU,
                Conv2d(256, 3, padding = 1), ReLU, MaxPool2d(2),
                Conv2d(512, 3, padding = 1), ReLU, Conv2d(512, 3, padding = 1), ReLU,
                Conv2d(512, 3, padding = 1), ReLU, MaxPool2d(2),
                Conv2d(512, 3, padding = 1), ReLU, Conv2d(512, 3, padding = 1), ReLU,
                Conv2d(512, 3, padding = 1), ReLU, MaxPool2d(2),
            ]
          -> avgpool: AdaptiveAvgPool2d(7) -> Flatten
          -> classifier: [
                Linear(4096), ReLU, Dropout(0.5),
                Linear(4096), ReLU, Dropout(0.5),
                Linear(1000),
            ]
    }
}
