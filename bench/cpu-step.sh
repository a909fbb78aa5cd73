#!/usr/bin/env bash
# The CPU training-step benchmark against its fair peer, in one run on one machine: the BLAS's dgemm rate at 1024³
# and at the step's own GEMM shapes (bench/peers/numpy_dgemm.py), the same steps in PyTorch fp64 on the CPU with
# every variant it has and 1 and all threads (bench/peers/torch_trace.py), then ebm's rows beside them
# (ebm bench step --peer ... --limit ...). Both peers refuse the unoptimised reference BLAS.
#
# Usage: bench/cpu-step.sh OUT [ebm bench step options, e.g. --rounds 2]
#   Writes OUT/dgemm.csv, OUT/peer-torch-h128.csv, OUT/peer-torch-h256.csv, OUT/results.csv and OUT/report.md.
#   The peers run with EBM_PEER_PYTHON (default /usr/bin/python3: Debian's python3-torch, python3-numpy,
#   python3-threadpoolctl and libopenblas0-pthread). Shapes are the bench's defaults (2x128x3, 64x256x3, 512x128x3).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:?usage: bench/cpu-step.sh OUT [ebm bench step options]}"
shift
python="${EBM_PEER_PYTHON:-/usr/bin/python3}"
if ! missing="$("$python" -c 'import importlib.util as u; print(" ".join(m for m in ("torch", "numpy") if u.find_spec(m) is None))' 2>&1)"; then
  echo "bench/cpu-step.sh: cannot run $python: $missing" >&2; exit 2
fi
if [ -n "$missing" ]; then
  echo "bench/cpu-step.sh: $python has no $missing; install the peers with: apt-get install python3-torch python3-numpy python3-threadpoolctl libopenblas0-pthread" >&2
  exit 2
fi
mkdir -p "$out"
shapes="$("$root/ebm" bench step --gemm-shapes "$@" 2>/dev/null | tail -n 1)"
echo "== dgemm at $shapes"
"$python" "$root/bench/peers/numpy_dgemm.py" --shapes "$shapes" --out "$out/dgemm.csv"
methods=exact,hutchinson-1,sliced-1,denoising
echo "== torch, H = 128 (D = 2, 512)"
"$python" "$root/bench/peers/torch_trace.py" --device cpu --dims 2,512 --hidden 128 --layers 3 --methods "$methods" \
  --variants eager --max-step-seconds 6 --out "$out/peer-torch-h128.csv"
echo "== torch, H = 256 (D = 64)"
"$python" "$root/bench/peers/torch_trace.py" --device cpu --dims 64 --hidden 256 --layers 3 --methods "$methods" \
  --variants eager --max-step-seconds 6 --out "$out/peer-torch-h256.csv"
echo "== ebm"
"$root/ebm" bench step --peer "$out/peer-torch-h128.csv" --peer "$out/peer-torch-h256.csv" --limit "$out/dgemm.csv" \
  --out "$out" "$@"
