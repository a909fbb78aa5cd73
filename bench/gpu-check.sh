#!/usr/bin/env bash
# The one script to run on a GPU machine, from a bundle (native-build/bundle.sh DIR, then DIR/bench/gpu-check.sh)
# or from a checkout. One call runs every stage within a total time budget (GPU_CHECK_BUDGET, default 360 s): the
# correctness stages first (their caps add up to 180 s), then the benchmarks at grids trimmed to the time left,
# leaving GPU_CHECK_RESERVE (default 60 s) of the budget unused for stages still to come.
#
# Usage: bench/gpu-check.sh [--emulated] OUT [STAGE...]
#   no STAGE: every stage in order, going on after a failing one; exits 1 if any failed.
#   STAGE...: only those (their earlier results, kept in the work folder or in OUT/logs.tar.gz, stay in the report);
#             exits 1 if one failed.
#   --emulated: the same stages through backend cuda-emulated (the CUDA code path through its host build) at small
#             sizes, on a machine without a GPU; what needs a GPU (nvidia-smi, compute-sanitizer, the GPU peers) is
#             reported as skipped.
#
# Stages, in order (cap: the stage's time limit, from the budget and what is left of it):
#   info       ebm info (which libcuda.so.1 and libcublas.so.13 were found: in the report) and nvidia-smi; cap 20 s
#   validate   ebm validate (--emulated: ebm validate --emulated): every kernel against the fp64 CPU reference;
#              the report says "validate: N of M checks passed"; cap 60 s
#   parity     quickstart for PARITY_STEPS (default 100) steps with backend cpu and backend cuda (cuda-emulated),
#              then the per-step loss compared: max relative difference |cuda - cpu| / max(|cpu|, mean |cpu|)
#              must be <= PARITY_TOL (default 1e-3); cap 45 s
#   sanitizer  compute-sanitizer --tool memcheck around ebm train configs/quickstart.yaml --set backend=cuda
#              (10 steps), then around ebm sample on that run --backend cuda (256 chains, 20 steps); skipped without
#              compute-sanitizer (--emulated: the two commands run through cuda-emulated, the stage says skipped);
#              cap 55 s
#   peers      bench/peers/torch_kernels.py on the GPU at the shapes the kernels stage is expected to run (skipped
#              unless torch imports and sees a GPU)
#   trace-peers  bench/peers/torch_trace.py (and jax_trace.py when jax imports and has a GPU) on the trace stage's
#              grid, with a --max-seconds inside the stage's cap
#   trace      ebm bench trace --backend cuda, H = 512, D up to 1024 (cost, estimator error, Fisher at budget), with
#              --peer for each trace peer CSV written above
#   kernels    ebm bench kernels --backend cuda, with --peer for the torch_kernels CSV
#   trace-large  ebm bench trace --backend cuda, H = 1024, D = 16384 ... 10^6 (timing only)
#   trace-tf32 the trace grid with --precision tf32
# The benchmark stages share what is left of the budget before the reserve (weights peers 20, trace-peers 30,
# trace 60, kernels 40, trace-large 55, trace-tf32 20; a stage that ends early leaves its time to the later ones)
# and each picks the largest of its grids whose estimated time fits its cap; below the smallest it is skipped,
# saying so. The estimates are not yet measured on a GPU.
#
# OUT gets at most 8 files and no folders (rewritten after every stage, so a run cut short still leaves them):
#   report.md      the stages: status, exit code, wall time, cap, grid, commands, the tail of each log
#   results.csv    one row per stage: stage, status, exit code, wall and cap seconds, grid, detail
#   benchmarks.md  the report.md of each benchmark stage that wrote one
#   trace.csv      the results.csv rows of the trace, trace-large and trace-tf32 stages (a stage column first)
#   kernels.csv    the kernels stage's results.csv
#   logs.tar.gz    the work folder: logs/STAGE.log, status/, and every stage's output folder (parity/, trace/, ...)
# Stages write into a work folder outside OUT: GPU_CHECK_WORK (kept; a full run empties it first), else a temporary
# folder removed at the end. A run of named stages starts from OUT/logs.tar.gz when the work folder has no earlier
# run in it, so the report keeps the other stages' results.
#
# The ebm launcher is the one beside bench/: DIR/ebm in a bundle, ./ebm in a checkout; EBM=PATH overrides it.
# Environment: GPU_CHECK_BUDGET (seconds, default 360), GPU_CHECK_RESERVE (seconds, default 60), GPU_CHECK_WORK,
# PARITY_TOL, PARITY_STEPS, PYTHON (default /opt/torch/.venv/bin/python when it exists, else python3), CUDA_HOME
# (for compute-sanitizer and nvidia-smi when they are not on PATH; default /usr/local/cuda).
set -uo pipefail
self="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
home="$(dirname "$(dirname "$self")")"
stages=(info validate parity sanitizer peers trace-peers trace kernels trace-large trace-tf32)
correctness=(info validate parity sanitizer)
published=(report.md results.csv benchmarks.md trace.csv kernels.csv logs.tar.gz)
tail_lines=60
max_out_files=8

usage() { sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$self"; }
die() { echo "gpu-check.sh: $*" >&2; exit 2; }

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

default_python() {
  if [ -n "${PYTHON:-}" ]; then echo "$PYTHON"
  elif [ -x /opt/torch/.venv/bin/python ]; then echo /opt/torch/.venv/bin/python
  else echo python3; fi
}

whole() { [[ "$1" =~ ^[0-9]+$ ]]; }

# --- stage budget: caps, weights, grids -------------------------------------------------------------------------
nominal_cap() { # correctness stages: their own caps (seconds)
  case "$1" in info) echo 20 ;; validate) echo 60 ;; parity) echo 45 ;; sanitizer) echo 55 ;; *) echo 0 ;; esac
}
weight() { # benchmark stages: their share of the time left
  case "$1" in peers) echo 20 ;; trace-peers) echo 30 ;; trace) echo 60 ;; kernels) echo 40 ;;
    trace-large) echo 55 ;; trace-tf32) echo 20 ;; *) echo 0 ;; esac
}
is_correctness() { [[ " ${correctness[*]} " == *" $1 "* ]]; }

