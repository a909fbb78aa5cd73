"""numpy_dgemm.py and blas.py: the shape syntax, the transposes passed to dgemm, the refusal of the reference BLAS.

  python3 -m unittest discover -s bench/peers/tests -v
"""

import os
import sys
import unittest
from unittest import mock

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import blas  # noqa: E402

try:
    import numpy as np
    import numpy_dgemm as nd
except ImportError:  # the Java test runs these with any python3; without NumPy only blas.py is tested
    nd = None


class Blas(unittest.TestCase):
    def test_optimised_libraries_are_told_from_the_reference_one(self):
        for label, want in (("openblas 0.3.21 pthreads Cooperlake", True), ("mkl 2023", True),
                            ("reference blas /usr/lib/x86_64-linux-gnu/blas/libblas.so.3", False)):
            print(f"{label!r}: optimised {blas.is_optimised(label)}")
            self.assertEqual(blas.is_optimised(label), want)

    def test_the_reference_blas_is_refused_unless_allowed(self):
        ref = "reference blas /usr/lib/libblas.so.3"
        with mock.patch.object(blas, "blas_in_use", return_value=ref):
            with self.assertRaises(SystemExit) as stop:
                blas.checked_blas(False)
            print("refusal:", stop.exception)
            self.assertIn("not an optimised one", str(stop.exception))
            self.assertIn("--allow-reference-blas", str(stop.exception))
            self.assertEqual(blas.checked_blas(True), ref)


@unittest.skipIf(nd is None, "NumPy not installed")
class Shapes(unittest.TestCase):
    def test_shapes_parse_with_their_transposes(self):
        self.assertEqual(nd.parse_shape("16384x256x256:NT"), (16384, 256, 256, "NT"))
        self.assertEqual(nd.parse_shape("1024x1024x1024"), (1024, 1024, 1024, "NN"))
        for bad in ("16x16", "0x4x4", "4x4x4:TT", "axbxc"):
            with self.assertRaises(SystemExit):
                nd.parse_shape(bad)

    def test_operands_are_views_whose_product_is_m_by_n(self):
        rng = np.random.default_rng(0)
        for trans in ("NN", "NT", "TN"):
            a, b = nd.operands(5, 3, 7, trans, rng)
            self.assertEqual((a @ b).shape, (5, 3))
            # a transposed operand is a view of a contiguous array: dgemm gets a flag, not a copy
            self.assertEqual(a.base is not None, trans == "TN")
            self.assertEqual(b.base is not None, trans == "NT")

    def test_a_rate_is_measured(self):
        g = nd.rate(16, 16, 16, "TN", 0.01)
        print(f"16x16x16:TN {g:.3f} GFLOP/s")
        self.assertGreater(g, 0)


if __name__ == "__main__":
    unittest.main()
