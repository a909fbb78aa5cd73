#!/usr/bin/env python3
"""Peer for `ebm bench kernels`: the same AdamW and Muon Newton–Schulz in PyTorch, with the same CSV columns.

  adamw     torch.optim.AdamW over one flat parameter of n, fused=True and foreach=True (one row each); bytes =
            7 values per parameter (reads g, p, m, v; writes p, m, v). Validated: the update after 2 steps against
            torch's single-tensor AdamW in float64 on the same inputs.
  muon-ns5  5 quintic Newton–Schulz steps on an n x n matrix as Muon implementations write them (normalise by the
            Frobenius norm, A = XXᵀ, X ← aX + (bA + cA²)X): bf16 tensors, or fp32 with TF32 on/off; FLOPs 30n³.
            Validated against the same iteration in float64 (ebm's row times the same iteration alone).
  limit-*   in the same run: a device copy (dst.copy_(src), 8 bytes per fp32 element) and a square matmul per precision.
Timing: median over repeats after warm-up; each repeat runs the operation k times (eager, as users run it) between
two CUDA events (or the host clock on the CPU), k for about a millisecond of work.

  python3 bench/peers/torch_kernels.py --out peer-torch-kernels.csv       # bench/gpu-check.sh's peers stage
  ./ebm bench kernels --backend cuda --peer peer-torch-kernels.csv
"""

import argparse
import csv
import statistics
import time

import torch

COLUMNS = ["family", "shape", "backend", "precision", "ms", "reps", "bytes", "flops", "achieved", "unit", "limit",
           "limit_name", "share_of_limit", "validation_error", "tolerance", "status", "validated_against"]
NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)
NS_TOLERANCE = {"fp32": 1e-3, "tf32": 2e-2, "bf16": 1e-1, "fp64": 1e-10}


def timer(device, op, warmup, repeats):
    """Median ms of op over repeats (each repeat k runs, k for ~1 ms) after warm-up; returns (ms, repeats)."""
    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    def run(k):
        if device.type == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            for _ in range(k):
                op()
            end.record()
            end.synchronize()
            return start.elapsed_time(end)
        t0 = time.perf_counter()
        for _ in range(k):
            op()
        sync()
        return (time.perf_counter() - t0) * 1e3

    first = run(1)
    k = max(1, min(64, int(1.0 / max(first, 1e-3)) + 1)) if device.type == "cuda" else 1
    for _ in range(warmup):
        run(k)
    return statistics.median(run(k) / k for _ in range(repeats)), repeats


def relative(got, want):
    return ((got.double() - want.double()).norm() / want.double().norm()).item()


def row(family, shape, backend, precision, ms, reps, nbytes, flops, limit, limit_name, error, tol, against):
    ok = error <= tol
    achieved = (nbytes if nbytes else flops) / ms / 1e6 if ok else float("nan")
    return {"family": family, "shape": shape, "backend": backend, "precision": precision,
            "ms": f"{ms:.6f}" if ok else "", "reps": reps if ok else 0, "bytes": nbytes, "flops": flops,
            "achieved": f"{achieved:.3f}" if ok else "", "unit": "GB/s" if nbytes else "GFLOP/s",
            "limit": f"{limit:.3f}" if limit == limit else "", "limit_name": limit_name,
            "share_of_limit": f"{achieved / limit:.4f}" if ok and limit == limit else "",
            "validation_error": f"{error:.3e}", "tolerance": f"{tol:.1e}", "status": "ok" if ok else "failed",
            "validated_against": against}


def set_tf32(on):
    torch.backends.cuda.matmul.allow_tf32 = on


def dtype_of(precision):
    return {"bf16": torch.bfloat16, "fp64": torch.float64}.get(precision, torch.float32)


