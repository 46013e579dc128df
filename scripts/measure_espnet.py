"""Params and MACs of ESPNet (p = 2, q = 8, 20 classes) as its authors' code builds it, measured
with PyTorch's FlopCounterMode (convolution FLOPs / 2, as the other references): the independent
check of `netspec::zoo::ESPNet` and `SmallESPNet` (tests/tests/dense_zoo.rs).

    python scripts/measure_espnet.py PATH_TO_CHECKOUT

PATH_TO_CHECKOUT is a checkout of github.com/sacmehta/ESPNet (measured at afe71c3). Both of its
model files are measured: `test/Model.py`, whose decoder matches the released Cityscapes
checkpoints (loaded here, strictly, when present) and netspec's `ESPNet`, and `train/Model.py`,
whose last `conv` takes 19 + classes channels instead of 16 + classes. For `test/Model.py` it
also prints what fvcore 0.1.5, thop 0.1.1 and ptflops 0.7.5 count (the conventions). The code's
`ESPNet` keeps its encoder's children in a list attribute named `modules`, which hides
`nn.Module.modules()` that thop and ptflops call; the list is given a `__call__` that answers as
the method would, without editing the checkout.
"""
import importlib.util, os, sys, warnings
import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode

root = os.path.abspath(sys.argv[1])


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


for variant in ["test", "train"]:
    M = load(f"espnet_{variant}", os.path.join(root, variant, "Model.py"))
    m = M.ESPNet(20, p=2, q=8).eval()
    print(f"{variant}/Model.py params", sum(p.numel() for p in m.parameters()))
    checkpoint = os.path.join(root, "pretrained", "decoder", "espnet_p_2_q_8.pth")
    if variant == "test" and os.path.exists(checkpoint):
        state = torch.load(checkpoint, map_location="cpu", weights_only=False)
        # The checkpoint predates `num_batches_tracked`; every other key must match.
        missing, unexpected = m.load_state_dict(state, strict=False)
        assert not unexpected and all(k.endswith("num_batches_tracked") for k in missing)
        print(f"  {checkpoint}: {len(state)} tensors, every key matched")
    for h, w in [(512, 1024), (64, 128)]:
        with torch.no_grad(), FlopCounterMode(display=False) as fc:
            y = m(torch.randn(1, 3, h, w))
        print(f"  3x{h}x{w} -> {list(y.shape[1:])}: macs", fc.get_total_flops() // 2)


class ModuleList(list):
    """The code's `self.modules` list, also callable as `nn.Module.modules`."""

    def __init__(self, items, owner):
        super().__init__(items)
        self.owner = owner

    def __call__(self):
        return nn.Module.modules(self.owner)


def espnet():
    M = load("espnet_test", os.path.join(root, "test", "Model.py"))
    m = M.ESPNet(20, p=2, q=8).eval()
    m.__dict__["modules"] = ModuleList(m.__dict__["modules"], m)
    return m


warnings.filterwarnings("ignore")
import thop, ptflops
from fvcore.nn import FlopCountAnalysis

for h, w in [(512, 1024), (64, 128)]:
    x = torch.randn(1, 3, h, w)
    fv = FlopCountAnalysis(espnet(), x)
    fv.unsupported_ops_warnings(False)
    fv.uncalled_modules_warnings(False)
    th = int(thop.profile(espnet(), inputs=(x,), verbose=False)[0])
    pt, _ = ptflops.get_model_complexity_info(espnet(), (3, h, w), as_strings=False,
                                              print_per_layer_stat=False, verbose=False,
                                              backend="pytorch")
    print(f"test/Model.py 3x{h}x{w}: fvcore {fv.total()}, thop {th}, ptflops {pt}")