# The smallest cap (seconds) each grid of a stage needs, largest grid first: "tier:seconds ...". The emulated
# rehearsal has one small grid per stage.
tiers() { # $1 stage, $2 mode
  if [ "$2" = emulated ]; then
    case "$1" in info|validate|parity|sanitizer) echo "1:5" ;; peers|trace-peers) echo "1:5" ;; *) echo "1:10" ;; esac
    return
  fi
  case "$1" in
    trace) echo "1:100 2:55 3:25" ;;
    trace-tf32) echo "1:100 2:55 3:20" ;;
    kernels) echo "1:90 2:45 3:20" ;;
    trace-large) echo "1:100 2:60 3:50 4:25" ;;
    trace-peers) echo "1:70 2:25 3:12" ;;
    peers) echo "1:15" ;;
    *) echo "1:5" ;;
  esac
}
pick_tier() { # $1 stage, $2 mode, $3 cap: prints the largest grid that fits, or 0
  local t
  for t in $(tiers "$1" "$2"); do
    [ "$3" -ge "${t#*:}" ] && { echo "${t%%:*}"; return; }
  done
  echo 0
}
min_cap() { local t; t="$(tiers "$1" "$2")"; t="${t##* }"; echo "${t#*:}"; }

# Grids. Trace stages use --quick's timing (0.3 s warm-up, 0.3 s of timed steps, 256 held-out points) with the
# shapes given explicitly. Estimated wall times on an H200 host (16 cores), not yet measured: trace 1/2/3 about
# 75/40/18 s (making the D = 1024 mixture and its fp64 reference is ~15 s of it); kernels 1 (the GPU defaults)
# 60-80 s, 2 about 30 s, 3 about 10 s; trace-large at D = 10^6 about 25 s of host set-up (10^9 fp64 parameters
# and a 256 x 10^6 batch) plus ~5 s per method.
trace_methods() { # $1 tier: ebm's methods
  case "$1" in
    1) echo exact-per-dimension,exact-row-space,hutchinson-1,hutchinson-4,sliced-1,denoising ;;
    2) echo exact-row-space,hutchinson-1,sliced-1,denoising ;;
    *) echo exact-row-space,hutchinson-1,denoising ;;
  esac
}
trace_dims() { case "$1" in 1) echo 16,64,256,1024 ;; 2) echo 16,256,1024 ;; *) echo 16,256 ;; esac; }
trace_args() { # $1 mode, $2 tier
  if [ "$1" = emulated ]; then
    echo "--quick --dims 4,8 --hidden 16 --layers 2 --batch 32 --methods exact-row-space,hutchinson-1,denoising --budget 0.2 --draws 2"
    return
  fi
  local budget draws
  case "$2" in 1) budget=1 draws=4 ;; 2) budget=0.5 draws=3 ;; *) budget=0.5 draws=2 ;; esac
  echo "--quick --dims $(trace_dims "$2") --hidden 512 --layers 3 --batch 256 --methods $(trace_methods "$2") --budget $budget --draws $draws --max-step-seconds 1"
}
tf32_args() {
  if [ "$1" = emulated ]; then
    echo "--precision tf32 --quick --dims 4 --hidden 16 --layers 2 --batch 32 --methods exact-row-space,hutchinson-1 --budget 0.2 --draws 2"
  elif [ "$2" = 3 ]; then
    echo "--precision tf32 --quick --dims 16,256 --hidden 512 --layers 3 --batch 256 --methods exact-row-space,hutchinson-1 --budget 0.3 --draws 2 --max-step-seconds 1"
  else
    echo "--precision tf32 $(trace_args gpu "$2")"
  fi
}
large_args() {
  if [ "$1" = emulated ]; then
    echo "--quick --dims 1100 --hidden 16 --layers 2 --batch 16 --methods exact-row-space,hutchinson-1"
    return
  fi
  local dims methods
  case "$2" in
    1) dims=16384,65536,262144,1000000 methods=exact-row-space,hutchinson-1,hutchinson-4,sliced-1,denoising ;;
    2) dims=16384,1000000 methods=exact-row-space,hutchinson-1,denoising ;;
    3) dims=1000000 methods=exact-row-space,hutchinson-1 ;;
    *) dims=262144 methods=exact-row-space,hutchinson-1 ;;
  esac
  echo "--quick --dims $dims --hidden 1024 --layers 3 --batch 256 --methods $methods --max-step-seconds 2"
}
kernels_args() {
  if [ "$1" = emulated ]; then echo "--quick"; return; fi
  case "$2" in
    1) echo "" ;;   # the GPU defaults: AdamW 1M,16M,256M; Muon n 1024,4096,8192; MLP D 16..1024; fp32, tf32, bf16
    2) echo "--sizes 1M,16M,64M --ns-sizes 1024,2048,4096 --dims 16,256,1024 --warmup 3 --repeats 10" ;;
    *) echo "--quick" ;;
  esac
}
torch_kernels_args() { # the torch peer at the kernels grid's AdamW and Muon shapes
  case "$1" in
    1) echo "" ;;
    2) echo "--sizes 1048576,16777216,67108864 --ns-sizes 1024,2048,4096 --warmup 3 --repeats 10" ;;
    *) echo "--sizes 65536,1048576 --ns-sizes 256,1024 --warmup 3 --repeats 10" ;;
  esac
}

