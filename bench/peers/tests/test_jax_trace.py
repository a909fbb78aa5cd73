"""The parts of jax_trace.py that need no jax: arguments, the no-jax exit, the budget skips, the CSV, and the forward
Laplacian's algebra run with numpy in place of jax.numpy (against finite differences of the energy).

  python3 -m unittest discover -s bench/peers/tests -v
"""

import csv
import importlib.util
import io
import os
import re
import sys
import tempfile
import unittest
from contextlib import redirect_stderr
from types import SimpleNamespace

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(ROOT, "bench", "peers"))  # the scripts import common_trace.py from beside them
spec = importlib.util.spec_from_file_location("jax_trace", os.path.join(ROOT, "bench", "peers", "jax_trace.py"))
jt = importlib.util.module_from_spec(spec)
spec.loader.exec_module(jt)


def args(**kw):
    base = dict(max_seconds=90.0, max_step_seconds=2.0, warmup=0.5, timing=1.0)
    base.update(kw)
    return SimpleNamespace(**base)


class Arguments(unittest.TestCase):
    def test_methods_and_defaults(self):
        a = jt.parse_args(["--out", "f.csv", "--methods", "exact,hutchinson-rademacher-4,sliced-2,denoising"])
        self.assertEqual([m for m, _ in a.methods], ["exact", "hutchinson-rademacher-4", "sliced-2", "denoising"])
        self.assertEqual(a.methods[1][1], ("hutchinson", 4, True))
        self.assertEqual(a.methods[2][1], ("sliced", 2, False))
        gpu = jt.resolve_grid(jt.parse_args(["--out", "f.csv"]), gpu=True)
        self.assertEqual((gpu.dims, gpu.hidden, gpu.precision), ([16, 64, 256, 1024, 4096], 512, ["fp32", "tf32"]))
        cpu = jt.resolve_grid(jt.parse_args(["--out", "f.csv"]), gpu=False)
        self.assertEqual((cpu.dims, cpu.hidden, cpu.precision), ([2, 8, 32, 128, 512], 128, ["fp64"]))

    def test_bad_values_name_the_option(self):
        for argv, word in ((["--methods", "hutchinson-0"], "--methods"), (["--batch", "0"], "--batch"),
                           (["--dims", "0,4"], "--dims")):
            with self.assertRaises(SystemExit) as e:
                jt.parse_args(["--out", "f.csv"] + argv)
            self.assertIn(word, str(e.exception.code))
        with self.assertRaises(SystemExit) as e:
            jt.resolve_grid(jt.parse_args(["--out", "f.csv", "--precision", "tf32"]), gpu=False)
        self.assertIn("--precision tf32", str(e.exception.code))

    def test_without_jax_exits_0_and_writes_nothing(self):
        saved = sys.modules.get("jax", "absent")
        sys.modules["jax"] = None  # makes `import jax` raise ImportError
        try:
            with tempfile.TemporaryDirectory() as d, redirect_stderr(io.StringIO()) as err:
                out = os.path.join(d, "jax_trace.csv")
                self.assertEqual(jt.main(["--max-seconds", "90", "--out", out]), 0)
                self.assertFalse(os.path.exists(out))
            self.assertIn("skipped: jax is not importable", err.getvalue())
        finally:
            if saved == "absent":
                del sys.modules["jax"]
            else:
                sys.modules["jax"] = saved


class Budget(unittest.TestCase):
    def test_forecast_scales_from_a_smaller_d_only(self):
        self.assertIsNone(jt.forecast(None, 64, 1))
        self.assertIsNone(jt.forecast((64, 10.0, 1.0), 64, 1))
        step_s, compile_s = jt.forecast((1024, 600.0, 3.0), 4096, jt.cost_degree("jit-forward-laplacian"))
        self.assertAlmostEqual(step_s, 2.4)
        self.assertEqual(compile_s, 3.0)
        step_s, _ = jt.forecast((1024, 100.0, 3.0), 4096, jt.cost_degree("jit-hessian-diag"))
        self.assertAlmostEqual(step_s, 1.6)
        self.assertEqual(jt.cost_degree("jit"), 1)

    def test_skip_reasons(self):
        a = args()
        self.assertIsNone(jt.budget_skip(a, 0.0, 90.0, None))
        self.assertIn("--max-seconds", jt.budget_skip(a, 91.0, 90.0, None))
        self.assertIn("--max-step-seconds", jt.budget_skip(a, 0.0, 90.0, jt.forecast((1024, 600.0, 3.0), 4096, 1)))
        # 0.1 s steps, 5 s compile: 5 + 3 × 0.1 + 0.5 warm-up + 1.0 timing = 6.8 s for the row
        self.assertIsNone(jt.budget_skip(a, 83.0, 90.0, (0.1, 5.0)))
        self.assertIn("6.8 s for the row", jt.budget_skip(a, 83.5, 90.0, (0.1, 5.0)))
        # 1.5 s steps: the timing runs its 3 steps whatever --timing says
        self.assertIn("14.5 s for the row", jt.budget_skip(a, 80.0, 90.0, (1.5, 5.0)))
        self.assertIsNone(jt.budget_skip(args(max_seconds=float("inf")), 1e6, float("inf"), (0.1, 5.0)))


