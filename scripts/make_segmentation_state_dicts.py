"""The state-dict names and shapes of torchvision's segmentation models, for the zoo's names.

    python scripts/make_segmentation_state_dicts.py [REPO_ROOT]

Writes REPO_ROOT/tests/data/reference/segmentation_state_dicts.json (REPO_ROOT defaults to the
folder above this script): for each of `lraspp_mobilenet_v3_large`,
`deeplabv3_mobilenet_v3_large` and `fcn_resnet50` (built as
scripts/make_transformer_reference.py builds `segmentation.NAME`: `weights=None,
weights_backbone=None, aux_loss=False`), the list of `[name, shape]` of `model.state_dict()` in
its order, without the batch norms' `num_batches_tracked` counters. tests/tests/segmentation.rs
checks that the zoo's `LrasppMobileNetV3Large`, `DeepLabV3MobileNetV3Large` and `FcnResNet50`
store exactly these tensors, so torchvision's checkpoints load by name.
"""
import json, os, sys
import torchvision.models.segmentation as S

MODELS = ("lraspp_mobilenet_v3_large", "deeplabv3_mobilenet_v3_large", "fcn_resnet50")


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    path = os.path.join(root, "tests", "data", "reference", "segmentation_state_dicts.json")
    out = {}
    for name in MODELS:
        m = getattr(S, name)(weights=None, weights_backbone=None, aux_loss=False)
        out[name] = [[k, list(v.shape)] for k, v in m.state_dict().items()
                     if not k.endswith("num_batches_tracked")]
        print(name, len(out[name]), "tensors")
    # One tensor per line, so that a change reads as a diff.
    lines = []
    for name, tensors in out.items():
        rows = ",\n".join("  " + json.dumps(t) for t in tensors)
        lines.append(f"{json.dumps(name)}: [\n{rows}\n ]")
    with open(path, "w") as f:
        f.write("{\n" + ",\n".join(lines) + "\n}\n")


if __name__ == "__main__":
    main()
