#!/usr/bin/env bash
# Compiles every kernels/*.cu, unchanged, for the host with g++ (ARCHITECTURE.md §4) into target/native/libebm_kernels_host.so,
# which the parity tests and `ebm validate --emulated` load through the same Java launch path as the GPU module.
# Run by Maven (generate-resources) on every build; does nothing when the library is newer than its sources.
# Also compiles native-build/host/test_kernels.cu (kernels that test the emulator itself) into the same library.
# -U_FORTIFY_SOURCE: some distributions' g++ define it by default, and its checked longjmp refuses the switches
# between fiber stacks that host_launch.cpp makes.
# Without g++ it writes target/native/host-build-skipped.txt and exits 0: the parity tests then report
# "skipped: no host compiler" (never a pass). A compile error fails the build.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out_dir="$root/target/native"
library="$out_dir/libebm_kernels_host.so"
skipped_marker="$out_dir/host-build-skipped.txt"
gen_dir="$out_dir/host-gen"
compiler="${CXX:-g++}"
mkdir -p "$out_dir"

if ! command -v "$compiler" >/dev/null 2>&1; then
  echo "skipped: no host compiler ($compiler not on PATH)" | tee "$skipped_marker"
  exit 0
fi
rm -f "$skipped_marker"

sources=("$root"/kernels/*.cu "$root"/kernels/*.cuh "$root"/native-build/host/* "${BASH_SOURCE[0]}")
if [ -f "$library" ] && [ -z "$(find "${sources[@]}" -newer "$library" -print -quit)" ]; then
  exit 0 # up to date
fi

# One translation unit: every kernel source, then a registry naming each extern "C" __global__ entry point. The
# emulator's own test kernels (native-build/host/test_kernels.cu, never shipped to the GPU) are registered too.
rm -rf "$gen_dir"
mkdir -p "$gen_dir"
: > "$gen_dir/kernel_sources.inc"
: > "$gen_dir/kernel_registry.inc"
for cu in "$root"/kernels/*.cu "$root"/native-build/host/test_kernels.cu; do
  echo "#include \"$(basename "$cu")\"" >> "$gen_dir/kernel_sources.inc"
  sed -n 's/.*extern "C" __global__ void \([A-Za-z_][A-Za-z0-9_]*\).*/EBM_HOST_KERNEL(\1)/p' "$cu" >> "$gen_dir/kernel_registry.inc"
done

echo "building $library with $compiler ($(grep -c . "$gen_dir/kernel_registry.inc") kernels)"
"$compiler" -std=c++20 -O2 -fPIC -shared -pthread -U_FORTIFY_SOURCE -Wall -Wextra -Wno-unused-parameter \
  -I "$root/native-build/host" -I "$root/kernels" -I "$gen_dir" \
  -o "$library.tmp" "$root/native-build/host/host_launch.cpp"
mv "$library.tmp" "$library"
