"""PyTorch's forward time for the torchvision models netspec benchmarks.

Measurement only (PyTorch is never a dependency of the build or CI).

    python scripts/torch_speed.py                      # the default table below
    python scripts/torch_speed.py --model resnet50 --threads 1 --batch 8 --runs 10

Prints one line per (model, threads, batch) with the median of `--runs` timed
forward passes after 2 untimed ones, in eval mode under `torch.no_grad()`.
The `speed` example of the netspec crate calls this script with one
configuration at a time, right after timing netspec on the same one, so that
both run back to back on the same machine:

    cargo run --release -p netspec --example speed -- --torch <python>
"""
import argparse
import time

import torch
import torchvision

DEFAULT_MODELS = ["resnet50", "resnet18", "mobilenet_v2", "efficientnet_b0"]


def median_ms(model, batch, runs):
    x = torch.randn(batch, 3, 224, 224)
    with torch.no_grad():
        for _ in range(2):
            model(x)
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - start)
    times.sort()
    n = len(times)
    mid = times[n // 2] if n % 2 else (times[n // 2 - 1] + times[n // 2]) / 2
    return mid * 1e3


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", action="append", help="torchvision model name (repeatable)")
    p.add_argument("--threads", type=int, action="append", help="torch.set_num_threads (repeatable)")
    p.add_argument("--batch", type=int, action="append", help="batch size (repeatable)")
    p.add_argument("--runs", type=int, default=10, help="timed runs per configuration")
    a = p.parse_args()
    models = a.model or DEFAULT_MODELS
    threads = a.threads or [1, torch.get_num_threads()]
    batches = a.batch or [1, 8]
    print(f"# torch {torch.__version__} torchvision {torchvision.__version__}")
    for name in models:
        model = getattr(torchvision.models, name)().eval()
        for t in threads:
            torch.set_num_threads(t)
            for b in batches:
                ms = median_ms(model, b, a.runs)
                print(f"torch {name} threads {t} batch {b} median_ms {ms:.3f} runs {a.runs}", flush=True)


if __name__ == "__main__":
    main()
