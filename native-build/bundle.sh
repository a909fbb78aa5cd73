#!/usr/bin/env bash
# Builds a self-contained folder for a GPU machine with no JDK and no network: a jlink'd Java runtime,
# the application jars, the kernels, configs/, bench/gpu-check.sh and a launcher DIR/ebm. Copy DIR there and run
#   DIR/ebm COMMAND ...            or            DIR/bench/gpu-check.sh OUTDIR [STAGE]
#
# Usage: native-build/bundle.sh [--no-build] [--no-kernels] DIR
#   --no-build    bundle target/ebm.jar and target/lib/ as they are (default: mvn package first)
#   --no-kernels  bundle without target/native/ebm_kernels.fatbin (required when nvcc is missing)
#
# Layout of DIR (DIR plays the role of the project root for -Debm.home, so the kernels sit where a checkout has them):
#   ebm                         the launcher: bundled java, the same JVM flags as ./ebm, -Djava.awt.headless=true, and
#                               -Xmx from EBM_HEAP (24g, 4096m, or a share of memory: 50%; default 75% of MemTotal)
#   runtime.tar.gz, runtime.id  the Java runtime, unpacked on first use into a cache outside DIR (see below)
#   target/ebm.jar, target/lib/ the application and its dependencies
#   target/native/              ebm_kernels.fatbin + ptxas-v.txt (build-gpu.sh), libebm_kernels_host.so if built
#   configs/, bench/gpu-check.sh, bench/peers/, BUNDLE.md (what was bundled, from which commit), .ebm-bundle
#
# Why the runtime is a tarball: the image jlink makes from JDK 25 (no jmods: linked from the run-time image) with the
# modules below is ~64 MB with --compress=zip-9, 29 MB of it libjvm.so, which jlink cannot compress; with the jars the
# folder would be ~74 MB, over the 60 MB this script allows. An uncompressed image (--compress=zip-0) in one gzip
# stream is ~33 MB (zip-9 inside gzip: ~39 MB) and loads classes without inflating them. DIR/ebm unpacks it once
# per runtime into $EBM_RUNTIME_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/ebm-runtime, else /tmp/ebm-runtime-UID
# (~95 MB), so DIR itself never grows and can be read-only. The tarball is reproducible (sorted, fixed mtimes), so
# rebuilding an unchanged runtime reuses the cached copy.
#
# Modules: what jdeps says the jars need, plus jdk.incubator.vector (the CPU matrix multiply) and java.desktop
# (XChart's PNG plots, rendered headless). The X11, sound and splash-screen libraries are left out (a headless JVM
# never loads them and they need libX11/libasound). DejaVu Sans is bundled with a lib/fontconfig.properties, which
# the JDK falls back on when the machine has no fontconfig fonts (otherwise plots fail: "Fontconfig head is null").
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
required_major=25
max_bytes=60000000

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }
die() { echo "bundle.sh: $*" >&2; exit 2; }

build=1
kernels=1
dir=""
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0 ;;
    --no-kernels) kernels=0 ;;
    -h|--help) usage; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) [ -z "$dir" ] || die "one DIR only (got '$dir' and '$1')"; dir="$1" ;;
  esac
  shift
done
[ -n "$dir" ] || { usage >&2; exit 2; }

