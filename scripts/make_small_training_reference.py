"""Training-cost references for the small transformer fixtures: one training step at batch 8.

    python scripts/make_small_training_reference.py [OUT.json]   (default tests/data/reference/training_small.json)

The method is exactly scripts/make_training_reference.py's (train mode, dropout p = 0, loss =
sum of outputs, input without grad, FlopCounterMode over forward and over backward, / 2;
saved_tensors_hooks counting each distinct storage once, parameters excluded), applied to the
builders of scripts/make_small_fixtures.py (small_vit, small_convnext) and
scripts/make_small_swin.py (small_swin) at 3x32x32. As in the forward references:
nn.MultiheadAttention's fast path is disabled (torch.backends.mha.set_fastpath_enabled(False);
in train mode it is not taken anyway, and need_weights=False, so the attention runs through
F.scaled_dot_product_attention) and the whole step (forward and backward) runs under
sdpa_kernel(SDPBackend.MATH): on CPU the default picks the flash kernel
(_scaled_dot_product_flash_attention_for_cpu), which saves (out, logsumexp) instead of the
softmax and whose backward FlopCounterMode counts differently (small_vit: 5,987,840 backward
MACs and 558,528 saved bytes with it, 5,839,872 and 662,976 with the math backend).
The math backend computes q·scale @ kᵀ -> softmax -> @ v as ordinary autograd ops, so what it
saves is what those ops save. Weights are PyTorch's default init (seed 0): the counts do not
depend on the values.
"""
import json, os, sys, warnings
warnings.filterwarnings("ignore")
import torch
from torch.utils.flop_counter import FlopCounterMode
from torch.nn.attention import sdpa_kernel, SDPBackend

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
from make_small_fixtures import small_vit, small_convnext, INPUT  # noqa: E402
from make_small_swin import small_swin  # noqa: E402

torch.set_grad_enabled(True)  # the fixture scripts turn it off at import
torch.backends.mha.set_fastpath_enabled(False)
BATCH = 8


def measure(make, batch, detail=False):
    torch.manual_seed(0)
    m = make().train()
    for mod in m.modules():  # dropout off so the step is deterministic
        if isinstance(mod, torch.nn.Dropout): mod.p = 0.0
    x = torch.randn(batch, *INPUT)
    params = {p.untyped_storage().data_ptr() for p in m.parameters()}
    seen = {}
    log = []
    def pack(t):
        ptr = t.untyped_storage().data_ptr()
        if ptr not in params and ptr not in seen:
            seen[ptr] = t.untyped_storage().nbytes()
            if detail:
                log.append((tuple(t.shape), str(t.dtype), t.untyped_storage().nbytes(), t.grad_fn))
        return t
    with sdpa_kernel(SDPBackend.MATH):
        with FlopCounterMode(display=False) as fwd:
            with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
                y = m(x)
        fwd_macs = fwd.get_total_flops() // 2
        with FlopCounterMode(display=False) as bwd:
            y.sum().backward()
        bwd_macs = bwd.get_total_flops() // 2
    r = {"batch": batch, "forward_macs": fwd_macs, "backward_macs": bwd_macs,
         "train_macs": fwd_macs + bwd_macs, "saved_bytes": sum(seen.values()),
         "params": sum(p.numel() for p in m.parameters()),
         "backward_macs_by_op": {str(k): v // 2 for k, v in bwd.get_flop_counts()["Global"].items()}}
    return (r, log) if detail else r


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "tests", "data", "reference", "training_small.json")
    res = {}
    for name, make in (("small_vit", small_vit), ("small_convnext", small_convnext), ("small_swin", small_swin)):
        res[name] = measure(make, BATCH)
        print(name, res[name])
    with open(out, "w") as f:
        json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
