"""ebm results in Python: checkpoints as energy functions, a run's metrics and a sweep's results as arrays.

    import sys; sys.path.insert(0, "python")      # from the repository root (or PYTHONPATH=python)
    from ebmtools import load_energy, read_metrics, read_results
    E = load_energy("runs/quickstart/checkpoint.safetensors"); E(x), E.grad(x), E.laplacian(x)

Needs NumPy; torch_energy (an nn.Module) also needs PyTorch.
"""

from .checkpoint import ACTIVATIONS, FORMAT, MlpEnergy, activation_derivatives, load_energy, read_safetensors
from .results import read_metrics, read_results
from .torch_energy import torch_energy

__all__ = ["ACTIVATIONS", "FORMAT", "MlpEnergy", "activation_derivatives", "load_energy", "read_safetensors",
           "read_metrics", "read_results", "torch_energy"]
