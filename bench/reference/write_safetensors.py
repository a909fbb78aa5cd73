#!/usr/bin/env python3
"""Write an ebm-mlp-v1 checkpoint with random weights, independently of the engine (numpy only).

It exists to show that the engine reads checkpoints it did not write: the safetensors bytes are assembled
here by hand (no safetensors package), tensors are stored in a non-layout order, and size metadata can be
left out. Optionally it also writes reference energies and energy gradients at random points, computed in
float64 from the weights exactly as stored, for cross-checking the engine's forward pass.

Example:
  python3 bench/reference/write_safetensors.py --input-dim 3 --hidden 16,8 --activation silu \
      --seed 1 --dtype F32 --out /tmp/ref.safetensors --energies-out /tmp/ref.json --points 5
"""

import argparse
import json
import struct
import sys

import numpy as np

GELU_K = np.sqrt(2.0 / np.pi)
GELU_A = 0.044715


def sigmoid(z):
    # tanh form: no overflow warnings for large |z|
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def activation_and_derivative(name, z):
    if name == "softplus":
        return np.logaddexp(0.0, z), sigmoid(z)
    if name == "silu":
        s = sigmoid(z)
        return z * s, s + z * s * (1.0 - s)
    if name == "tanh":
        t = np.tanh(z)
        return t, 1.0 - t * t
    if name == "gelu_tanh":
        t = np.tanh(GELU_K * (z + GELU_A * z ** 3))
        du = GELU_K * (1.0 + 3.0 * GELU_A * z * z)
        return 0.5 * z * (1.0 + t), 0.5 * (1.0 + t) + 0.5 * z * (1.0 - t * t) * du
    raise SystemExit(f"unknown activation {name!r}; allowed: softplus, silu, tanh, gelu_tanh")


def random_weights(input_dim, hidden, rng):
    """Tensors by name, each drawn N(0, 1/fan_in) so energies stay moderate."""
    tensors = {}
    widths = [input_dim] + hidden
    for layer in range(len(hidden)):
        fan_in, fan_out = widths[layer], widths[layer + 1]
        tensors[f"hidden.{layer}.weight"] = rng.standard_normal((fan_out, fan_in)) / np.sqrt(fan_in)
        tensors[f"hidden.{layer}.bias"] = 0.1 * rng.standard_normal(fan_out)
    tensors["out.weight"] = rng.standard_normal((1, hidden[-1])) / np.sqrt(hidden[-1])
    tensors["out.bias"] = 0.1 * rng.standard_normal(1)
    return tensors


def encode_safetensors(tensors, metadata, dtype, pad_header):
    """The file's bytes: u64 LE header length, JSON header, then little-endian row-major data."""
    numpy_dtype = {"F64": "<f8", "F32": "<f4"}[dtype]
    header = {}
    if metadata:
        header["__metadata__"] = metadata
    chunks = []
    offset = 0
    # Sorted by name, as the reference implementation orders equal dtypes: hidden.0.bias before
    # hidden.0.weight and out.* after hidden.*, which differs from the engine's layout order.
    for name in sorted(tensors):
        raw = np.ascontiguousarray(tensors[name], dtype=numpy_dtype).tobytes()
        header[name] = {"dtype": dtype, "shape": list(tensors[name].shape),
                        "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    header_bytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    if pad_header:
        header_bytes += b" " * (-len(header_bytes) % 8)
    return struct.pack("<Q", len(header_bytes)) + header_bytes + b"".join(chunks)


def energy_and_gradient(tensors, layers, activation, points):
    """E(x) and dE/dx for each row of points, in float64."""
    h = points
    pre_activations = []
    for layer in range(layers):
        z = h @ tensors[f"hidden.{layer}.weight"].T + tensors[f"hidden.{layer}.bias"]
        pre_activations.append(z)
        h, _ = activation_and_derivative(activation, z)
    energy = h @ tensors["out.weight"][0] + tensors["out.bias"][0]
    upstream = np.broadcast_to(tensors["out.weight"][0], h.shape)
    for layer in reversed(range(layers)):
        _, slope = activation_and_derivative(activation, pre_activations[layer])
        upstream = (upstream * slope) @ tensors[f"hidden.{layer}.weight"]
    return energy, upstream


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input-dim", type=int, required=True)
    parser.add_argument("--hidden", required=True, help="comma-separated widths, e.g. 64,32")
    parser.add_argument("--activation", required=True, choices=["softplus", "silu", "tanh", "gelu_tanh"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dtype", choices=["F64", "F32"], default="F64")
    parser.add_argument("--out", required=True, help="checkpoint path to write")
    parser.add_argument("--no-size-metadata", action="store_true", help="omit the optional input_dim and hidden keys")
    parser.add_argument("--no-pad", action="store_true", help="leave the header unpadded")
    parser.add_argument("--energies-out", help="also write points, energies and gradients as JSON here")
    parser.add_argument("--points", type=int, default=8, help="number of random points for --energies-out")
    args = parser.parse_args(argv)

    hidden = [int(w) for w in args.hidden.split(",")]
    if args.input_dim <= 0 or not hidden or min(hidden) <= 0:
        raise SystemExit("--input-dim and every --hidden width must be positive")
    rng = np.random.default_rng(args.seed)
    tensors = random_weights(args.input_dim, hidden, rng)
    if args.dtype == "F32":
        # Reference values must come from the weights as the engine will read them.
        tensors = {name: value.astype(np.float32).astype(np.float64) for name, value in tensors.items()}

    metadata = {"format": "ebm-mlp-v1", "activation": args.activation, "writer": "bench/reference/write_safetensors.py",
                "seed": str(args.seed)}
    if not args.no_size_metadata:
        metadata["input_dim"] = str(args.input_dim)
        metadata["hidden"] = ",".join(str(w) for w in hidden)
    with open(args.out, "wb") as f:
        f.write(encode_safetensors(tensors, metadata, args.dtype, pad_header=not args.no_pad))

    if args.energies_out:
        points = rng.standard_normal((args.points, args.input_dim))
        energy, gradient = energy_and_gradient(tensors, len(hidden), args.activation, points)
        with open(args.energies_out, "w") as f:
            json.dump({"checkpoint": args.out, "x": points.tolist(), "energy": energy.tolist(),
                       "grad_energy": gradient.tolist()}, f, indent=1)
            f.write("\n")
    print(f"wrote {args.out}: D={args.input_dim} hidden={hidden} activation={args.activation} dtype={args.dtype}"
          + (f"; energies at {args.points} points in {args.energies_out}" if args.energies_out else ""))


if __name__ == "__main__":
    main(sys.argv[1:])