# --- GPU presence (GPU mode) --------------------------------------------------------------------------------------
# ebm info lists "gpu N:" lines when the driver reports a device. Neither ebm nor nvidia-smi seeing one: no GPU, the
# GPU stages are skipped. nvidia-smi listing one that ebm does not see: an error to fix (libcuda not found, say),
# so those stages fail.
gpu_state_of() { # $1: file holding ebm info's output; prints "ready", "none REASON" or "mismatch REASON"
  local smi listed=0 reason
  smi="$(find_tool nvidia-smi)"
  if [ -n "$smi" ] && "$smi" -L 2>/dev/null | grep -q '^GPU [0-9]'; then listed=1; fi
  if grep -q '^gpu [0-9][0-9]*:' "$1"; then echo ready; return; fi
  reason="$(sed -n 's/^gpu backend: *//p' "$1" | head -n 1)"
  [ -n "$reason" ] || reason="ebm info printed no gpu lines: $(tail -n 1 "$1")"
  if [ "$listed" = 1 ]; then echo "mismatch nvidia-smi lists a GPU but ebm finds none ($reason)"
  else echo "none no GPU (ebm info: $reason; nvidia-smi: ${smi:-not found})"; fi
}
gpu_state() { # cached in $work/gpu-state for this call (the driver clears it); runs ebm info when info has not
  if [ ! -s "$work/gpu-state" ]; then
    "$ebm" info > "$work/gpu-probe.txt" 2>&1
    gpu_state_of "$work/gpu-probe.txt" > "$work/gpu-state"
  fi
  cat "$work/gpu-state"
}

skip() { echo "skipped: $*"; printf '%s\n' "$*" > "$work/status/$current.skip"; }
note_grid() { printf '%s\n' "$*" > "$work/status/$current.grid"; }

# Returns 0 when the stage should go on: GPU mode with a GPU; skips (returns 1 with status 0 written) without one;
# fails (exit 3) when nvidia-smi sees a GPU that ebm does not.
need_gpu() {
  local state
  state="$(gpu_state)"
  case "$state" in
    ready) return 0 ;;
    none*) skip "${state#none }"; return 1 ;;
    *) echo "FAILED: ${state#mismatch }"; exit 3 ;;
  esac
}

# --- stages: each runs in its own bash under timeout, stdout+stderr going to WORK/logs/STAGE.log -----------------
stage_info() {
  local rc=0 smi
  run "$ebm" info 2>&1 | tee "$work/info.txt"
  rc=${PIPESTATUS[0]}
  [ "$mode" = emulated ] || gpu_state_of "$work/info.txt" > "$work/gpu-state"
  if [ "$mode" = emulated ]; then
    echo "nvidia-smi: skipped (--emulated: no GPU needed)"
    return "$rc"
  fi
  smi="$(find_tool nvidia-smi)"
  if [ -n "$smi" ]; then
    run "$smi" || { local r=$?; [ "$rc" != 0 ] || rc=$r; }
    run "$smi" --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader || true
  else
    echo "nvidia-smi: not found (not on PATH, not in \$CUDA_HOME/bin)"
  fi
  [ "$rc" = 0 ] || return "$rc"
  need_gpu || return 0
}

stage_validate() {
  if [ "$mode" = emulated ]; then run "$ebm" validate --emulated; return; fi
  # without a GPU ebm validate still runs: it lists every check as skipped
  local state
  state="$(gpu_state)"
  case "$state" in mismatch*) echo "FAILED: ${state#mismatch }"; exit 3 ;; esac
  run "$ebm" validate || return $?
  case "$state" in none*) skip "${state#none }" ;; esac
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