class Csv(unittest.TestCase):
    def test_rows_carry_the_columns_the_peer_table_reads(self):
        java = open(os.path.join(ROOT, "src", "main", "java", "ebm", "bench", "TracePeers.java")).read()
        required = re.findall(r'"([a-z_A-Z]+)"', re.search(r"REQUIRED = List\.of\((.*?)\);", java, re.S).group(1))
        self.assertIn("ms_per_step", required)
        self.assertTrue(set(required + ["peak_bytes", "skipped"]) <= set(jt.COLUMNS))
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "jax_trace.csv")
            w = jt.RowWriter(path)
            row = {c: "" for c in jt.COLUMNS}
            row.update(method="exact", D=16, variant="jit-forward-laplacian", device="cuda", precision="fp32",
                       check="a, b", skipped="")
            with redirect_stderr(io.StringIO()), open(os.devnull, "w") as null:
                stdout, sys.stdout = sys.stdout, null
                try:
                    w.write(row)
                    w.write(dict(row, skipped="XlaRuntimeError: RESOURCE_EXHAUSTED: 2, 3"))
                finally:
                    sys.stdout = stdout
            w.close()
            with open(path) as f:
                lines = f.read().splitlines()
        self.assertEqual(lines[0].split(","), jt.COLUMNS)
        for line in lines[1:]:  # the Java reader splits on every comma
            self.assertEqual(len(line.split(",")), len(jt.COLUMNS))
        rows = list(csv.DictReader(lines))
        self.assertEqual(rows[0]["check"], "a; b")
        self.assertEqual(rows[1]["skipped"], "XlaRuntimeError: RESOURCE_EXHAUSTED: 2; 3")

    def test_error_text_is_one_short_line(self):
        text = jt.error_text(RuntimeError("first line\nsecond " + "x" * 500))
        self.assertEqual(text, "RuntimeError: first line")
        self.assertEqual(len(jt.error_text(RuntimeError("y" * 1000))), 300)


class ForwardLaplacian(unittest.TestCase):
    """energy and forward_laplacian use only names numpy shares with jax.numpy."""

    def setUp(self):
        self.saved, jt.jnp = jt.jnp, np

    def tearDown(self):
        jt.jnp = self.saved

    def test_matches_finite_differences(self):
        rng = np.random.default_rng(3)
        d, h, layers, b = 5, 7, 3, 4
        widths = [d] + [h] * layers + [1]
        params = [(rng.normal(0, 0.8, (i, o)), rng.normal(0, 0.3, o)) for i, o in zip(widths, widths[1:])]
        x = rng.normal(size=(b, d))
        lap, grad = jt.forward_laplacian(params, x)
        step = 3e-4  # the second difference's error: truncation ~step² above, rounding ~1/step² below
        fd_grad = np.zeros((b, d))
        fd_lap = np.zeros(b)
        e0 = jt.energy(params, x)
        for j in range(d):
            e = np.zeros(d)
            e[j] = step
            ep, em = jt.energy(params, x + e), jt.energy(params, x - e)
            fd_grad[:, j] = (ep - em) / (2 * step)
            fd_lap += (ep - 2 * e0 + em) / step ** 2
        print(f"\nforward Laplacian vs central differences (D={d}, H={h}, L={layers}, B={b}): "
              f"max |ΔE diff| {np.abs(lap - fd_lap).max():.1e}, max |∇E diff| {np.abs(grad - fd_grad).max():.1e}")
        np.testing.assert_allclose(grad, fd_grad, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(lap, fd_lap, rtol=1e-5, atol=1e-5)
        self.assertGreater(np.abs(lap).min(), 1e-3)  # a nonzero Laplacian: the comparison says something


if __name__ == "__main__":
    unittest.main()
