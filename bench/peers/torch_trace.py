#!/usr/bin/env python3
"""Peer for `ebm bench trace`: the same training steps in PyTorch, with results.csv's columns, for the ratio table.

Model: softplus MLP, D inputs, L hidden layers of width H, scalar energy E (its init is torch's: only the timing is
compared). One step = loss + backward + AdamW (lr 2e-3, betas 0.9/0.999, eps 1e-8, no weight decay; fused=True on
cuda), on one fixed batch of B standard-normal points. Losses as ebm's:
  exact                 mean[-ΔE + ½‖∇E‖²]; the `variant` column says how ΔE is computed:
      dloop               D backward passes of autograd (create_graph), one per input dimension
      vmap-hvp            torch.func: vmap over the D basis vectors of a forward-over-reverse Hessian-vector product
      forward-laplacian   the Hessian diagonal's sum pushed forward through the layers in torch ops (Jacobian B×H×D
                          and Laplacian B×H per layer); no autograd inside the loss, so torch.compile takes it whole
  hutchinson[-rademacher]-K   ΔE ≈ mean_k vₖᵀ∇²E vₖ, K probes per sample (an HVP each)
  sliced[-rademacher]-K       mean_k [-vₖᵀ∇²E vₖ + ½(vₖᵀ∇E)²]
  denoising                   ½‖∇E(x + σε) − ε/σ‖², σ = 0.1
Method names are ebm's; ebm's two exact rows (exact-per-dimension, exact-row-space) are both compared with this
script's `exact` rows, every variant (the report takes the fastest).
Variants: `eager` (autograd.grad with create_graph, as users write it; for exact the three algorithms above are
the variants) and `compile` (torch.compile of the loss: exact by forward-laplacian; the estimators take their
input derivatives with torch.func.grad/jvp so that the compiled graph needs no double backward). A variant that
fails (compile error, out of memory) is a row with `skipped` saying why; missing features (torch.func, compile
before torch 2) are skipped with a note.
torch.compile runs with dynamic=True, once per loss function, so a new D reuses the graph. Rows run precision by
precision, D by D; with --max-seconds, rows that would start after it are written as skipped.
Timing: median of up to 30 steps after warm-up, each step between CUDA events (host clock on the CPU). A row whose
step would take longer than --max-step-seconds is skipped (the D-loop's is estimated from its first 8 directions).
peak_bytes: on cuda torch.cuda.max_memory_allocated over one step after reset_peak_memory_stats (parameters,
gradients, AdamW state, batch and the step's tensors); on the CPU the rise of the process's resident-set high-water
mark over one step (VmHWM after resetting it through /proc/self/clear_refs, minus VmRSS before) — `peak_kind` says
which. Before timing, the exact variants are checked against each other at small D (the rows say the difference).

  python3 bench/peers/torch_trace.py --out OUT/peers/torch_trace.csv                      # GPU defaults
  /usr/bin/python3 bench/peers/torch_trace.py --device cpu --dims 2,16,64 --hidden 64 --out peer.csv
  ./ebm bench trace ... --peer OUT/peers/torch_trace.csv
"""

import argparse
import os
import sys
import time

import torch

from blas import checked_blas, limit_threads
from common_trace import (CHECK_MAX_DIM, COLUMNS, SIGMA, TOLERANCE, Skip, add_grid_args, add_timing_args, ints, measure,
                          new_row, parse_method, resolve_grid, words, write_csv)


class Mlp(torch.nn.Module):
    def __init__(self, d, h, layers, dtype, device):
        super().__init__()
        widths = [d] + [h] * layers
        self.hidden = torch.nn.ModuleList(torch.nn.Linear(a, b, dtype=dtype, device=device)
                                          for a, b in zip(widths, widths[1:]))
        self.out = torch.nn.Linear(h, 1, dtype=dtype, device=device)

    def forward(self, x):
        for lin in self.hidden:
            x = torch.nn.functional.softplus(lin(x))
        return self.out(x).squeeze(-1)


