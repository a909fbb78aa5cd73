#!/usr/bin/env bash
# The one script to run on a GPU machine (DESIGN §5), from a bundle (native-build/bundle.sh DIR, then
# DIR/bench/gpu-check.sh) or from a checkout. Every stage runs under `timeout 470` (under 8 minutes) and appends a
# section to OUTDIR/report.md: date, GPU, launcher, the commands, exit code, wall time and the output's tail
# (the whole output is OUTDIR/logs/STAGE.log).
#
# Usage: bench/gpu-check.sh OUTDIR [STAGE...]
#   no STAGE: every stage in order, going on after a failing one; exits 1 if any failed.
#   one STAGE: exits with that stage's status (0 when it passed or was skipped).
#
# Stages:
#   info       ebm info; nvidia-smi
#   validate   ebm validate: every GPU kernel against the fp64 CPU reference (the parity table)
#   sanitizer  ebm train configs/quickstart.yaml --set backend=cuda --set train.steps=20 --out OUTDIR/sanitizer-run
#              under compute-sanitizer --tool memcheck, then ebm sample on it with --backend cuda (256 chains, 50
#              steps), also under memcheck (skipped when compute-sanitizer is not found)
#   parity     quickstart for 100 steps with backend=cpu and backend=cuda (OUTDIR/parity/{cpu,cuda}), then the
#              per-step loss of the two metrics.jsonl compared: max relative difference
#              |cuda - cpu| / max(|cpu|, mean |cpu| over the run) must be <= PARITY_TOL (default 1e-3)
#   peers      each bench/peers/*.py but the *_trace.py and *_cpu_*.py ones --out OUTDIR/peers/NAME.csv with python3 (skipped
#              unless torch imports)
#   trace-peers  bench/peers/torch_trace.py (and jax_trace.py) --out OUTDIR/peers/NAME.csv: the trace stage's
#              steps in PyTorch eager, torch.compile (and JAX jit), fp32 and TF32; no torch row starts after
#              330 s, no JAX row after 90 s more (skipped unless torch imports; the JAX peer unless jax imports)
#   trace      ebm bench trace --backend cuda at D = 16..4096, H = 512 (cost; estimator error and Fisher at budget
#              up to D = 1024, D = 4096 timing only)
#              --out OUTDIR/trace, with --peer OUTDIR/peers/NAME_trace.csv for each such file the trace-peers stage
#              wrote (it runs first for that reason)
#   trace-tf32 the trace stage's grid with --precision tf32 (TF32 GEMMs; shares against the TF32 GEMM rate), shorter
#              budget and fewer draws --out OUTDIR/trace-tf32
#   trace-large  ebm bench trace --backend cuda at D = 16384..10⁶, H = 1024, timing only (exact row-space and the
#              estimators) --out OUTDIR/trace-large
#   kernels    ebm bench kernels --backend cuda --out OUTDIR/kernels, with --peer OUTDIR/peers/torch_kernels.csv
#              when the peers stage wrote it (it runs first for that reason)
#
# The ebm launcher is the one beside bench/: DIR/ebm in a bundle, ./ebm in a checkout; EBM=PATH overrides it.
# A stage replaces its own output folder under OUTDIR when run again; report.md only grows.
# Environment: STAGE_TIMEOUT (seconds, default 470), PARITY_TOL, PYTHON (default python3), CUDA_HOME (for
# compute-sanitizer and nvidia-smi when they are not on PATH; default /usr/local/cuda).
set -uo pipefail
self="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
home="$(dirname "$(dirname "$self")")"
stages=(info validate sanitizer parity peers trace-peers trace trace-tf32 trace-large kernels)
stage_timeout="${STAGE_TIMEOUT:-470}"
tail_lines=80

