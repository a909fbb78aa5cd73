"""ebmtools.load_energy: E, grad_x E, the Hessian diagonal and Laplacian against `ebm eval` and the repository's
eval fixtures (bench/fixtures/make_eval_fixtures.sh), against finite differences, and each load error.

  python3 -m unittest discover -s python/tests -v
"""

import os
import tempfile
import unittest

import numpy as np

from helpers import (EVAL_DIR, FIXTURE_NAMES, FIXTURES, metadata, random_tensors, relative_error,
                     write_safetensors)
import ebmtools
from ebmtools import checkpoint

# Every value here is computed in float64: F32 checkpoints are widened exactly on load, by this module, by
# `ebm eval` and by the fixtures' reference alike, so the F32 cases are held to the F64 bound too (an fp32
# tolerance such as 1e-6 would let a computation that slipped into float32 pass).
TOLERANCE = {"F64": 1e-10, "F32": 1e-10}


def compare_columns(case, label, energy, points, want):
    """Checks energy.eval_columns(points) against want (N, 2+2D, the `ebm eval` layout), printing each column."""
    d = energy.input_dim
    got = energy.eval_columns(points)
    case.assertEqual(got.shape, want.shape)
    tol = TOLERANCE[energy.dtype]
    columns = {"E": (0, 1), "laplacian": (1, 2), "grad": (2, 2 + d), "hessian_diag": (2 + d, 2 + 2 * d)}
    for column, (a, b) in columns.items():
        err, worst = relative_error(got[:, a:b], want[:, a:b])
        print(f"  {label:<28} {energy.dtype} {column:<12} rel.err {err:.2e} (< {tol:.0e})  {worst}")
        case.assertLess(err, tol, f"{label} {column}")
    # The single-purpose methods agree with the table (grad by its own reverse sweep).
    err, _ = relative_error(energy.grad(points), want[:, 2:2 + d])
    case.assertLess(err, tol, f"{label} grad (reverse sweep)")
    np.testing.assert_array_equal(energy(points), energy.energy(points))
    np.testing.assert_allclose(energy.laplacian(points), got[:, 1], rtol=0, atol=0)


class AgainstEbmEval(unittest.TestCase):
    def test_the_repository_fixtures(self):
        """The fixtures' expected values, which EvalCommandTest holds `ebm eval` to within 1e-11."""
        print()
        for name in FIXTURE_NAMES:
            base = os.path.join(FIXTURES, name)
            energy = ebmtools.load_energy(base + ".safetensors")
            self.assertEqual(energy.dtype, name[-3:].upper())
            compare_columns(self, name + " (fixture)", energy, np.load(base + "-points.npy"),
                            np.load(base + "-expected.npy"))

    @unittest.skipUnless(EVAL_DIR, "EBM_EVAL_DIR not set: ebm.scripts.PythonToolsTest sets it to what `ebm eval` "
                                   "wrote for these checkpoints")
    def test_what_ebm_eval_wrote(self):
        """Fresh `ebm eval` output, on the fixtures and on a checkpoint `ebm train` wrote."""
        print()
        names = sorted(f[:-len("-ebm-eval.npy")] for f in os.listdir(EVAL_DIR) if f.endswith("-ebm-eval.npy"))
        self.assertGreaterEqual(len(names), len(FIXTURE_NAMES) + 1, names)
        for name in names:
            base = os.path.join(EVAL_DIR, name)
            compare_columns(self, name + " (ebm eval)", ebmtools.load_energy(base + ".safetensors"),
                            np.load(base + "-points.npy"), np.load(base + "-ebm-eval.npy"))


