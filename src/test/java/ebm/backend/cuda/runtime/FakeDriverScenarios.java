package ebm.backend.cuda.runtime;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import ebm.EbmException;
import ebm.backend.cuda.bindings.CudaDriver;
import ebm.backend.cuda.bindings.CudaException;
import ebm.backend.cuda.bindings.CudaLibraries;
import ebm.backend.cuda.bindings.Dim3;
import ebm.backend.cuda.bindings.KernelFunction;
import ebm.backend.cuda.parity.BlasParityChecks;
import ebm.backend.cuda.parity.ParityResult;
import ebm.cli.Cli;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.List;

/**
 * Run by {@link FakeDriverTest} in a child JVM whose EBM_LIBCUDA / EBM_LIBCUBLAS point at the test doubles of
 * src/test/native (device memory is host memory there): every binding, the DriverLauncher, graph capture, events,
 * the error paths and CublasBlas go through FFM exactly as on a GPU; {@link FakeDriverCaptureScenarios} adds refused
 * graph captures under the training step and the sampler. Exits non-zero on the first failed expectation.
 * Arguments: the bad fatbin, the fake libcuda, the fake libcublas.
 */
public final class FakeDriverScenarios {
    private FakeDriverScenarios() {}

    static void expect(boolean condition, String what) {
        if (!condition) throw new AssertionError("expected: " + what);
        System.out.println("ok: " + what);
    }

    static <T extends Throwable> T expectThrows(Class<T> type, Runnable body, String what) {
        try {
            body.run();
        } catch (Throwable t) {
            if (type.isInstance(t)) {
                System.out.println("ok: " + what + " -> " + t.getMessage());
                return type.cast(t);
            }
            throw new AssertionError(what + ": threw " + t, t);
        }
        throw new AssertionError(what + ": nothing thrown");
    }