compare_losses() { # $1 cpu metrics.jsonl, $2 device metrics.jsonl; writes the parity verdict line
  local tol="${PARITY_TOL:-1e-3}"
  say "compare the loss column of $1 and $2 (tolerance $tol)"
  awk -v tol="$tol" -v verdict="$work/status/parity.verdict" '
    function abs(v) { return v < 0 ? -v : v }
    function numeric(s) { return s ~ /^-?[0-9.]+([eE][-+]?[0-9]+)?$/ }
    function fail(why) { print why; printf "parity: FAILED (%s)\n", why > verdict; exit 1 }
    FNR == 1 { file++ }
    file == 1 { cpu_step[++n] = $1; cpu[n] = $2; next }
    { gpu_step[++m] = $1; gpu[m] = $2 }
    END {
      if (n == 0 || m == 0) fail(sprintf("no loss values (cpu: %d steps, device: %d steps)", n, m))
      if (n != m) fail(sprintf("step counts differ: cpu %d, device %d", n, m))
      scale = 0
      for (i = 1; i <= n; i++) {
        if (cpu_step[i] != gpu_step[i]) fail(sprintf("line %d: cpu step %s, device step %s", i, cpu_step[i], gpu_step[i]))
        if (!numeric(cpu[i]) || !numeric(gpu[i])) fail(sprintf("step %s: loss cpu %s, device %s (not a number)", cpu_step[i], cpu[i], gpu[i]))
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
      printf "max relative difference: %.3e at step %s (cpu %s, device %s); max absolute difference: %.3e\n", worst, cpu_step[at], cpu[at], gpu[at], worst_abs
      printf "steps over tolerance %s: %d\n", tol, over
      if (worst > tol) {
        print "parity: FAILED"
        printf "parity: FAILED (max rel diff %.3e > %s at step %s; %d of %d steps over)\n", worst, tol, cpu_step[at], over, n > verdict
        exit 1
      }
      print "parity: passed"
      printf "parity: passed (max rel diff %.3e <= %s)\n", worst, tol > verdict
    }' <(loss_column "$1") <(loss_column "$2")
}

stage_parity() {
  local rc_cpu=0 rc_dev=0 device=cuda steps="${PARITY_STEPS:-100}"
  if [ "$mode" = emulated ]; then device=cuda-emulated; else need_gpu || return 0; fi
  rm -rf "$work/parity"
  mkdir -p "$work/parity"
  note_grid "configs/quickstart.yaml, $steps steps, backend cpu vs $device"
  local warmup=$(( steps < 50 ? steps : 50 )) # the quickstart's warm-up, cut to a shorter run (it may not exceed the steps)
  run "$ebm" train "$quickstart" --set backend=cpu --set "train.steps=$steps" --set "train.warmup=$warmup" --out "$work/parity/cpu" || rc_cpu=$?
  run "$ebm" train "$quickstart" --set "backend=$device" --set "train.steps=$steps" --set "train.warmup=$warmup" --out "$work/parity/$device" || rc_dev=$?
  [ "$rc_cpu" = 0 ] || { echo "parity: FAILED (the cpu run failed, exit $rc_cpu)" > "$work/status/parity.verdict"; return "$rc_cpu"; }
  [ "$rc_dev" = 0 ] || { echo "parity: FAILED (the $device run failed, exit $rc_dev)" > "$work/status/parity.verdict"; return "$rc_dev"; }
  local f
  for f in "$work/parity/cpu/metrics.jsonl" "$work/parity/$device/metrics.jsonl"; do
    [ -s "$f" ] || { echo "$f is missing or empty"; echo "parity: FAILED (${f#"$work"/} is missing or empty)" > "$work/status/parity.verdict"; return 1; }
  done
  compare_losses "$work/parity/cpu/metrics.jsonl" "$work/parity/$device/metrics.jsonl"
}

stage_sanitizer() {
  local cs train_cap run_dir="$work/sanitizer-run"
  rm -rf "$run_dir"
  if [ "$mode" = emulated ]; then
    # compute-sanitizer needs a GPU; the two commands it wraps still run, through the host build
    note_grid "train 10 steps, sample 64 chains x 10 steps, backend cuda-emulated, no memcheck"
    run "$ebm" train "$quickstart" --set backend=cuda-emulated --set train.steps=10 --set train.warmup=5 --out "$run_dir" || return $?
    run "$ebm" sample "$run_dir" --backend cuda-emulated --n 64 --steps 10 || return $?
    skip "compute-sanitizer needs a GPU (--emulated); the train and sample commands it wraps passed through cuda-emulated"
    return 0
  fi
  need_gpu || return 0
  cs="$(find_tool compute-sanitizer)"
  [ -n "$cs" ] || { skip "compute-sanitizer not found"; return 0; }
  note_grid "memcheck: train 10 steps, then sample 256 chains x 20 steps, backend cuda"
  train_cap=$(( $(stage_left) * 3 / 5 ))
  # --error-exitcode: a memcheck error fails the stage even when the run itself exits 0.
  run timeout --kill-after=3 "$train_cap" "$cs" --tool memcheck --target-processes all --error-exitcode 86 --print-limit 50 \
    "$ebm" train "$quickstart" --set backend=cuda --set train.steps=10 --set train.warmup=5 --out "$run_dir" ||
    { local r=$?; [ "$r" != 124 ] || echo "the training run under memcheck passed its $train_cap s (3/5 of the cap)"; return "$r"; }
  # the device Langevin sampler (its captured step replayed) on the run just trained
  run "$cs" --tool memcheck --target-processes all --error-exitcode 86 --print-limit 50 \
    "$ebm" sample "$run_dir" --backend cuda --n 256 --steps 20
}

# $1: python; returns 0 when torch imports and sees a GPU, else skips the stage (status 0) and returns 1
torch_gpu() {
  local rc=0 said
  command -v "$1" >/dev/null 2>&1 || { skip "$1 not found"; return 1; }
  say "$1 -c 'import torch; print(versions); exit 3 unless torch.cuda.is_available()'"
  said="$("$1" -c 'import sys
try:
    import torch
except Exception as e:
    print(type(e).__name__ + ": " + str(e)); sys.exit(4)
print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())
sys.exit(0 if torch.cuda.is_available() else 3)' 2>&1)" || rc=$?
  printf '%s\n' "$said"
  case "$rc" in
    0) return 0 ;;
    3) skip "torch (by $1) sees no GPU: torch.cuda.is_available() is false"; return 1 ;;
    *) skip "torch is not importable by $1 ($(printf '%s' "$said" | tail -n 1))"; return 1 ;;
  esac
}

stage_left() { echo $(( STAGE_DEADLINE - $(date +%s) )); } # seconds until the stage's own timeout

stage_peers() {
  local py rc=0 tier="${PLAN_KERNELS_TIER:-3}"
  if [ "$mode" = emulated ]; then skip "the GPU peers need a GPU (--emulated)"; return 0; fi
  need_gpu || return 0
  py="$(default_python)"
  torch_gpu "$py" || return 0
  mkdir -p "$work/peers"
  note_grid "torch_kernels.py at the kernels grid $tier: $(torch_kernels_args "$tier")"
  # the GPU's peer for the kernel families; the trace peers have their own stage, the CPU peers (bench/cpu-step.sh)
  # measure the host, not the GPU
  local extra=()
  read -r -a extra <<< "$(torch_kernels_args "$tier")"
  rm -f "$work/peers/torch_kernels.csv"
  run "$py" "$home/bench/peers/torch_kernels.py" --device cuda "${extra[@]}" --out "$work/peers/torch_kernels.csv" || rc=$?
  return "$rc"
}

