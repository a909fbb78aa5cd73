"""What torch_trace.py and jax_trace.py share, so that both peers of `ebm bench trace` read the same arguments, name
the same methods and write the same CSV: the columns, the method names, the grid options and their defaults, the
timing loop and the row skip. Imported by both, not run itself (gpu-check's peers stage passes over *_trace.py).
"""

import csv
import statistics
import time

COLUMNS = ["method", "D", "H", "layers", "batch", "backend", "variant", "device", "precision", "ms_per_step", "reps",
           "peak_bytes", "peak_kind", "check", "skipped", "threads", "blas"]
SIGMA = 0.1
CHECK_MAX_DIM = 64
PRECISIONS = ("fp32", "tf32", "fp64")
# how far the exact variants' losses may differ at small D before the run stops, per precision
TOLERANCE = {"fp64": 1e-9, "fp32": 1e-3, "tf32": 3e-2}


class Skip(Exception):
    pass


def ints(s):
    return [int(v) for v in s.split(",") if v]


def words(s):
    return [v for v in s.split(",") if v]


def parse_method(m):
    """(kind, probes, rademacher) for an ebm method name; kind in exact, hutchinson, sliced, denoising."""
    if m in ("exact", "denoising"):
        return m, 0, False
    for kind in ("hutchinson", "sliced"):
        for dist, rad in (("-rademacher-", True), ("-", False)):
            prefix = kind + dist
            if m.startswith(prefix) and m[len(prefix):].isdigit() and int(m[len(prefix):]) >= 1:
                return kind, int(m[len(prefix):]), rad
    raise SystemExit(f"--methods: unknown method '{m}' (exact, hutchinson[-rademacher]-K, sliced[-rademacher]-K, "
                     "denoising)")


def add_grid_args(ap):
    """--dims, --hidden, --layers, --batch, --methods, --precision: the grid (defaults by device in resolve_grid)."""
    ap.add_argument("--dims", type=ints)
    ap.add_argument("--hidden", type=int)
    ap.add_argument("--layers", type=int, default=3)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--methods", type=words, default=["exact", "hutchinson-1", "hutchinson-4", "sliced-1", "denoising"])
    ap.add_argument("--precision", type=words, help="fp32, tf32 (cuda), fp64; comma list (default cuda fp32,tf32; cpu fp64)")


def add_timing_args(ap, max_seconds_help):
    """--warmup, --timing, --max-step-seconds, --max-seconds (whose help says what each script does with the rows left)."""
    ap.add_argument("--warmup", type=float, default=0.5, help="seconds of untimed steps per row")
    ap.add_argument("--timing", type=float, default=1.0, help="seconds of timed steps per row (3 to 30 steps)")
    ap.add_argument("--max-step-seconds", type=float, default=2.0)
    ap.add_argument("--max-seconds", type=float, default=float("inf"), help=max_seconds_help)


def resolve_grid(args, gpu):
    """Fills in the device-dependent defaults of the grid and checks the precisions."""
    args.dims = args.dims or ([16, 64, 256, 1024, 4096] if gpu else [2, 8, 32, 128, 512])
    args.hidden = args.hidden or (512 if gpu else 128)
    args.precision = args.precision or (["fp32", "tf32"] if gpu else ["fp64"])
    for p in args.precision:
        if p not in PRECISIONS or (p == "tf32" and not gpu):
            raise SystemExit(f"--precision {p}: allowed fp32, tf32 (cuda only), fp64")
    return args


def new_row(**columns):
    """A CSV row with the given columns; those a timed row fills (or a skip explains) start empty."""
    return dict({"ms_per_step": "", "reps": 0, "peak_bytes": "", "peak_kind": "", "skipped": "", "threads": "",
                 "blas": ""}, **columns)


def measure(args, time_step, peak, step, sync):
    """(median ms, reps, peak, peak_kind) or raises Skip. time_step() times one step in ms, peak() is (bytes, kind) of
    one step, step() runs one untimed, and sync(its last output) waits for the device after the warm-up."""
    first, second = time_step(), time_step()
    if min(first, second) / 1e3 > args.max_step_seconds:
        raise Skip(f"one step took {min(first, second) / 1e3:.1f} s > {args.max_step_seconds:.1f} s (--max-step-seconds)")
    peak_bytes, kind = peak()
    end, n = time.perf_counter() + args.warmup, 0
    out = None
    while time.perf_counter() < end and n < 200:
        out = step()
        n += 1
    sync(out)
    times = []
    end = time.perf_counter() + args.timing
    while len(times) < 3 or (time.perf_counter() < end and len(times) < 30):
        times.append(time_step())
    return statistics.median(times), len(times), peak_bytes, kind


def write_csv(path, columns, rows):
    """The rows (dicts) as a CSV file with the given columns, header first."""
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=columns)
        w.writeheader()
        w.writerows(rows)
