"""ebm-mlp-v1 checkpoints as NumPy energy functions: E(x), grad_x E(x), the Hessian diagonal and Laplacian.

The file is read with NumPy alone (no safetensors package): an 8-byte little-endian header length, a JSON header
naming each tensor's dtype (F64 or F32), shape and data_offsets into the byte buffer that follows, and
``__metadata__`` with ``format`` = ebm-mlp-v1 and ``activation``. Everything is computed in float64, whatever the
stored dtype (F32 weights are widened exactly), as ``ebm eval`` does.

Math (ARCHITECTURE.md section 3): h_0 = x, z_l = W_l h_{l-1} + b_l, h_l = sigma(z_l), E = w^T h_L + c.
The gradient is one reverse sweep. The Hessian diagonal is forward mode along the D coordinate directions: carry
J_l = dh_l/dx (D directions) and S_l (the second derivative of h_l along each direction twice); a dense layer maps
both linearly, an activation gives J' = sigma'(z) J_z and S' = sigma'(z) S_z + sigma''(z) J_z^2. Then
d^2E/dx_d^2 = w^T S_L[d] and the Laplacian is their sum.
"""

import json
import os
import re
import struct

import numpy as np

FORMAT = "ebm-mlp-v1"
ACTIVATIONS = ("softplus", "silu", "tanh", "gelu_tanh")
_DTYPES = {"F64": np.dtype("<f8"), "F32": np.dtype("<f4")}
_MAX_HEADER = 100 * 1024 * 1024
_HIDDEN = re.compile(r"hidden\.(0|[1-9][0-9]{0,8})\.(weight|bias)\Z")
# Forward mode holds (points x D x width) values per layer; chunks of points keep that near this many.
_CHUNK_ELEMENTS = 1 << 21

_GELU_K = np.sqrt(2.0 / np.pi)
_GELU_A = 0.044715


def _fail(path, problem):
    return ValueError(f"checkpoint {path}: {problem}")


def read_safetensors(path):
    """(tensors, metadata) of a safetensors file: name -> float64 ndarray in its stored shape, and the
    string -> string metadata. Only F64 and F32 tensors are accepted. Errors are one-line ValueErrors."""
    tensors, metadata, _ = _read(os.fspath(path))
    return tensors, metadata


