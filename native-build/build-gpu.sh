#!/usr/bin/env bash
# Compiles every kernels/*.cu with nvcc into one fatbin with SASS for sm_80 and sm_90 plus compute_90 PTX (which
# newer GPUs JIT), target/native/ebm_kernels.fatbin, loaded by the driver-API launcher (cuModuleLoadData).
# Run by hand or by the GPU bundle script, never by tests or at run time. Prints ptxas -v (registers, shared memory,
# spills per kernel) into target/native/ptxas-v.txt.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out_dir="$root/target/native"
nvcc_bin="${NVCC:-nvcc}"
if ! command -v "$nvcc_bin" >/dev/null 2>&1; then
  cuda_home="${CUDA_HOME:-/usr/local/cuda}"
  nvcc_bin="$cuda_home/bin/nvcc"
  [ -x "$nvcc_bin" ] || { echo "build-gpu.sh: nvcc not on PATH and not in CUDA_HOME ($cuda_home)" >&2; exit 2; }
fi
mkdir -p "$out_dir/gpu-gen"

# One translation unit, as on the host, so the module holds every kernel (relocatable device code is not needed).
unity="$out_dir/gpu-gen/ebm_kernels.cu"
: > "$unity"
for cu in "$root"/kernels/*.cu; do echo "#include \"$(basename "$cu")\"" >> "$unity"; done

"$nvcc_bin" -fatbin -std=c++17 -O3 -I "$root/kernels" \
  -gencode arch=compute_80,code=sm_80 \
  -gencode arch=compute_90,code=sm_90 \
  -gencode arch=compute_90,code=compute_90 \
  -Xptxas -v -o "$out_dir/ebm_kernels.fatbin" "$unity" 2> "$out_dir/ptxas-v.txt" || {
  cat "$out_dir/ptxas-v.txt" >&2
  exit 1
}
cat "$out_dir/ptxas-v.txt"
echo "wrote $out_dir/ebm_kernels.fatbin"
