"""ebmtools.read_metrics and read_results: small files written here, and a tiny sweep `ebm sweep` ran.

  python3 -m unittest discover -s python/tests -v
"""

import os
import tempfile
import unittest

import numpy as np

from helpers import SWEEP_DIR
import ebmtools

METRICS = "\n".join([
    '{"step":1,"loss":0.5,"grad_norm":2.0,"lr":0.001,"seconds":0.01}',
    '{"step":2,"loss":0.25,"grad_norm":1.5,"lr":0.002,"seconds":0.02,"val_loss":0.3,"fisher_divergence":null}',
    '',
    '{"step":3,"loss":"NaN","grad_norm":"Infinity","lr":0.003,"seconds":0.03,"muon_orthogonality_error":1e-3}',
    '{"step":4,"loss":0.125,"grad_norm":1.0,"lr":0.004,"seconds":0.04,"val_loss":0.2,"fisher_divergence":0.7}',
    '{"step":5,"loss":0.1,"grad_n',  # a run killed mid-write leaves its last line unfinished
])

RESULTS = (
    "index,name,objective,optimizer,optimizer.lr,seed,status,steps_done,fisher_divergence_final,val_loss_final,"
    "steps_to_threshold,shared_cpu,message\n"
    "0,exact_sgd_lr0.01_seed0,exact,sgd,0.01,0,finished,20,1.25,-0.5,15,false,\n"
    "1,1,exact,sgd,1e12,0,diverged,3,,,,true,\"non-finite loss at step 3, last good checkpoint at step 0\"\n"
    "2,exact_adamw_lr0.01_seed0,exact,adamw,0.01,0,finished,20,NaN,Infinity,,false,\"say \"\"hi\"\"\"\n"
)


class Metrics(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.tmp.name, "metrics.jsonl")
        with open(self.path, "w") as f:
            f.write(METRICS)

    def tearDown(self):
        self.tmp.cleanup()

    def test_columns_are_aligned_by_step_with_nan_where_missing(self):
        m = ebmtools.read_metrics(self.tmp.name)  # the run folder, or the file itself
        for k, v in m.items():
            print(f"\n  {k:<24} {v.dtype} {v}", end="")
        print()
        self.assertEqual(list(m), ["step", "loss", "grad_norm", "lr", "seconds", "val_loss", "fisher_divergence",
                                   "muon_orthogonality_error"])
        self.assertEqual(m["step"].dtype, np.int64)
        np.testing.assert_array_equal(m["step"], [1, 2, 3, 4])
        np.testing.assert_array_equal(m["loss"], [0.5, 0.25, np.nan, 0.125])
        np.testing.assert_array_equal(m["grad_norm"], [2.0, 1.5, np.inf, 1.0])
        np.testing.assert_array_equal(m["val_loss"], [np.nan, 0.3, np.nan, 0.2])
        np.testing.assert_array_equal(m["fisher_divergence"], [np.nan, np.nan, np.nan, 0.7])
        np.testing.assert_array_equal(m["muon_orthogonality_error"], [np.nan, np.nan, 1e-3, np.nan])
        for v in m.values():
            self.assertEqual(v.shape, (4,))
        np.testing.assert_array_equal(ebmtools.read_metrics(self.path)["lr"], m["lr"])

    def test_a_broken_line_before_the_last_is_an_error(self):
        with open(self.path, "w") as f:
            f.write('{"step":1,"loss":0.5}\n{"step":2,"lo\n{"step":3,"loss":0.5}\n')
        with self.assertRaises(ValueError) as c:
            ebmtools.read_metrics(self.path)
        print(f"\n  {c.exception}")
        self.assertIn(self.path, str(c.exception))
        self.assertIn("line 2 is not JSON", str(c.exception))

    def test_text_values_make_a_text_column(self):
        with open(self.path, "w") as f:
            f.write('{"step":1,"note":"warm"}\n{"step":2}\n')
        m = ebmtools.read_metrics(self.path)
        self.assertEqual(m["note"].tolist(), ["warm", ""])