class AgainstFiniteDifferences(unittest.TestCase):
    """On random nets of every activation (seed fixed: the step and tolerances were set on it)."""

    def test_gradient_and_hessian_diagonal(self):
        seed = 20240611
        print(f"\n  seed={seed} (fixed)")
        rng = np.random.default_rng(seed)
        with tempfile.TemporaryDirectory() as tmp:
            for activation in ebmtools.ACTIVATIONS:
                widths = [3, 7, 5]
                path = write_safetensors(os.path.join(tmp, activation + ".safetensors"), random_tensors(rng, widths),
                                         metadata(activation))
                energy = ebmtools.load_energy(path)
                x = rng.standard_normal((4, 3))
                h = 1e-4
                fd_grad = np.stack([(energy(x + h * e) - energy(x - h * e)) / (2 * h) for e in np.eye(3)], axis=1)
                fd_diag = np.stack([(energy(x + h * e) - 2 * energy(x) + energy(x - h * e)) / h ** 2
                                    for e in np.eye(3)], axis=1)
                v = energy.evaluate(x)
                g_err, _ = relative_error(v["grad"], fd_grad)
                d_err, _ = relative_error(v["hessian_diag"], fd_diag)
                print(f"  {activation:<10} grad vs central differences {g_err:.1e} (< 1e-7), "
                      f"Hessian diagonal {d_err:.1e} (< 1e-5)")
                self.assertLess(g_err, 1e-7)
                self.assertLess(d_err, 1e-5)
                np.testing.assert_allclose(v["grad"], energy.grad(x), rtol=1e-12, atol=1e-14)
                np.testing.assert_allclose(v["laplacian"], v["hessian_diag"].sum(axis=1), rtol=1e-14, atol=1e-14)

    def test_activation_derivatives(self):
        z = np.linspace(-6, 6, 41)
        h = 1e-5
        for name in ebmtools.ACTIVATIONS:
            s, d1, d2 = checkpoint.activation_derivatives(name, z)
            up, down = checkpoint.activation_derivatives(name, z + h), checkpoint.activation_derivatives(name, z - h)
            np.testing.assert_allclose(d1, (up[0] - down[0]) / (2 * h), rtol=1e-8, atol=1e-9, err_msg=name)
            np.testing.assert_allclose(d2, (up[1] - down[1]) / (2 * h), rtol=1e-8, atol=1e-9, err_msg=name)
        print(f"\n  sigma' and sigma'' of {', '.join(ebmtools.ACTIVATIONS)} match central differences on [-6, 6]")


class Shapes(unittest.TestCase):
    def setUp(self):
        self.energy = ebmtools.load_energy(os.path.join(FIXTURES, "softplus-f64.safetensors"))
        self.x = np.load(os.path.join(FIXTURES, "softplus-f64-points.npy"))

    def test_leading_dimensions_and_a_single_point(self):
        e = self.energy
        grid = self.x[:6].reshape(2, 3, 3)
        self.assertEqual(e(grid).shape, (2, 3))
        self.assertEqual(e.grad(grid).shape, (2, 3, 3))
        self.assertEqual(e.hessian_diag(grid).shape, (2, 3, 3))
        self.assertEqual(e.laplacian(grid).shape, (2, 3))
        np.testing.assert_array_equal(e(grid).ravel(), e(self.x[:6]))
        self.assertEqual(np.shape(e(self.x[0])), ())
        self.assertEqual(e.grad(self.x[0]).shape, (3,))
        self.assertEqual(e.evaluate(np.zeros((0, 3)))["laplacian"].shape, (0,))
        np.testing.assert_array_equal(e.score(self.x), -e.grad(self.x))

    def test_points_in_chunks_give_the_same_values(self):
        saved = checkpoint._CHUNK_ELEMENTS
        try:
            checkpoint._CHUNK_ELEMENTS = 1  # one point at a time
            chunked = self.energy.eval_columns(self.x)
        finally:
            checkpoint._CHUNK_ELEMENTS = saved
        # BLAS may round a product of one row differently from the same row in a block
        np.testing.assert_allclose(chunked, self.energy.eval_columns(self.x), rtol=1e-14, atol=1e-15)

    def test_points_of_the_wrong_width(self):
        with self.assertRaises(ValueError) as c:
            self.energy(np.zeros((2, 5)))
        print(f"\n  {c.exception}")
        self.assertIn("5 columns", str(c.exception))
        self.assertIn("expects D = 3", str(c.exception))
        self.assertIn("softplus-f64.safetensors", str(c.exception))


