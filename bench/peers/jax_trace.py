#!/usr/bin/env python3
"""Peer for `ebm bench trace`: the same training steps in JAX, each one jax.jit program, with torch_trace.py's columns.

Model: softplus MLP, D inputs, L hidden layers of width H, scalar energy E (torch's init scheme, uniform ±1/√fan_in:
only the timing is compared). One step = loss + jax.grad + AdamW (lr 2e-3, betas 0.9/0.999, eps 1e-8, no weight
decay, written in jnp), all under one jax.jit with the parameters and optimizer state donated, on one fixed batch of
B standard-normal points; probes and noise are drawn inside the step from a jax.random key it carries. Losses as
ebm's (method names too; the exact objective is `exact` with the algorithm in `variant`):
  exact                 mean[-ΔE + ½‖∇E‖²], variants:
      jit-hessian-diag        vmap over the D basis vectors of a forward-over-reverse Hessian-vector product
                              (jax.jvp of jax.grad), chunked as torch_trace.py's vmap-hvp
      jit-forward-laplacian   the Hessian diagonal's sum pushed forward through the layers in jnp (Jacobian B×D×H and
                              Laplacian B×H per layer), the propagation of ebm's exact-per-dimension
  hutchinson[-rademacher]-K   ΔE ≈ mean_k vₖᵀ∇²E vₖ, K probes per sample (jax.vmap of jax.jvp over the probes)
  sliced[-rademacher]-K       mean_k [-vₖᵀ∇²E vₖ + ½(vₖᵀ∇E)²]
  denoising                   ½‖∇E(x + σε) − ε/σ‖², σ = 0.1
the estimators' variant is `jit`. Precision: fp32 under jax.default_matmul_precision('highest') (JAX's default
precision may use TF32 on a GPU), tf32 under 'tensorfloat32', fp64 (CPU) with jax_enable_x64.
Rows run precision by precision, D by D. A row is skipped, with the reason in `skipped`, when it would start after
--max-seconds, when the same row at the previous D scaled to this D says that its step would pass --max-step-seconds
or that it would end after --max-seconds (an upper bound: a step's cost is a polynomial in D with nonnegative
coefficients, of degree 2 for jit-hessian-diag, whose D tangents each cross the first layer's B×D×H product, else
1; the forecast scales by (D/D_prev)^degree), when its
compiled step needs more memory than the device has free, when a measured step passes --max-step-seconds, and when
it fails (the error's first line).
Timing: the step is compiled ahead of time (compilation excluded), then the median of up to 30 steps after warm-up,
each timed on the host clock up to jax.block_until_ready of its outputs. peak_bytes: with the device's
memory_stats() (GPU), the peak_bytes_in_use after one step when that step raised it, else bytes_in_use before the
step plus the compiled step's temporaries and non-donated outputs (XLA's memory_analysis); without memory_stats()
(CPU) the compiled step's arguments, temporaries and outputs — `peak_kind` says which. Before timing, the exact
variants are checked at small D against the trace of jax.hessian (the rows say the difference).
The CSV is written row by row, so a run cut short keeps the rows it finished. Without an importable jax the script
prints why and exits 0 without writing a file.

  python3 bench/peers/jax_trace.py --max-seconds 90 --out OUT/peers/jax_trace.csv          # GPU defaults
  python3 bench/peers/jax_trace.py --device cpu --dims 2,16,64 --hidden 64 --out peer.csv
  ./ebm bench trace ... --peer OUT/peers/jax_trace.csv
"""

import argparse
import csv
import gc
import os
import sys
import time

from common_trace import (CHECK_MAX_DIM, COLUMNS, SIGMA, TOLERANCE, Skip, add_grid_args, add_timing_args, measure,
                          new_row, parse_method, resolve_grid)

LR, BETA1, BETA2, EPS, WEIGHT_DECAY = 2e-3, 0.9, 0.999, 1e-8, 0.0
MATMUL_PRECISION = {"fp32": "highest", "tf32": "tensorfloat32", "fp64": "highest"}

