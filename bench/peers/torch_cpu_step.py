#!/usr/bin/env python3
"""CPU peer for `ebm bench step`: the same energy MLP and training step in PyTorch, fp64.

One step = score-matching loss + backward + Adam, batch B, softplus MLP with L hidden layers of width H.
Methods, written the way PyTorch users write them:
  exact        ΔE by the D-loop of autograd (one backward per input dimension), create_graph for training
  hutchinson-1 one Gaussian probe: vᵀ∇²E v by a Hessian-vector product, ½‖∇E‖² exact
  denoising    ½ mean ‖∇E(x + σε) − ε/σ‖², σ = 0.1

Run with Debian's python3 and python3-torch (apt-get install python3-torch), from the repository root:
  /usr/bin/python3 bench/peers/torch_cpu_step.py --out bench/results/cpu-peer.csv
Writes CSV rows (method, D, H, layers, batch, backend, ms_per_step, reps, threads, blas) and prints them.
"""

import argparse
import csv
import os
import statistics
import sys
import time

import torch

SHAPES = [(2, 128, 3), (64, 256, 3), (512, 128, 3)]
METHODS = ["exact", "hutchinson-1", "denoising"]


def blas_info():
    cfg = torch.__config__.show()
    for part in cfg.replace("\n", ",").split(","):
        if "BLAS_INFO" in part:
            return part.strip()
    return "unknown"


def make_net(d, h, layers):
    mods, width = [], d
    for _ in range(layers):
        mods += [torch.nn.Linear(width, h), torch.nn.Softplus()]
        width = h
    mods.append(torch.nn.Linear(width, 1))
    return torch.nn.Sequential(*mods).double()


def step_fn(method, net, opt, x):
    def step():
        opt.zero_grad(set_to_none=True)
        if method == "denoising":
            sigma = 0.1
            eps = torch.randn_like(x)
            xt = (x + sigma * eps).requires_grad_(True)
            g = torch.autograd.grad(net(xt).sum(), xt, create_graph=True)[0]
            loss = 0.5 * ((g - eps / sigma) ** 2).sum(1).mean()
        else:
            xr = x.clone().requires_grad_(True)
            g = torch.autograd.grad(net(xr).sum(), xr, create_graph=True)[0]
            if method == "exact":
                lap = torch.zeros(x.shape[0], dtype=x.dtype)
                for j in range(x.shape[1]):
                    lap = lap + torch.autograd.grad(g[:, j].sum(), xr, create_graph=True)[0][:, j]
            else:
                v = torch.randn_like(x)
                hv = torch.autograd.grad((g * v).sum(), xr, create_graph=True)[0]
                lap = (hv * v).sum(1)
            loss = (-lap + 0.5 * (g ** 2).sum(1)).mean()
        loss.backward()
        opt.step()
    return step


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=None)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--budget", type=float, default=20.0, help="seconds of timing per row (at least 3 reps)")
    ap.add_argument("--quick", action="store_true", help="one timed rep per row, skip D=512 exact")
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="intra-op threads (default: all cores, as ebm)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    rows = []
    blas = blas_info()
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, {blas}", file=sys.stderr)
    for d, h, layers in SHAPES:
        for method in METHODS:
            if args.quick and method == "exact" and d > 64:
                continue
            net = make_net(d, h, layers)
            opt = torch.optim.Adam(net.parameters(), lr=1e-3)
            x = torch.randn(args.batch, d, dtype=torch.float64)
            step = step_fn(method, net, opt, x)
            step()  # warm-up
            times = []
            t_end = time.perf_counter() + args.budget
            while len(times) < (1 if args.quick else 3) or (time.perf_counter() < t_end and len(times) < 50):
                t0 = time.perf_counter()
                step()
                times.append(1000 * (time.perf_counter() - t0))
                if args.quick:
                    break
            row = {"method": method, "D": d, "H": h, "layers": layers, "batch": args.batch, "backend": "torch-cpu-fp64",
                   "ms_per_step": round(statistics.median(times), 3), "reps": len(times), "threads": torch.get_num_threads(),
                   "blas": blas}
            rows.append(row)
            print(",".join(str(v) for v in row.values()), flush=True)
    if args.out:
        with open(args.out, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
            w.writeheader()
            w.writerows(rows)


if __name__ == "__main__":
    main(sys.argv[1:])