class LoadErrors(unittest.TestCase):
    """Each problem is one ValueError line naming the file and what is wrong."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.rng = np.random.default_rng(7)
        self.good = random_tensors(self.rng, [3, 4, 2])

    def tearDown(self):
        self.tmp.cleanup()

    def fails(self, tensors=None, meta=None, dtype="F64", header_edit=None, raw=None, *, contains):
        path = os.path.join(self.tmp.name, "bad.safetensors")
        if raw is not None:
            with open(path, "wb") as f:
                f.write(raw)
        else:
            write_safetensors(path, self.good if tensors is None else tensors, metadata() if meta is None else meta,
                              dtype, header_edit)
        with self.assertRaises(ValueError) as c:
            ebmtools.load_energy(path)
        message = str(c.exception)
        print(f"  {message}")
        self.assertEqual(len(message.splitlines()), 1, message)
        self.assertIn(path, message)
        for part in contains if isinstance(contains, (list, tuple)) else [contains]:
            self.assertIn(part, message)

    def without(self, name):
        return {k: v for k, v in self.good.items() if k != name}

    def replaced(self, name, value):
        return {**self.good, name: value}

    def test_each_error(self):
        print()
        # wrong format
        self.fails(meta={"format": "pt-state-dict", "activation": "tanh"}, contains=["'pt-state-dict'", "ebm-mlp-v1"])
        self.fails(meta={"activation": "tanh"}, contains="no 'format' key")
        self.fails(raw=b"not a safetensors file at all", contains="not safetensors")
        self.fails(raw=b"\x01\x02", contains="too short")
        self.fails(raw=(12).to_bytes(8, "little") + b"{not json!!}", contains="header is not JSON")
        # unknown or missing activation
        self.fails(meta=metadata("relu"), contains=["'relu'", "softplus, silu, tanh, gelu_tanh"])
        self.fails(meta={"format": "ebm-mlp-v1"}, contains="no 'activation' key")
        # missing tensors
        self.fails(self.without("out.bias"), contains="missing tensor out.bias")
        self.fails(self.without("hidden.1.bias"), contains="missing tensor hidden.1.bias")
        self.fails({k: v for k, v in self.good.items() if k.startswith("out")}, contains="missing tensor hidden.0.weight")
        self.fails({k: v for k, v in self.good.items() if not k.startswith("hidden.0")}, contains="gap in layer numbering")
        # mismatched shapes
        self.fails(self.replaced("hidden.1.weight", np.ones((2, 5))), contains=["hidden.1.weight", "[2, 5]", "[H_2, 4]"])
        self.fails(self.replaced("hidden.0.bias", np.ones(3)), contains=["hidden.0.bias", "[3]", "expected [4]"])
        self.fails(self.replaced("out.weight", np.ones((1, 4))), contains=["out.weight", "[1, 4]", "expected [1, 2]"])
        self.fails(self.replaced("out.bias", np.ones(2)), contains=["out.bias", "expected [1]"])
        self.fails(self.replaced("hidden.0.weight", np.ones(12)), contains=["hidden.0.weight", "[12]"])
        self.fails(meta=metadata(hidden="4,3"), contains=["hidden=4,3", "which give 4,2"])
        self.fails(meta=metadata(input_dim="5"), contains=["input_dim=5", "which give 3"])
        self.fails({**self.good, "extra": np.ones(1)}, contains="unexpected tensors extra")
        # what the header says about the bytes
        self.fails(dtype="F16", contains="dtype F16, which is not supported")
        self.fails(header_edit=lambda h: h["out.bias"].update(data_offsets=[0, 4]), contains=["out.bias", "span 4 bytes"])
        self.fails(header_edit=lambda h: h["out.bias"].update(data_offsets=[0, 10 ** 6]), contains="data buffer")
        self.fails(self.replaced("out.bias", np.array([np.nan])), contains="non-finite value (nan)")

    def test_a_missing_file(self):
        path = os.path.join(self.tmp.name, "absent.safetensors")
        with self.assertRaises(FileNotFoundError) as c:
            ebmtools.load_energy(path)
        print(f"\n  {c.exception}")
        self.assertIn(path, str(c.exception))

    def test_read_safetensors_keeps_dtype_shapes_and_metadata(self):
        path = write_safetensors(os.path.join(self.tmp.name, "ok.safetensors"), self.good, metadata(hidden="4,2"),
                                 "F32")
        tensors, meta = ebmtools.read_safetensors(path)
        self.assertEqual(meta, metadata(hidden="4,2"))
        self.assertEqual({k: v.shape for k, v in tensors.items()}, {k: v.shape for k, v in self.good.items()})
        for k, v in tensors.items():
            self.assertEqual(v.dtype, np.float64)
            np.testing.assert_array_equal(v, self.good[k].astype(np.float32).astype(np.float64))
        self.assertEqual(ebmtools.load_energy(path).dtype, "F32")


if __name__ == "__main__":
    unittest.main()
