"""A small torchvision LR-ASPP on a 1x3x72x56 input: weight fixture and its counts.

    python scripts/make_small_lraspp.py [REPO_ROOT]

Writes, under REPO_ROOT (default: the folder above this script):
  tests/data/fixtures/small_lraspp.safetensors

and prints the model's params and MACs (PyTorch's FlopCounterMode / 2, split by operator), which
tests/tests/segmentation.rs asserts for netspec's `SmallLraspp`.

The model is torchvision's own LR-ASPP builder around a narrow dilated MobileNetV3-Large,
`_lraspp_mobilenetv3(mobilenet_v3_large(width_mult=0.25, dilated=True), num_classes=5)`: the
backbone's items 0..16 (the low features after item 4 at stride 8, the high ones after item 16 at
stride 16, the last stage dilated instead of strided), the head's 128 inter channels. The input is
72x56, neither square nor a multiple of 16, so the feature maps are 9x7 (low) and 5x4 (high) and
both bilinear upsamplings (5x4 to 9x7, then 9x7 to 72x56, align_corners=False) have ratios that
are not integers.

The fixture has the format of the other files in tests/data/fixtures (the model's state-dict names,
f32, `num_batches_tracked` left out, plus `__input__` and `__output__`). Every tensor is seeded
and random: convolution weights and biases are redrawn uniform in +-1/sqrt(fan_in) (MobileNetV3
initialises its biases to zero), each batch norm's running statistics are first measured in train
mode on random inputs, one batch norm at a time with those before it already final (so that every
layer stays well scaled through the depth), and then perturbed (means shifted, variances scaled by 0.5..1.5), and their weights and biases are drawn
around 1 and 0, so no batch norm is an identity and the running statistics matter.
"""
import os, sys
import torch
from torchvision.models import mobilenet_v3_large
from torchvision.models.segmentation.lraspp import _lraspp_mobilenetv3

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_small_fixtures import macs, save_fixture  # noqa: E402

INPUT = (3, 72, 56)
WIDTH = 0.25
CLASSES = 5


class Out(torch.nn.Module):
    """The model's `out`, as a plain tensor."""

    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, x):
        return self.m(x)["out"]


def small_lraspp():
    return _lraspp_mobilenetv3(mobilenet_v3_large(width_mult=WIDTH, dilated=True), num_classes=CLASSES)


def randomise(m, g):
    """Random convolutions, then batch-norm statistics measured and perturbed."""
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, torch.nn.Conv2d):
                bound = mod.weight[0].numel() ** -0.5
                mod.weight.copy_((torch.rand(mod.weight.shape, generator=g) * 2 - 1) * bound)
                if mod.bias is not None:
                    mod.bias.copy_((torch.rand(mod.bias.shape, generator=g) * 2 - 1) * bound)
    # One batch norm at a time, in order, with the ones before it already perturbed: its
    # statistics are measured (train mode, a cumulative average over a few random batches, the
    # others in eval mode), then perturbed, so the scale stays near 1 through the depth.
    m.eval()
    for bn in [mod for mod in m.modules() if isinstance(mod, torch.nn.BatchNorm2d)]:
        momentum = bn.momentum
        bn.reset_running_stats()
        bn.momentum = None
        bn.train()
        with torch.no_grad():
            for _ in range(4):
                m(torch.randn(8, *INPUT, generator=g))
        bn.eval()
        bn.momentum = momentum
        with torch.no_grad():
            n = bn.num_features
            std = bn.running_var.sqrt()
            bn.running_mean.add_(0.3 * std * torch.randn(n, generator=g))
            bn.running_var.mul_(0.5 + torch.rand(n, generator=g))
            bn.weight.copy_(1 + 0.3 * torch.randn(n, generator=g))
            bn.bias.copy_(0.2 * torch.randn(n, generator=g))


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    path = os.path.join(root, "tests", "data", "fixtures", "small_lraspp.safetensors")
    torch.manual_seed(0)
    m = small_lraspp()
    randomise(m, torch.Generator().manual_seed(1))
    m = Out(m).eval()
    x = torch.randn(1, *INPUT, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        y = m(x)
        total, per_op = macs(m, x)
    save_fixture(path, m, x, y, name=lambda k: k[2:])  # `m.` of the wrapper off
    print("small_lraspp params", sum(p.numel() for p in m.parameters()), "macs", total, per_op)
    print("small_lraspp output", list(y.shape), "max |y|", y.abs().max().item(),
          "size", os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main()
