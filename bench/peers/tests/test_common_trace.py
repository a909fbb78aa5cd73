"""common_trace.py, the part torch_trace.py and jax_trace.py share: the row skeleton and the timing loop.

  python3 -m unittest discover -s bench/peers/tests -v
"""

import argparse
import os
import sys
import unittest
from types import SimpleNamespace

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import common_trace as ct  # noqa: E402  (after the path to bench/peers)


class Rows(unittest.TestCase):
    def test_a_new_row_has_every_column_once_the_identity_is_given(self):
        row = ct.new_row(method="exact", D=2, H=8, layers=1, batch=4, backend="b", variant="v", device="cpu",
                         precision="fp64", check="")
        self.assertEqual(sorted(row), sorted(ct.COLUMNS))
        self.assertEqual((row["ms_per_step"], row["reps"], row["skipped"]), ("", 0, ""))


class Grid(unittest.TestCase):
    def test_defaults_by_device(self):
        ap = argparse.ArgumentParser()
        ct.add_grid_args(ap)
        ct.add_timing_args(ap, "budget")
        cpu = ct.resolve_grid(ap.parse_args([]), gpu=False)
        self.assertEqual((cpu.dims, cpu.hidden, cpu.precision, cpu.layers), ([2, 8, 32, 128, 512], 128, ["fp64"], 3))
        with self.assertRaises(SystemExit):
            ct.resolve_grid(ap.parse_args(["--precision", "tf32"]), gpu=False)


class Measure(unittest.TestCase):
    def test_median_of_the_timed_steps_after_the_warmup(self):
        times = iter([5.0, 4.0] + [1.0, 3.0, 2.0])
        synced = []
        args = SimpleNamespace(max_step_seconds=2.0, warmup=0.0, timing=0.0)
        got = ct.measure(args, lambda: next(times), lambda: (7, "kind"), lambda: "out", synced.append)
        self.assertEqual(got, (2.0, 3, 7, "kind"))
        self.assertEqual(synced, [None])  # no warm-up step ran, so nothing to wait on but the queue

    def test_a_slow_step_skips_the_row(self):
        args = SimpleNamespace(max_step_seconds=0.001, warmup=0.0, timing=0.0)
        with self.assertRaises(ct.Skip) as e:
            ct.measure(args, lambda: 5.0, lambda: (0, ""), lambda: None, lambda _: None)
        self.assertIn("--max-step-seconds", str(e.exception))


if __name__ == "__main__":
    unittest.main()
