package ebm.backend.cuda.runtime;

import ebm.backend.cuda.bindings.Dim3;
import ebm.backend.cuda.bindings.KernelFunction;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * A stand-in for CUDA graph capture on the host build: a launcher and a BLAS whose {@code capture(body)} records the
 * body's kernel launches and GEMMs with their arguments copied (baked in, as cuStreamBeginCapture does) without
 * running them, and a graph whose replay runs exactly those. Code that is only correct when everything that changes
 * per step is read from device memory fails under it the way it would on a GPU.
 */
public final class RecordingGraphs implements AutoCloseable {
    private final HostEmulationLauncher host;
    private final HostBlas hostBlas = new HostBlas(Blas.GemmPrecision.FP32);
    private List<Runnable> recording;
    public int captures;
    public int replays;
    /** When > 0, the allocation of that number (counted from 1) fails as an out-of-device-memory error would. */
    public int failAllocation;
    private int allocations;

    public RecordingGraphs(HostEmulationLauncher host) {
        this.host = host;
        this.launcher = new Recording();
    }

    /** Copies each argument's slot bytes, so the replay sees the values at capture time. */
    private static byte[][] bake(KernelArgs args) {
        MemorySegment params = args.kernelParams();
        byte[][] out = new byte[args.count()][];
        for (int k = 0; k < out.length; k++) {
            long bytes = args.slotBytes(k);
            out[k] = params.getAtIndex(ValueLayout.ADDRESS, k).reinterpret(bytes).toArray(ValueLayout.JAVA_BYTE);
        }
        return out;
    }

    private static KernelArgs unbake(byte[][] slots) {
        KernelArgs args = new KernelArgs();
        for (byte[] slot : slots) {
            MemorySegment s = MemorySegment.ofArray(slot);
            if (slot.length == 4) args.i32(s.get(ValueLayout.JAVA_INT_UNALIGNED, 0));
            else args.i64(s.get(ValueLayout.JAVA_LONG_UNALIGNED, 0));
        }
        return args;
    }

    /** The host launcher with its captures recorded (arguments baked as a CUDA graph bakes them) and replayed. */
    public final KernelLauncher launcher;

    private final class Recording extends ForwardingLauncher {
        Recording() {
            super(host);
        }

        @Override
        public String description() {
            return host.description() + ", graphs recorded";
        }

        @Override
        public KernelFunction function(String name) {
            return host.function(name);
        }

        @Override
        public DeviceBuffer allocate(long bytes) {
            return allocate(bytes, "unnamed buffer");
        }

        @Override
        public DeviceBuffer allocate(long bytes, String label) {
            if (++allocations == failAllocation) {
                throw new ebm.EbmException("out of device memory for '" + label + "' (allocation " + allocations + ", refused by the test)");
            }
            return host.allocate(bytes, label);
        }

        @Override
        public void launch(KernelFunction function, Dim3 grid, Dim3 block, int sharedBytes, KernelArgs args) {
            if (recording != null) throw new IllegalStateException("a synchronous launch inside a captured body");
            host.launch(function, grid, block, sharedBytes, args);
        }

        @Override
        public void launchAsync(KernelFunction function, Dim3 grid, Dim3 block, int sharedBytes, KernelArgs args) {
            if (recording == null) {
                host.launch(function, grid, block, sharedBytes, args);
                return;
            }
            byte[][] baked = bake(args);
            recording.add(() -> {
                try (KernelArgs a = unbake(baked)) {
                    host.launch(function, grid, block, sharedBytes, a);
                }
            });
        }

        @Override
        public Graph capture(Runnable body) {
            List<Runnable> steps = new ArrayList<>();
            recording = steps;
            try {
                body.run();
            } finally {
                recording = null;
            }
            captures++;
            return new Graph() {
                @Override
                public void replay() {
                    replays++;
                    for (Runnable r : steps) r.run();
                }

                @Override
                public void close() {}
            };
        }
    }

    public final Blas blas = new Blas() {
        @Override
        public String description() {
            return hostBlas.description();
        }

        @Override
        public GemmPrecision precision() {
            return hostBlas.precision();
        }

        @Override
        public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, long a, int lda, long b,
                         int ldb, float beta, long c, int ldc) {
            Runnable call = () -> hostBlas.gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            recordOrRun(call);
        }

        @Override
        public void dgemm(boolean transA, boolean transB, int m, int n, int k, double alpha, long a, int lda, long b,
                          int ldb, double beta, long c, int ldc) {
            Runnable call = () -> hostBlas.dgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            recordOrRun(call);
        }

        @Override
        public void gemmStridedBatched(boolean transA, boolean transB, int m, int n, int k, float alpha, long a, int lda,
                                       long strideA, long b, int ldb, long strideB, float beta, long c, int ldc,
                                       long strideC, int batchCount) {
            Runnable call = () -> hostBlas.gemmStridedBatched(transA, transB, m, n, k, alpha, a, lda, strideA, b, ldb,
                    strideB, beta, c, ldc, strideC, batchCount);
            recordOrRun(call);
        }

        @Override
        public void close() {}
    };

    /** A GEMM inside a captured body is recorded (cuBLAS's calls join the graph); outside it runs at once. */
    private void recordOrRun(Runnable call) {
        if (recording != null) recording.add(call);
        else call.run();
    }

    @Override
    public void close() {
        hostBlas.close();
    }
}
