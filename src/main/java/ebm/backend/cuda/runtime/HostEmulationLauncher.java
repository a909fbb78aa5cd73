package ebm.backend.cuda.runtime;

import ebm.EbmException;
import ebm.backend.cuda.bindings.Dim3;
import ebm.backend.cuda.bindings.KernelFunction;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Runs kernels/ through its host build (native-build/host: on the calling thread, blocks in turn, each CUDA thread
 * a cooperative fiber that yields at __syncthreads and warp shuffles), so CI checks every custom kernel without a
 * GPU, through the same {@link KernelLauncher} path the GPU uses. "Device" memory is native host memory (256-aligned,
 * zeroed) owned by this launcher: {@link #free} returns a buffer, and close frees what is left. A kernel that misuses a barrier or shuffle (a thread exits while others
 * wait at __syncthreads, ...) fails its launch with an IllegalStateException saying which thread and where.
 *
 * <p>Schedules. Within a barrier phase the fibers run one at a time, so a read of shared or global memory that
 * another thread of the block writes in the same phase (a missing __syncthreads) sees the write or not depending on
 * which of the two runs first. With schedule seed 0 every phase runs in thread index order; any other seed shuffles
 * each phase's order (a key per launch derived from the seed and the launch's index on this launcher, so a rerun of
 * the same launches repeats it). {@link #HostEmulationLauncher()} takes the seed from {@value #SCHEDULE_SEED_ENV}
 * (or {@code -Debm.emulation.scheduleSeed}); unset is 0. {@link #comparingSchedules} runs every launch twice from the
 * same memory, in index order and shuffled, and requires identical bytes in every buffer its pointer arguments reach
 * (a buffer from {@link #allocate}, or the sub-allocation a {@link DeviceArena} reported): a kernel whose output
 * depends on the order of its threads within a phase has a race. The in-order result is kept, so the rest of a check
 * sees what a single in-order run gives. Kernels reach memory only through their pointer arguments here (no
 * pointers stored in device memory), which is what makes those buffers the whole of what a launch can change.
 */
public final class HostEmulationLauncher implements KernelLauncher {
    /** Environment variable holding the shuffled schedule's seed (0 or unset: thread index order). */
    public static final String SCHEDULE_SEED_ENV = "EBM_EMULATION_SCHEDULE_SEED";
    /** System property with the same meaning; it wins over the environment variable. */
    public static final String SCHEDULE_SEED_PROPERTY = "ebm.emulation.scheduleSeed";

    /**
     * A kernel whose result may legitimately depend on the order of its threads (float atomics add in that order):
     * its two schedules are compared as fp32 words, |a − b| ≤ relative · max(|a|, |b|), instead of bit for bit.
     */
    public record ScheduleTolerance(double relative, String reason) {}

    /** What a difference between the two schedules does. */
    public enum OnDifference {
        /** the launch throws, naming the kernel, the seed and the first differing bytes (tests) */
        FAIL_LAUNCH,
        /** it is counted for {@link #scheduleComparisons()} and the in-order result kept (`ebm validate`) */
        RECORD
    }

    /** The shim's entry points, bound once (static finals, so invokeExact call sites are constant). */
    private static final class Shim {
        static final MethodHandle GET_FUNCTION;
        static final MethodHandle PARAM_COUNT;
        static final MethodHandle LAST_ERROR;
        static final MethodHandle LAUNCH_KERNEL;

        static {
            Linker linker = Linker.nativeLinker();
            SymbolLookup library = SymbolLookup.libraryLookup(HostKernelLibrary.location(), Arena.global());
            GET_FUNCTION = linker.downcallHandle(library.findOrThrow("ebm_host_get_function"),
                    FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS));
            PARAM_COUNT = linker.downcallHandle(library.findOrThrow("ebm_host_function_param_count"),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
            LAST_ERROR = linker.downcallHandle(library.findOrThrow("ebm_host_last_error"),
                    FunctionDescriptor.of(ValueLayout.ADDRESS));
            ValueLayout u32 = ValueLayout.JAVA_INT;
            LAUNCH_KERNEL = linker.downcallHandle(library.findOrThrow("ebm_host_launch_kernel"),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, u32, u32, u32, u32, u32, u32, u32,
                            ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
        }
    }

    /** libc's aligned_alloc and free: each buffer on its own, so that one can be freed before the launcher closes. */
    private static final class Libc {
        static final MethodHandle ALIGNED_ALLOC;
        static final MethodHandle FREE;

        static {
            Linker linker = Linker.nativeLinker();
            SymbolLookup libc = linker.defaultLookup();
            ALIGNED_ALLOC = linker.downcallHandle(libc.findOrThrow("aligned_alloc"),
                    FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
            FREE = linker.downcallHandle(libc.findOrThrow("free"), FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));
        }
    }

    private static final long ALIGNMENT = 256; // cudaMalloc aligns to 256 too

    /** Live buffers: address → bytes (at least 1); when comparing schedules also what a pointer argument reaches. */
    private final TreeMap<Long, Long> allocations = new TreeMap<>();
    private boolean closed;
    private final long scheduleSeed;
    private final boolean comparing;
    private final OnDifference onDifference;
    private final Map<String, ScheduleTolerance> tolerated;
    private long launchIndex;
    // Only kept when comparing: the arenas' sub-allocations (start → bytes).
    private final TreeMap<Long, Long> subAllocations = new TreeMap<>();
    private final Map<String, Comparison> comparisons = new LinkedHashMap<>();
    private byte[] before = new byte[0], inOrder = new byte[0];

    /** Loads the host build; the schedule from {@value #SCHEDULE_SEED_ENV} (unset: thread index order). */
    public HostEmulationLauncher() {
        this(configuredScheduleSeed(), false, OnDifference.RECORD, Map.of());
    }

    private HostEmulationLauncher(long scheduleSeed, boolean comparing, OnDifference onDifference,
                                  Map<String, ScheduleTolerance> tolerated) {
        HostKernelLibrary.missingReason().ifPresent(reason -> {
            throw new EbmException(reason);
        });
        this.scheduleSeed = scheduleSeed;
        this.comparing = comparing;
        this.onDifference = onDifference;
        this.tolerated = Map.copyOf(tolerated);
    }

    /** Every launch under one schedule: seed 0 in thread index order, any other shuffled from that seed. */
    public static HostEmulationLauncher withSchedule(long seed) {
        return new HostEmulationLauncher(seed, false, OnDifference.RECORD, Map.of());
    }

    /**
     * Every launch in thread index order and again, from the same memory, shuffled from {@code seed} (not 0); the
     * bytes must be identical, except for the kernels in {@code tolerated}.
     */
    public static HostEmulationLauncher comparingSchedules(long seed, OnDifference onDifference,
                                                           Map<String, ScheduleTolerance> tolerated) {
        if (seed == 0) throw new IllegalArgumentException("the shuffled schedule's seed must not be 0 (0 is thread index order)");
        return new HostEmulationLauncher(seed, true, onDifference, tolerated);
    }

    /** The seed {@value #SCHEDULE_SEED_PROPERTY} or {@value #SCHEDULE_SEED_ENV} gives; 0 when neither is set. */
    public static long configuredScheduleSeed() {
        String property = System.getProperty(SCHEDULE_SEED_PROPERTY);
        String text = property != null && !property.isBlank() ? property : System.getenv(SCHEDULE_SEED_ENV);
        if (text == null || text.isBlank()) return 0;
        try {
            return Long.parseLong(text.trim());
        } catch (NumberFormatException e) {
            throw new EbmException((property != null && !property.isBlank() ? "-D" + SCHEDULE_SEED_PROPERTY : SCHEDULE_SEED_ENV)
                    + " must be an integer (a schedule seed; 0 is thread index order), got '" + text + "'");
        }
    }

    /** The configured seed when it is not 0, else a fresh one from the clock (never 0). */
    public static long configuredOrFreshScheduleSeed() {
        long seed = configuredScheduleSeed();
        if (seed != 0) return seed;
        seed = mix(System.nanoTime());
        return seed != 0 ? seed : 1;
    }

    /** The shuffled schedule's seed (0: thread index order only). */
    public long scheduleSeed() {
        return scheduleSeed;
    }

    public boolean comparesSchedules() {
        return comparing;
    }

    @Override
    public String description() {
        String schedule = comparing ? "every launch in thread order and shuffled (schedule seed " + scheduleSeed + "), compared bit for bit"
                : scheduleSeed == 0 ? "threads in index order" : "threads shuffled per barrier phase (schedule seed " + scheduleSeed + ")";
        return "host emulation of kernels/ (" + HostKernelLibrary.location().getFileName() + ", blocks in turn, CUDA threads as fibers; "
                + schedule + ")";
    }

    @Override
    public KernelFunction function(String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment handle = (MemorySegment) Shim.GET_FUNCTION.invokeExact(arena.allocateFrom(name));
            if (handle.equals(MemorySegment.NULL)) {
                throw new EbmException("kernel '" + name + "' is not in the host kernel library " + HostKernelLibrary.location()
                        + " (rebuild it with " + HostKernelLibrary.BUILD_COMMAND + ")");
            }
            return new KernelFunction(name, handle);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("ebm_host_get_function failed", t);
        }
    }

    @Override
    public DeviceBuffer allocate(long bytes) {
        if (bytes < 0) throw new IllegalArgumentException("negative allocation: " + bytes);
        long rounded = (Math.max(bytes, 1) + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT; // aligned_alloc wants a multiple
        MemorySegment segment;
        try {
            segment = (MemorySegment) Libc.ALIGNED_ALLOC.invokeExact(ALIGNMENT, rounded);
        } catch (Throwable t) {
            throw new IllegalStateException("aligned_alloc failed", t);
        }
        if (segment.equals(MemorySegment.NULL)) throw new OutOfMemoryError("host emulation: no " + rounded + " bytes of native memory");
        segment.reinterpret(rounded).fill((byte) 0); // as the shared arena this replaced did: zeroed
        synchronized (this) {
            if (closed) {
                freeNative(segment.address());
                throw new IllegalStateException("the host emulation launcher is closed");
            }
            allocations.put(segment.address(), Math.max(bytes, 1));
        }
        return new DeviceBuffer(segment.address(), bytes);
    }

    @Override
    public void free(DeviceBuffer buffer) {
        synchronized (this) {
            Long bytes = allocations.remove(buffer.address());
            if (bytes == null) {
                throw new IllegalArgumentException("0x" + Long.toHexString(buffer.address()) + " is not a live allocation of this launcher");
            }
            subAllocations.subMap(buffer.address(), buffer.address() + bytes).clear(); // an address reused later is new
        }
        freeNative(buffer.address());
    }

    /** Buffers allocated and not yet freed (what close would free now). */
    public synchronized int liveAllocations() {
        return allocations.size();
    }

    /** Bytes of those buffers, as asked for. */
    public synchronized long bytesAllocated() {
        long total = 0;
        for (long b : allocations.values()) total += b;
        return total;
    }

    private static void freeNative(long address) {
        try {
            Libc.FREE.invokeExact(MemorySegment.ofAddress(address));
        } catch (Throwable t) {
            throw new IllegalStateException("free failed", t);
        }
    }

    /** Arenas hand out pieces of one allocation; comparing schedules then copies just the pieces a launch uses. */
    @Override
    public void noteSubAllocation(DeviceBuffer piece) {
        if (!comparing || piece.bytes() <= 0) return;
        synchronized (this) {
            long start = piece.address(), end = start + piece.bytes();
            Map.Entry<Long, Long> below = subAllocations.lowerEntry(start);
            if (below != null && below.getKey() + below.getValue() > start) subAllocations.remove(below.getKey());
            subAllocations.subMap(start, end).clear(); // an arena reused with other sizes: the old pieces are gone
            subAllocations.put(start, piece.bytes());
        }
    }

    private static MemorySegment view(DeviceBuffer buffer) {
        return MemorySegment.ofAddress(buffer.address()).reinterpret(buffer.bytes());
    }

    @Override
    public void copyToDevice(MemorySegment src, DeviceBuffer dst) {
        if (src.byteSize() > dst.bytes()) {
            throw new IllegalArgumentException("copy of " + src.byteSize() + " bytes into a " + dst.bytes() + "-byte buffer");
        }
        MemorySegment.copy(src, 0, view(dst), 0, src.byteSize());
    }

    @Override
    public void copyToHost(DeviceBuffer src, MemorySegment dst) {
        if (dst.byteSize() > src.bytes()) {
            throw new IllegalArgumentException("copy of " + dst.byteSize() + " bytes out of a " + src.bytes() + "-byte buffer");
        }
        MemorySegment.copy(view(src), 0, dst, 0, dst.byteSize());
    }

    @Override
    public void launch(KernelFunction function, Dim3 grid, Dim3 block, int sharedBytes, KernelArgs args) {
        int expected;
        try {
            expected = (int) Shim.PARAM_COUNT.invokeExact(function.handle());
        } catch (Throwable t) {
            throw new IllegalStateException("ebm_host_function_param_count failed", t);
        }
        if (expected != args.count()) {
            throw new IllegalArgumentException("kernel " + function.name() + " takes " + expected + " arguments, got " + args.count());
        }
        MemorySegment params = args.kernelParams();
        long index;
        synchronized (this) {
            index = launchIndex++;
        }
        if (!comparing) {
            String error = run(function, grid, block, sharedBytes, params, scheduleSeed == 0 ? 0 : scheduleKey(scheduleSeed, index));
            if (error != null) throw new IllegalStateException(error);
            return;
        }
        synchronized (this) {
            launchComparing(function, grid, block, sharedBytes, args, params, index);
        }
    }

    /** Null on success, else the failure message. */
    private static String run(KernelFunction function, Dim3 grid, Dim3 block, int sharedBytes, MemorySegment params, long schedule) {
        try {
            int status = (int) Shim.LAUNCH_KERNEL.invokeExact(function.handle(), grid.x(), grid.y(), grid.z(), block.x(),
                    block.y(), block.z(), sharedBytes, params, schedule);
            if (status == 0) return null;
            MemorySegment message = (MemorySegment) Shim.LAST_ERROR.invokeExact();
            return "host launch of " + function.name() + " failed (" + status + "): " + message.reinterpret(4096).getString(0);
        } catch (Throwable t) {
            throw new IllegalStateException("host launch of " + function.name() + " failed", t);
        }
    }

    /** The schedule key of launch `index` under `seed`: splitmix64 of both, never 0 (0 means index order). */
    static long scheduleKey(long seed, long index) {
        long key = mix(seed + 0x9E3779B97F4A7C15L * (index + 1));
        return key != 0 ? key : 1;
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    // ---- comparing schedules ----------------------------------------------------------------------------------------

    /** Launches and differences of one kernel, for {@link #scheduleComparisons()}. */
    private static final class Comparison {
        long launches, bytes, differing;
        double worstRelative; // tolerated kernels: the worst relative fp32 difference
        String problem;       // the first shuffled launch that failed outright
        final List<String> identical = new ArrayList<>(), different = new ArrayList<>();
    }

    /** The buffers the launch's 8-byte arguments point into, as sorted, merged [start, end) ranges. */
    private List<long[]> buffersOf(KernelArgs args) {
        List<long[]> ranges = new ArrayList<>();
        for (int k = 0; k < args.count(); k++) {
            if (args.slotBytes(k) != 8) continue;
            long p = args.slotLong(k);
            Map.Entry<Long, Long> e = subAllocations.floorEntry(p);
            if (e == null || p >= e.getKey() + e.getValue()) e = allocations.floorEntry(p);
            if (e == null || p >= e.getKey() + e.getValue()) continue; // a scalar, or not this launcher's memory
            ranges.add(new long[] {e.getKey(), e.getKey() + e.getValue()});
        }
        ranges.sort((a, b) -> Long.compare(a[0], b[0]));
        List<long[]> merged = new ArrayList<>();
        for (long[] r : ranges) {
            long[] last = merged.isEmpty() ? null : merged.getLast();
            if (last != null && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
            else merged.add(r);
        }
        return merged;
    }

    private static void save(List<long[]> buffers, byte[] into) {
        MemorySegment to = MemorySegment.ofArray(into);
        long at = 0;
        for (long[] b : buffers) {
            MemorySegment.copy(MemorySegment.ofAddress(b[0]).reinterpret(b[1] - b[0]), 0, to, at, b[1] - b[0]);
            at += b[1] - b[0];
        }
    }

    private static void restore(List<long[]> buffers, byte[] from) {
        MemorySegment src = MemorySegment.ofArray(from);
        long at = 0;
        for (long[] b : buffers) {
            MemorySegment.copy(src, at, MemorySegment.ofAddress(b[0]).reinterpret(b[1] - b[0]), 0, b[1] - b[0]);
            at += b[1] - b[0];
        }
    }

    private void launchComparing(KernelFunction function, Dim3 grid, Dim3 block, int sharedBytes, KernelArgs args,
                                 MemorySegment params, long index) {
        List<long[]> buffers = buffersOf(args);
        long total = 0;
        for (long[] b : buffers) total += b[1] - b[0];
        if (total > Integer.MAX_VALUE - 8) throw new IllegalStateException(function.name() + ": " + total + " bytes are too many to compare");
        if (before.length < total) {
            before = new byte[(int) total];
            inOrder = new byte[(int) total];
        }
        save(buffers, before);
        String error = run(function, grid, block, sharedBytes, params, 0);
        if (error != null) throw new IllegalStateException(error);
        save(buffers, inOrder);
        restore(buffers, before);
        long key = scheduleKey(scheduleSeed, index);
        String shuffledError = run(function, grid, block, sharedBytes, params, key);

        Comparison c = comparisons.computeIfAbsent(function.name(), k -> new Comparison());
        c.launches++;
        c.bytes += total;
        ScheduleTolerance tolerance = tolerated.get(function.name());
        String where = String.format("launch %d (grid %s, block %s, schedule key %016x)", index, shape(grid), shape(block), key);
        String difference;
        double relative = 0;
        if (shuffledError != null) {
            difference = "thread order succeeded, the shuffled schedule failed: " + shuffledError;
            if (c.problem == null) c.problem = where + ": " + difference;
        } else if (tolerance == null) {
            difference = bitwise(buffers, total);
        } else {
            double[] worst = new double[1];
            difference = toleranced(buffers, tolerance, worst);
            relative = worst[0];
            c.worstRelative = Math.max(c.worstRelative, relative);
        }
        if (difference == null) {
            if (c.identical.size() < 2) c.identical.add(where + ": " + sample(buffers, total));
            return;
        }
        c.differing++;
        restore(buffers, inOrder); // the rest of the check goes on from the in-order result
        if (c.different.size() < 3) c.different.add(where + ": " + difference);
        boolean fails = tolerance == null || shuffledError != null || relative > tolerance.relative();
        if (fails && onDifference == OnDifference.FAIL_LAUNCH) {
            throw new IllegalStateException(function.name() + ": in thread order and shuffled (schedule seed " + scheduleSeed
                    + ", " + SCHEDULE_SEED_ENV + "=" + scheduleSeed + " repeats it) the launch gives different results, so its "
                    + "threads race within a barrier phase (a missing __syncthreads?): " + where + ": " + difference);
        }
    }

    private static String shape(Dim3 d) {
        return d.y() == 1 && d.z() == 1 ? Integer.toString(d.x()) : d.x() + "x" + d.y() + "x" + d.z();
    }

    /** Null when the shuffled run left exactly the in-order bytes; else where and how they differ. */
    private String bitwise(List<long[]> buffers, long total) {
        MemorySegment expected = MemorySegment.ofArray(inOrder);
        long at = 0, differingBytes = 0;
        String first = null;
        int buffersDiffering = 0;
        for (long[] b : buffers) {
            long len = b[1] - b[0];
            MemorySegment now = MemorySegment.ofAddress(b[0]).reinterpret(len);
            long m = MemorySegment.mismatch(now, 0, len, expected, at, at + len);
            if (m >= 0) {
                buffersDiffering++;
                for (long i = m; i < len; i++) if (now.get(ValueLayout.JAVA_BYTE, i) != inOrder[(int) (at + i)]) differingBytes++;
                if (first == null) {
                    long word = m & ~3L;
                    first = String.format("first at buffer %#x + %d: in order %s, shuffled %s", b[0], word,
                            word32(inOrder, at + word, len - word), word32(now, word));
                }
            }
            at += len;
        }
        if (first == null) return null;
        return differingBytes + " of " + total + " bytes differ, in " + buffersDiffering + " of " + buffers.size() + " buffers; " + first;
    }

    /** Null when every fp32 word is identical; else the worst word (its relative difference into worstOut[0]). */
    private String toleranced(List<long[]> buffers, ScheduleTolerance tolerance, double[] worstOut) {
        MemorySegment expected = MemorySegment.ofArray(inOrder);
        long at = 0;
        double worst = 0;
        String worstAt = null;
        for (long[] b : buffers) {
            long len = b[1] - b[0];
            MemorySegment now = MemorySegment.ofAddress(b[0]).reinterpret(len);
            for (long i = 0; i + 4 <= len; i += 4) {
                float want = expected.get(ValueLayout.JAVA_FLOAT_UNALIGNED, at + i), got = now.get(ValueLayout.JAVA_FLOAT_UNALIGNED, i);
                if (Float.floatToRawIntBits(want) == Float.floatToRawIntBits(got)) continue;
                double e = Math.abs((double) got - want) / Math.max(Math.max(Math.abs(got), Math.abs(want)), Float.MIN_NORMAL);
                if (Double.isNaN(e)) e = Double.POSITIVE_INFINITY;
                if (e > worst) {
                    worst = e;
                    worstAt = String.format("worst at buffer %#x + %d: in order %.9g, shuffled %.9g (relative %.2e, tolerance %.1e: %s)",
                            b[0], i, want, got, e, tolerance.relative(), tolerance.reason());
                }
            }
            at += len;
        }
        worstOut[0] = worst;
        return worstAt;
    }

    /** A word the in-order run wrote (the first that changed), as both schedules left it. */
    private String sample(List<long[]> buffers, long total) {
        MemorySegment was = MemorySegment.ofArray(before);
        long at = 0;
        for (long[] b : buffers) {
            long len = b[1] - b[0];
            long m = MemorySegment.mismatch(was, at, at + len, MemorySegment.ofArray(inOrder), at, at + len);
            if (m >= 0) {
                long word = m & ~3L;
                MemorySegment now = MemorySegment.ofAddress(b[0]).reinterpret(len);
                return String.format("%d bytes in %d buffers identical; first written word, buffer %#x + %d: in order %s, shuffled %s",
                        total, buffers.size(), b[0], word, word32(inOrder, at + word, len - word), word32(now, word));
            }
            at += len;
        }
        return total + " bytes in " + buffers.size() + " buffers identical (the launch wrote nothing)";
    }

    private static String word32(byte[] bytes, long at, long left) {
        return word32(MemorySegment.ofArray(bytes), at, left);
    }

    private static String word32(MemorySegment s, long at) {
        return word32(s, at, s.byteSize() - at);
    }

    private static String word32(MemorySegment s, long at, long left) {
        if (left < 4) return String.format("%02x", s.get(ValueLayout.JAVA_BYTE, at));
        int bits = s.get(ValueLayout.JAVA_INT_UNALIGNED, at);
        return String.format("%08x (%.9g)", bits, Float.intBitsToFloat(bits));
    }

    /** Kernels compared under both schedules so far. */
    public synchronized int kernelsCompared() {
        return comparisons.size();
    }

    /** Launches compared under both schedules so far. */
    public synchronized long launchesCompared() {
        long n = 0;
        for (Comparison c : comparisons.values()) n += c.launches;
        return n;
    }

    /**
     * What the schedule comparison saw for one kernel: its launches and bytes compared, the launches whose shuffled
     * schedule gave other bytes, the worst relative fp32 difference (for a kernel in the tolerated set, with its
     * tolerance; else null), a problem found, and a few compared or differing words.
     */
    public record ScheduleComparison(String kernel, long launches, long bytes, long differing, double worstRelative,
                                     ScheduleTolerance tolerance, String problem, List<String> pairs) {}

    /** One entry per kernel launched so far (when comparing schedules); the parity layer turns them into rows. */
    public synchronized List<ScheduleComparison> scheduleComparisons() {
        List<ScheduleComparison> rows = new ArrayList<>();
        for (Map.Entry<String, Comparison> e : comparisons.entrySet()) {
            Comparison c = e.getValue();
            ScheduleTolerance tolerance = tolerated.get(e.getKey());
            List<String> pairs = new ArrayList<>(c.different);
            if (pairs.isEmpty()) pairs.addAll(c.identical);
            if (tolerance != null) pairs.add(c.differing + " of " + c.launches + " launches not bit-identical (" + tolerance.reason() + ")");
            rows.add(new ScheduleComparison(e.getKey(), c.launches, c.bytes, c.differing, c.worstRelative, tolerance, c.problem, pairs));
        }
        return rows;
    }

    /** Frees every buffer still allocated; closing twice does nothing. */
    @Override
    public void close() {
        List<Long> addresses;
        synchronized (this) {
            if (closed) return;
            closed = true;
            addresses = List.copyOf(allocations.keySet());
            allocations.clear();
        }
        for (long address : addresses) freeNative(address);
    }
}
