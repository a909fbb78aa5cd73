"""An ebm-mlp-v1 energy as a torch.nn.Module: E(x) only, differentiable in x and in the parameters.

PyTorch is imported when the function is called, so the rest of ebmtools works without it.
"""

import math
import os

from .checkpoint import MlpEnergy, load_energy


def _torch():
    try:
        import torch
    except ImportError as e:
        raise ImportError(f"ebmtools.torch_energy needs PyTorch, which cannot be imported ({e}); "
                          "the NumPy energy (ebmtools.load_energy) works without it") from None
    return torch


def torch_energy(source, dtype=None):
    """A torch.nn.Module computing E(x) for x of shape (..., D) -> (...), from an MlpEnergy or a checkpoint path.

    dtype: torch.float64 (the default) or torch.float32; the parameters are nn.Parameters of that dtype, so
    torch.autograd gives grad_x E (and, by double backward, second derivatives) and parameter gradients.
    """
    torch = _torch()
    energy = source if isinstance(source, MlpEnergy) else load_energy(os.fspath(source))
    dtype = torch.float64 if dtype is None else dtype
    if dtype not in (torch.float64, torch.float32):
        raise ValueError(f"dtype must be torch.float64 or torch.float32, got {dtype}")
    return _module_class(torch)(energy, dtype)


_CLASS = None


def _module_class(torch):
    global _CLASS
    if _CLASS is not None:
        return _CLASS
    nn = torch.nn
    gelu_k, gelu_a = math.sqrt(2.0 / math.pi), 0.044715

    def activate(name, z):
        if name == "softplus":
            return torch.logaddexp(z, torch.zeros_like(z))  # exact for every z (F.softplus switches to z above 20)
        if name == "silu":
            return z * torch.sigmoid(z)
        if name == "tanh":
            return torch.tanh(z)
        if name == "gelu_tanh":
            return 0.5 * z * (1.0 + torch.tanh(gelu_k * (z + gelu_a * z * z * z)))
        raise ValueError(f"unknown activation {name!r}")

    class EnergyMLP(nn.Module):
        """E(x) = w^T h_L + c, h_l = sigma(W_l h_{l-1} + b_l). Parameters: weights[l] (W_{l+1}, [H, H_prev]),
        biases[l], out_weight ([1, H_L]) and out_bias ([1]), named as in the checkpoint but for the dots."""

        def __init__(self, energy, dtype):
            super().__init__()
            self.activation = energy.activation
            self.input_dim = energy.input_dim

            def param(a):  # copies, so the module never shares memory with the NumPy energy
                return nn.Parameter(torch.tensor(a, dtype=dtype))

            self.weights = nn.ParameterList([param(w) for w in energy.weights])
            self.biases = nn.ParameterList([param(b) for b in energy.biases])
            self.out_weight = param(energy.out_weight.reshape(1, -1))
            self.out_bias = param([energy.out_bias])

        def forward(self, x):
            if x.shape[-1:] != (self.input_dim,):
                raise ValueError(f"points have shape {tuple(x.shape)}, expected (..., {self.input_dim})")
            h = x
            for w, b in zip(self.weights, self.biases):
                h = activate(self.activation, nn.functional.linear(h, w, b))
            return nn.functional.linear(h, self.out_weight, self.out_bias).squeeze(-1)

        def extra_repr(self):
            return f"activation={self.activation}"

    _CLASS = EnergyMLP
    return _CLASS
