"""What the ebmtools tests share: where the repository's fixtures are, a safetensors writer of the tests' own (so
broken checkpoints can be made), random energy MLPs and the error measure the comparisons print."""

import json
import os
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "python"))
FIXTURES = os.path.join(ROOT, "src", "test", "resources", "fixtures", "eval")
FIXTURE_NAMES = ["softplus-f64", "gelu-f32", "tanh-f64", "silu-f32"]

# Set by the JUnit test that runs these (ebm.scripts.PythonToolsTest): a folder of checkpoints, points and what
# `ebm eval` wrote for them, and a tiny sweep's output folder.
EVAL_DIR = os.environ.get("EBM_EVAL_DIR")
SWEEP_DIR = os.environ.get("EBM_SWEEP_DIR")


def write_safetensors(path, tensors, metadata, dtype="F64", header_edit=None):
    """Writes tensors (name -> array) as safetensors; header_edit(header) may change the JSON header first."""
    np_dtype = {"F64": "<f8", "F32": "<f4", "F16": "<f2"}[dtype]
    header = {"__metadata__": dict(metadata)} if metadata is not None else {}
    blobs, offset = [], 0
    for name, value in tensors.items():
        data = np.ascontiguousarray(value, dtype=np_dtype).tobytes()
        header[name] = {"dtype": dtype, "shape": list(np.shape(value)), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if header_edit:
        header_edit(header)
    text = json.dumps(header).encode("utf-8")
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
    return path


def random_tensors(rng, widths):
    """ebm-mlp-v1 tensors for widths [D, H_1, ..., H_L]."""
    t = {}
    for l in range(len(widths) - 1):
        t[f"hidden.{l}.weight"] = rng.standard_normal((widths[l + 1], widths[l])) / np.sqrt(widths[l])
        t[f"hidden.{l}.bias"] = 0.3 * rng.standard_normal(widths[l + 1])
    t["out.weight"] = rng.standard_normal((1, widths[-1])) / np.sqrt(widths[-1])
    t["out.bias"] = rng.standard_normal(1)
    return t


def metadata(activation="softplus", **extra):
    return {"format": "ebm-mlp-v1", "activation": activation, **extra}


def relative_error(got, want):
    """||got - want|| / ||want|| (as the Java tests measure), and the worst element as text."""
    got, want = np.asarray(got, dtype=np.float64).ravel(), np.asarray(want, dtype=np.float64).ravel()
    err = np.linalg.norm(got - want) / max(np.linalg.norm(want), 1e-300)
    k = int(np.argmax(np.abs(got - want))) if got.size else 0
    worst = f"worst {got[k]:+.15e} vs {want[k]:+.15e}" if got.size else "no values"
    return err, worst
