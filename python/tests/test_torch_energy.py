"""ebmtools.torch_energy against the NumPy energy (skipped without torch), and its error without torch.

  python3 -m unittest discover -s python/tests -v
"""

import importlib.util
import os
import sys
import unittest
from unittest import mock

import numpy as np

from helpers import FIXTURE_NAMES, FIXTURES, relative_error
import ebmtools

HAVE_TORCH = importlib.util.find_spec("torch") is not None


def fixture(name):
    base = os.path.join(FIXTURES, name)
    return ebmtools.load_energy(base + ".safetensors"), np.load(base + "-points.npy")


@unittest.skipUnless(HAVE_TORCH, "torch is not importable here")
class AgainstNumpy(unittest.TestCase):
    def test_float64_energy_gradient_and_laplacian_by_autograd(self):
        import torch
        print(f"\n  torch {torch.__version__}")
        for name in FIXTURE_NAMES:
            energy, x = fixture(name)
            module = energy.to_torch()
            self.assertTrue(all(p.dtype == torch.float64 for p in module.parameters()))
            xt = torch.tensor(x, requires_grad=True)
            e = module(xt)
            (g,) = torch.autograd.grad(e.sum(), xt, create_graph=True)
            lap = sum(torch.autograd.grad(g[:, d].sum(), xt, retain_graph=True)[0][:, d] for d in range(x.shape[1]))
            v = energy.evaluate(x)
            for label, got, want, tol in [("E", e, v["energy"], 1e-13), ("grad", g, v["grad"], 1e-13),
                                          ("laplacian", lap, v["laplacian"], 1e-12)]:
                err, worst = relative_error(got.detach().numpy(), want)
                print(f"  {name:<13} float64 {label:<10} rel.err {err:.2e} (< {tol:.0e})  {worst}")
                self.assertLess(err, tol, f"{name} {label}")

    def test_float32(self):
        import torch
        print()
        for name in FIXTURE_NAMES:
            energy, x = fixture(name)
            module = ebmtools.torch_energy(os.path.join(FIXTURES, name + ".safetensors"), dtype=torch.float32)
            self.assertTrue(all(p.dtype == torch.float32 for p in module.parameters()))
            xt = torch.tensor(x, dtype=torch.float32, requires_grad=True)
            e = module(xt)
            (g,) = torch.autograd.grad(e.sum(), xt)
            for label, got, want in [("E", e, energy(x)), ("grad", g, energy.grad(x))]:
                err, worst = relative_error(got.detach().numpy(), want)
                print(f"  {name:<13} float32 {label:<10} rel.err {err:.2e} (< 1e-5)  {worst}")
                self.assertLess(err, 1e-5, f"{name} {label}")

    def test_parameters_get_gradients_and_shapes_follow_the_points(self):
        import torch
        energy, x = fixture("gelu-f32")
        module = energy.to_torch()
        module(torch.tensor(x)).sum().backward()
        names = [n for n, _ in module.named_parameters()]
        print(f"\n  parameters: {', '.join(names)}")
        self.assertEqual(len(names), 2 * len(energy.hidden) + 2)
        self.assertTrue(all(p.grad is not None and torch.isfinite(p.grad).all() for p in module.parameters()))
        # d(sum E)/dc is the number of points
        self.assertEqual(module.out_bias.grad.item(), len(x))
        self.assertEqual(module(torch.tensor(x).reshape(2, 3, 4)).shape, (2, 3))
        self.assertEqual(module(torch.tensor(x[0])).shape, ())
        with self.assertRaises(ValueError):
            module(torch.zeros(2, 5, dtype=torch.float64))
        with self.assertRaises(ValueError) as c:
            energy.to_torch(dtype=torch.int32)
        self.assertIn("torch.float64 or torch.float32", str(c.exception))

    def test_the_module_owns_its_parameters(self):
        import torch
        energy, x = fixture("tanh-f64")
        before = energy(x)
        module = energy.to_torch()
        with torch.no_grad():
            for p in module.parameters():
                p.add_(1.0)
        np.testing.assert_array_equal(energy(x), before)


class WithoutTorch(unittest.TestCase):
    def test_a_clear_error_naming_torch(self):
        energy, _ = fixture("softplus-f64")
        with mock.patch.dict(sys.modules, {"torch": None}):  # import torch now raises ImportError
            with self.assertRaises(ImportError) as c:
                ebmtools.torch_energy(energy)
            with self.assertRaises(ImportError):
                energy.to_torch()
        print(f"\n  {c.exception}")
        self.assertIn("torch_energy needs PyTorch", str(c.exception))
        self.assertIn("load_energy", str(c.exception))


if __name__ == "__main__":
    unittest.main()