def _read(path):
    """tensors, metadata and the set of stored dtype names."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"checkpoint {path} does not exist (or is not a file)")
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise _fail(path, f"file is only {len(raw)} bytes, too short for the 8-byte header length (not safetensors)")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8 or n > _MAX_HEADER:
        raise _fail(path, f"header length {n} runs past the end of the {len(raw)}-byte file (not safetensors)")
    try:
        header = json.loads(raw[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise _fail(path, f"header is not JSON ({e}) (not safetensors)") from None
    if not isinstance(header, dict):
        raise _fail(path, f"header is JSON but not an object (found {type(header).__name__})")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise _fail(path, "__metadata__ must be an object of strings")
    buffer = memoryview(raw)[8 + n:]
    tensors, dtypes = {}, set()
    for name, entry in header.items():
        if not isinstance(entry, dict) or not {"dtype", "shape", "data_offsets"} <= entry.keys():
            raise _fail(path, f"tensor {name!r}: entry needs dtype, shape and data_offsets, found {entry!r}")
        dtype = _DTYPES.get(entry["dtype"]) if isinstance(entry["dtype"], str) else None
        if dtype is None:
            raise _fail(path, f"tensor {name!r} has dtype {entry['dtype']}, which is not supported (only F64, F32)")
        shape, offsets = entry["shape"], entry["data_offsets"]
        if not (isinstance(shape, list) and all(isinstance(s, int) and s >= 0 for s in shape)):
            raise _fail(path, f"tensor {name!r}: shape {shape!r} is not a list of non-negative integers")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(o, int) for o in offsets)
                and 0 <= offsets[0] <= offsets[1] <= len(buffer)):
            raise _fail(path, f"tensor {name!r}: data_offsets {offsets!r} do not lie within the "
                              f"{len(buffer)}-byte data buffer")
        count = int(np.prod(shape, dtype=np.int64))
        if offsets[1] - offsets[0] != count * dtype.itemsize:
            raise _fail(path, f"tensor {name!r}: data_offsets {offsets} span {offsets[1] - offsets[0]} bytes, but "
                              f"{entry['dtype']} {shape} needs {count * dtype.itemsize}")
        values = np.frombuffer(buffer[offsets[0]:offsets[1]], dtype=dtype).astype(np.float64)
        tensors[name] = values.reshape(shape)
        dtypes.add(entry["dtype"])
    return tensors, dict(metadata), dtypes


def load_energy(path):
    """Loads an ebm-mlp-v1 checkpoint as an MlpEnergy. A wrong format, a missing or unexpected tensor, a shape
    that does not fit, an unknown activation or size metadata that disagrees is a one-line ValueError naming the
    file and the problem."""
    path = os.fspath(path)
    tensors, metadata, dtypes = _read(path)
    fmt = metadata.get("format")
    if fmt is None:
        raise _fail(path, f"metadata has no 'format' key; expected format={FORMAT}")
    if fmt != FORMAT:
        raise _fail(path, f"metadata format is {fmt!r}, expected {FORMAT!r}")
    activation = metadata.get("activation")
    if activation is None:
        raise _fail(path, f"metadata has no 'activation' key; allowed: {', '.join(ACTIVATIONS)}")
    if activation not in ACTIVATIONS:
        raise _fail(path, f"metadata activation is {activation!r}, which is unknown; allowed: {', '.join(ACTIVATIONS)}")

    layers = sorted({int(m.group(1)) for m in map(_HIDDEN.match, tensors) if m})
    if not layers:
        raise _fail(path, "missing tensor hidden.0.weight (no hidden layers found)")
    for expected, layer in enumerate(layers):
        if layer != expected:
            raise _fail(path, f"gap in layer numbering: hidden.{layer}.* found but no hidden.{expected}.* tensors")

    def tensor(name):
        if name not in tensors:
            raise _fail(path, f"missing tensor {name}")
        return tensors[name]

    def misshapen(name, expected):
        return _fail(path, f"tensor {name} has shape {list(tensors[name].shape)}, expected {expected}")

    weights, biases, width = [], [], None
    for l in layers:
        w, b = tensor(f"hidden.{l}.weight"), tensor(f"hidden.{l}.bias")
        if w.ndim != 2 or w.shape[0] == 0 or w.shape[1] == 0 or (width is not None and w.shape[1] != width):
            want = "[H_1, D] with H_1, D > 0" if l == 0 else f"[H_{l + 1}, {width}] with H_{l + 1} > 0"
            raise misshapen(f"hidden.{l}.weight", want)
        width = w.shape[0]
        if b.shape != (width,):
            raise misshapen(f"hidden.{l}.bias", f"[{width}]")
        weights.append(w)
        biases.append(b)
    if tensor("out.weight").shape != (1, width):
        raise misshapen("out.weight", f"[1, {width}]")
    if tensor("out.bias").shape != (1,):
        raise misshapen("out.bias", "[1]")
    known = {f"hidden.{l}.{k}" for l in layers for k in ("weight", "bias")} | {"out.weight", "out.bias"}
    unexpected = sorted(set(tensors) - known)
    if unexpected:
        raise _fail(path, f"unexpected tensors {', '.join(unexpected)} (an {FORMAT} checkpoint of {len(layers)} "
                          f"hidden layers holds only {', '.join(sorted(known))})")
    for name, value in tensors.items():
        bad = np.flatnonzero(~np.isfinite(value))
        if bad.size:
            raise _fail(path, f"tensor {name} holds a non-finite value ({value.flat[bad[0]]}) at flat index {bad[0]}")

    input_dim, hidden = weights[0].shape[1], tuple(w.shape[0] for w in weights)
    if "input_dim" in metadata and metadata["input_dim"].strip() != str(input_dim):
        raise _fail(path, f"metadata input_dim={metadata['input_dim']} disagrees with the tensor shapes, which give "
                          f"{input_dim}")
    if "hidden" in metadata and [s.strip() for s in metadata["hidden"].split(",")] != [str(h) for h in hidden]:
        raise _fail(path, f"metadata hidden={metadata['hidden']} disagrees with the tensor shapes, which give "
                          f"{','.join(map(str, hidden))}")
    return MlpEnergy(weights, biases, tensors["out.weight"][0], float(tensors["out.bias"][0]), activation,
                     path=path, metadata=metadata, dtype="/".join(sorted(dtypes)))


def activation_derivatives(name, z):
    """sigma(z), sigma'(z), sigma''(z) of an activation, elementwise in float64."""
    if name == "softplus":
        s = 0.5 * (1.0 + np.tanh(0.5 * z))  # the logistic function, without overflow for large |z|
        return np.logaddexp(0.0, z), s, s * (1.0 - s)
    if name == "silu":
        s = 0.5 * (1.0 + np.tanh(0.5 * z))
        ds = s * (1.0 - s)
        return z * s, s + z * ds, ds * (2.0 + z * (1.0 - 2.0 * s))
    if name == "tanh":
        t = np.tanh(z)
        dt = 1.0 - t * t
        return t, dt, -2.0 * t * dt
    if name == "gelu_tanh":
        # 0.5 z (1 + tanh u), u = k (z + a z^3): u' = k (1 + 3 a z^2), u'' = 6 k a z
        t = np.tanh(_GELU_K * (z + _GELU_A * z ** 3))
        dt = 1.0 - t * t
        du = _GELU_K * (1.0 + 3.0 * _GELU_A * z * z)
        ddu = 6.0 * _GELU_K * _GELU_A * z
        return 0.5 * z * (1.0 + t), 0.5 * (1.0 + t) + 0.5 * z * dt * du, dt * (du + 0.5 * z * (ddu - 2.0 * t * du * du))
    raise ValueError(f"unknown activation {name!r}; allowed: {', '.join(ACTIVATIONS)}")