usage() { sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$self"; }

ebm="${EBM:-$home/ebm}"
quickstart="$home/configs/quickstart.yaml"

say() { printf '$ %s\n' "$*"; }   # the commands, as the report shows them
run() { say "$*"; "$@"; }

find_tool() { # $1: a CUDA tool; prints its path or nothing
  if command -v "$1" >/dev/null 2>&1; then command -v "$1"; return; fi
  local d
  for d in "${CUDA_HOME:-/usr/local/cuda}/bin" "${CUDA_HOME:-/usr/local/cuda}/compute-sanitizer"; do
    [ -x "$d/$1" ] && { echo "$d/$1"; return; }
  done
}

skip() { echo "skipped: $*"; echo "$*" > "$out/logs/$current.skipped"; }

# --- stages: each runs in its own bash under timeout, with stdout+stderr going to OUTDIR/logs/STAGE.log ------------
stage_info() {
  local rc=0 smi
  run "$ebm" info || rc=$?
  smi="$(find_tool nvidia-smi)"
  if [ -n "$smi" ]; then run "$smi" || { local r=$?; [ "$rc" != 0 ] || rc=$r; }
  else echo "nvidia-smi: skipped: nvidia-smi not found"; fi
  return "$rc"
}

stage_validate() { run "$ebm" validate; }

stage_sanitizer() {
  local cs
  cs="$(find_tool compute-sanitizer)"
  [ -n "$cs" ] || { skip "compute-sanitizer not found"; return 0; }
  rm -rf "$out/sanitizer-run"
  # --error-exitcode: a memcheck error fails the stage even when the run itself exits 0.
  run "$cs" --tool memcheck --target-processes all --error-exitcode 86 \
    "$ebm" train "$quickstart" --set backend=cuda --set train.steps=20 --out "$out/sanitizer-run" || return $?
  # the device Langevin sampler (its captured step replayed) on the run just trained
  run "$cs" --tool memcheck --target-processes all --error-exitcode 86 \
    "$ebm" sample "$out/sanitizer-run" --backend cuda --n 256 --steps 50
}

# Prints "step loss" for every line of a metrics.jsonl (its keys are fixed; "loss" is matched only as a whole key,
# so val_loss is not taken for it).
loss_column() {
  awk '{
    if (match($0, /[{,]"step":[^,}]*/)) step = substr($0, RSTART + 8, RLENGTH - 8); else step = "?"
    if (match($0, /[{,]"loss":[^,}]*/)) loss = substr($0, RSTART + 8, RLENGTH - 8); else loss = "missing"
    print step, loss
  }' "$1"
}

compare_losses() { # $1 cpu metrics.jsonl, $2 cuda metrics.jsonl
  local tol="${PARITY_TOL:-1e-3}"
  say "compare the loss column of $1 and $2 (tolerance $tol)"
  awk -v tol="$tol" '
    function abs(v) { return v < 0 ? -v : v }
    function numeric(s) { return s ~ /^-?[0-9.]+([eE][-+]?[0-9]+)?$/ }
    FNR == 1 { file++ }
    file == 1 { cpu_step[++n] = $1; cpu[n] = $2; next }
    { gpu_step[++m] = $1; gpu[m] = $2 }
    END {
      if (n == 0 || m == 0) { printf "no loss values (cpu: %d steps, cuda: %d steps)\n", n, m; exit 1 }
      if (n != m) { printf "step counts differ: cpu %d, cuda %d\n", n, m; exit 1 }
      scale = 0
      for (i = 1; i <= n; i++) {
        if (cpu_step[i] != gpu_step[i]) { printf "line %d: cpu step %s, cuda step %s\n", i, cpu_step[i], gpu_step[i]; exit 1 }
        if (!numeric(cpu[i]) || !numeric(gpu[i])) { printf "step %s: loss cpu %s, cuda %s (not a number)\n", cpu_step[i], cpu[i], gpu[i]; exit 1 }
        scale += abs(cpu[i] + 0)
      }
      scale /= n
      worst = -1; worst_abs = 0; over = 0
      for (i = 1; i <= n; i++) {
        a = cpu[i] + 0; b = gpu[i] + 0; d = abs(b - a)
        den = abs(a) > scale ? abs(a) : scale
        r = den > 0 ? d / den : (d > 0 ? 1e300 : 0)
        if (r > tol) over++
        if (r > worst) { worst = r; at = i }
        if (d > worst_abs) worst_abs = d
      }
      printf "steps compared: %d; loss scale (mean |cpu loss|): %.6g\n", n, scale
      printf "max relative difference: %.3e at step %s (cpu %s, cuda %s); max absolute difference: %.3e\n", worst, cpu_step[at], cpu[at], gpu[at], worst_abs
      printf "steps over tolerance %s: %d\n", tol, over
      if (worst > tol) { print "parity: FAILED"; exit 1 }
      print "parity: passed"
    }' <(loss_column "$1") <(loss_column "$2")
}

