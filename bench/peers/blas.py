"""Which BLAS a Python peer actually runs on, and the refusal to be a CPU peer on the reference BLAS.

Debian's NumPy and PyTorch call libblas.so.3, which the alternatives system points at OpenBLAS when
libopenblas0-pthread is installed and at the unoptimised reference BLAS otherwise: a peer on the latter is several
times slower than any real user's, so the CPU peers refuse it unless told (--allow-reference-blas), and then every
row says so. threadpoolctl names the library it finds loaded; without threadpoolctl the process's mapped files tell.
"""

import os

OPTIMISED = ("openblas", "mkl", "blis")


def blas_in_use():
    """A short label of the BLAS loaded in this process, e.g. 'openblas 0.3.21 pthreads Cooperlake'."""
    try:
        from threadpoolctl import threadpool_info
        for lib in threadpool_info():
            if lib.get("user_api") == "blas":
                parts = [lib.get("internal_api"), lib.get("version"), lib.get("threading_layer"), lib.get("architecture")]
                return " ".join(str(p) for p in parts if p)
    except ImportError:
        pass
    with open("/proc/self/maps") as f:
        paths = {line.split()[-1] for line in f if "blas" in line.split()[-1].lower()}
    for p in sorted(paths):
        real = os.path.realpath(p)
        if "openblas" in real.lower():
            return "openblas " + os.path.basename(real)
    return "reference blas " + (os.path.realpath(sorted(paths)[0]) if paths else "(no blas library mapped)")


def is_optimised(label):
    return label.split(" ")[0] in OPTIMISED


def limit_threads(n):
    """A context in which the BLAS uses n threads (torch's own pool is set with torch.set_num_threads)."""
    try:
        from threadpoolctl import threadpool_limits
        return threadpool_limits(limits=n, user_api="blas")
    except ImportError:
        import contextlib
        return contextlib.nullcontext()


def checked_blas(allow_reference):
    """The BLAS label; on the reference BLAS, stops unless allowed (the label then says 'reference')."""
    label = blas_in_use()
    if not is_optimised(label) and not allow_reference:
        raise SystemExit(f"the BLAS loaded is '{label}', not an optimised one: a CPU peer on it is not a fair peer. "
                         "Install OpenBLAS (apt-get install libopenblas0-pthread python3-threadpoolctl), or pass "
                         "--allow-reference-blas to run anyway with every row labelled.")
    return label
