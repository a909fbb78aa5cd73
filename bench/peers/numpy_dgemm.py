#!/usr/bin/env python3
"""The machine's fp64 GEMM limit for the CPU benchmarks: NumPy's dgemm (OpenBLAS on Debian) at 1024³ and at the
GEMM shapes a training step issues, with 1 and all threads; `ebm bench step --limit FILE` puts each step's share of
it beside the share of ebm's own GEMM measured in the same run.

Shapes are MxNxK[:TRANS] with TRANS in NN (C = A·B), NT (C = A·Bᵀ), TN (C = Aᵀ·B); NumPy passes the transposes to
dgemm as flags (no copies). Each rate is the best of the medians of several timed batches, GFLOP/s = 2mnk / time.

  /usr/bin/python3 bench/peers/numpy_dgemm.py --shapes 1024x1024x1024,16384x256x256:NT --out OUT/dgemm.csv
"""

import argparse
import os
import statistics
import sys
import time

import numpy as np

from blas import checked_blas, limit_threads
from common_trace import ints, write_csv

COLUMNS = ["m", "n", "k", "trans", "threads", "gflops", "blas"]


def parse_shape(text):
    dims, _, trans = text.partition(":")
    parts = dims.split("x")
    trans = trans or "NN"
    if len(parts) != 3 or not all(p.isdigit() and int(p) > 0 for p in parts) or trans not in ("NN", "NT", "TN"):
        raise SystemExit(f"--shapes: '{text}' is not MxNxK[:NN|NT|TN] with positive sizes")
    return int(parts[0]), int(parts[1]), int(parts[2]), trans


def operands(m, n, k, trans, rng):
    a = rng.standard_normal((k, m) if trans == "TN" else (m, k))
    b = rng.standard_normal((n, k) if trans == "NT" else (k, n))
    return (a.T if trans == "TN" else a), (b.T if trans == "NT" else b)


def rate(m, n, k, trans, seconds):
    rng = np.random.default_rng(7)
    a, b = operands(m, n, k, trans, rng)
    c = np.empty((m, n))
    np.matmul(a, b, out=c)
    ref = a[:4] @ b  # the first rows against a second call: a dgemm that returns garbage is not a rate
    if not np.allclose(c[:4], ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max()):
        raise SystemExit(f"dgemm {m}x{n}x{k}:{trans} disagrees with itself")
    t0 = time.perf_counter()
    np.matmul(a, b, out=c)
    once = time.perf_counter() - t0
    calls = max(1, int(0.05 / max(once, 1e-7)))  # ~50 ms per sample, so tiny products are not clock-bound
    samples = []
    end = time.perf_counter() + seconds
    while len(samples) < 5 or (time.perf_counter() < end and len(samples) < 40):
        t0 = time.perf_counter()
        for _ in range(calls):
            np.matmul(a, b, out=c)
        samples.append((time.perf_counter() - t0) / calls)
    return 2.0 * m * n * k / statistics.median(samples) / 1e9


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shapes", default="1024x1024x1024", help="comma list of MxNxK[:NN|NT|TN]")
    ap.add_argument("--threads", type=ints, help="thread counts (default: 1 and all cores)")
    ap.add_argument("--seconds", type=float, default=1.0, help="timing per shape and thread count")
    ap.add_argument("--allow-reference-blas", action="store_true")
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    shapes = [parse_shape(s) for s in args.shapes.split(",") if s]
    threads = args.threads or sorted({1, os.cpu_count()})
    blas = checked_blas(args.allow_reference_blas)
    print(f"numpy {np.__version__}, BLAS {blas}, threads {threads}", file=sys.stderr)
    rows = []
    for m, n, k, trans in shapes:
        for t in threads:
            with limit_threads(t):
                g = rate(m, n, k, trans, args.seconds)
            rows.append({"m": m, "n": n, "k": k, "trans": trans, "threads": t, "gflops": f"{g:.2f}", "blas": blas})
            print(",".join(str(rows[-1][c]) for c in COLUMNS), flush=True)
    write_csv(args.out, COLUMNS, rows)


if __name__ == "__main__":
    main(sys.argv[1:])
