"""A small torchvision Swin Transformer on a 1x3x32x32 input: weight fixture and reference counts.

    python scripts/make_small_swin.py [REPO_ROOT]

Writes, under REPO_ROOT (default: the folder above this script):
  tests/data/fixtures/small_swin.safetensors   tests/data/reference/small_swin.json

The model is `SwinTransformer(patch_size=[4, 4], embed_dim=16, depths=[2, 2], num_heads=[2, 4],
window_size=[4, 4], num_classes=10)`: an 8x8 map of 16 channels in four 4x4 windows, the second
block of stage 1 shifted by 2 (so its attention mask is used), then patch merging to a 4x4 map of
32 channels, where the window covers the whole map and torchvision sets the shift to 0.

The fixture has the format of the other files in tests/data/fixtures (the model's state-dict names,
f32, plus `__input__` and `__output__`), with one exception: torchvision's
`relative_position_index` buffers are in the state dict, as int64, exactly as
`model.state_dict()` has them (a loader must accept or check them). Every tensor is seeded and
random, and the tensors torchvision initialises to constants or to small values (layer-norm weight
1 / bias 0, the relative-position bias tables' trunc_normal(std=0.02), the MLPs' near-zero biases,
the zero biases of the other linear layers) are redrawn, so no layer is an identity and the
relative-position bias matters. The reference JSON has the fields of small_vit.json, measured as
scripts/make_small_fixtures.py does (FlopCounterMode / 2 with the math attention backend; fvcore,
thop and ptflops with default settings); the counters run on a copy of the model, so the fixture
holds no counter buffers.
"""
import os, sys
import torch
from torchvision.models.swin_transformer import SwinTransformer, ShiftedWindowAttention

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_small_fixtures import save_fixture, save_reference  # noqa: E402

torch.set_grad_enabled(False)
INPUT = (3, 32, 32)


def small_swin():
    return SwinTransformer(patch_size=[4, 4], embed_dim=16, depths=[2, 2], num_heads=[2, 4],
                           window_size=[4, 4], num_classes=10)


def randomise(m, g):
    """Redraw every tensor that torchvision initialises to a constant or to small values."""
    for mod in m.modules():
        if isinstance(mod, (torch.nn.Conv2d, torch.nn.Linear)):
            # PyTorch's default init: weight and bias uniform in +-1/sqrt(fan_in)
            fan_in = mod.weight[0].numel()
            bound = fan_in ** -0.5
            mod.weight.copy_((torch.rand(mod.weight.shape, generator=g) * 2 - 1) * bound)
            if mod.bias is not None:
                mod.bias.copy_((torch.rand(mod.bias.shape, generator=g) * 2 - 1) * bound)
        if isinstance(mod, torch.nn.LayerNorm):
            mod.weight.copy_(1 + 0.3 * torch.randn(mod.weight.shape, generator=g))
            mod.bias.copy_(0.2 * torch.randn(mod.bias.shape, generator=g))
        if isinstance(mod, ShiftedWindowAttention):
            t = mod.relative_position_bias_table
            t.copy_(torch.randn(t.shape, generator=g))


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    fix_dir = os.path.join(root, "tests", "data", "fixtures")
    ref_dir = os.path.join(root, "tests", "data", "reference")
    name = "small_swin"
    torch.manual_seed(0)
    m = small_swin().eval()
    randomise(m, torch.Generator().manual_seed(1))
    x = torch.randn(1, *INPUT, generator=torch.Generator().manual_seed(2))
    y = m(x)
    save_fixture(os.path.join(fix_dir, name + ".safetensors"), m, x, y,
                 integer=lambda k: k.endswith("relative_position_index"))
    save_reference(ref_dir, name, m, x, y, INPUT)


if __name__ == "__main__":
    main()
