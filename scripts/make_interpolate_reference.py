"""PyTorch's interpolation values for the runtime's kernel tests.

Prints Rust `const` arrays (f32, shortest round-trip text) that
`runtime/src/kernels/interpolate/tests.rs` pastes: for each case, the
`F.interpolate` call that produced it, its output shape and values. The input
of every case is arange-based, `((arange(n) * 7) % 11 - 3)` (integers that
are not linear in the index, so a wrong weight or tap shows), in the input
shape named by the case.

    python scripts/make_interpolate_reference.py > interpolate_values.rs

PyTorch is a measurement tool here only: the tests read the pasted values.
"""

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)


def input_of(shape):
    n = int(np.prod(shape))
    return ((torch.arange(n, dtype=torch.float32) * 7) % 11 - 3).reshape(shape)


# (name, input shape, keyword arguments of F.interpolate)
CASES = [
    ("BILINEAR_SIZE", (1, 2, 3, 4), dict(size=(5, 7), mode="bilinear", align_corners=False)),
    ("BILINEAR_SIZE_AC", (1, 2, 3, 4), dict(size=(5, 7), mode="bilinear", align_corners=True)),
    ("BILINEAR_X2", (1, 2, 3, 4), dict(scale_factor=2.0, mode="bilinear", align_corners=False)),
    ("BILINEAR_X2_AC", (1, 2, 3, 4), dict(scale_factor=2.0, mode="bilinear", align_corners=True)),
    ("BILINEAR_X1_5", (1, 2, 3, 4), dict(scale_factor=1.5, mode="bilinear", align_corners=False)),
    ("BILINEAR_X1_5_AC", (1, 2, 3, 4), dict(scale_factor=1.5, mode="bilinear", align_corners=True)),
    ("BILINEAR_DOWN", (1, 1, 5, 7), dict(size=(3, 4), mode="bilinear", align_corners=False)),
    ("BILINEAR_X0_6", (1, 1, 5, 7), dict(scale_factor=0.6, mode="bilinear", align_corners=False)),
    ("BICUBIC_SIZE", (1, 2, 3, 4), dict(size=(5, 7), mode="bicubic", align_corners=False)),
    ("BICUBIC_SIZE_AC", (1, 2, 3, 4), dict(size=(5, 7), mode="bicubic", align_corners=True)),
    ("BICUBIC_X2", (1, 2, 3, 4), dict(scale_factor=2.0, mode="bicubic", align_corners=False)),
    ("BICUBIC_X1_5_AC", (1, 2, 3, 4), dict(scale_factor=1.5, mode="bicubic", align_corners=True)),
    ("BICUBIC_X1_5", (1, 2, 3, 4), dict(scale_factor=1.5, mode="bicubic", align_corners=False)),
    ("NEAREST_SIZE", (1, 2, 3, 4), dict(size=(5, 7), mode="nearest")),
    ("NEAREST_X2", (1, 2, 3, 4), dict(scale_factor=2.0, mode="nearest")),
    ("NEAREST_X1_5", (1, 2, 3, 4), dict(scale_factor=1.5, mode="nearest")),
    ("NEAREST_DOWN", (1, 1, 5, 7), dict(size=(3, 4), mode="nearest")),
    ("NEAREST_EXACT_SIZE", (1, 2, 3, 4), dict(size=(5, 7), mode="nearest-exact")),
    ("NEAREST_EXACT_X1_5", (1, 2, 3, 4), dict(scale_factor=1.5, mode="nearest-exact")),
    ("NEAREST_EXACT_DOWN", (1, 1, 5, 7), dict(size=(3, 4), mode="nearest-exact")),
    ("LINEAR_SIZE", (1, 2, 5), dict(size=8, mode="linear", align_corners=False)),
    ("LINEAR_SIZE_AC", (1, 2, 5), dict(size=8, mode="linear", align_corners=True)),
    ("LINEAR_X1_7", (1, 2, 5), dict(scale_factor=1.7, mode="linear", align_corners=False)),
    ("NEAREST_1D_X2_5", (1, 2, 5), dict(scale_factor=2.5, mode="nearest")),
    ("TRILINEAR_SIZE", (1, 1, 2, 3, 4), dict(size=(3, 4, 5), mode="trilinear", align_corners=False)),
    ("TRILINEAR_SIZE_AC", (1, 1, 2, 3, 4), dict(size=(3, 4, 5), mode="trilinear", align_corners=True)),
    ("TRILINEAR_X1_5", (1, 1, 2, 3, 4), dict(scale_factor=1.5, mode="trilinear", align_corners=False)),
    ("NEAREST_3D_SIZE", (1, 1, 2, 3, 4), dict(size=(3, 4, 5), mode="nearest")),
    ("NEAREST_EXACT_3D_X1_5", (1, 1, 2, 3, 4), dict(scale_factor=1.5, mode="nearest-exact")),
]


def call_text(shape, kw):
    args = ", ".join(f"{k}={v!r}" for k, v in kw.items())
    return f"F.interpolate(x{list(shape)}, {args})"


def main():
    for name, shape, kw in CASES:
        y = F.interpolate(input_of(shape), **kw)
        values = ", ".join(str(np.float32(v)) for v in y.flatten().tolist())
        print(f"/// `{call_text(shape, kw)}`: shape {list(y.shape)}.")
        print(f"const {name}: &[f32] = &[{values}];")


if __name__ == "__main__":
    main()
