"""PyTorch's forward time for the torchvision models netspec benchmarks, on one thread.

Measurement only (PyTorch is never a dependency of the build or CI):

    python scripts/torch_speed.py

Prints the median of several batch-1 forward passes per model, to compare with
`cargo bench -p netspec --bench forward` on the same machine.
"""
import time

import torch
import torchvision

torch.set_num_threads(1)
print(torch.__version__, torchvision.__version__)
for name in ["mobilenet_v2", "squeezenet1_0", "resnet18", "alexnet", "resnet50", "vgg16"]:
    model = getattr(torchvision.models, name)().eval()
    x = torch.randn(1, 3, 224, 224)
    runs = 5 if name in ("vgg16", "resnet50") else 11
    with torch.no_grad():
        for _ in range(2):
            model(x)
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - start)
    times.sort()
    print(f"{name:<14} median {times[len(times) // 2] * 1e3:8.2f} ms over {runs} runs (PyTorch, 1 thread)")