stage_trace-peers() {
  local py jpy="" rc=0 tier="${PLAN_TRACE_TIER:-3}" precisions=fp32 variants=eager torch_cap jax_cap
  if [ "$mode" = emulated ]; then skip "the GPU peers need a GPU (--emulated)"; return 0; fi
  need_gpu || return 0
  py="$(default_python)"
  torch_gpu "$py" || return 0
  mkdir -p "$work/peers"
  rm -f "$work/peers/torch_trace.csv" "$work/peers/jax_trace.csv" "$work/peers/torch_trace.rows"
  [ "${PLAN_TF32_TIER:-0}" != 0 ] && precisions=fp32,tf32
  [ "$STAGE_TIER" = 1 ] && variants=eager,compile
  local dims methods
  dims="$(trace_dims "$tier")"
  [ "$STAGE_TIER" = 3 ] && dims="${dims%%,*},$(echo "$dims" | cut -d, -f2)"
  methods="$(trace_methods "$tier" | sed 's/exact-per-dimension,//; s/exact-row-space/exact/')"
  for c in "$py" python3; do
    if "$c" -c 'import sys, jax; sys.exit(0 if jax.default_backend() == "gpu" else 3)' >/dev/null 2>&1; then jpy="$c"; break; fi
  done
  # A timeout inside the stage's own puts its command in a process group of its own, out of the stage timeout's
  # reach: so the inner limits end before the stage's.
  local left
  left=$(( $(stage_left) - 4 ))
  if [ -n "$jpy" ]; then torch_cap=$(( left * 13 / 20 )); else torch_cap=$left; fi
  [ "$torch_cap" -ge 5 ] || { skip "only $left s of the stage were left after the checks"; return 0; }
  note_grid "dims $dims, H 512, methods $methods, $precisions, variants $variants; torch ${torch_cap} s${jpy:+, then jax}"
  # Rows that would start after --max-seconds are written as skipped; the rest of the cap is for the last ones.
  say "timeout $torch_cap $py $home/bench/peers/torch_trace.py --device cuda --dims $dims --hidden 512 --layers 3 --batch 256 --methods $methods --precision $precisions --variants $variants --warmup 0.3 --timing 0.3 --max-step-seconds 1 --max-seconds $(( torch_cap * 3 / 5 )) --out $work/peers/torch_trace.csv"
  timeout --kill-after=3 "$torch_cap" "$py" "$home/bench/peers/torch_trace.py" --device cuda --dims "$dims" --hidden 512 \
    --layers 3 --batch 256 --methods "$methods" --precision "$precisions" --variants "$variants" --warmup 0.3 --timing 0.3 \
    --max-step-seconds 1 --max-seconds $(( torch_cap * 3 / 5 )) --out "$work/peers/torch_trace.csv" | tee "$work/peers/torch_trace.rows"
  rc=${PIPESTATUS[0]}
  if [ ! -s "$work/peers/torch_trace.csv" ] && { [ "$rc" = 124 ] || [ "$rc" = 137 ]; }; then
    # cut off: the script prints every row as a CSV line as it goes (the file is written at the end)
    { echo "method,D,H,layers,batch,backend,variant,device,precision,ms_per_step,reps,peak_bytes,peak_kind,check,skipped"
      awk -F, 'NF == 15 && $2 ~ /^[0-9]+$/' "$work/peers/torch_trace.rows"; } > "$work/peers/torch_trace.csv"
    echo "torch_trace.py was cut off at $torch_cap s; torch_trace.csv rebuilt from the $(( $(wc -l < "$work/peers/torch_trace.csv") - 1 )) rows it printed"
    rc=0
  fi
  jax_cap=$(( $(stage_left) - 4 ))
  if [ -z "$jpy" ]; then
    echo "jax_trace.py: skipped: jax is not importable with a GPU backend by $py or python3"
  elif [ "$jax_cap" -lt 10 ]; then
    echo "jax_trace.py: skipped: $jax_cap s left in the stage"
  else
    run timeout --kill-after=3 "$jax_cap" "$jpy" "$home/bench/peers/jax_trace.py" --device cuda --dims "$dims" --hidden 512 \
      --layers 3 --batch 256 --methods "$methods" --precision "$precisions" --warmup 0.3 --timing 0.3 --max-step-seconds 1 \
      --max-seconds $(( jax_cap * 3 / 5 )) --out "$work/peers/jax_trace.csv" || { local r=$?; [ "$rc" != 0 ] || rc=$r; }
  fi
  return "$rc"
}

backend() { [ "$mode" = emulated ] && echo cuda-emulated || echo cuda; }

