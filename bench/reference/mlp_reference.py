#!/usr/bin/env python3
"""Independent reference for `ebm eval`: E, ΔE, ∇E and the Hessian diagonal of an ebm-mlp-v1 checkpoint.

Written from ARCHITECTURE.md §3 with numpy only and a different algorithm from the engine's: it carries the full Jacobian
∂h/∂x and the full second-derivative tensor ∂²h/∂x∂x through the net (fine for small D), then contracts with the
output weights. Output: float64 .npy of shape (N, 2+2D) laid out as `ebm eval` writes it:
[E, ΔE, ∂E/∂x_1..∂E/∂x_D, ∂²E/∂x_1²..∂²E/∂x_D²].

  /usr/bin/python3 bench/reference/mlp_reference.py CHECKPOINT.safetensors POINTS.npy VALUES.npy
"""

import json
import struct
import sys

import numpy as np

GELU_K = np.sqrt(2.0 / np.pi)
GELU_A = 0.044715


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    body = raw[8 + n:]
    tensors = {}
    for name, t in header.items():
        dtype = {"F64": "<f8", "F32": "<f4"}[t["dtype"]]
        begin, end = t["data_offsets"]
        tensors[name] = np.frombuffer(body[begin:end], dtype=dtype).astype(np.float64).reshape(t["shape"])
    return meta, tensors


def sigma_derivatives(name, z):
    """σ, σ′, σ″ elementwise."""
    if name == "softplus":
        s = 0.5 * (1.0 + np.tanh(0.5 * z))
        return np.logaddexp(0.0, z), s, s * (1.0 - s)
    if name == "silu":
        s = 0.5 * (1.0 + np.tanh(0.5 * z))
        ds = s * (1.0 - s)
        return z * s, s + z * ds, 2.0 * ds + z * ds * (1.0 - 2.0 * s)
    if name == "tanh":
        t = np.tanh(z)
        return t, 1.0 - t * t, -2.0 * t * (1.0 - t * t)
    if name == "gelu_tanh":
        u = GELU_K * (z + GELU_A * z ** 3)
        du = GELU_K * (1.0 + 3.0 * GELU_A * z * z)
        ddu = 6.0 * GELU_A * GELU_K * z
        t = np.tanh(u)
        sech2 = 1.0 - t * t
        f = 0.5 * z * (1.0 + t)
        # f' = (1+t)/2 + z sech² u'/2 ; f'' = sech² u' + z/2 (sech² u'' - 2 t sech² u'²)
        f1 = 0.5 * (1.0 + t) + 0.5 * z * sech2 * du
        f2 = sech2 * du + 0.5 * z * (sech2 * ddu - 2.0 * t * sech2 * du * du)
        return f, f1, f2
    raise SystemExit(f"unknown activation {name!r}")


def evaluate(meta, tensors, x):
    layers = 0
    while f"hidden.{layers}.weight" in tensors:
        layers += 1
    n, d = x.shape
    h = x.copy()                                           # [N, H]
    jac = np.broadcast_to(np.eye(d), (n, d, d)).copy()     # ∂h/∂x: [N, H, D]
    sec = np.zeros((n, d, d, d))                           # ∂²h/∂x∂x: [N, H, D, D]
    for l in range(layers):
        w = tensors[f"hidden.{l}.weight"]
        b = tensors[f"hidden.{l}.bias"].reshape(-1)
        z = h @ w.T + b
        jz = np.einsum("ij,njd->nid", w, jac)
        sz = np.einsum("ij,njab->niab", w, sec)
        s0, s1, s2 = sigma_derivatives(meta["activation"], z)
        h = s0
        jac = s1[:, :, None] * jz
        sec = s1[:, :, None, None] * sz + s2[:, :, None, None] * np.einsum("nia,nib->niab", jz, jz)
    wout = tensors["out.weight"].reshape(-1)
    c = tensors["out.bias"].reshape(-1)[0]
    energy = h @ wout + c
    grad = np.einsum("i,nid->nd", wout, jac)
    hess = np.einsum("i,niab->nab", wout, sec)
    diag = np.einsum("naa->na", hess)
    lap = diag.sum(axis=1)
    return np.concatenate([energy[:, None], lap[:, None], grad, diag], axis=1)


def main(argv):
    if len(argv) != 4:
        raise SystemExit(__doc__)
    meta, tensors = read_safetensors(argv[1])
    x = np.load(argv[2]).astype(np.float64)
    values = evaluate(meta, tensors, x)
    # self-check: the gradient against central differences of the energy
    h = 1e-6
    d = x.shape[1]
    fd = np.stack([(evaluate(meta, tensors, x + h * np.eye(d)[j])[:, 0]
                    - evaluate(meta, tensors, x - h * np.eye(d)[j])[:, 0]) / (2 * h) for j in range(d)], axis=1)
    err = np.abs(fd - values[:, 2:2 + d]).max() / max(np.abs(fd).max(), 1e-300)
    print(f"reference: {x.shape[0]} points, D={d}, gradient vs finite differences: max rel {err:.1e}")
    np.save(argv[3], values)


if __name__ == "__main__":
    main(sys.argv)