stage_parity() {
  local rc_cpu=0 rc_gpu=0
  rm -rf "$out/parity"
  mkdir -p "$out/parity"
  run "$ebm" train "$quickstart" --set backend=cpu --set train.steps=100 --out "$out/parity/cpu" || rc_cpu=$?
  run "$ebm" train "$quickstart" --set backend=cuda --set train.steps=100 --out "$out/parity/cuda" || rc_gpu=$?
  [ "$rc_cpu" = 0 ] || { echo "the cpu run failed (exit $rc_cpu)"; return "$rc_cpu"; }
  [ "$rc_gpu" = 0 ] || { echo "the cuda run failed (exit $rc_gpu)"; return "$rc_gpu"; }
  local f
  for f in "$out/parity/cpu/metrics.jsonl" "$out/parity/cuda/metrics.jsonl"; do
    [ -s "$f" ] || { echo "$f is missing or empty"; return 1; }
  done
  compare_losses "$out/parity/cpu/metrics.jsonl" "$out/parity/cuda/metrics.jsonl"
}

stage_trace() {
  local peer=() f
  for f in "$out"/peers/*_trace.csv; do
    [ -s "$f" ] && peer+=(--peer "$f")
  done
  rm -rf "$out/trace"
  run "$ebm" bench trace --backend cuda --dims 16,64,256,1024,4096 --hidden 512 --budget 2 --draws 8 "${peer[@]}" \
    --out "$out/trace"
}

stage_trace-tf32() {
  local peer=() f
  for f in "$out"/peers/*_trace.csv; do
    [ -s "$f" ] && peer+=(--peer "$f")
  done
  rm -rf "$out/trace-tf32"
  run "$ebm" bench trace --backend cuda --precision tf32 --dims 16,64,256,1024,4096 --hidden 512 --budget 1 --draws 4 \
    "${peer[@]}" --out "$out/trace-tf32"
}

stage_trace-large() {
  rm -rf "$out/trace-large"
  run "$ebm" bench trace --backend cuda --dims 16384,65536,262144,1000000 --hidden 1024 \
    --methods exact-row-space,hutchinson-1,hutchinson-4,sliced-1,denoising --out "$out/trace-large"
}

stage_kernels() {
  local peer=()
  [ -s "$out/peers/torch_kernels.csv" ] && peer=(--peer "$out/peers/torch_kernels.csv")
  rm -rf "$out/kernels"
  run "$ebm" bench kernels --backend cuda "${peer[@]}" --out "$out/kernels"
}

have_torch() { # $1: python; skips the stage (and returns 1) unless torch imports
  command -v "$1" >/dev/null 2>&1 || { skip "$1 not found"; return 1; }
  "$1" -c 'import torch' >/dev/null 2>&1 || { skip "torch is not importable by $1"; return 1; }
  run "$1" -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())'
}

stage_peers() {
  local py="${PYTHON:-python3}" rc=0 script name
  have_torch "$py" || return 0
  mkdir -p "$out/peers"
  for script in "$home"/bench/peers/*.py; do
    [ -f "$script" ] || continue
    name="$(basename "$script" .py)"
    case "$name" in
      *_trace) continue ;;      # the trace-peers stage runs those
      *_cpu_*) continue ;;      # CPU peers (bench step's) measure the host, not the GPU
    esac
    rm -f "$out/peers/$name.csv"
    run "$py" "$script" --out "$out/peers/$name.csv" || { local r=$?; [ "$rc" != 0 ] || rc=$r; }
  done
  return "$rc"
}

stage_trace-peers() {
  local py="${PYTHON:-python3}" rc=0
  have_torch "$py" || return 0
  mkdir -p "$out/peers"
  rm -f "$out/peers/torch_trace.csv" "$out/peers/jax_trace.csv"
  # the trace stage's grid (the script's GPU defaults); rows past the budget are written as skipped
  run "$py" "$home/bench/peers/torch_trace.py" --max-seconds 330 --out "$out/peers/torch_trace.csv" || rc=$?
  if [ -f "$home/bench/peers/jax_trace.py" ]; then
    if "$py" -c 'import jax' >/dev/null 2>&1; then
      run "$py" "$home/bench/peers/jax_trace.py" --max-seconds 90 --out "$out/peers/jax_trace.csv" || { local r=$?; [ "$rc" != 0 ] || rc=$r; }
    else
      echo "jax_trace.py: skipped: jax is not importable by $py"
    fi
  fi
  return "$rc"
}

# --- one stage, inside the timeout (internal entry point) -------------------------------------------------------
if [ "${1:-}" = "--run-stage" ]; then
  current="$2"; out="$3"
  cd "$home" || exit 2
  "stage_$current"
  exit $?
fi

# --- the driver -------------------------------------------------------------------------------------------------
case "${1:-}" in
  -h|--help) usage; exit 0 ;;
  ""|-*) usage >&2; exit 2 ;;
esac
mkdir -p "$1/logs" || exit 2
out="$(cd "$1" && pwd)"
shift
selected=("$@")
[ ${#selected[@]} -gt 0 ] || selected=("${stages[@]}")
for s in "${selected[@]}"; do
  [[ " ${stages[*]} " == *" $s "* ]] || { echo "gpu-check.sh: unknown stage '$s' (stages: ${stages[*]})" >&2; exit 2; }
done

gpu="none (nvidia-smi not found)"
smi="$(find_tool nvidia-smi)"
if [ -n "$smi" ]; then
  gpu="$("$smi" --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -n 1)" || true
fi
report="$out/report.md"
[ -f "$report" ] || printf '# GPU check\n\nWritten by bench/gpu-check.sh; one section per stage run, newest last.\n' > "$report"

failed=()
last_rc=0
for current in "${selected[@]}"; do
  log="$out/logs/$current.log"
  rm -f "$out/logs/$current.skipped"
  echo "== $current (log: $log)"
  start="$(date +%s)"
  started="$(date '+%Y-%m-%d %H:%M:%S %Z')"
  timeout --kill-after=30 "$stage_timeout" bash "$self" --run-stage "$current" "$out" > "$log" 2>&1
  rc=$?
  wall=$(( $(date +%s) - start ))
  if [ "$rc" = 0 ] && [ -f "$out/logs/$current.skipped" ]; then status="skipped: $(cat "$out/logs/$current.skipped")"
  elif [ "$rc" = 0 ]; then status="passed"
  elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then status="FAILED: timed out after ${stage_timeout} s"
  else status="FAILED"; fi
  [ "$rc" = 0 ] || failed+=("$current")
  last_rc=$rc
  {
    printf '\n## %s: %s\n\n' "$current" "$status"
    printf -- '- date: %s\n- GPU: %s\n- launcher: %s\n- exit code: %s\n- wall time: %s s\n\n' \
      "$started" "$gpu" "$ebm" "$rc" "$wall"
    printf 'Commands:\n\n````\n'
    grep '^\$ ' "$log" || echo "(none)"
    printf '````\n\nOutput (last %s lines of logs/%s.log):\n\n````\n' "$tail_lines" "$current"
    tail -n "$tail_lines" "$log"
    printf '````\n'
  } >> "$report"
  echo "   $status (exit $rc, ${wall} s)"
done

echo "report: $report"
if [ ${#selected[@]} -eq 1 ]; then exit "$last_rc"; fi
if [ ${#failed[@]} -gt 0 ]; then echo "failed stages: ${failed[*]}"; exit 1; fi
exit 0