def forward_laplacian(net, x):
    """(ΔE, ∇E) per sample by pushing the Jacobian J = ∂z/∂x (kept as B×D×H, so that each layer's propagation is one
    (B·D)×H by H×H GEMM) and the Laplacian of every unit forward."""
    jac, lap = None, None
    h = x
    for lin in net.hidden:
        z = lin(h)
        s = torch.sigmoid(z)
        ds = s * (1 - s)  # softplus'' = sigmoid'
        if jac is None:  # first layer: J = W₁ for every sample, ΔW₁x = 0
            w = lin.weight
            jac = s.unsqueeze(1) * w.t()  # B×D×H
            lap = ds * (w * w).sum(1)
        else:
            b, d, hw = jac.shape
            jz = (jac.reshape(b * d, hw) @ lin.weight.t()).view(b, d, -1)  # the exact propagation's GEMM
            lz = lap @ lin.weight.t()
            jac = s.unsqueeze(1) * jz
            lap = s * lz + ds * (jz * jz).sum(1)
        h = torch.nn.functional.softplus(z)
    w_out = net.out.weight  # 1×H
    b, d, hw = jac.shape
    return (lap @ w_out.t()).squeeze(-1), (jac.reshape(b * d, hw) @ w_out.t()).view(b, d)


def forward_directional(net, x, v):
    """(Σₖ vₖᵀ∇²E vₖ, vₖᵀ∇E) per sample for K directions v (K×B×D): forward_laplacian along the probes instead of
    the D basis vectors — the algorithm of ebm's Hutchinson and sliced rows, (B·K)×H by H×H GEMMs per layer."""
    jac, second = None, None
    h = x
    for lin in net.hidden:
        z = lin(h)
        s = torch.sigmoid(z)
        ds = s * (1 - s)
        if jac is None:  # first layer: the directions' derivative is W₁v, their second derivative 0
            jz = torch.einsum("kbd,hd->bkh", v, lin.weight)
            second = ds * (jz * jz).sum(1)
        else:
            b, k, hw = jac.shape
            jz = (jac.reshape(b * k, hw) @ lin.weight.t()).view(b, k, -1)
            second = s * (second @ lin.weight.t()) + ds * (jz * jz).sum(1)
        jac = s.unsqueeze(1) * jz
        h = torch.nn.functional.softplus(z)
    w_out = net.out.weight
    b, k, hw = jac.shape
    return (second @ w_out.t()).squeeze(-1), (jac.reshape(b * k, hw) @ w_out.t()).view(b, k)


def estimator_loss_forward(kind, k, rad, net, x, gen):
    """Hutchinson and sliced with the probes' second derivatives pushed forward (no double backward); Hutchinson's
    ½‖∇E‖² by one reverse pass, as ebm computes it."""
    quad, proj = forward_directional(net, x, probes(kind, k, rad, x, gen))
    if kind == "hutchinson":
        xr = x.detach().requires_grad_(True)
        g = torch.autograd.grad(net(xr).sum(), xr, create_graph=True)[0]
        return (-quad / k + 0.5 * (g * g).sum(1)).mean()
    return (-quad / k + 0.5 * (proj * proj).sum(1) / k).mean()


def exact_loss_dloop(net, x):
    xr = x.detach().requires_grad_(True)
    g = torch.autograd.grad(net(xr).sum(), xr, create_graph=True)[0]
    lap = torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
    for j in range(x.shape[1]):
        lap = lap + torch.autograd.grad(g[:, j].sum(), xr, create_graph=True)[0][:, j]
    return (-lap + 0.5 * (g * g).sum(1)).mean()