def newton_schulz(g, steps, dtype):
    a, b, c = NS_COEFFICIENTS
    x = g.to(dtype)
    x = x / (x.norm() + 1e-7)
    for _ in range(steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * (gram @ gram)) @ x
    return x


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--sizes", type=lambda s: [int(v) for v in s.split(",")])
    p.add_argument("--ns-sizes", type=lambda s: [int(v) for v in s.split(",")])
    p.add_argument("--precisions", type=lambda s: s.split(","))
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--repeats", type=int, default=20)
    args = p.parse_args()
    dev = torch.device(args.device)
    gpu = dev.type == "cuda"
    sizes = args.sizes or ([1 << 20, 1 << 24, 1 << 28] if gpu else [1 << 20, 1 << 22, 1 << 24])
    ns_sizes = args.ns_sizes or ([1024, 4096, 8192] if gpu else [256, 512, 1024])
    precisions = args.precisions or (["fp32", "tf32", "bf16"] if gpu else ["fp64"])
    vector = torch.float32 if gpu else torch.float64
    vector_name = "fp32" if gpu else "fp64"
    rows, torch_name = [], f"torch{torch.__version__.split('+')[0]}"
    gen = torch.Generator(device=dev).manual_seed(1)

    # Limits: a copy, and a square matmul per precision.
    n = (1 << 26) if gpu else (1 << 25)
    src, dst = torch.randn(n, device=dev, dtype=vector, generator=gen), torch.empty(n, device=dev, dtype=vector)
    dst.copy_(src)
    ms, reps = timer(dev, lambda: dst.copy_(src), args.warmup, args.repeats)
    copy = row("limit-copy", f"n={n} copy_", torch_name, vector_name, ms, reps, 2 * src.element_size() * n, 0,
               float("nan"), "itself", relative(dst, src), 0.0, "the source")
    copy_limit = float(copy["achieved"] or "nan")
    copy["limit"], copy["share_of_limit"] = copy["achieved"], "1.0000" if copy["achieved"] else ""
    rows.append(copy)
    del src, dst
    gemm_limit = {}
    g_n = 8192 if gpu else 1024
    for prec in precisions:
        set_tf32(prec == "tf32")
        a = torch.randn(g_n, g_n, device=dev, generator=gen).to(dtype_of(prec))
        b = torch.randn(g_n, g_n, device=dev, generator=gen).to(dtype_of(prec))
        err = relative(a @ b, a.double() @ b.double())
        ms, reps = timer(dev, lambda: a @ b, args.warmup, args.repeats)
        r = row("limit-gemm", f"n={g_n}", torch_name, prec, ms, reps, 0, 2 * g_n ** 3, float("nan"), "itself", err,
                {"fp32": 1e-4, "tf32": 3e-3, "bf16": 1e-2, "fp64": 1e-12}[prec], "float64 matmul")
        gemm_limit[prec] = float(r["achieved"] or "nan")
        r["limit"], r["share_of_limit"] = r["achieved"], "1.0000" if r["achieved"] else ""
        rows.append(r)
        del a, b

    # AdamW over one flat parameter, fused and foreach.
    for n in sizes:
        p0 = torch.randn(n, device=dev, dtype=vector, generator=gen)
        grads = [0.1 * torch.randn(n, device=dev, dtype=vector, generator=gen) for _ in range(2)]
        ref = torch.nn.Parameter(p0.double().clone())
        ref_opt = torch.optim.AdamW([ref], lr=1e-3, weight_decay=0.01, foreach=False)
        for g in grads:
            ref.grad = g.double()
            ref_opt.step()
        for mode in ("fused", "foreach"):
            try:
                param = torch.nn.Parameter(p0.clone())
                opt = torch.optim.AdamW([param], lr=1e-3, weight_decay=0.01, **{mode: True})
                for g in grads:
                    param.grad = g
                    opt.step()
                err = relative(param.detach() - p0, ref.detach() - p0.double())
                ms, reps = timer(dev, opt.step, args.warmup, args.repeats)
                rows.append(row("adamw", f"n={n}", f"{torch_name}-{mode}", vector_name, ms, reps,
                                7 * param.element_size() * n, 0, copy_limit, "copy", err, 1e-4,
                                "torch AdamW float64 single-tensor; update after 2 steps"))
            except (RuntimeError, TypeError) as e:  # fused AdamW is missing on some device/dtype pairs
                rows.append({**{c: "" for c in COLUMNS}, "family": "adamw", "shape": f"n={n}",
                             "backend": f"{torch_name}-{mode}", "precision": vector_name,
                             "status": "error: " + str(e).replace(",", ";").splitlines()[0]})
        del p0, grads, ref, ref_opt

    # Muon's Newton–Schulz, 5 steps.
    for n in ns_sizes:
        g = torch.randn(n, n, device=dev, dtype=vector, generator=gen)
        want = newton_schulz(g.double(), 5, torch.float64)
        for prec in precisions:
            set_tf32(prec == "tf32")
            err = relative(newton_schulz(g, 5, dtype_of(prec)), want)
            ms, reps = timer(dev, lambda: newton_schulz(g, 5, dtype_of(prec)), args.warmup, args.repeats)
            rows.append(row("muon-ns5", f"n={n}", torch_name, prec, ms, reps, 0, 30 * n ** 3, gemm_limit[prec],
                            "gemm " + prec, err, NS_TOLERANCE[prec], "the same iteration in float64"))
        del g, want
    set_tf32(False)

    with open(args.out, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(rows)
    for r in rows:
        print(",".join(str(r[c]) for c in COLUMNS))


if __name__ == "__main__":
    main()