class Results(unittest.TestCase):
    def test_numeric_columns_are_floats_and_the_rest_strings(self):
        with tempfile.TemporaryDirectory() as tmp:
            with open(os.path.join(tmp, "results.csv"), "w") as f:
                f.write(RESULTS)
            r = ebmtools.read_results(tmp)
        for k, v in r.items():
            print(f"\n  {k:<24} {v.dtype} {v.tolist()}", end="")
        print()
        for k in ["index", "optimizer.lr", "seed", "steps_done", "fisher_divergence_final", "val_loss_final",
                  "steps_to_threshold"]:
            self.assertEqual(r[k].dtype, np.float64, k)
        for k in ["name", "objective", "optimizer", "status", "shared_cpu", "message"]:
            self.assertEqual(r[k].dtype.kind, "U", k)
        np.testing.assert_array_equal(r["optimizer.lr"], [0.01, 1e12, 0.01])
        np.testing.assert_array_equal(r["fisher_divergence_final"], [1.25, np.nan, np.nan])
        np.testing.assert_array_equal(r["val_loss_final"], [-0.5, np.nan, np.inf])
        np.testing.assert_array_equal(r["steps_to_threshold"], [15, np.nan, np.nan])
        self.assertEqual(r["name"].tolist(), ["exact_sgd_lr0.01_seed0", "1", "exact_adamw_lr0.01_seed0"])
        self.assertEqual(r["message"].tolist(),
                         ["", "non-finite loss at step 3, last good checkpoint at step 0", 'say "hi"'])
        self.assertEqual(r["shared_cpu"].tolist(), ["false", "true", "false"])

    def test_a_ragged_row_is_an_error(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "results.csv")
            with open(path, "w") as f:
                f.write("a,b\n1,2\n3\n")
            with self.assertRaises(ValueError) as c:
                ebmtools.read_results(path)
        print(f"\n  {c.exception}")
        self.assertIn(path, str(c.exception))
        self.assertIn("row 3 has 1 cells, the header 2", str(c.exception))


@unittest.skipUnless(SWEEP_DIR, "EBM_SWEEP_DIR not set: ebm.scripts.PythonToolsTest sets it to a tiny sweep's folder")
class WhatEbmWrote(unittest.TestCase):
    def test_the_sweep_results_agree_with_each_run_s_metrics(self):
        r = ebmtools.read_results(SWEEP_DIR)
        print(f"\n  results.csv: {len(r['name'])} runs, columns {', '.join(r)}")
        self.assertGreaterEqual(len(r["name"]), 2)
        self.assertIn("diverged", r["status"].tolist())
        for i, name in enumerate(r["name"]):
            m = ebmtools.read_metrics(os.path.join(SWEEP_DIR, "runs", name))
            self.assertTrue(np.all(np.diff(m["step"]) > 0), name)
            lengths = {len(v) for v in m.values()}
            self.assertEqual(lengths, {len(m["step"])}, name)
            # a run that diverged before its first eval step has no eval columns at all
            nan = np.full(len(m["step"]), np.nan)
            evals = np.isfinite(m.get("fisher_divergence", nan))
            print(f"  {name:<24} {r['status'][i]:<9} {len(m['step'])} steps logged, last {m['step'][-1]}, "
                  f"{evals.sum()} eval steps; fisher_divergence_final {r['fisher_divergence_final'][i]:.6g}, "
                  f"last eval in metrics.jsonl {m.get('fisher_divergence', nan)[evals][-1] if evals.any() else np.nan:.6g}; "
                  f"{str(r['message'][i])!r}")
            if r["status"][i] == "finished":
                self.assertEqual(int(r["steps_done"][i]), m["step"][-1])
                self.assertTrue(np.all(np.isfinite(m["loss"])))
                self.assertGreater(evals.sum(), 0)
                self.assertTrue(np.all(np.isnan(m["val_loss"][~evals])), "eval-only keys are NaN elsewhere")
                self.assertEqual(r["fisher_divergence_final"][i], m["fisher_divergence"][evals][-1])
            else:
                self.assertIn("diverged", r["message"][i])
                self.assertLessEqual(m["step"][-1], int(r["train_steps"][i]))


if __name__ == "__main__":
    unittest.main()