    private static int intCall(MethodHandle handle) {
        try {
            return (int) handle.invokeExact();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    public static void main(String[] args) {
        Path badFatbin = Path.of(args[0]);
        Linker linker = Linker.nativeLinker();
        // The same files CudaLibraries loaded (dlopen hands back the loaded copy), to read the doubles' bookkeeping.
        SymbolLookup cudaDouble = SymbolLookup.libraryLookup(Path.of(args[1]), Arena.global());
        SymbolLookup cublasDouble = SymbolLookup.libraryLookup(Path.of(args[2]), Arena.global());
        MethodHandle liveObjects = linker.downcallHandle(cudaDouble.findOrThrow("fake_cuda_live_objects"), FunctionDescriptor.of(JAVA_INT));
        MethodHandle captureMode = linker.downcallHandle(cudaDouble.findOrThrow("fake_cuda_last_capture_mode"), FunctionDescriptor.of(JAVA_INT));
        MethodHandle liveHandles = linker.downcallHandle(cublasDouble.findOrThrow("fake_cublas_live_handles"), FunctionDescriptor.of(JAVA_INT));
        MethodHandle computeType = linker.downcallHandle(cublasDouble.findOrThrow("fake_cublas_last_compute_type"), FunctionDescriptor.of(JAVA_INT));
        MethodHandle workspaceBytes = linker.downcallHandle(cublasDouble.findOrThrow("fake_cublas_workspace_bytes"), FunctionDescriptor.of(JAVA_LONG));

        expect(CudaLibraries.system().cuda().where().endsWith("(from EBM_LIBCUDA)"), "libcuda found through EBM_LIBCUDA");
        expect(GpuRuntime.unavailableReason().isEmpty(), "GpuRuntime.unavailableReason() is empty with a driver, a device, the fatbin and cuBLAS");

        Cli info = Cli.run("info");
        System.out.print(info.out());
        expect(info.exitCode() == 0 && info.out().contains("Fake GPU (test double) (selected; EBM_CUDA_DEVICE chooses)")
                && info.out().contains("sm_90 (9.0)") && info.out().contains("132") && info.out().contains("16.0 GiB")
                && info.out().contains("cuda driver:       13.0") && info.out().contains("cuBLAS 13.0.2")
                && info.out().contains("gpu backend:       ready"), "ebm info shows driver, device, SMs, memory, cuBLAS");

        try (DriverLauncher launcher = new DriverLauncher()) {
            expect(launcher.description().equals("Fake GPU (test double) (device 0, sm_90, 132 SMs, CUDA driver 13.0)"),
                    "description: " + launcher.description());
            DeviceBuffer out = launcher.allocate(4 * 1000, "fill output");
            launcher.poison(out);
            KernelFunction fill = launcher.function("fake_fill_f32");
            try (KernelArgs a = new KernelArgs().pointer(out).i64(1000).f32(2.5f)) {
                launcher.launch(fill, Dim3.of(4), Dim3.of(256), 0, a);
            }
            float[] got = launcher.readFloats(out, 1000);
            boolean all = true;
            for (float v : got) all &= v == 2.5f;
            expect(all, "a launch writes through the kernel arguments (pointer, i64, f32)");
            try (KernelArgs tooFew = new KernelArgs().pointer(out).i64(1000);
                 KernelArgs wrongSize = new KernelArgs().pointer(out).i32(1000).f32(1f)) {
                expectThrows(IllegalArgumentException.class, () -> launcher.launch(fill, Dim3.of(1), Dim3.of(32), 0, tooFew),
                        "a launch with too few arguments is refused");
                expectThrows(IllegalArgumentException.class, () -> launcher.launch(fill, Dim3.of(1), Dim3.of(32), 0, wrongSize),
                        "an int where the kernel takes a long long is refused");
            }
            EbmException missing = expectThrows(EbmException.class, () -> launcher.function("ebm_no_such_kernel"), "unknown kernel");
            expect(missing.getMessage().contains("'ebm_no_such_kernel' is not in the GPU module") && missing.getMessage().contains("build-gpu.sh"),
                    "unknown kernel names the module and the build script");

            CudaException oom = expectThrows(CudaException.class, () -> launcher.allocate(12L << 30, "hidden.0 activations"), "12 GiB allocation");
            expect(oom.getMessage().startsWith("cuMemAlloc_v2(12884901888 bytes for 'hidden.0 activations') failed: CUDA_ERROR_OUT_OF_MEMORY (out of memory);")
                    && oom.getMessage().contains("of 16.0 GiB") && oom.getMessage().contains("train.batch_size"), "out of memory names the allocation and what to reduce");

            DriverLauncher.MemoryUse use = launcher.memoryUse();
            expect(use.bytesAllocated() == 4000 && use.allocations() == 1 && use.peakBytesAllocated() == 4000
                    && use.deviceBytesInUse() == 4000 && use.deviceTotalBytes() == 16L << 30, "memory accounting: " + use);

            MemorySegment pinned = launcher.allocatePinned(4000);
            for (int i = 0; i < 1000; i++) pinned.setAtIndex(JAVA_FLOAT, i, i);
            launcher.zeroAsync(out);
            launcher.copyToDeviceAsync(pinned, out);
            DeviceBuffer copy = launcher.allocate(4000, "copy");
            launcher.copyAsync(out, copy, 4000);
            launcher.synchronize();
            float[] copied = launcher.readFloats(copy, 1000);
            expect(copied[0] == 0 && copied[999] == 999, "pinned memory, async copies and device-to-device copy");
            launcher.freePinned(pinned);

            DeviceBuffer step = launcher.upload(new long[] {5});
            DeviceBuffer result = launcher.upload(new long[] {0});
            KernelFunction stepKernel = launcher.function("fake_step_kernel");
            try (CudaGraph graph = launcher.capture(() -> {
                try (KernelArgs a = new KernelArgs().pointer(result).pointer(step)) {
                    launcher.launch(stepKernel, Dim3.of(1), Dim3.of(1), 0, a); // recorded, not waited for, while capturing
                }
            })) {
                expect(intCall(captureMode) == CudaDriver.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL, "capture in thread-local mode");
                expect(launcher.readLongs(result, 1)[0] == 0, "capture records without running");
                graph.replay();
                long first = launcher.readLongs(result, 1)[0];
                launcher.write(step, new long[] {7});
                graph.replay();
                long second = launcher.readLongs(result, 1)[0];
                expect(first == 11 && second == 15, "two replays read the step from device memory: " + first + ", " + second);
            }
            CudaException inCapture = expectThrows(CudaException.class,
                    () -> launcher.capture(() -> launcher.allocate(64, "inside capture")), "allocation inside a capture");
            expect(inCapture.getMessage().contains("CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED") && inCapture.getMessage().contains("inside capture")
                    && inCapture.getSuppressed().length == 1, "the failed capture is ended (its own error suppressed)");
            try (KernelArgs a = new KernelArgs().pointer(out).i64(10).f32(-1f)) {
                float ms = launcher.elapsedMillis(() -> launcher.launchAsync(fill, Dim3.of(1), Dim3.of(32), 0, a));
                expect(ms > 0 && launcher.readFloats(out, 1)[0] == -1f, "the launcher works after a failed capture; events time it (" + ms + " ms)");
            }
            launcher.free(copy);
            expectThrows(IllegalArgumentException.class, () -> launcher.free(copy), "freeing twice");
        }
        expect(intCall(liveObjects) == 0, "close freed every allocation, stream, event, graph and module and released the context");

        CudaException jit = expectThrows(CudaException.class, () -> new DriverLauncher(0, badFatbin), "a module the JIT rejects");
        expect(jit.getMessage().equals("cuModuleLoadDataEx(" + badFatbin + ") failed: CUDA_ERROR_INVALID_PTX (a PTX JIT compilation failed);"
                + " JIT error log: ptxas fatal   : fake JIT failure on line 7 | second line"), "the JIT error log is in the message");
        expect(intCall(liveObjects) == 0, "a failed constructor releases the stream and the context");
        EbmException device = expectThrows(EbmException.class, () -> new DriverLauncher(3, badFatbin), "device 3 of 1");
        expect(device.getMessage().contains("selects CUDA device 3, but the driver reports 1 device (0..0)"), "device out of range");
        EbmException noFatbin = expectThrows(EbmException.class, () -> new DriverLauncher(0, Path.of("target/none.fatbin")), "no fatbin");
        expect(noFatbin.getMessage().contains("build it with native-build/build-gpu.sh"), "a missing fatbin says how to build it");

        try (GpuRuntime runtime = GpuRuntime.open()) {
            expect(runtime.blas().description().equals("cuBLAS 13.0.2 (sgemm, fp32)"), "cuBLAS description");
            long workspace;
            try {
                workspace = (long) workspaceBytes.invokeExact();
            } catch (Throwable t) {
                throw new AssertionError(t);
            }
            expect(workspace == CublasBlas.WORKSPACE_BYTES && runtime.launcher().memoryUse().bytesAllocated() == CublasBlas.WORKSPACE_BYTES,
                    "the 32 MiB workspace is set after the stream and counted as ebm's memory");
            checkBlas(runtime.blas(), runtime.launcher());
            for (Blas.GemmPrecision p : List.of(Blas.GemmPrecision.TF32, Blas.GemmPrecision.BF16)) {
                try (CublasBlas blas = new CublasBlas(runtime.launcher(), p)) {
                    checkBlas(blas, runtime.launcher());
                    expect(intCall(computeType) == (p == Blas.GemmPrecision.TF32 ? 77 : 75), p + " goes through cublasGemmEx with its compute type");
                }
            }
            DeviceBuffer m = runtime.launcher().allocate(64, "4x4");
            CudaException invalid = expectThrows(CudaException.class, () -> runtime.blas().gemm(false, false, 4, 4, 4, 1f,
                    m.address(), 2, m.address(), 4, 0f, m.address(), 4), "lda < m");
            expect(invalid.getMessage().startsWith("cublasSgemm_v2(N, N, m=4, n=4, k=4, lda=2, ldb=4, ldc=4) failed: CUBLAS_STATUS_INVALID_VALUE ("),
                    "a cuBLAS error names the call and the status");
            DeviceBuffer d = runtime.launcher().allocate(128, "4x4 fp64");
            CudaException invalidD = expectThrows(CudaException.class, () -> runtime.blas().dgemm(true, false, 4, 4, 4, 1.0,
                    d.address(), 3, d.address(), 4, 0.0, d.address(), 4), "dgemm lda < k");
            expect(invalidD.getMessage().startsWith("cublasDgemm_v2(T, N, m=4, n=4, k=4, lda=3, ldb=4, ldc=4) failed: CUBLAS_STATUS_INVALID_VALUE ("),
                    "a cublasDgemm_v2 error names the call and the status");
        }
        expect(intCall(liveHandles) == 0 && intCall(liveObjects) == 0, "GpuRuntime.close destroyed the cuBLAS handles and the launcher");

        FakeDriverCaptureScenarios.run(cudaDouble);
        expect(intCall(liveHandles) == 0 && intCall(liveObjects) == 0, "after the capture refusals nothing is left on the test double");
        System.out.println("all scenarios passed");
    }

    private static void checkBlas(Blas blas, KernelLauncher launcher) {
        List<ParityResult> results = new BlasParityChecks(blas, launcher, 7).all();
        for (ParityResult r : results) {
            System.out.println("  " + r.summary());
            expect(r.passed(), blas.precision() + " " + r.op());
        }
    }
}
