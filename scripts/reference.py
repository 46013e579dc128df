#!/usr/bin/env python3
"""Reference counts for the netspec zoo, measured with PyTorch.

Writes one JSON file per model in the format of `tests/data/reference/*.json`
(see `tests/data/reference/README.md`): params, conv/linear MACs, fvcore,
thop and ptflops totals, and every leaf module call in execution order.

Usage (see scripts/README.md for the versions used):

    python scripts/reference.py --out tests/data/reference MODEL...
    python scripts/reference.py --check tests/data/reference MODEL...

MODEL is a torchvision builder name (`shufflenet_v2_x0_5`) or `timm:NAME`
(`timm:ghostnet_100`, written to `ghostnet_100.json`). Models are built with
random weights (nothing is downloaded), in eval mode, on a 1x3x224x224 input.
`--check DIR` recomputes and compares with the files in DIR instead of writing.

PyTorch is a measurement tool here, never a dependency of the Rust build.
"""

import argparse
import contextlib
import io
import json
import logging
import os
import sys
import warnings

import torch
import torch.nn as nn

INPUT_SHAPE = (3, 224, 224)


def build(spec):
    """A fresh model in eval mode; each counter gets its own, as thop and
    ptflops attach buffers and hooks to the modules they visit."""
    if spec.startswith("timm:"):
        import timm

        model = timm.create_model(spec[len("timm:"):], pretrained=False)
    else:
        import torchvision

        model = torchvision.models.get_model(spec, weights=None)
    return model.eval()


def file_name(spec):
    return spec.split(":", 1)[-1]


def own_params(module):
    return sum(p.numel() for p in module.parameters(recurse=False))


def conv_linear_macs(module, out):
    """MACs of convolutions and linear layers only, bias excluded, per sample."""
    if isinstance(module, nn.Conv2d):
        c_out, h, w = out.shape[1:]
        k_h, k_w = module.kernel_size
        return c_out * h * w * (module.in_channels // module.groups) * k_h * k_w
    if isinstance(module, nn.Linear):
        return module.in_features * module.out_features
    return 0


def layers(model, x):
    """Every leaf module call in execution order, with its dotted name.

    A module that holds parameters of its own but also has children (timm's
    `BatchNormAct2d`: a batch norm with `drop` and `act` children) is listed
    too, before its children, so that the sum of `params` is the model's."""
    records = []
    handles = []
    for name, module in model.named_modules():
        if any(True for _ in module.children()) and own_params(module) == 0:
            continue

        def pre_hook(mod, _inputs, name=name):
            # Reserve the slot at call time: a parent is listed before its children.
            records.append({"name": name})
            mod._reference_slots = getattr(mod, "_reference_slots", []) + [len(records) - 1]

        def hook(mod, _inputs, out, name=name):
            slot = mod._reference_slots.pop()
            records[slot] = {
                "name": name,
                "type": type(mod).__name__,
                "output_shape": list(out.shape[1:]),
                "params": own_params(mod),
                "macs": conv_linear_macs(mod, out),
            }

        handles.append(module.register_forward_pre_hook(pre_hook))
        handles.append(module.register_forward_hook(hook))
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    return records


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


def fvcore_counts(spec, x):
    from fvcore.nn import FlopCountAnalysis

    with quiet(), torch.no_grad():
        fca = FlopCountAnalysis(build(spec), x)
        fca.unsupported_ops_warnings(False)
        fca.uncalled_modules_warnings(False)
        total = fca.total()
        by_op = dict(fca.by_operator())
    return {"total": int(total), "by_operator": {k: int(v) for k, v in by_op.items()}}


def thop_counts(spec, x):
    from thop import profile

    with quiet(), torch.no_grad():
        macs, _params = profile(build(spec), inputs=(x,), verbose=False)
    return {"total": int(macs)}


def ptflops_counts(spec):
    from ptflops import get_model_complexity_info

    with quiet(), torch.no_grad():
        macs, _params = get_model_complexity_info(
            build(spec),
            INPUT_SHAPE,
            as_strings=False,
            print_per_layer_stat=False,
            verbose=False,
            backend="pytorch",
        )
    return {"total": int(macs)}


def reference(spec):
    torch.manual_seed(0)
    x = torch.randn(1, *INPUT_SHAPE)
    model = build(spec)
    recs = layers(model, x)
    params = sum(p.numel() for p in model.parameters())
    macs = sum(r["macs"] for r in recs)
    assert sum(r["params"] for r in recs) == params, f"{spec}: leaf params do not sum to params"
    return {
        "model": file_name(spec),
        "input_shape": list(INPUT_SHAPE),
        "params": params,
        "macs": macs,
        "fvcore": fvcore_counts(spec, x),
        "thop": thop_counts(spec, x),
        "ptflops": ptflops_counts(spec),
        "layers": recs,
    }


def compare(ours, theirs):
    """The fields that differ, as readable lines."""
    diffs = []
    for key in ("model", "input_shape", "params", "macs", "fvcore", "thop", "ptflops"):
        if ours.get(key) != theirs.get(key):
            diffs.append(f"{key}: generated {ours.get(key)}, file {theirs.get(key)}")
    a, b = ours["layers"], theirs["layers"]
    if len(a) != len(b):
        diffs.append(f"layers: generated {len(a)}, file {len(b)}")
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            diffs.append(f"layers[{i}]: generated {x}, file {y}")
            break
    return diffs


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--out", help="directory to write MODEL.json files into")
    group.add_argument("--check", help="directory of files to compare with")
    parser.add_argument("models", nargs="+")
    args = parser.parse_args()
    torch.set_num_threads(1)
    failed = False
    for spec in args.models:
        ours = reference(spec)
        if args.out:
            path = os.path.join(args.out, file_name(spec) + ".json")
            with open(path, "w") as f:
                json.dump(ours, f, indent=1)
            print(f"{path}: params {ours['params']:,}, MACs {ours['macs']:,}")
        else:
            path = os.path.join(args.check, file_name(spec) + ".json")
            with open(path) as f:
                theirs = json.load(f)
            diffs = compare(ours, theirs)
            failed |= bool(diffs)
            print(f"{path}: " + ("identical" if not diffs else "DIFFERS"))
            for d in diffs:
                print("  " + d)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