jax = None  # imported in main, after the arguments are parsed, so that --help and the skip need no jax
jnp = None


def variants_for(kind):
    return ["jit-hessian-diag", "jit-forward-laplacian"] if kind == "exact" else ["jit"]


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--device", choices=["cpu", "cuda"], help="default: cuda when jax has a GPU backend, else cpu")
    add_grid_args(ap)
    add_timing_args(ap, "wall-clock budget for the whole run; rows that would start or end after it are skipped")
    args = ap.parse_args(argv)
    args.methods = [(m, parse_method(m)) for m in args.methods]
    for name in ("layers", "batch", "hidden"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            raise SystemExit(f"--{name} {getattr(args, name)}: must be >= 1")
    if args.dims is not None and (not args.dims or min(args.dims) < 1):
        raise SystemExit("--dims: need positive integers")
    return args


# --- model and losses (jnp only, so that the test can run energy and forward_laplacian with numpy) ---------------

def softplus(z):
    return jnp.logaddexp(z, 0.0)


def sigmoid(z):  # = softplus'; tanh form: no overflow for large |z|
    return 0.5 * (1.0 + jnp.tanh(0.5 * z))


def energy(params, x):
    """E per sample (B) of the batch x (B×D); params: [(W, b)] with W in×out, the last layer H×1."""
    h = x
    for w, b in params[:-1]:
        h = softplus(h @ w + b)
    w, b = params[-1]
    return (h @ w + b)[:, 0]


def forward_laplacian(params, x):
    """(ΔE, ∇E) per sample: the Jacobian J = ∂h/∂x (B×D×H, so that each layer's propagation is one (B·D)×H by H×H
    GEMM) and the Laplacian of every unit pushed forward; ΔW₁x = 0 starts it."""
    jac = lap = None
    h = x
    for w, b in params[:-1]:
        z = h @ w + b
        s = sigmoid(z)
        ds = s * (1 - s)  # softplus'' = sigmoid'
        if jac is None:
            jac = s[:, None, :] * w[None, :, :]
            lap = ds * (w * w).sum(0)
        else:
            bsz, d, hw = jac.shape
            jz = (jac.reshape(bsz * d, hw) @ w).reshape(bsz, d, -1)
            jac = s[:, None, :] * jz
            lap = s * (lap @ w) + ds * (jz * jz).sum(1)
        h = softplus(z)
    w_out = params[-1][0]
    bsz, d, hw = jac.shape
    return (lap @ w_out)[:, 0], (jac.reshape(bsz * d, hw) @ w_out).reshape(bsz, d)


def x_grad(params):
    """x ↦ ∇ₓE per sample (the samples are independent, so the gradient of the sum)."""
    return jax.grad(lambda xx: energy(params, xx).sum())


def hvp_chunk(d, hidden, layers, batch, itemsize):
    """Directions per vmapped chunk: torch_trace.py's rule (a chunk's tensors under ~2 GB), the same on both sides."""
    per = 4 * batch * max(d, hidden) * itemsize * (2 * layers + 2)
    return max(1, min(d, (2 << 30) // per))


def exact_hessian_diag(params, x):
    gfn = x_grad(params)
    d = x.shape[1]

    def diag(e):  # e: one basis vector of R^D, the same direction for every sample
        return jax.jvp(gfn, (x,), (jnp.broadcast_to(e, x.shape),))[1] @ e

    basis = jnp.eye(d, dtype=x.dtype)
    chunk = hvp_chunk(d, params[0][0].shape[1], len(params) - 1, x.shape[0], x.dtype.itemsize)
    lap = (jax.vmap(diag)(basis) if chunk >= d else jax.lax.map(diag, basis, batch_size=chunk)).sum(0)
    return lap, gfn(x)


def exact_loss(variant):
    laplacian = exact_hessian_diag if variant == "jit-hessian-diag" else forward_laplacian

    def loss(params, key, x):
        lap, g = laplacian(params, x)
        return jnp.mean(-lap + 0.5 * jnp.sum(g * g, 1))
    return loss


def estimator_loss(kind, k, rad):
    def loss(params, key, x):
        gfn = x_grad(params)
        if kind == "denoising":
            eps = jax.random.normal(key, x.shape, x.dtype)
            return 0.5 * jnp.mean(jnp.sum((gfn(x + SIGMA * eps) - eps / SIGMA) ** 2, 1))
        shape = (k,) + x.shape
        v = jax.random.rademacher(key, shape, x.dtype) if rad else jax.random.normal(key, shape, x.dtype)
        g = gfn(x)
        hv = jax.vmap(lambda vi: jax.jvp(gfn, (x,), (vi,))[1])(v)  # K×B×D
        quad = jnp.sum(hv * v, 2).mean(0)
        if kind == "hutchinson":
            return jnp.mean(-quad + 0.5 * jnp.sum(g * g, 1))
        return jnp.mean(-quad + 0.5 * (jnp.sum(g[None] * v, 2) ** 2).mean(0))
    return loss


def init_params(key, d, hidden, layers, dtype):
    widths = [d] + [hidden] * layers + [1]
    params = []
    for a, b in zip(widths, widths[1:]):
        key, kw, kb = jax.random.split(key, 3)
        bound = 1.0 / a ** 0.5
        params.append((jax.random.uniform(kw, (a, b), dtype, -bound, bound),
                       jax.random.uniform(kb, (b,), dtype, -bound, bound)))
    return params


def make_step(loss):
    """One jitted training step: loss + grad + AdamW, parameters and optimizer state donated."""
    tree_map = jax.tree_util.tree_map

    def step(params, opt, key, x):
        key, sub = jax.random.split(key)
        value, grads = jax.value_and_grad(loss)(params, sub, x)
        t = opt["t"] + 1
        m = tree_map(lambda m, g: BETA1 * m + (1 - BETA1) * g, opt["m"], grads)
        v = tree_map(lambda v, g: BETA2 * v + (1 - BETA2) * g * g, opt["v"], grads)
        c1, c2 = 1 - BETA1 ** t, 1 - BETA2 ** t
        params = tree_map(lambda p, m, v: p * (1 - LR * WEIGHT_DECAY) - LR * (m / c1) / (jnp.sqrt(v / c2) + EPS),
                          params, m, v)
        return params, {"t": t, "m": m, "v": v}, key, value
    return jax.jit(step, donate_argnums=(0, 1))


def check_exact(params, x, tol):
    """Relative differences of the exact variants' losses against the trace of jax.hessian (small D only)."""
    hess = jax.jit(jax.vmap(lambda xi: jnp.trace(jax.hessian(lambda z: energy(params, z[None])[0])(xi))))
    g = x_grad(params)(x)
    want = float(jnp.mean(-hess(x) + 0.5 * jnp.sum(g * g, 1)))
    key = jax.random.PRNGKey(0)
    diffs = {v: abs(float(jax.jit(exact_loss(v))(params, key, x)) - want) / max(1.0, abs(want))
             for v in variants_for("exact")}
    text = "; ".join(f"{v} vs jax.hessian {e:.1e}" for v, e in diffs.items())
    if max(diffs.values()) > tol:
        raise SystemExit(f"exact variants disagree at D={x.shape[1]}: {text} (tolerance {tol:.0e})")
    return text


# --- budget, skips and the CSV (pure Python) ------------------------------------------------------------------------

def cost_degree(variant):
    """The degree in D of a step's cost: the D basis tangents of jit-hessian-diag each go through the first layer."""
    return 2 if variant == "jit-hessian-diag" else 1


def forecast(prev, d, degree):
    """(step seconds, compile seconds) for a row at D from the same row at a smaller D: prev = (D, ms, compile s), or
    None. Scaling by (D / prev D)^degree bounds a cost polynomial of that degree with nonnegative coefficients."""
    if prev is None or prev[0] >= d:
        return None
    return prev[1] / 1e3 * (d / prev[0]) ** degree, prev[2]


def budget_skip(args, now, deadline, est):
    """The reason to skip a row before compiling it, or None. est: forecast(...) or None."""
    if now > deadline:
        return f"out of the --max-seconds budget ({args.max_seconds:.0f} s)"
    if est is None:
        return None
    step_s, compile_s = est
    if step_s > args.max_step_seconds:
        return (f"estimated {step_s:.1f} s per step (the previous D's scaled) > {args.max_step_seconds:.1f} s "
                "(--max-step-seconds)")
    row_s = compile_s + 3 * step_s + min(args.warmup, 200 * step_s) + min(max(args.timing, 3 * step_s), 30 * step_s)
    if now + row_s > deadline:
        return (f"estimated {row_s:.1f} s for the row (compile and steps) but {max(0.0, deadline - now):.1f} s left of "
                f"the --max-seconds budget ({args.max_seconds:.0f} s)")
    return None


def error_text(e):
    msg = str(e).strip()
    return (type(e).__name__ + (": " + msg.splitlines()[0] if msg else ""))[:300]


class RowWriter:
    """The CSV, written and flushed row by row (commas in free text become ';', as torch_trace.py's)."""

    def __init__(self, path):
        self.file = open(path, "w", newline="")
        self.csv = csv.DictWriter(self.file, fieldnames=COLUMNS)
        self.csv.writeheader()
        self.file.flush()

    def write(self, row):
        row = dict(row, skipped=str(row["skipped"]).replace(",", ";"), check=str(row["check"]).replace(",", ";"))
        self.csv.writerow(row)
        self.file.flush()
        print(",".join(str(row[c]) for c in COLUMNS), flush=True)

    def close(self):
        self.file.close()


# --- measuring ------------------------------------------------------------------------------------------------------

def timed(run):
    t0 = time.perf_counter()
    jax.block_until_ready(run())
    return (time.perf_counter() - t0) * 1e3


def memory_stats(dev):
    try:
        return dev.memory_stats()
    except Exception:  # backends without allocator statistics
        return None


def peak_of(run, compiled, dev):
    """(bytes, kind) of one step's peak memory (see the module's notes)."""
    mem = None
    try:
        mem = compiled.memory_analysis()
    except Exception:  # not every backend reports it
        pass
    stats = memory_stats(dev)
    if stats and "bytes_in_use" in stats:
        before_peak = stats.get("peak_bytes_in_use", -1)
        jax.block_until_ready(run())
        after = memory_stats(dev) or {}
        if after.get("peak_bytes_in_use", -1) > before_peak:
            return after["peak_bytes_in_use"], "memory_stats peak_bytes_in_use (raised by this step)"
        if mem is not None:
            step_bytes = mem.temp_size_in_bytes + mem.output_size_in_bytes - mem.alias_size_in_bytes
            return stats["bytes_in_use"] + step_bytes, "memory_stats bytes_in_use + XLA temporaries and outputs"
        return "", "not measured"
    jax.block_until_ready(run())
    if mem is None:
        return "", "not measured"
    return (mem.argument_size_in_bytes + mem.temp_size_in_bytes + mem.output_size_in_bytes - mem.alias_size_in_bytes,
            "XLA memory_analysis: arguments + temporaries + outputs")


def fits(compiled, dev):
    """None, or why the compiled step cannot run in the device's free memory."""
    try:
        mem = compiled.memory_analysis()
    except Exception:
        return None
    stats = memory_stats(dev)
    if mem is None or not stats or "bytes_limit" not in stats:
        return None
    need = mem.temp_size_in_bytes + mem.output_size_in_bytes - mem.alias_size_in_bytes
    free = stats["bytes_limit"] - stats.get("bytes_in_use", 0)
    if need > free:
        return f"the compiled step needs {need / 2**30:.1f} GiB beyond its arguments; {free / 2**30:.1f} GiB free"
    return None


def run_row(args, row, loss, params, x, dev, history_key, history):
    """Compiles and times one row; fills row, records (D, ms, compile s) in history."""
    opt = {"t": jnp.zeros((), x.dtype), "m": jax.tree_util.tree_map(jnp.zeros_like, params),
           "v": jax.tree_util.tree_map(jnp.zeros_like, params)}
    state = [params, opt, jax.random.PRNGKey(2)]
    t0 = time.perf_counter()
    compiled = make_step(loss).lower(*state, x).compile()
    compile_s = time.perf_counter() - t0
    reason = fits(compiled, dev)
    if reason:
        raise Skip(reason)

    def run():  # the step's outputs: blocking on all of them waits for the whole update
        out = compiled(*state, x)
        state[:] = out[:3]
        return out

    ms, reps, peak, kind = measure(args, lambda: timed(run), lambda: peak_of(run, compiled, dev), run,
                                   jax.block_until_ready)
    history[history_key] = (row["D"], ms, compile_s)
    row.update(ms_per_step=f"{ms:.4f}", reps=reps, peak_bytes=peak, peak_kind=kind)


def main(argv):
    args = parse_args(argv)
    if args.device == "cpu":
        os.environ["JAX_PLATFORMS"] = "cpu"  # before the import: no GPU client at all
    global jax, jnp
    try:
        import jax
        import jax.numpy as jnp
    except ImportError as e:
        print(f"skipped: jax is not importable ({e}); no rows written", file=sys.stderr)
        return 0
    gpu = jax.default_backend() == "gpu"
    if args.device == "cuda" and not gpu:
        raise SystemExit(f"--device cuda: jax's default backend is {jax.default_backend()}, not gpu")
    resolve_grid(args, gpu)
    if "fp64" in args.precision:
        jax.config.update("jax_enable_x64", True)
    dev = jax.devices()[0]
    device = "cuda" if gpu else "cpu"  # the device name ebm's peer table matches
    version = jax.__version__
    print(f"jax {version}, device {dev.device_kind} ({jax.default_backend()})", file=sys.stderr)

    deadline = time.perf_counter() + args.max_seconds
    history = {}
    out = RowWriter(args.out)
    try:
        for prec in args.precision:  # precision-major: with --max-seconds, every D of the first precision comes first
            dtype = jnp.float64 if prec == "fp64" else jnp.float32
            with jax.default_matmul_precision(MATMUL_PRECISION[prec]):
                for d in args.dims:
                    gc.collect()
                    base = init_params(jax.random.PRNGKey(0), d, args.hidden, args.layers, dtype)
                    x = jax.random.normal(jax.random.PRNGKey(1), (args.batch, d), dtype)
                    check = ""
                    if any(k == "exact" for _, (k, _, _) in args.methods) and d <= CHECK_MAX_DIM:
                        check = check_exact(base, x, TOLERANCE[prec])
                    for method, (kind, k, rad) in args.methods:
                        for variant in variants_for(kind):
                            row = new_row(method=method, D=d, H=args.hidden, layers=args.layers, batch=args.batch,
                                          backend=f"jax-{version}-jit-{device}-{prec}", variant=variant,
                                          device=device, precision=prec, check=check if kind == "exact" else "")
                            key = (prec, method, variant)
                            try:
                                reason = budget_skip(args, time.perf_counter(), deadline, forecast(history.get(key), d, cost_degree(variant)))
                                if reason:
                                    raise Skip(reason)
                                params = jax.tree_util.tree_map(jnp.copy, base)  # the step donates its parameters
                                loss = exact_loss(variant) if kind == "exact" else estimator_loss(kind, k, rad)
                                run_row(args, row, loss, params, x, dev, key, history)
                            except Skip as e:
                                row["skipped"] = str(e)
                            except Exception as e:  # out of memory, a compile error: a row that says so
                                row["skipped"] = error_text(e)
                            params = None
                            gc.collect()
                            out.write(row)
    finally:
        out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