trace_peer_args() { # prints --peer FILE for each trace peer CSV, one word a line
  local f
  for f in "$work"/peers/*_trace.csv; do
    [ -s "$f" ] && printf -- '--peer\n%s\n' "$f"
  done
}

bench_trace() { # $1 folder name, $2 grid arguments
  local args=() peer=()
  [ "$mode" = emulated ] || need_gpu || return 0
  read -r -a args <<< "$2"
  mapfile -t peer < <(trace_peer_args)
  rm -rf "${work:?}/$1"
  note_grid "$2"
  run "$ebm" bench trace --backend "$(backend)" "${args[@]}" "${peer[@]}" --out "$work/$1"
}

stage_trace() { bench_trace trace "$(trace_args "$mode" "$STAGE_TIER")"; }
stage_trace-tf32() { bench_trace trace-tf32 "$(tf32_args "$mode" "$STAGE_TIER")"; }
stage_trace-large() { bench_trace trace-large "$(large_args "$mode" "$STAGE_TIER")"; }

stage_kernels() {
  local args=() peer=()
  [ "$mode" = emulated ] || need_gpu || return 0
  read -r -a args <<< "$(kernels_args "$mode" "$STAGE_TIER")"
  [ -s "$work/peers/torch_kernels.csv" ] && peer=(--peer "$work/peers/torch_kernels.csv")
  rm -rf "$work/kernels"
  note_grid "${args[*]:-the GPU defaults}"
  run "$ebm" bench kernels --backend "$(backend)" "${args[@]}" "${peer[@]}" --out "$work/kernels"
}

# --- one stage, inside the timeout (internal entry point) -------------------------------------------------------
if [ "${1:-}" = "--run-stage" ]; then
  current="$2"; work="$3"; mode="$4"
  cd "$home" || exit 2
  "stage_$current"
  exit $?
fi

# --- the report -------------------------------------------------------------------------------------------------
# The status files are read once per report into F["STAGE.key"] (bash builtins only: a report costs a few forks).
declare -A F
load_status() {
  local s line
  F=()
  for s in "${stages[@]}"; do
    [ -f "$work/status/$s" ] || continue
    while IFS= read -r line || [ -n "$line" ]; do F["$s.${line%%=*}"]="${line#*=}"; done < "$work/status/$s"
  done
}
csv_quote() { local s="${1//\"/\"\"}"; printf '"%s"' "$s"; }
declare -A I
load_info() { # the key: value lines of ebm info's output, as the info stage saved it
  local line key
  I=()
  [ -f "$work/info.txt" ] || return 0
  while IFS= read -r line || [ -n "$line" ]; do
    [[ "$line" == *:* ]] || continue
    key="${line%%:*}"
    [ -n "${I[$key]+set}" ] && continue
    line="${line#*:}"; line="${line#"${line%%[! ]*}"}"
    I["$key"]="$line"
  done < "$work/info.txt"
}

validate_line() {
  local count=""
  case "${F[validate.status]:-}" in
    "") echo "validate: skipped (not run yet)" ;;
    running) echo "validate: skipped (running when this report was written)" ;;
    passed|FAILED)
      [ -f "$work/logs/validate.log" ] && count="$(grep -E '^[0-9]+ of [0-9]+ checks passed$' "$work/logs/validate.log" | tail -n 1)"
      if [ -n "$count" ]; then echo "validate: $count"; else echo "validate: FAILED (${F[validate.detail]:-})"; fi ;;
    *) echo "validate: skipped (${F[validate.detail]:-})" ;;
  esac
}

parity_line() {
  local verdict=""
  [ -s "$work/status/parity.verdict" ] && IFS= read -r verdict < "$work/status/parity.verdict"
  case "${F[parity.status]:-}" in
    "") echo "parity: skipped (not run yet)" ;;
    running) echo "parity: skipped (running when this report was written)" ;;
    skipped) echo "parity: skipped (${F[parity.detail]:-})" ;;
    passed) echo "${verdict:-parity: FAILED (no verdict)}" ;;
    *) if [[ "$verdict" == "parity: FAILED"* ]]; then echo "$verdict"; else echo "parity: FAILED (${F[parity.detail]:-})"; fi ;;
  esac
}

status_of() { # $1 stage: sets ST to "passed (detail)", "FAILED: detail", "skipped: detail", "running (cap N s)", "not run"
  local s="${F[$1.status]:-}" d="${F[$1.detail]:-}"
  case "$s" in
    "") ST="not run" ;;
    running) ST="running (cap ${F[$1.cap]:-} s)" ;;
    passed) ST="passed${d:+ ($d)}" ;;
    *) ST="$s${d:+: $d}" ;;
  esac
}

write_report() { # $1 file
  local s gpu="" used mode_text
  [ -f "$work/gpu.txt" ] && IFS= read -r gpu < "$work/gpu.txt"
  used=$(( $(date +%s) - t0 ))
  mode_text="GPU: backend cuda"
  [ "$mode" = emulated ] && mode_text="emulated: backend cuda-emulated, the CUDA code path through its host build (no GPU)"
  load_status
  load_info
  {
    printf '# GPU check\n\n'
    printf 'Written by bench/gpu-check.sh, rewritten after every stage (a run cut short keeps what it finished).\n\n'
    printf 'mode: %s\n' "$mode_text"
    printf 'budget: %s s (GPU_CHECK_BUDGET), %s s of it kept unused (GPU_CHECK_RESERVE); %s s used so far\n' "$budget" "$reserve" "$used"
    printf 'GPU: %s\n' "${gpu:-unknown}"
    printf 'launcher: %s\n' "$ebm"
    printf 'libcuda.so.1: %s\n' "${I[libcuda.so.1]:-(ebm info has not run)}"
    printf 'libcublas.so.13: %s\n' "${I[libcublas.so.13]:-(ebm info has not run)}"
    printf 'java heap: %s\n' "${I[java heap]:-(ebm info has not run)}"
    validate_line
    parity_line
    printf '\n| stage | status | exit | wall s | cap s | grid |\n|---|---|---|---|---|---|\n'
    for s in "${stages[@]}"; do
      status_of "$s"
      local grid="${F[$s.grid]:-}"
      printf '| %s | %s | %s | %s | %s | %s |\n' "$s" "${ST//|//}" "${F[$s.rc]:-}" "${F[$s.wall]:-}" "${F[$s.cap]:-}" "${grid//|//}"
    done
    printf '\nFiles: report.md (this), results.csv (the table above), benchmarks.md (each benchmark stage'"'"'s report.md),\n'
    printf 'trace.csv and kernels.csv (the benchmark rows), logs.tar.gz (logs/STAGE.log and every stage'"'"'s output folder).\n'
    for s in "${stages[@]}"; do
      [ -n "${F[$s.status]:-}" ] || continue
      status_of "$s"
      printf '\n## %s: %s\n\n' "$s" "$ST"
      printf -- '- date: %s\n- mode: %s\n- GPU: %s\n- launcher: %s\n- exit code: %s\n- wall time: %s s\n- time cap: %s s\n- grid: %s\n\n' \
        "${F[$s.started]:-}" "${F[$s.mode]:-}" "${gpu:-unknown}" "$ebm" "${F[$s.rc]:-}" "${F[$s.wall]:-}" "${F[$s.cap]:-}" "${F[$s.grid]:-}"
      [ -f "$work/logs/$s.log" ] || continue
      printf 'Commands:\n\n````\n'
      grep '^\$ ' "$work/logs/$s.log" || echo "(none)"
      printf '````\n\nOutput (last %s lines of logs/%s.log in logs.tar.gz):\n\n````\n' "$tail_lines" "$s"
      tail -n "$tail_lines" "$work/logs/$s.log"
      printf '````\n'
    done
  } > "$1"
}

write_results_csv() { # after write_report (it loads the status files)
  local s
  echo "stage,status,exit_code,wall_s,cap_s,grid,detail"
  for s in "${stages[@]}"; do
    printf '%s,%s,%s,%s,%s,' "$s" "${F[$s.status]:-}" "${F[$s.rc]:-}" "${F[$s.wall]:-}" "${F[$s.cap]:-}"
    csv_quote "${F[$s.grid]:-}"; printf ','; csv_quote "${F[$s.detail]:-}"; printf '\n'
  done
}

# Copies what OUT should hold into $work/.publish, then moves each file into OUT; removes the ones that no longer
# exist (a stage that was run again and wrote nothing). OUT never holds more than the names in $published.
publish() {
  local p="$work/.publish" s f header=""
  rm -rf "$p"; mkdir -p "$p"
  write_report "$p/report.md"
  write_results_csv > "$p/results.csv"
  for s in trace kernels trace-large trace-tf32; do
    [ -s "$work/$s/report.md" ] || continue
    { printf '\n# %s (bench/gpu-check.sh stage; plots in logs.tar.gz under %s/)\n\n' "$s" "$s"; cat "$work/$s/report.md"; } >> "$p/benchmarks.md"
  done
  for s in trace trace-large trace-tf32; do
    f="$work/$s/results.csv"
    [ -s "$f" ] || continue
    if [ -z "$header" ]; then header="$(head -n 1 "$f")"; echo "stage,$header" > "$p/trace.csv"; fi
    if [ "$(head -n 1 "$f")" = "$header" ]; then tail -n +2 "$f" | sed "s/^/$s,/" >> "$p/trace.csv"
    else echo "trace.csv: $s/results.csv has other columns; it is in logs.tar.gz only" >&2; fi
  done
  [ -s "$work/kernels/results.csv" ] && cp "$work/kernels/results.csv" "$p/kernels.csv"
  # between stages nothing writes into $work, so tar sees a still folder
  tar -czf "$p/logs.tar.gz" -C "$work" --exclude=./.publish . || echo "gpu-check.sh: packing $work into logs.tar.gz failed" >&2
  for f in "${published[@]}"; do
    if [ -f "$p/$f" ]; then mv -f "$p/$f" "$out/$f"; else rm -f "$out/$f"; fi
  done
  rm -rf "$p"
  local n
  n="$(find "$out" -mindepth 1 -maxdepth 1 | wc -l)"
  [ "$n" -le "$max_out_files" ] || echo "gpu-check.sh: $out holds $n entries, more than $max_out_files" >&2
}

record() { # $1 stage, then key=value pairs: rewrites the stage's status file
  local s="$1"; shift
  mkdir -p "$work/status"
  printf '%s\n' "$@" > "$work/status/$s"
}

# --- the driver -------------------------------------------------------------------------------------------------
mode=gpu
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --emulated) mode=emulated; shift ;;
    --) shift; break ;;
    -*) die "unknown option $1 (options: --emulated, --help)" ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || { usage >&2; exit 2; }
budget="${GPU_CHECK_BUDGET:-360}"
reserve="${GPU_CHECK_RESERVE:-60}"
whole "$budget" && [ "$budget" -gt 0 ] || die "GPU_CHECK_BUDGET='$budget' is not a whole number of seconds > 0"
whole "$reserve" || die "GPU_CHECK_RESERVE='$reserve' is not a whole number of seconds"
[ "$reserve" -lt "$budget" ] || die "GPU_CHECK_RESERVE=$reserve must be less than GPU_CHECK_BUDGET=$budget"
if [ -n "${PARITY_STEPS:-}" ]; then whole "$PARITY_STEPS" && [ "$PARITY_STEPS" -gt 0 ] || die "PARITY_STEPS='$PARITY_STEPS' is not a whole number > 0"; fi
[[ "${PARITY_TOL:-1e-3}" =~ ^[0-9.]+([eE][-+]?[0-9]+)?$ ]] || die "PARITY_TOL='${PARITY_TOL}' is not a number"

mkdir -p "$1" || die "cannot create $1"
out="$(cd "$1" && pwd)"
shift
selected_args=("$@")
selected=("$@")
[ ${#selected[@]} -gt 0 ] || selected=("${stages[@]}")
for s in "${selected[@]}"; do
  [[ " ${stages[*]} " == *" $s "* ]] || die "unknown stage '$s' (stages: ${stages[*]})"
done
for f in "$out"/* "$out"/.[!.]*; do
  [ -e "$f" ] || continue
  [[ " ${published[*]} " == *" $(basename "$f") "* ]] && [ -f "$f" ] ||
    die "$out holds $(basename "$f"), which gpu-check.sh does not write; give it an empty folder or one of its own earlier OUTs"
done

if [ -n "${GPU_CHECK_WORK:-}" ]; then
  work="$GPU_CHECK_WORK"
  case "$(cd "$(dirname "$work")" 2>/dev/null && pwd)/$(basename "$work")/" in
    "$out"/*) die "GPU_CHECK_WORK=$work must be outside OUT ($out)" ;;
  esac
  if [ -d "$work" ] && [ -n "$(ls -A "$work")" ] && [ ! -f "$work/.ebm-gpu-check" ]; then
    die "GPU_CHECK_WORK=$work is not empty and was not made by gpu-check.sh; name a new folder"
  fi
  [ ${#selected_args[@]} -gt 0 ] || rm -rf "$work"   # a full run starts from nothing
else
  work="$(mktemp -d "${TMPDIR:-/tmp}/ebm-gpu-check.XXXXXX")" || die "cannot make a work folder under ${TMPDIR:-/tmp}"
  trap 'rm -rf "$work"' EXIT   # everything in it is in OUT/logs.tar.gz
fi
mkdir -p "$work" || die "cannot create the work folder $work"
# Named stages: the earlier stages' results come back from OUT's archive (the report keeps them).
if [ ${#selected_args[@]} -gt 0 ] && [ ! -f "$work/.ebm-gpu-check" ] && [ -f "$out/logs.tar.gz" ]; then
  tar -xzf "$out/logs.tar.gz" -C "$work" || die "cannot unpack $out/logs.tar.gz into $work"
fi
mkdir -p "$work/logs" "$work/status" || die "cannot create the work folder $work"
echo "work folder of bench/gpu-check.sh for $out" > "$work/.ebm-gpu-check"
rm -f "$work/gpu-state"

t0="$(date +%s)"
if [ "$mode" = emulated ]; then
  echo "none (emulated: backend cuda-emulated)" > "$work/gpu.txt"
else
  smi="$(find_tool nvidia-smi)"
  if [ -n "$smi" ]; then
    "$smi" --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -n 1 > "$work/gpu.txt"
  else
    echo "none found (nvidia-smi not found)" > "$work/gpu.txt"
  fi
fi
echo "gpu-check: mode $mode, budget $budget s ($reserve s reserve), work folder $work, OUT $out"

remaining_weight() { # $1 index into selected: sum of the weights of the benchmark stages from there on
  local i w=0
  for (( i = $1; i < ${#selected[@]}; i++ )); do w=$(( w + $(weight "${selected[$i]}") )); done
  echo "$w"
}
# The cap a benchmark stage would get now, if every selected benchmark stage from index $2 on used all of its own.
share_of() { # $1 stage, $2 index, $3 seconds available
  local w total
  w="$(weight "$1")"; total="$(remaining_weight "$2")"
  [[ " ${selected[*]:$2} " == *" $1 "* ]] || total=$(( total + w ))
  [ "$total" -gt 0 ] && echo $(( $3 * w / total )) || echo 0
}

failed=()
last_rc=0
for (( i = 0; i < ${#selected[@]}; i++ )); do
  current="${selected[$i]}"
  now="$(date +%s)"
  left=$(( budget - (now - t0) ))
  if is_correctness "$current"; then
    cap="$(nominal_cap "$current")"
    [ "$cap" -le $(( left - 5 )) ] || cap=$(( left - 5 ))
  else
    cap="$(share_of "$current" "$i" $(( left - reserve - 5 )))"
  fi
  [ "$cap" -ge 0 ] || cap=0
  tier="$(pick_tier "$current" "$mode" "$cap")"
  started="$(date '+%Y-%m-%d %H:%M:%S %Z')"
  log="$work/logs/$current.log"
  rm -f "$work/status/$current".*
  if [ "$tier" = 0 ]; then
    detail="no time left: $cap s for it ($left s of the $budget s budget remain, $reserve s kept unused); it needs at least $(min_cap "$current" "$mode") s"
    echo "== $current: skipped ($detail)"
    record "$current" status=skipped "detail=$detail" rc= wall=0 "cap=$cap" "started=$started" grid= "mode=$mode"
    rm -f "$log"
    publish
    continue
  fi
  # expected grids of the stages the peers run for (their caps if each later stage used all of its own)
  avail=$(( left - reserve - 5 ))
  plan_trace="$(pick_tier trace "$mode" "$(share_of trace "$i" "$avail")")"
  plan_tf32=0
  [[ " ${selected[*]} " == *" trace-tf32 "* ]] && plan_tf32="$(pick_tier trace-tf32 "$mode" "$(share_of trace-tf32 "$i" "$avail")")"
  plan_kernels="$(pick_tier kernels "$mode" "$(share_of kernels "$i" "$avail")")"
  [ "$plan_trace" != 0 ] || plan_trace=3
  [ "$plan_kernels" != 0 ] || plan_kernels=3
  record "$current" status=running rc= wall= "cap=$cap" "started=$started" grid= "mode=$mode"
  publish
  echo "== $current (cap $cap s)"
  start="$(date +%s)"
  STAGE_CAP="$cap" STAGE_DEADLINE=$(( start + cap )) STAGE_TIER="$tier" PLAN_TRACE_TIER="$plan_trace" PLAN_TF32_TIER="$plan_tf32" PLAN_KERNELS_TIER="$plan_kernels" \
    timeout --kill-after=3 "$cap" bash "$self" --run-stage "$current" "$work" "$mode" > "$log" 2>&1
  rc=$?
  wall=$(( $(date +%s) - start ))
  grid="$(cat "$work/status/$current.grid" 2>/dev/null)"
  detail=""
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then status=FAILED; detail="timed out after its cap of $cap s"
  elif [ "$rc" != 0 ]; then status=FAILED; detail="exit $rc"
  elif [ -f "$work/status/$current.skip" ]; then status=skipped; detail="$(head -n 1 "$work/status/$current.skip")"
  else status=passed; fi
  if [ "$current" = validate ] && [ "$status" = passed ]; then
    count="$(grep -E '^[0-9]+ of [0-9]+ checks passed$' "$log" | tail -n 1)"
    if [ -z "$count" ]; then status=FAILED; detail="its output has no 'N of M checks passed' line"
    else detail="$count"; fi
  fi
  if [ "$current" = validate ] && [ "$status" = FAILED ] && [ -z "$detail" ]; then detail="exit $rc"; fi
  if [ "$current" = parity ] && [ "$status" = passed ]; then
    if grep -q '^parity: passed' "$work/status/parity.verdict" 2>/dev/null; then
      detail="$(sed -n 's/^parity: passed (\(.*\))$/\1/p' "$work/status/parity.verdict")"
    else status=FAILED; detail="the comparison wrote no verdict"; fi
  fi
  [ "$status" != FAILED ] || failed+=("$current")
  last_rc=$rc
  record "$current" "status=$status" "detail=$detail" "rc=$rc" "wall=$wall" "cap=$cap" "started=$started" "grid=$grid" "mode=$mode"
  publish
  load_status; status_of "$current"
  echo "   $ST (exit $rc, ${wall} s)"
done

echo "report: $out/report.md"
load_status
validate_line
parity_line
if [ ${#failed[@]} -gt 0 ]; then
  echo "failed stages: ${failed[*]}"
  [ ${#selected[@]} -eq 1 ] && [ "$last_rc" != 0 ] && exit "$last_rc"
  exit 1
fi
exit 0