def vmap_chunk(net, x):
    b, d = x.shape
    h = net.hidden[0].out_features
    # each vmapped direction holds a few B×max(D,H) tensors per layer; keep a chunk's under ~2 GB (64 MB on a CPU)
    per = 4 * b * max(d, h) * x.element_size() * (2 * len(net.hidden) + 2)
    cap = (2 << 30) if x.is_cuda else (64 << 20)
    return max(1, min(d, cap // per))


def func_api():
    """(functional_call, grad, jvp, vmap): torch.func from torch 2, functorch with torch 1.13; None without either."""
    try:
        from torch.func import functional_call, grad, jvp, vmap
        return functional_call, grad, jvp, vmap
    except ImportError:
        pass
    try:
        from functorch import grad, jvp, vmap
        from torch.nn.utils.stateless import functional_call
        return functional_call, grad, jvp, vmap
    except ImportError:
        return None


def exact_loss_vmap(net, x):
    functional_call, grad, jvp, vmap = func_api()
    params = dict(net.named_parameters())

    def energy_sum(p, xx):
        return functional_call(net, p, (xx,)).sum()

    def loss(p):
        gfn = grad(lambda xx: energy_sum(p, xx))
        g = gfn(x)
        basis = torch.eye(x.shape[1], dtype=x.dtype, device=x.device)

        def diag_term(e):
            v = e.expand_as(x)
            return (jvp(gfn, (x,), (v,))[1] * v).sum(1)

        chunk = vmap_chunk(net, x)  # chunked by hand: functorch's vmap (torch 1.13) has no chunk_size
        lap = sum(vmap(diag_term)(basis[i:i + chunk]).sum(0) for i in range(0, x.shape[1], chunk))
        return (-lap + 0.5 * (g * g).sum(1)).mean()

    value = loss(params)  # parameter gradients by the ordinary backward through the transforms
    return value


def probes(kind, k, rad, x, gen):
    v = torch.randn((k,) + tuple(x.shape), dtype=x.dtype, device=x.device, generator=gen)
    return v.sign() if rad else v


def estimator_loss_eager(kind, k, rad, net, x, gen):
    if kind == "denoising":
        eps = torch.randn(x.shape, dtype=x.dtype, device=x.device, generator=gen)
        xt = (x + SIGMA * eps).requires_grad_(True)
        g = torch.autograd.grad(net(xt).sum(), xt, create_graph=True)[0]
        return 0.5 * ((g - eps / SIGMA) ** 2).sum(1).mean()
    v = probes(kind, k, rad, x, gen)
    xr = x.detach().requires_grad_(True)
    g = torch.autograd.grad(net(xr).sum(), xr, create_graph=True)[0]
    quad = 0
    for i in range(k):
        hv = torch.autograd.grad((g * v[i]).sum(), xr, create_graph=True)[0]
        quad = quad + (hv * v[i]).sum(1)
    if kind == "hutchinson":
        return (-quad / k + 0.5 * (g * g).sum(1)).mean()
    proj = sum(((g * v[i]).sum(1)) ** 2 for i in range(k))
    return (-quad / k + 0.5 * proj / k).mean()


def estimator_loss_func(kind, k, net, x, v):
    """The same losses with torch.func derivatives in x (what torch.compile can trace without a double backward)."""
    _, grad, jvp, _ = func_api()
    gfn = grad(lambda xx: net(xx).sum())
    if kind == "denoising":
        return 0.5 * ((gfn(x + SIGMA * v) - v / SIGMA) ** 2).sum(1).mean()
    g = gfn(x)
    quad = 0
    proj = 0
    for i in range(k):
        hv = jvp(gfn, (x,), (v[i],))[1]
        quad = quad + (hv * v[i]).sum(1)
        proj = proj + ((g * v[i]).sum(1)) ** 2
    if kind == "hutchinson":
        return (-quad / k + 0.5 * (g * g).sum(1)).mean()
    return (-quad / k + 0.5 * proj / k).mean()


def exact_loss_forward(net, x):
    lap, g = forward_laplacian(net, x)
    return (-lap + 0.5 * (g * g).sum(1)).mean()


def has_func():
    return func_api() is not None


def has_compile():
    return hasattr(torch, "compile") and int(torch.__version__.split(".")[0]) >= 2


def variants_for(kind, variants):
    """(variant name, needs) pairs for a method; needs in {None, 'func', 'compile'}."""
    out = []
    if "eager" in variants:
        if kind == "exact":
            out += [("dloop", None), ("vmap-hvp", "func"), ("forward-laplacian", None)]
        elif kind in ("hutchinson", "sliced"):
            out += [("eager", None), ("forward-directional", None)]
        else:
            out.append(("eager", None))
    if "compile" in variants:
        out.append(("compile", "compile"))
    return out


COMPILED = {}


def compiled(fn):
    """One torch.compile per loss function, with dynamic shapes so that a new D or module reuses the graph."""
    if fn not in COMPILED:
        # every row has its own module: without room for the guards' variants dynamo would fall back to eager
        # silently after its default 8 recompiles, and the row would time eager under the compile label
        cfg = torch._dynamo.config
        for name in ("cache_size_limit", "recompile_limit", "accumulated_cache_size_limit", "accumulated_recompile_limit"):
            if hasattr(cfg, name):
                setattr(cfg, name, max(getattr(cfg, name), 512))
        COMPILED[fn] = torch.compile(fn, dynamic=True)
    return COMPILED[fn]


def loss_fn(kind, k, rad, variant, net, x, gen):
    """A no-argument function returning one step's loss (its probes or noise drawn inside, fresh per step)."""
    if kind == "exact":
        if variant == "dloop":
            return lambda: exact_loss_dloop(net, x)
        if variant == "vmap-hvp":
            return lambda: exact_loss_vmap(net, x)
        if variant == "forward-laplacian":
            return lambda: exact_loss_forward(net, x)
        fn = compiled(exact_loss_forward)
        return lambda: fn(net, x)
    if variant == "eager":
        return lambda: estimator_loss_eager(kind, k, rad, net, x, gen)
    if variant == "forward-directional":
        return lambda: estimator_loss_forward(kind, k, rad, net, x, gen)
    fn = compiled(estimator_loss_func)
    draws = 1 if kind == "denoising" else k

    def run():
        v = probes(kind, draws, rad, x, gen)
        return fn(kind, k, net, x, v[0] if kind == "denoising" else v)
    return run


def make_optimizer(net, device):
    kw = dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    if device.type == "cuda":
        try:
            return torch.optim.AdamW(net.parameters(), fused=True, **kw), "fused"
        except (TypeError, RuntimeError):
            pass
    return torch.optim.AdamW(net.parameters(), **kw), "default"


def rss_bytes(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return None


class Clock:
    def __init__(self, device):
        self.cuda = device.type == "cuda"

    def time(self, fn):
        """ms of fn() (device time between events on cuda)."""
        if self.cuda:
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            end.synchronize()
            return start.elapsed_time(end)
        t0 = time.perf_counter()
        fn()
        return (time.perf_counter() - t0) * 1e3

    def peak(self, fn):
        """(bytes, kind) of one call's peak memory."""
        if self.cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            fn()
            torch.cuda.synchronize()
            return torch.cuda.max_memory_allocated(), "cuda max_memory_allocated"
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")  # resets VmHWM to the current RSS
            before = rss_bytes("VmRSS")
            fn()
            return max(0, rss_bytes("VmHWM") - before), "rss high-water rise"
        except OSError:
            fn()
            return "", "not measured"

    def sync(self, _out=None):
        """Waits for the device's queued work (nothing to wait for on the CPU)."""
        if self.cuda:
            torch.cuda.synchronize()


def check_exact(net, x, tol):
    """Relative differences of the exact variants' losses against the D-loop's (small D only)."""
    want = exact_loss_dloop(net, x).item()
    got = {"forward-laplacian": exact_loss_forward(net, x).item()}
    if has_func():
        got["vmap-hvp"] = exact_loss_vmap(net, x).item()
    worst = max(abs(v - want) / max(1.0, abs(want)) for v in got.values())
    text = "; ".join(f"{k} vs dloop {abs(v - want) / max(1.0, abs(want)):.1e}" for k, v in got.items())
    if worst > tol:
        raise SystemExit(f"exact variants disagree at D={x.shape[1]}: {text} (tolerance {tol:.0e})")
    return text


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cuda" if torch.cuda.is_available() else "cpu")
    add_grid_args(ap)
    ap.add_argument("--variants", type=words, help="eager, compile (default eager,compile; compile needs torch >= 2)")
    add_timing_args(ap, "wall-clock budget for the whole run; rows left when it runs out are written as skipped")
    ap.add_argument("--threads", type=ints, help="CPU intra-op (and BLAS) thread counts, each row timed with every one "
                    "(default on the CPU: 1 and all cores; the report takes the fastest)")
    ap.add_argument("--allow-reference-blas", action="store_true",
                    help="run on the CPU even when the loaded BLAS is the unoptimised reference one (rows say so)")
    args = ap.parse_args(argv)
    device = torch.device(args.device)
    gpu = device.type == "cuda"
    if gpu and not torch.cuda.is_available():
        raise SystemExit("--device cuda: torch.cuda.is_available() is false")
    resolve_grid(args, gpu)
    dims, hidden, precisions = args.dims, args.hidden, args.precision
    variants = args.variants or ["eager", "compile"]
    for v in variants:
        if v not in ("eager", "compile"):
            raise SystemExit(f"--variants {v}: allowed eager, compile")
    methods = [(m, parse_method(m)) for m in args.methods]
    threads = args.threads or (sorted({1, os.cpu_count()}) if not gpu else [os.cpu_count()])
    blas = "" if gpu else checked_blas(args.allow_reference_blas)
    version = torch.__version__.split("+")[0]
    notes = []
    if not has_func():
        notes.append(f"torch {version} has neither torch.func nor functorch: vmap-hvp skipped")
    if "compile" in variants and not has_compile():
        notes.append(f"torch {version} has no torch.compile: compile variants skipped")
    for n in notes:
        print("note: " + n, file=sys.stderr)
    print(f"torch {version}, device {device}, threads {threads}" + (f", BLAS {blas}" if blas else ""), file=sys.stderr)

    clock = Clock(device)
    gen = torch.Generator(device=device).manual_seed(1)
    deadline = time.perf_counter() + args.max_seconds
    rows = []
    for prec in precisions:  # precision-major: with --max-seconds, every D of the first precision comes first
        for d in dims:
            dtype = torch.float64 if prec == "fp64" else torch.float32
            if gpu:
                torch.backends.cuda.matmul.allow_tf32 = prec == "tf32"
                torch.backends.cudnn.allow_tf32 = prec == "tf32"
            torch.manual_seed(0)
            net = Mlp(d, hidden, args.layers, dtype, device)
            x = torch.randn(args.batch, d, dtype=dtype, device=device, generator=gen)
            check = ""
            if any(k == "exact" for _, (k, _, _) in methods) and d <= CHECK_MAX_DIM:
                check = check_exact(net, x, TOLERANCE[prec])
            for method, (kind, k, rad) in methods:
                for variant, needs in variants_for(kind, variants):
                    for t in threads:
                        torch.set_num_threads(t)
                        with limit_threads(t):
                            label = "compile" if variant == "compile" else "eager"
                            row = new_row(method=method, D=d, H=hidden, layers=args.layers, batch=args.batch,
                                          backend=f"torch-{version}-{label}-{device.type}-{prec}" + ("" if gpu else f"-{t}thread"),
                                          variant=variant, device=device.type, precision=prec, threads=t, blas=blas,
                                          check=check if kind == "exact" else "")
                            try:
                                if needs == "func" and not has_func():
                                    raise Skip(f"torch {version} has neither torch.func nor functorch")
                                if needs == "compile" and not has_compile():
                                    raise Skip(f"torch {version} has no torch.compile")
                                if time.perf_counter() > deadline:
                                    raise Skip(f"out of the --max-seconds budget ({args.max_seconds:.0f} s)")
                                net = Mlp(d, hidden, args.layers, dtype, device)
                                opt, _ = make_optimizer(net, device)
                                loss = loss_fn(kind, k, rad, variant, net, x, gen)

                                def step():
                                    opt.zero_grad(set_to_none=True)
                                    loss().backward()
                                    opt.step()

                                if variant == "dloop" and d > 8:
                                    # time the first 8 directions' loop and scale it to D before committing to a full step
                                    sub = Mlp(8, hidden, args.layers, dtype, device)
                                    xs = x[:, :8].contiguous()
                                    clock.time(lambda: exact_loss_dloop(sub, xs).backward())
                                    probe_ms = clock.time(lambda: exact_loss_dloop(sub, xs).backward())
                                    est = probe_ms * d / 8 / 1e3
                                    del sub
                                    if est > args.max_step_seconds:
                                        raise Skip(f"estimated {est:.1f} s per step (8 directions: {probe_ms:.1f} ms) > "
                                                   f"{args.max_step_seconds:.1f} s (--max-step-seconds)")
                                # the first timed step includes compilation for the compile variant
                                ms, reps, peak, peak_kind = measure(args, lambda: clock.time(step), lambda: clock.peak(step),
                                                                    step, clock.sync)
                                row.update(ms_per_step=f"{ms:.4f}", reps=reps, peak_bytes=peak, peak_kind=peak_kind)
                            except Skip as e:
                                row["skipped"] = str(e)
                            except Exception as e:  # a compile error or out of memory: a row that says so
                                row["skipped"] = (type(e).__name__ + ": " + str(e).splitlines()[0] if str(e) else type(e).__name__)[:300]
                            finally:
                                if gpu:
                                    torch.cuda.empty_cache()
                            row["skipped"] = row["skipped"].replace(",", ";")
                            row["check"] = row["check"].replace(",", ";")
                            rows.append(row)
                            print(",".join(str(row[c]) for c in COLUMNS), flush=True)
    write_csv(args.out, COLUMNS, rows)


if __name__ == "__main__":
    main(sys.argv[1:])