class MlpEnergy:
    """E(x) = w^T h_L + c of an energy MLP, in float64. Points are arrays of shape (..., D); energies and
    Laplacians come back with shape (...), gradients and Hessian diagonals with shape (..., D).

    Attributes: weights (W_l, [H_l, H_{l-1}]), biases, out_weight (w, [H_L]), out_bias (c), activation,
    input_dim, hidden, dtype (as stored: "F64", "F32", or "F32/F64" for a mix), metadata, path.
    """

    def __init__(self, weights, biases, out_weight, out_bias, activation, path=None, metadata=None, dtype="F64"):
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; allowed: {', '.join(ACTIVATIONS)}")
        self.weights = [np.asarray(w, dtype=np.float64) for w in weights]
        self.biases = [np.asarray(b, dtype=np.float64) for b in biases]
        self.out_weight = np.asarray(out_weight, dtype=np.float64).reshape(-1)
        self.out_bias = float(out_bias)
        self.activation = activation
        self.path, self.metadata, self.dtype = path, dict(metadata or {}), dtype
        self.input_dim = self.weights[0].shape[1]
        self.hidden = tuple(w.shape[0] for w in self.weights)

    def __repr__(self):
        return (f"MlpEnergy(D={self.input_dim}, hidden={list(self.hidden)}, activation={self.activation}, "
                f"stored {self.dtype}" + (f", from {self.path}" if self.path else "") + ")")

    def _points(self, x):
        x = np.asarray(x, dtype=np.float64)
        if x.ndim == 0 or x.shape[-1] != self.input_dim:
            got = "a scalar" if x.ndim == 0 else f"{x.shape[-1]} columns (shape {x.shape})"
            source = f"the checkpoint {self.path}" if self.path else "the energy"
            raise ValueError(f"points have {got} but {source} expects D = {self.input_dim}")
        return x.reshape(-1, self.input_dim), x.shape[:-1]

    def _forward(self, x):
        """Pre-activations z_l and the energies of rows x (N, D)."""
        h, zs = x, []
        for w, b in zip(self.weights, self.biases):
            z = h @ w.T + b
            zs.append(z)
            h = activation_derivatives(self.activation, z)[0]
        return zs, h @ self.out_weight + self.out_bias

    def energy(self, x):
        """E(x), shape (...)."""
        rows, lead = self._points(x)
        return self._forward(rows)[1].reshape(lead)

    __call__ = energy

    def grad(self, x):
        """grad_x E(x), shape (..., D), by one reverse sweep."""
        rows, lead = self._points(x)
        zs, _ = self._forward(rows)
        g = np.broadcast_to(self.out_weight, (rows.shape[0], self.out_weight.size))
        for w, z in zip(reversed(self.weights), reversed(zs)):
            g = (g * activation_derivatives(self.activation, z)[1]) @ w
        return g.reshape(lead + (self.input_dim,))

    def score(self, x):
        """The model's score -grad_x E(x)."""
        return -self.grad(x)

    def evaluate(self, x):
        """All of it at once, by forward mode over the D coordinate directions: a dict with "energy" (...),
        "grad" (..., D), "hessian_diag" (..., D) and "laplacian" (...)."""
        rows, lead = self._points(x)
        d = self.input_dim
        chunk = max(1, _CHUNK_ELEMENTS // (d * max(self.hidden + (d,))))
        parts = [self._forward_mode(rows[i:i + chunk]) for i in range(0, max(rows.shape[0], 1), chunk)]
        e, g, s = (np.concatenate([p[k] for p in parts]) for k in range(3))
        return {"energy": e.reshape(lead), "grad": g.reshape(lead + (d,)), "hessian_diag": s.reshape(lead + (d,)),
                "laplacian": s.sum(axis=1).reshape(lead)}

    def _forward_mode(self, x):
        n, d = x.shape
        h = x
        jac = np.broadcast_to(np.eye(d), (n, d, d))  # jac[i, k, :] = d h / d x_k at point i
        sec = np.zeros((n, d, d))                      # sec[i, k, :] = d^2 h / d x_k^2 at point i
        for w, b in zip(self.weights, self.biases):
            z = h @ w.T + b
            jz, sz = jac @ w.T, sec @ w.T
            h, d1, d2 = activation_derivatives(self.activation, z)
            jac = d1[:, None, :] * jz
            sec = d1[:, None, :] * sz + d2[:, None, :] * jz * jz
        return h @ self.out_weight + self.out_bias, jac @ self.out_weight, sec @ self.out_weight

    def hessian_diag(self, x):
        """d^2E/dx_d^2 for each coordinate d, shape (..., D)."""
        return self.evaluate(x)["hessian_diag"]

    def laplacian(self, x):
        """Delta E(x) = tr of the x-Hessian, shape (...)."""
        return self.evaluate(x)["laplacian"]

    def eval_columns(self, x):
        """Rows x (N, D) -> (N, 2 + 2D) in the layout of `ebm eval`: E, Delta E, dE/dx_d, d^2E/dx_d^2."""
        v = self.evaluate(np.asarray(x, dtype=np.float64).reshape(-1, self.input_dim))
        return np.column_stack([v["energy"], v["laplacian"], v["grad"], v["hessian_diag"]])

    def to_torch(self, dtype=None):
        """This energy as a torch.nn.Module (see ebmtools.torch_energy); needs PyTorch."""
        from .torch_energy import torch_energy
        return torch_energy(self, dtype=dtype)