# --- a JDK >= 25, found the way ./ebm finds one (JAVA_HOME if it is one, else /usr/lib/jvm/*, newest first) --------
java_major() {
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1
}
find_jdk() {
  local candidates=() home major
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  if [ -d /usr/lib/jvm ]; then
    while IFS= read -r home; do candidates+=("$home"); done < <(ls -d /usr/lib/jvm/*/ 2>/dev/null | sed 's:/$::' | sort -rV)
  fi
  for home in "${candidates[@]}"; do
    [ -x "$home/bin/java" ] && [ -x "$home/bin/javac" ] && [ -x "$home/bin/jlink" ] && [ -x "$home/bin/jdeps" ] || continue
    major="$(java_major "$home/bin/java")"
    if [ -n "$major" ] && [ "$major" -ge "$required_major" ]; then echo "$home"; return 0; fi
  done
  return 1
}
JDK="$(find_jdk)" || die "no JDK >= $required_major with jlink and jdeps found (looked at JAVA_HOME='${JAVA_HOME:-}' and /usr/lib/jvm/*)"
export JAVA_HOME="$JDK"

# --- checks that fail fast, before anything slow -------------------------------------------------------------------
nvcc_bin=""
if [ "$kernels" = 1 ]; then
  if command -v "${NVCC:-nvcc}" >/dev/null 2>&1; then nvcc_bin="$(command -v "${NVCC:-nvcc}")"
  elif [ -x "${CUDA_HOME:-/usr/local/cuda}/bin/nvcc" ]; then nvcc_bin="${CUDA_HOME:-/usr/local/cuda}/bin/nvcc"
  else
    die "nvcc not found (not on PATH, not in \$CUDA_HOME/bin = ${CUDA_HOME:-/usr/local/cuda}/bin), so the GPU kernels cannot be built. Install the CUDA toolkit, or pass --no-kernels to bundle without them (then the cuda backend has nothing to load)."
  fi
fi
for tool in tar gzip sha256sum; do command -v "$tool" >/dev/null 2>&1 || die "$tool is needed"; done

mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
case "$dir" in "$root"|"$root/target"|"$root/target/"*|/) die "DIR must not be $dir" ;; esac
if [ -n "$(ls -A "$dir")" ]; then
  [ -f "$dir/.ebm-bundle" ] || die "$dir is not empty and does not hold an earlier bundle; choose an empty or new folder"
  find "$dir" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
fi
echo "made by native-build/bundle.sh; running it again replaces this folder" > "$dir/.ebm-bundle"

# --- the application --------------------------------------------------------------------------------------------
if [ "$build" = 1 ]; then
  echo "building the application (mvn package, JDK $JDK)..."
  mkdir -p "$root/target"
  if ! (cd "$root" && mvn -B -ntp -q -DskipTests package > "$root/target/bundle-build.log" 2>&1); then
    tail -n 40 "$root/target/bundle-build.log" >&2
    die "build failed; the full log is target/bundle-build.log"
  fi
fi
jar="$root/target/ebm.jar"
[ -f "$jar" ] && [ -d "$root/target/lib" ] || die "target/ebm.jar or target/lib/ missing; run without --no-build (or mvn package)"
if [ -n "$(find "$root/pom.xml" "$root/src/main" -newer "$jar" -print -quit 2>/dev/null)" ]; then
  echo "bundle.sh: warning: sources are newer than target/ebm.jar (--no-build bundles the jar as it is)" >&2
fi
if [ "$kernels" = 1 ]; then
  echo "building the kernels with $nvcc_bin..."
  NVCC="$nvcc_bin" "$root/native-build/build-gpu.sh" > "$root/target/bundle-kernels.log" 2>&1 || {
    tail -n 40 "$root/target/bundle-kernels.log" >&2
    die "native-build/build-gpu.sh failed; the full log is target/bundle-kernels.log"
  }
fi

# JVM flags: the list pom.xml gives the tests (./ebm passes the same ones).
jvm_args="$(sed -n 's:.*<ebm.jvm.args>\(.*\)</ebm.jvm.args>.*:\1:p' "$root/pom.xml" | head -n 1)"
[ -n "$jvm_args" ] || die "pom.xml has no <ebm.jvm.args> property"
# The heap is not among them: the launcher sets -Xmx at every start (EBM_HEAP, default 75% of memory then; the JVM's
# default quarter is too small for bench trace at D = 10⁶, whose first layer alone is 10⁹ fp64 parameters).
case "$jvm_args" in *"|"*) die "pom.xml's <ebm.jvm.args> holds a '|'" ;; esac

# --- the runtime ------------------------------------------------------------------------------------------------
deps="$("$JDK/bin/jdeps" --print-module-deps --ignore-missing-deps --multi-release "$required_major" \
  -cp "$root/target/lib/*" "$jar")" || die "jdeps failed"
modules="$(printf '%s\n' "$deps" | tr ',' '\n' | cat - <(printf '%s\n' jdk.incubator.vector java.desktop) |
  sed '/^$/d' | sort -u | paste -sd, -)"
echo "jlink modules: $modules"
work="$(mktemp -d "${TMPDIR:-/tmp}/ebm-bundle.XXXXXX")"
trap 'rm -rf "$work"' EXIT
"$JDK/bin/jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages --compress=zip-0 \
  --exclude-files '**/libawt_xawt.so,**/libjawt.so,**/libsplashscreen.so,**/libjsound.so' \
  --output "$work/runtime" 2>&1 | grep -v 'Using incubator modules' || true
[ -x "$work/runtime/bin/java" ] || die "jlink failed"

font_dir=""
for d in /usr/share/fonts/truetype/dejavu /usr/share/fonts/dejavu /usr/share/fonts/TTF /usr/share/fonts/dejavu-sans-fonts; do
  [ -f "$d/DejaVuSans.ttf" ] && [ -f "$d/DejaVuSans-Bold.ttf" ] && { font_dir="$d"; break; }
done
fonts="none (plots need fonts on the target machine)"
if [ -n "$font_dir" ]; then
  mkdir -p "$work/runtime/lib/fonts" "$work/runtime/legal/fonts-dejavu"
  cp "$font_dir/DejaVuSans.ttf" "$font_dir/DejaVuSans-Bold.ttf" "$work/runtime/lib/fonts/"
  for f in /usr/share/doc/fonts-dejavu-core/copyright /usr/share/licenses/dejavu-sans-fonts/LICENSE; do
    [ -f "$f" ] && cp "$f" "$work/runtime/legal/fonts-dejavu/LICENSE" && break
  done
  # Used by the JDK only when fontconfig finds no fonts on the machine; every logical font maps to DejaVu Sans.
  {
    echo "version=1"
    echo "sequence.allfonts=latin-1"
    echo "allfonts.latin-1=DejaVu Sans"
    for family in serif sansserif monospaced dialog dialoginput; do
      for style in bold bolditalic; do echo "$family.$style.latin-1=DejaVu Sans Bold"; done
    done
    echo "filename.DejaVu_Sans=\$JRE_LIB_FONTS/DejaVuSans.ttf"
    echo "filename.DejaVu_Sans_Bold=\$JRE_LIB_FONTS/DejaVuSans-Bold.ttf"
  } > "$work/runtime/lib/fontconfig.properties"
  fonts="DejaVu Sans (regular, bold) from $font_dir, used when the machine has no fontconfig fonts"
else
  echo "bundle.sh: warning: DejaVu Sans not found; plots will need fonts (fontconfig) on the target machine" >&2
fi
java_version="$("$work/runtime/bin/java" -version 2>&1 | head -n 1)"
runtime_bytes="$(du -sb "$work/runtime" | cut -f1)"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$work/runtime" -cf - . | gzip -6 -n > "$dir/runtime.tar.gz"
runtime_id="$(sha256sum "$dir/runtime.tar.gz" | cut -c1-16)"
echo "$runtime_id" > "$dir/runtime.id"

# --- application, kernels, configs, scripts ------------------------------------------------------------------------
mkdir -p "$dir/target/lib" "$dir/target/native" "$dir/bench/peers"
cp "$jar" "$dir/target/"
cp "$root"/target/lib/*.jar "$dir/target/lib/"
kernel_note="none (--no-kernels): the cuda backend has no kernels to load"
if [ "$kernels" = 1 ]; then
  cp "$root/target/native/ebm_kernels.fatbin" "$root/target/native/ptxas-v.txt" "$dir/target/native/"
  kernel_note="target/native/ebm_kernels.fatbin (sm_80, sm_90 SASS + compute_90 PTX) from nvcc $("$nvcc_bin" --version | sed -n 's/.*release \([0-9.]*\).*/\1/p')"
fi
[ -f "$root/target/native/libebm_kernels_host.so" ] && cp "$root/target/native/libebm_kernels_host.so" "$dir/target/native/"
cp -r "$root/configs" "$dir/configs"
cp "$root/bench/gpu-check.sh" "$dir/bench/"
cp "$root"/bench/peers/*.py "$dir/bench/peers/" 2>/dev/null || true

# The launcher: written from a quoted here-document (no expansion), then the JVM flags put in for @JVM_ARGS@.
cat > "$dir/ebm" <<'EOF'
#!/usr/bin/env bash
# ebm launcher of a bundle made by native-build/bundle.sh: the bundled Java runtime, no JDK or network needed.
#   DIR/ebm COMMAND [ARGS...]     (DIR/ebm --help lists the commands)
# The runtime (runtime.tar.gz) is unpacked on first use into $EBM_RUNTIME_CACHE, else
# ${XDG_CACHE_HOME:-~/.cache}/ebm-runtime, else ${TMPDIR:-/tmp}/ebm-runtime-UID; delete that folder to reclaim it.
# Java heap (-Xmx): EBM_HEAP, a size with a unit (24g, 4096m) or a share of memory (50%); default 75%. A share is
# taken of /proc/meminfo's MemTotal when this script starts (or of the cgroup's memory limit when that is lower),
# so a machine whose memory grows after boot gets the heap its memory has now. bench trace at D = 10^6, H = 1024
# needs about 25 GB. `ebm info` prints the heap and how it was chosen.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

heap="${EBM_HEAP:-75%}"
case "$heap" in
  *%)
    share="${heap%\%}"
    if ! [[ "$share" =~ ^[0-9]+$ ]] || [ "$share" -lt 1 ] || [ "$share" -gt 100 ]; then
      echo "ebm: EBM_HEAP=$heap: a share of memory must be 1% to 100%" >&2; exit 2
    fi
    mem_kb="$(awk '/^MemTotal:/ { print $2; exit }' /proc/meminfo 2>/dev/null || true)"
    mem_from="MemTotal"
    for limit_file in /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory/memory.limit_in_bytes; do
      limit="$(cat "$limit_file" 2>/dev/null || true)"
      if [[ "$limit" =~ ^[0-9]+$ ]] && [[ "$mem_kb" =~ ^[0-9]+$ ]] && [ $(( limit / 1024 )) -lt "$mem_kb" ]; then
        mem_kb=$(( limit / 1024 )); mem_from="the cgroup memory limit ($limit_file)"
      fi
    done
    if [[ "$mem_kb" =~ ^[0-9]+$ ]] && [ "$mem_kb" -gt 0 ]; then
      heap_mb=$(( mem_kb * share / 100 / 1024 ))
      [ "$heap_mb" -ge 64 ] || heap_mb=64
      heap_flag="-Xmx${heap_mb}m"
      heap_source="-Xmx${heap_mb}m: $share% of $mem_from ($(( mem_kb / 1024 )) MiB) at launch"
    else
      heap_flag="-XX:MaxRAMPercentage=$share"
      heap_source="-XX:MaxRAMPercentage=$share (/proc/meminfo unreadable)"
    fi
    ;;
  *)
    if ! [[ "$heap" =~ ^[0-9]+[kKmMgGtT]$ ]]; then
      echo "ebm: EBM_HEAP='$heap' is not a heap size: give a size with a unit (24g, 4096m) or a share of memory (75%)" >&2; exit 2
    fi
    heap_flag="-Xmx$heap"
    heap_source="-Xmx$heap"
    ;;
esac
if [ -n "${EBM_HEAP:-}" ]; then heap_source="$heap_source, from EBM_HEAP=$EBM_HEAP"; else heap_source="$heap_source, the default (EBM_HEAP unset)"; fi

id="$(cat "$here/runtime.id")"
cache="${EBM_RUNTIME_CACHE:-}"
if [ -z "$cache" ]; then
  cache="${XDG_CACHE_HOME:-${HOME:-/nonexistent}/.cache}/ebm-runtime"
  { mkdir -p "$cache" && [ -w "$cache" ]; } 2>/dev/null || cache="${TMPDIR:-/tmp}/ebm-runtime-$(id -u)"
fi
runtime="$cache/$id"
if [ ! -x "$runtime/bin/java" ]; then
  echo "ebm: unpacking the bundled Java runtime into $runtime (once per runtime)..." >&2
  mkdir -p "$cache" || { echo "ebm: cannot create $cache; set EBM_RUNTIME_CACHE to a writable folder" >&2; exit 2; }
  tmp="$(mktemp -d "$cache/.unpack-$id.XXXXXX")"
  if ! tar -xzf "$here/runtime.tar.gz" -C "$tmp"; then
    rm -rf "$tmp"; echo "ebm: unpacking $here/runtime.tar.gz failed" >&2; exit 2
  fi
  mv -T "$tmp" "$runtime" 2>/dev/null || rm -rf "$tmp" # another process unpacked it first
fi
exec "$runtime/bin/java" @JVM_ARGS@ "$heap_flag" "-Debm.heap=$heap_source" -Djava.awt.headless=true \
  -Debm.home="$here" -cp "$here/target/ebm.jar:$here/target/lib/*" ebm.cli.Main "$@"
EOF
grep -q '@JVM_ARGS@' "$dir/ebm" || die "the launcher template lost its @JVM_ARGS@"
sed -i "s|@JVM_ARGS@|$jvm_args|" "$dir/ebm"
chmod +x "$dir/ebm" "$dir/bench/gpu-check.sh"

commit="unknown"
if git -C "$root" rev-parse --git-dir >/dev/null 2>&1; then
  commit="$(git -C "$root" rev-parse HEAD)"
  [ -z "$(git -C "$root" status --porcelain --untracked-files=no)" ] || commit="$commit (with uncommitted changes)"
fi
cat > "$dir/BUNDLE.md" <<EOF
# ebm bundle

Made by native-build/bundle.sh on $(date -u '+%Y-%m-%d %H:%M UTC') from commit $commit.

- runtime: $java_version, jlink'd from $JDK; $(awk -v b="$runtime_bytes" 'BEGIN{printf "%.1f MB", b/1e6}') unpacked, in runtime.tar.gz
- modules: $modules
- JVM flags: $jvm_args -Xmx from EBM_HEAP at every launch (a size such as 24g, or a share such as 50%; default 75% of
  /proc/meminfo's MemTotal, or of the cgroup's memory limit when lower) -Djava.awt.headless=true -Debm.home=DIR
- kernels: $kernel_note
- fonts: $fonts

Run \`./ebm --help\`, or \`bench/gpu-check.sh OUTDIR\` (\`--help\` lists the stages). The first run unpacks the runtime
into a cache folder outside this one (see the comment at the top of \`ebm\`).
EOF

bytes="$(du -sb "$dir" | cut -f1)"
mb="$(awk -v b="$bytes" 'BEGIN{printf "%.1f", b/1e6}')"
echo "bundle: $dir"
echo "bundle size: $mb MB ($bytes bytes; runtime.tar.gz $(awk -v b="$(stat -c %s "$dir/runtime.tar.gz")" 'BEGIN{printf "%.1f", b/1e6}') MB)"
if [ "$bytes" -ge "$max_bytes" ]; then
  echo "bundle.sh: the bundle is $mb MB, at or over the 60 MB limit" >&2
  exit 1
fi
