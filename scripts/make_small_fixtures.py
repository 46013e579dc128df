"""Small torchvision ViT and ConvNeXt on a 1x3x32x32 input: weight fixtures and reference counts.

    python scripts/make_small_fixtures.py [REPO_ROOT]

Writes, under REPO_ROOT (default: the folder above this script):
  tests/data/fixtures/small_vit.safetensors       tests/data/reference/small_vit.json
  tests/data/fixtures/small_convnext.safetensors  tests/data/reference/small_convnext.json

The fixtures have the format of the other files in tests/data/fixtures (the model's state-dict
names, f32, plus `__input__` and `__output__`). Every tensor is seeded and random, and the
tensors torchvision initialises to constants (layer-norm weight 1 / bias 0, ConvNeXt's layer
scale 1e-6, ViT's class token 0, zero biases, ViT's zero head) are redrawn, so no layer is an
identity and no output is zero. The reference JSON has the fields of vit_b_16.json, measured as
scripts/make_transformer_reference.py does (FlopCounterMode / 2 with the math attention backend;
fvcore, thop and ptflops with default settings, nn.MultiheadAttention's fast path disabled); the
counters run on a copy of the model, so the fixture holds no counter buffers.
"""
import contextlib, copy, io, json, os, sys, warnings
warnings.filterwarnings("ignore")
import torch
from torch.utils.flop_counter import FlopCounterMode
from torch.nn.attention import sdpa_kernel, SDPBackend
from torchvision.models.vision_transformer import VisionTransformer
from torchvision.models.convnext import ConvNeXt, CNBlock, CNBlockConfig
from safetensors.torch import save_file

torch.set_grad_enabled(False)
torch.backends.mha.set_fastpath_enabled(False)
INPUT = (3, 32, 32)


def small_vit():
    return VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2,
                             hidden_dim=32, mlp_dim=64, num_classes=10)


def small_convnext():
    return ConvNeXt([CNBlockConfig(16, 32, 2), CNBlockConfig(32, None, 1)],
                    stochastic_depth_prob=0.0, num_classes=10)


def randomise(m, g):
    """Redraw every tensor that torchvision initialises to a constant."""
    for mod in m.modules():
        if isinstance(mod, (torch.nn.Conv2d, torch.nn.Linear)):
            # PyTorch's default init: weight and bias uniform in +-1/sqrt(fan_in)
            fan_in = mod.weight[0].numel()
            bound = fan_in ** -0.5
            mod.weight.copy_((torch.rand(mod.weight.shape, generator=g) * 2 - 1) * bound)
            if mod.bias is not None:
                mod.bias.copy_((torch.rand(mod.bias.shape, generator=g) * 2 - 1) * bound)
        if isinstance(mod, torch.nn.LayerNorm):  # also torchvision's LayerNorm2d
            mod.weight.copy_(1 + 0.3 * torch.randn(mod.weight.shape, generator=g))
            mod.bias.copy_(0.2 * torch.randn(mod.bias.shape, generator=g))
        if isinstance(mod, torch.nn.MultiheadAttention):
            e = mod.embed_dim
            mod.in_proj_weight.copy_((torch.rand(mod.in_proj_weight.shape, generator=g) * 2 - 1) * e ** -0.5)
            mod.in_proj_bias.copy_(0.2 * torch.randn(mod.in_proj_bias.shape, generator=g))
        if isinstance(mod, CNBlock):
            mod.layer_scale.copy_(0.5 + torch.rand(mod.layer_scale.shape, generator=g))
        if isinstance(mod, VisionTransformer):
            mod.class_token.copy_(torch.randn(mod.class_token.shape, generator=g))
            mod.encoder.pos_embedding.copy_(0.5 * torch.randn(mod.encoder.pos_embedding.shape, generator=g))


def macs(m, x):
    with sdpa_kernel(SDPBackend.MATH):
        fc = FlopCounterMode(display=False)
        with fc:
            m(x)
    per_op = {str(k): v // 2 for k, v in fc.get_flop_counts()["Global"].items()}
    return fc.get_total_flops() // 2, per_op


def others(m, x):
    out = {}
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        from fvcore.nn import FlopCountAnalysis
        a = FlopCountAnalysis(m, x); a.unsupported_ops_warnings(False); a.uncalled_modules_warnings(False)
        out["fvcore"] = int(a.total())
        import thop
        out["thop"] = int(thop.profile(m, inputs=(x,), verbose=False)[0])
        from ptflops import get_model_complexity_info
        out["ptflops"] = int(get_model_complexity_info(m, tuple(x.shape[1:]), as_strings=False,
                                                       print_per_layer_stat=False)[0])
    return out


def save_fixture(path, m, x, y, name=lambda k: k, integer=lambda k: False):
    """The state dict (without `num_batches_tracked`; keys renamed by `name`), the input as
    `__input__` and PyTorch's output as `__output__`, as safetensors at `path`. Every tensor is
    float32 but those `integer` accepts (int64 buffers such as `relative_position_index`)."""
    tensors = {name(k): v.detach().contiguous().clone() for k, v in m.state_dict().items()
               if not k.endswith("num_batches_tracked")}
    assert all(v.dtype == torch.float32 or integer(k) for k, v in tensors.items())
    tensors["__input__"] = x.contiguous()
    tensors["__output__"] = y.contiguous()
    save_file(tensors, path)


def save_reference(ref_dir, name, m, x, y, input_shape):
    """`ref_dir/name.json`: params, FlopCounterMode's MACs (total and by op) and what fvcore,
    thop and ptflops report, counted on a copy of `m`; printed with the output."""
    counted = copy.deepcopy(m)
    total, per_op = macs(counted, x)
    d = {"model": name, "input_shape": list(input_shape),
         "params": sum(p.numel() for p in m.parameters()), "macs": total, "macs_by_op": per_op}
    d.update(others(counted, x))
    with open(os.path.join(ref_dir, name + ".json"), "w") as f:
        json.dump(d, f, indent=1)
    print(name, "params", d["params"], "macs", d["macs"], d["macs_by_op"],
          {k: d[k] for k in ("fvcore", "thop", "ptflops")})
    print(name, "output", [round(v, 6) for v in y.flatten().tolist()])


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    fix_dir = os.path.join(root, "tests", "data", "fixtures")
    ref_dir = os.path.join(root, "tests", "data", "reference")
    for name, make in (("small_vit", small_vit), ("small_convnext", small_convnext)):
        torch.manual_seed(0)
        m = make().eval()
        randomise(m, torch.Generator().manual_seed(1))
        x = torch.randn(1, *INPUT, generator=torch.Generator().manual_seed(2))
        y = m(x)
        save_fixture(os.path.join(fix_dir, name + ".safetensors"), m, x, y)
        save_reference(ref_dir, name, m, x, y, INPUT)


if __name__ == "__main__":
    main()
