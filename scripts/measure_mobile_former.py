"""Params and MACs of Mobile-Former 294M as its authors' code builds it, measured with PyTorch's
FlopCounterMode (matrix-product FLOPs / 2, as the other references): the independent check of
`netspec::zoo::MobileFormer294M` (tests/tests/mobile_former.rs).

    python scripts/measure_mobile_former.py PATH_TO_CHECKOUT

PATH_TO_CHECKOUT is a checkout of github.com/AAboys/MobileFormer (measured at f447310). Its
modules import timm's model-building helpers by relative path (`.helpers`, `.registry`,
`.layers`), which the repository does not ship; they are replaced here by stubs (the model is
built directly, DropPath comes from timm), without editing the checkout.
"""
import sys, types, importlib.util, os
import torch
from torch.utils.flop_counter import FlopCounterMode

root = os.path.abspath(sys.argv[1])
pkg = types.ModuleType("mf"); pkg.__path__ = [root]; sys.modules["mf"] = pkg
helpers = types.ModuleType("mf.helpers")
helpers.build_model_with_cfg = lambda cls, variant, pretrained, default_cfg=None, **kw: cls(**kw)
helpers.default_cfg_for_features = lambda c: c
registry = types.ModuleType("mf.registry"); registry.register_model = lambda f: f
import timm.layers
layers = types.ModuleType("mf.layers"); layers.DropPath = timm.layers.DropPath
sys.modules.update({"mf.helpers": helpers, "mf.registry": registry, "mf.layers": layers})
spec = importlib.util.spec_from_file_location("mf.mobile_former", os.path.join(root, "mobile_former.py"))
M = importlib.util.module_from_spec(spec); sys.modules["mf.mobile_former"] = M; spec.loader.exec_module(M)

torch.manual_seed(0)
m = M.mobile_former_294m().eval()
x = torch.randn(1, 3, 224, 224)
with torch.no_grad(), FlopCounterMode(display=False) as fc:
    m(x)
print("params", sum(p.numel() for p in m.parameters()))
print("macs", fc.get_total_flops() // 2)
print("macs_by_op", {str(k): v // 2 for k, v in fc.get_flop_counts()["Global"].items()})
