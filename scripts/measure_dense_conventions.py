#!/usr/bin/env python3
"""How fvcore, thop, ptflops and PyTorch's FlopCounterMode count the layers of dense
prediction: transposed convolutions, 3-D convolutions, 1-D and 3-D batch norms and poolings,
interpolation (`nn.Upsample`, `F.interpolate`), PReLU, Hardtanh, ELU, and a module applied
twice (shared weights).

    python scripts/measure_dense_conventions.py            # the table, Markdown
    python scripts/measure_dense_conventions.py --json     # the same, one JSON object per case
    python scripts/measure_dense_conventions.py --segmentation  # torchvision's three models

Every case is one tiny module (or a module calling one functional) at batch 1 in eval mode,
counted by each tool with its defaults, a fresh model per tool:

- `fcm/2`: `torch.utils.flop_counter.FlopCounterMode` total / 2 (netspec's `Torchvision`, MACs);
- `fvcore`: `FlopCountAnalysis(model, x).total()` (and `by_operator()`);
- `thop`: `thop.profile(model, inputs=(x,))[0]`;
- `ptflops`: `get_model_complexity_info(model, shape, backend="pytorch")[0]` (default
  `count_functional=True`).

`--segmentation` counts torchvision's `lraspp_mobilenet_v3_large`,
`deeplabv3_mobilenet_v3_large` and `fcn_resnet50` (3x520x520, random weights, no auxiliary head)
with each tool, and prints fvcore's `by_operator()` (`FVCORE_BY_OPERATOR` in
`tests/tests/conventions.rs`); the totals are those of `tests/data/reference/segmentation_*.json`.

The numbers in `model/src/convention/dense.rs` and `tests/tests/conventions_dense.rs` were
written from this table (torch 2.15.0, fvcore 0.1.5.post20221221, thop 0.1.1.post2209072238,
ptflops 0.7.5). PyTorch is a measurement tool here, never a dependency of the Rust build.
"""

import contextlib
import io
import json
import logging
import sys
import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode


@contextlib.contextmanager
def quiet():
    """Silence the counters' warnings and progress output."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        logging.disable(logging.CRITICAL)
        try:
            yield
        finally:
            logging.disable(logging.NOTSET)


class Functional(nn.Module):
    """A module whose forward is one functional call (no submodule for hooks to see)."""

    def __init__(self, fn, *params):
        super().__init__()
        self.fn = fn
        # A functional's learnable tensors (F.prelu's weight) live here as parameters.
        self.w = nn.ParameterList([nn.Parameter(p) for p in params])

    def forward(self, x):
        return self.fn(x, *self.w)


class Twice(nn.Module):
    """The same module applied twice: `m(m(x))` (a recurrent step, tied layers)."""

    def __init__(self, inner):
        super().__init__()
        self.m = inner

    def forward(self, x):
        return self.m(self.m(x))


class Siamese(nn.Module):
    """The same module applied to two halves of the channels, the outputs concatenated."""

    def __init__(self, inner):
        super().__init__()
        self.m = inner

    def forward(self, x):
        a, b = x.chunk(2, dim=1)
        return torch.cat([self.m(a), self.m(b)], dim=1)


def interp(**kw):
    return Functional(lambda x: F.interpolate(x, **kw))


# (name, factory of a fresh model, input shape with the batch)
CASES = [
    # Transposed convolutions
    ("ConvTranspose1d(4, 6, 3)", lambda: nn.ConvTranspose1d(4, 6, 3), (1, 4, 5)),
    ("ConvTranspose1d(4, 6, 3, stride=2, padding=1, output_padding=1, bias=False)",
     lambda: nn.ConvTranspose1d(4, 6, 3, stride=2, padding=1, output_padding=1, bias=False),
     (1, 4, 5)),
    ("ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2)",
     lambda: nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2),
     (1, 4, 5, 5)),
    ("ConvTranspose2d(4, 6, (3, 2), stride=(2, 1), dilation=2, bias=False)",
     lambda: nn.ConvTranspose2d(4, 6, (3, 2), stride=(2, 1), dilation=2, bias=False),
     (1, 4, 5, 4)),
    ("ConvTranspose2d(4, 4, 4, stride=2, padding=1, groups=4)",
     lambda: nn.ConvTranspose2d(4, 4, 4, stride=2, padding=1, groups=4), (1, 4, 3, 3)),
    ("ConvTranspose2d(4, 6, 3, dilation=2, output_padding=1)",
     lambda: nn.ConvTranspose2d(4, 6, 3, dilation=2, output_padding=1), (1, 4, 4, 4)),
    ("ConvTranspose3d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2)",
     lambda: nn.ConvTranspose3d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2),
     (1, 4, 3, 4, 5)),
    ("ConvTranspose3d(2, 4, 2, stride=2, bias=False)",
     lambda: nn.ConvTranspose3d(2, 4, 2, stride=2, bias=False), (1, 2, 3, 3, 3)),
    ("F.conv_transpose2d(w [4, 3, 3, 3], stride=2)",
     lambda: Functional(lambda x, w: F.conv_transpose2d(x, w, stride=2), torch.randn(4, 3, 3, 3)),
     (1, 4, 5, 5)),
    # 3-D convolutions
    ("Conv3d(4, 6, 3, padding=1, groups=2)", lambda: nn.Conv3d(4, 6, 3, padding=1, groups=2),
     (1, 4, 4, 5, 6)),
    ("Conv3d(4, 6, (1, 3, 3), stride=2, bias=False)",
     lambda: nn.Conv3d(4, 6, (1, 3, 3), stride=2, bias=False), (1, 4, 4, 5, 6)),
    # Batch norms (eval)
    ("BatchNorm1d(6) on [6]", lambda: nn.BatchNorm1d(6), (1, 6)),
    ("BatchNorm1d(6) on [6, 10]", lambda: nn.BatchNorm1d(6), (1, 6, 10)),
    ("BatchNorm1d(6, affine=False) on [6, 10]", lambda: nn.BatchNorm1d(6, affine=False),
     (1, 6, 10)),
    ("BatchNorm3d(4)", lambda: nn.BatchNorm3d(4), (1, 4, 3, 4, 5)),
    # Poolings
    ("MaxPool1d(3, 2, 1)", lambda: nn.MaxPool1d(3, 2, 1), (1, 4, 11)),
    ("MaxPool1d(2, ceil_mode=True)", lambda: nn.MaxPool1d(2, ceil_mode=True), (1, 4, 11)),
    ("MaxPool3d(2)", lambda: nn.MaxPool3d(2), (1, 4, 4, 6, 6)),
    ("MaxPool3d(3, 2, 1)", lambda: nn.MaxPool3d(3, 2, 1), (1, 4, 5, 6, 7)),
    ("AvgPool1d(3, 2, 1)", lambda: nn.AvgPool1d(3, 2, 1), (1, 4, 11)),
    ("AvgPool3d(2)", lambda: nn.AvgPool3d(2), (1, 4, 4, 6, 6)),
    ("AvgPool3d(3, 2, 1, count_include_pad=False)",
     lambda: nn.AvgPool3d(3, 2, 1, count_include_pad=False), (1, 4, 5, 6, 7)),
    ("AdaptiveAvgPool1d(3) on [4, 7]", lambda: nn.AdaptiveAvgPool1d(3), (1, 4, 7)),
    ("AdaptiveAvgPool1d(1) on [4, 10]", lambda: nn.AdaptiveAvgPool1d(1), (1, 4, 10)),
    ("AdaptiveAvgPool3d((2, 3, 2)) on [4, 5, 7, 5]", lambda: nn.AdaptiveAvgPool3d((2, 3, 2)),
     (1, 4, 5, 7, 5)),
    ("AdaptiveAvgPool3d(1) on [4, 3, 4, 5]", lambda: nn.AdaptiveAvgPool3d(1), (1, 4, 3, 4, 5)),
    ("F.max_pool1d(3, 2, 1)", lambda: Functional(lambda x: F.max_pool1d(x, 3, 2, 1)),
     (1, 4, 11)),
    ("F.avg_pool1d(3, 2, 1)", lambda: Functional(lambda x: F.avg_pool1d(x, 3, 2, 1)),
     (1, 4, 11)),
    ("F.max_pool3d(2)", lambda: Functional(lambda x: F.max_pool3d(x, 2)), (1, 4, 4, 6, 6)),
    ("F.avg_pool3d(2)", lambda: Functional(lambda x: F.avg_pool3d(x, 2)), (1, 4, 4, 6, 6)),
    ("F.adaptive_avg_pool1d(3) on [4, 7]",
     lambda: Functional(lambda x: F.adaptive_avg_pool1d(x, 3)), (1, 4, 7)),
    ("F.adaptive_avg_pool3d((2, 3, 2)) on [4, 5, 7, 5]",
     lambda: Functional(lambda x: F.adaptive_avg_pool3d(x, (2, 3, 2))), (1, 4, 5, 7, 5)),
    # nn.Upsample
    ("Upsample(scale_factor=2) on [4, 5, 6]", lambda: nn.Upsample(scale_factor=2),
     (1, 4, 5, 6)),
    ("Upsample(size=(7, 9)) on [4, 5, 6]", lambda: nn.Upsample(size=(7, 9)), (1, 4, 5, 6)),
    ("Upsample(size=7) on [4, 5, 6]", lambda: nn.Upsample(size=7), (1, 4, 5, 6)),
    ("Upsample(scale_factor=(2, 3)) on [4, 5, 6]", lambda: nn.Upsample(scale_factor=(2, 3)),
     (1, 4, 5, 6)),
    ("Upsample(scale_factor=1.5) on [4, 5, 6]", lambda: nn.Upsample(scale_factor=1.5),
     (1, 4, 5, 6)),
    ("Upsample(scale_factor=(1.5, 2.5)) on [4, 5, 6]",
     lambda: nn.Upsample(scale_factor=(1.5, 2.5)), (1, 4, 5, 6)),
    ("Upsample(scale_factor=2, mode='nearest-exact') on [4, 5, 6]",
     lambda: nn.Upsample(scale_factor=2, mode="nearest-exact"), (1, 4, 5, 6)),
    ("Upsample(scale_factor=2, mode='bilinear') on [4, 5, 6]",
     lambda: nn.Upsample(scale_factor=2, mode="bilinear"), (1, 4, 5, 6)),
    ("Upsample(scale_factor=2, mode='bilinear', align_corners=True) on [4, 5, 6]",
     lambda: nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True), (1, 4, 5, 6)),
    ("Upsample(size=(8, 8), mode='bilinear', align_corners=True) on [4, 5, 6]",
     lambda: nn.Upsample(size=(8, 8), mode="bilinear", align_corners=True), (1, 4, 5, 6)),
    ("Upsample(scale_factor=1.5, mode='bilinear') on [4, 5, 6]",
     lambda: nn.Upsample(scale_factor=1.5, mode="bilinear"), (1, 4, 5, 6)),
    ("Upsample(scale_factor=2, mode='bicubic') on [4, 5, 6]",
     lambda: nn.Upsample(scale_factor=2, mode="bicubic"), (1, 4, 5, 6)),
    ("Upsample(size=(7, 9), mode='bicubic', align_corners=True) on [4, 5, 6]",
     lambda: nn.Upsample(size=(7, 9), mode="bicubic", align_corners=True), (1, 4, 5, 6)),
    ("Upsample(scale_factor=2, mode='linear') on [4, 5]",
     lambda: nn.Upsample(scale_factor=2, mode="linear"), (1, 4, 5)),
    ("Upsample(size=9, mode='linear', align_corners=True) on [4, 5]",
     lambda: nn.Upsample(size=9, mode="linear", align_corners=True), (1, 4, 5)),
    ("Upsample(scale_factor=2) on [4, 5]", lambda: nn.Upsample(scale_factor=2), (1, 4, 5)),
    ("Upsample(scale_factor=2, mode='trilinear') on [2, 3, 4, 5]",
     lambda: nn.Upsample(scale_factor=2, mode="trilinear"), (1, 2, 3, 4, 5)),
    ("Upsample(size=(4, 5, 6), mode='trilinear', align_corners=True) on [2, 3, 4, 5]",
     lambda: nn.Upsample(size=(4, 5, 6), mode="trilinear", align_corners=True),
     (1, 2, 3, 4, 5)),
    ("Upsample(scale_factor=2) on [2, 3, 4, 5]", lambda: nn.Upsample(scale_factor=2),
     (1, 2, 3, 4, 5)),
    # F.interpolate
    ("F.interpolate(scale_factor=2) on [4, 5, 6]", lambda: interp(scale_factor=2),
     (1, 4, 5, 6)),
    ("F.interpolate(size=(7, 9)) on [4, 5, 6]", lambda: interp(size=(7, 9)), (1, 4, 5, 6)),
    ("F.interpolate(size=7) on [4, 5, 6]", lambda: interp(size=7), (1, 4, 5, 6)),
    ("F.interpolate(scale_factor=(2, 3)) on [4, 5, 6]", lambda: interp(scale_factor=(2, 3)),
     (1, 4, 5, 6)),
    ("F.interpolate(scale_factor=1.5) on [4, 5, 6]", lambda: interp(scale_factor=1.5),
     (1, 4, 5, 6)),
    ("F.interpolate(scale_factor=(1.5, 2.5)) on [4, 5, 6]",
     lambda: interp(scale_factor=(1.5, 2.5)), (1, 4, 5, 6)),
    ("F.interpolate(scale_factor=2, mode='nearest-exact') on [4, 5, 6]",
     lambda: interp(scale_factor=2, mode="nearest-exact"), (1, 4, 5, 6)),
    ("F.interpolate(scale_factor=2, mode='bilinear') on [4, 5, 6]",
     lambda: interp(scale_factor=2, mode="bilinear"), (1, 4, 5, 6)),
    ("F.interpolate(scale_factor=2, mode='bilinear', align_corners=True) on [4, 5, 6]",
     lambda: interp(scale_factor=2, mode="bilinear", align_corners=True), (1, 4, 5, 6)),
    ("F.interpolate(size=(8, 8), mode='bilinear', align_corners=False) on [4, 5, 6]",
     lambda: interp(size=(8, 8), mode="bilinear", align_corners=False), (1, 4, 5, 6)),
    ("F.interpolate(scale_factor=1.5, mode='bilinear') on [4, 5, 6]",
     lambda: interp(scale_factor=1.5, mode="bilinear"), (1, 4, 5, 6)),
    ("F.interpolate(scale_factor=2, mode='bicubic') on [4, 5, 6]",
     lambda: interp(scale_factor=2, mode="bicubic"), (1, 4, 5, 6)),
    ("F.interpolate(size=9, mode='linear') on [4, 5]", lambda: interp(size=9, mode="linear"),
     (1, 4, 5)),
    ("F.interpolate(scale_factor=2) on [4, 5]", lambda: interp(scale_factor=2), (1, 4, 5)),
    ("F.interpolate(scale_factor=2, mode='trilinear') on [2, 3, 4, 5]",
     lambda: interp(scale_factor=2, mode="trilinear"), (1, 2, 3, 4, 5)),
    ("F.interpolate(size=(4, 5, 6)) on [2, 3, 4, 5]", lambda: interp(size=(4, 5, 6)),
     (1, 2, 3, 4, 5)),
    # PReLU, Hardtanh, ELU
    ("PReLU() on [4, 5, 5]", lambda: nn.PReLU(), (1, 4, 5, 5)),
    ("PReLU(4) on [4, 5, 5]", lambda: nn.PReLU(4), (1, 4, 5, 5)),
    ("F.prelu(w [4]) on [4, 5, 5]",
     lambda: Functional(lambda x, w: F.prelu(x, w), torch.full((4,), 0.25)), (1, 4, 5, 5)),
    ("Hardtanh() on [4, 5, 5]", lambda: nn.Hardtanh(), (1, 4, 5, 5)),
    ("Hardtanh(-2, 3) on [4, 5, 5]", lambda: nn.Hardtanh(-2.0, 3.0), (1, 4, 5, 5)),
    ("F.hardtanh on [4, 5, 5]", lambda: Functional(lambda x: F.hardtanh(x)), (1, 4, 5, 5)),
    ("ELU() on [4, 5, 5]", lambda: nn.ELU(), (1, 4, 5, 5)),
    ("ELU(0.5) on [4, 5, 5]", lambda: nn.ELU(0.5), (1, 4, 5, 5)),
    ("F.elu on [4, 5, 5]", lambda: Functional(lambda x: F.elu(x)), (1, 4, 5, 5)),
    ("ReLU6() on [4, 5, 5]", lambda: nn.ReLU6(), (1, 4, 5, 5)),
    # Shared modules
    ("Conv2d(4, 4, 3, padding=1) once", lambda: nn.Conv2d(4, 4, 3, padding=1), (1, 4, 5, 5)),
    ("Conv2d(4, 4, 3, padding=1) twice: m(m(x))",
     lambda: Twice(nn.Conv2d(4, 4, 3, padding=1)), (1, 4, 5, 5)),
    ("Conv2d(2, 3, 3, padding=1) siamese on two halves",
     lambda: Siamese(nn.Conv2d(2, 3, 3, padding=1)), (1, 4, 5, 5)),
    ("BatchNorm2d(4) twice", lambda: Twice(nn.BatchNorm2d(4)), (1, 4, 5, 5)),
    ("ReLU() twice", lambda: Twice(nn.ReLU()), (1, 4, 5, 5)),
    ("Linear(6, 6) twice on [4, 6]", lambda: Twice(nn.Linear(6, 6)), (1, 4, 6)),
    ("ConvTranspose2d(4, 4, 2, stride=2) twice",
     lambda: Twice(nn.ConvTranspose2d(4, 4, 2, stride=2)), (1, 4, 3, 3)),
    ("PReLU(4) twice", lambda: Twice(nn.PReLU(4)), (1, 4, 5, 5)),
    ("Upsample(scale_factor=2, mode='bilinear') twice",
     lambda: Twice(nn.Upsample(scale_factor=2, mode="bilinear")), (1, 4, 3, 3)),
]


def fcm(factory, x):
    with quiet(), torch.no_grad(), FlopCounterMode(display=False) as fc:
        factory().eval()(x)
    return fc.get_total_flops() // 2


def fvcore(factory, x):
    from fvcore.nn import FlopCountAnalysis

    with quiet(), torch.no_grad():
        fca = FlopCountAnalysis(factory().eval(), x)
        fca.unsupported_ops_warnings(False)
        fca.uncalled_modules_warnings(False)
        total = fca.total()
        by_op = {k: int(v) for k, v in fca.by_operator().items()}
    return int(total), by_op


def thop(factory, x):
    from thop import profile

    with quiet(), torch.no_grad():
        ops, params = profile(factory(), inputs=(x,), verbose=False)
    return int(ops), int(params)


def ptflops(factory, shape):
    from ptflops import get_model_complexity_info

    with quiet(), torch.no_grad():
        ops, params = get_model_complexity_info(
            factory(), tuple(shape[1:]), as_strings=False, print_per_layer_stat=False,
            verbose=False, backend="pytorch")
    return ops, params


def measure(name, factory, shape):
    torch.manual_seed(0)
    x = torch.randn(*shape)
    model = factory().eval()
    with torch.no_grad():
        y = model(x)
    if isinstance(y, dict):  # torchvision's segmentation models: {"out": ...}
        y = y["out"]
    fv, by_op = fvcore(factory, x)
    th, th_params = thop(factory, x)
    pt, pt_params = ptflops(factory, shape)
    return {
        "case": name,
        "input": list(shape[1:]),
        "output": list(y.shape[1:]),
        "params": sum(p.numel() for p in model.parameters()),
        "fcm_macs": fcm(factory, x),
        "fvcore": fv,
        "fvcore_by_operator": by_op,
        "thop": th,
        "thop_params": th_params,
        "ptflops": pt,
        "ptflops_params": pt_params,
    }


SEGMENTATION = ["lraspp_mobilenet_v3_large", "deeplabv3_mobilenet_v3_large", "fcn_resnet50"]


def segmentation():
    import torchvision

    def factory(name):
        def build():
            kw = {"weights": None, "weights_backbone": None}
            if name != "lraspp_mobilenet_v3_large":
                kw["aux_loss"] = False
            return getattr(torchvision.models.segmentation, name)(**kw)
        return build

    for name in SEGMENTATION:
        torch.manual_seed(0)
        r = measure(name, factory(name), (1, 3, 520, 520))
        by_op = ", ".join(f"{k} {v}" for k, v in r["fvcore_by_operator"].items())
        print(f"{name}: params {r['params']}, fcm/2 {r['fcm_macs']}, fvcore {r['fvcore']} "
              f"({by_op}), thop {r['thop']}, ptflops {r['ptflops']}")


def version(package):
    from importlib.metadata import version as v

    return v(package)


def main():
    if "--segmentation" in sys.argv[1:]:
        segmentation()
        return
    rows = [measure(*case) for case in CASES]
    if "--json" in sys.argv[1:]:
        for r in rows:
            print(json.dumps(r))
        return
    print(f"torch {version('torch')}, fvcore {version('fvcore')}, thop {version('thop')}, "
          f"ptflops {version('ptflops')}; batch 1, eval, no grad")
    print()
    print("| case | input | output | params | fcm/2 | fvcore | fvcore by_operator | thop "
          "| ptflops | params (thop, ptflops) |")
    print("| --- | --- | --- | ---: | ---: | ---: | --- | ---: | ---: | --- |")
    for r in rows:
        by_op = ", ".join(f"{k} {v}" for k, v in sorted(r["fvcore_by_operator"].items()))
        print(f"| {r['case']} | {r['input']} | {r['output']} | {r['params']} | "
              f"{r['fcm_macs']} | {r['fvcore']} | {by_op} | {r['thop']} | {r['ptflops']} | "
              f"{r['thop_params']}, {r['ptflops_params']} |")


if __name__ == "__main__":
    main()
