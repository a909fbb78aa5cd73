package ebm.backend.cuda.runtime;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import ebm.TestSeeds;
import ebm.backend.cuda.bindings.CudaException;
import ebm.backend.cuda.bindings.Dim3;
import ebm.backend.cuda.bindings.KernelFunction;
import ebm.backend.cuda.step.CudaTrainingStep;
import ebm.backend.cuda.step.DeviceLangevin;
import ebm.config.OptimizerConfig;
import ebm.model.Mlp;
import ebm.model.MlpSpec;
import ebm.objective.HutchinsonObjective;
import ebm.objective.Objective;
import ebm.objective.ProbeDistribution;
import ebm.optim.OptimizerSpec;
import ebm.sample.Langevin;
import ebm.sample.LangevinSchedule;
import ebm.tape.Activation;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.slf4j.LoggerFactory;

/**
 * Part of {@link FakeDriverScenarios} (same child JVM, same test doubles): what happens when the driver refuses a
 * graph capture. Each refusal the driver can give (cuStreamBeginCapture, cuStreamEndCapture invalidated or refused
 * with the stream left capturing, cuGraphInstantiate, a launch inside the capture) is injected through
 * fake_cuda_fail: the DriverLauncher must leave its stream out of capture mode, and the training step and the
 * Langevin chain, whose kernels the test double runs through the host build, must fall back to eager launches with
 * one warning and give the eager run's losses, parameters and points bit for bit. Device allocations must return to
 * where they were once a step or chain is closed.
 */
final class FakeDriverCaptureScenarios {
    private static final int CUDA_ERROR_OUT_OF_MEMORY = 2, CUDA_ERROR_NOT_SUPPORTED = 801,
            CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED = 900, CUDA_ERROR_STREAM_CAPTURE_INVALIDATED = 901,
            CUDA_ERROR_STREAM_CAPTURE_WRONG_THREAD = 908;
    private static final int STEPS = 5, BATCH = 6;

    /** One refusal: the skip-th next call of `call` after this returns code. */
    private record Injection(String call, int code, int skip, String errorName, boolean beginsCapture) {
        @Override
        public String toString() {
            return call + (skip > 0 ? " (call " + (skip + 1) + ")" : "") + " -> " + errorName;
        }
    }

    private static final List<Injection> REFUSALS = List.of(
            new Injection("cuStreamBeginCapture", CUDA_ERROR_NOT_SUPPORTED, 0, "CUDA_ERROR_NOT_SUPPORTED", false),
            new Injection("cuStreamEndCapture", CUDA_ERROR_STREAM_CAPTURE_INVALIDATED, 0, "CUDA_ERROR_STREAM_CAPTURE_INVALIDATED", true),
            // refused without ending the capture: the launcher has to end it itself before eager work can run
            new Injection("cuStreamEndCapture", CUDA_ERROR_STREAM_CAPTURE_WRONG_THREAD, 0, "CUDA_ERROR_STREAM_CAPTURE_WRONG_THREAD", true),
            new Injection("cuGraphInstantiate", CUDA_ERROR_OUT_OF_MEMORY, 0, "CUDA_ERROR_OUT_OF_MEMORY", true),
            new Injection("cuLaunchKernel in capture", CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, 0, "CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED", true));

    private final MethodHandle fail, capturesBegun, graphLaunches, liveObjects, liveAllocations;

    private FakeDriverCaptureScenarios(SymbolLookup cudaDouble) {
        Linker linker = Linker.nativeLinker();
        fail = linker.downcallHandle(cudaDouble.findOrThrow("fake_cuda_fail"), FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        capturesBegun = linker.downcallHandle(cudaDouble.findOrThrow("fake_cuda_captures_begun"), FunctionDescriptor.of(JAVA_INT));
        graphLaunches = linker.downcallHandle(cudaDouble.findOrThrow("fake_cuda_graph_launches"), FunctionDescriptor.of(JAVA_INT));
        liveObjects = linker.downcallHandle(cudaDouble.findOrThrow("fake_cuda_live_objects"), FunctionDescriptor.of(JAVA_INT));
        liveAllocations = linker.downcallHandle(cudaDouble.findOrThrow("fake_cuda_live_allocations"), FunctionDescriptor.of(JAVA_INT));
    }

    static void run(SymbolLookup cudaDouble) {
        FakeDriverCaptureScenarios s = new FakeDriverCaptureScenarios(cudaDouble);
        s.streamIsUsableAfterEveryRefusal();
        var missing = HostKernelLibrary.missingReason();
        if (missing.isPresent()) {
            System.out.println("skipped: the training step and the sampler through the driver need the host build of kernels/: "
                    + missing.get());
            return;
        }
        s.trainingStepFallsBackToEagerLaunches();
        s.shampoosSecondCaptureFailing();
        s.langevinFallsBackToEagerLaunches();
    }

    private static int call(MethodHandle handle) {
        try {
            return (int) handle.invokeExact();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private void inject(Injection injection) {
        try (Arena arena = Arena.ofConfined()) {
            int r = (int) fail.invokeExact(arena.allocateFrom(injection.call()), injection.code(), injection.skip());
            if (r != 0) throw new AssertionError("the test double does not know " + injection.call());
        } catch (Throwable t) {
            throw t instanceof AssertionError a ? a : new AssertionError(t);
        }
    }

    /** The launcher alone, on the test double's own fill kernel: after each refusal, a launch runs (not recorded). */
    private void streamIsUsableAfterEveryRefusal() {
        int objectsBefore = call(liveObjects);
        try (DriverLauncher launcher = new DriverLauncher()) {
            DeviceBuffer out = launcher.allocate(4 * 100, "fill output");
            KernelFunction fill = launcher.function("fake_fill_f32");
            float value = 1f;
            for (Injection refusal : REFUSALS) {
                inject(refusal);
                CudaException e = FakeDriverScenarios.expectThrows(CudaException.class, () -> launcher.capture(() -> {
                    try (KernelArgs a = new KernelArgs().pointer(out).i64(100).f32(-1f)) {
                        launcher.launchAsync(fill, Dim3.of(1), Dim3.of(32), 0, a);
                    }
                }), "capture refused at " + refusal);
                FakeDriverScenarios.expect(e.errorName().equals(refusal.errorName()), "the exception names " + refusal.errorName());
                value += 1f;
                try (KernelArgs a = new KernelArgs().pointer(out).i64(100).f32(value)) {
                    launcher.launch(fill, Dim3.of(1), Dim3.of(32), 0, a);
                }
                float[] got = launcher.readFloats(out, 100);
                FakeDriverScenarios.expect(got[0] == value && got[99] == value,
                        "after " + refusal + " the stream runs eager work again (read " + got[0] + ", wrote " + value + ")");
            }
        }
        FakeDriverScenarios.expect(call(liveObjects) == objectsBefore, "no graph, executable graph or stream left behind by the refusals");
    }

    // ---- the training step ----------------------------------------------------------------------------------------

    private record StepRun(double[] losses, double[] params, boolean captured, int graphLaunches, int capturesBegun) {}

    private static OptimizerSpec config(String name, double lr, Integer rootEvery, Integer startStep) {
        return new OptimizerConfig(name, lr, 0.01, null, null, null, null, null, null, null, null, null, rootEvery, startStep,
                null, null).spec();
    }

    /** A view of the launcher that never captures: the eager reference on the same driver path and cuBLAS. */
    private static KernelLauncher eager(DriverLauncher driver) {
        return new ForwardingLauncher(driver) {
            @Override
            public String description() {
                return driver.description() + ", eager";
            }

            @Override
            public Graph capture(Runnable body) {
                return null; // never captures: the caller runs the body itself every time
            }
        };
    }

    private static ListAppender<ILoggingEvent> warningsOf(Class<?> type) {
        Logger logger = (Logger) LoggerFactory.getLogger(type);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        logger.addAppender(appender);
        return appender;
    }

    private StepRun runSteps(KernelLauncher launcher, DriverLauncher driver, Blas blas, MlpSpec spec, Objective objective,
                             OptimizerSpec optimizer, double[] init, double[][] batches) {
        int allocationsBefore = driver.memoryUse().allocations(), liveBefore = call(liveAllocations);
        int launchesBefore = call(graphLaunches), begunBefore = call(capturesBegun);
        double[] losses = new double[STEPS];
        StepRun run;
        try (CudaTrainingStep step = new CudaTrainingStep(launcher, blas, spec, objective, optimizer, BATCH, 1.0, init)) {
            for (int t = 0; t < STEPS; t++) losses[t] = step.step(batches[t], t + 1, 1.0 - 0.1 * t).loss();
            run = new StepRun(losses, step.params(), step.captured(), call(graphLaunches) - launchesBefore,
                    call(capturesBegun) - begunBefore);
            FakeDriverScenarios.expect(driver.memoryUse().allocations() > allocationsBefore, "the step holds device buffers while open");
        }
        FakeDriverScenarios.expect(driver.memoryUse().allocations() == allocationsBefore && call(liveAllocations) == liveBefore,
                "closing the step freed every buffer it allocated (" + allocationsBefore + " allocations before and after; "
                        + liveBefore + " in the test double)");
        return run;
    }

    private static void expectSameRun(String label, StepRun got, StepRun want) {
        double worst = 0;
        for (int i = 0; i < want.params().length; i++) worst = Math.max(worst, Math.abs(got.params()[i] - want.params()[i]));
        System.out.printf("  %s: losses %s vs eager %s; params[0..2] %s vs %s; max |Δparam| %.3g%n", label,
                Arrays.toString(got.losses()), Arrays.toString(want.losses()),
                Arrays.toString(Arrays.copyOf(got.params(), 3)), Arrays.toString(Arrays.copyOf(want.params(), 3)), worst);
        FakeDriverScenarios.expect(Arrays.equals(got.losses(), want.losses()) && Arrays.equals(got.params(), want.params()),
                label + ": the eager run's losses and parameters, bit for bit");
    }

    private void trainingStepFallsBackToEagerLaunches() {
        MlpSpec spec = new MlpSpec(3, new int[] {8, 6}, Activation.SOFTPLUS);
        Random random = new Random(TestSeeds.fixed("fake driver training step: parameters and batches", 4242));
        double[] init = Fp32.toDoubles(Fp32.toFloats(new Mlp(spec).initialParams(random.nextLong())));
        double[][] batches = new double[STEPS][BATCH * spec.inputDim()];
        for (double[] b : batches) for (int i = 0; i < b.length; i++) b[i] = (float) random.nextGaussian();
        Objective objective = new HutchinsonObjective(2, ProbeDistribution.RADEMACHER, TestSeeds.fixed("probes", 77));
        OptimizerSpec adamw = config("adamw", 3e-3, null, null);
        ListAppender<ILoggingEvent> warnings = warningsOf(CudaTrainingStep.class);
        try (GpuRuntime runtime = GpuRuntime.open()) {
            DriverLauncher driver = runtime.launcher();
            StepRun reference = runSteps(eager(driver), driver, runtime.blas(), spec, objective, adamw, init, batches);
            FakeDriverScenarios.expect(!reference.captured() && reference.capturesBegun() == 0, "the reference run is eager");
            StepRun captured = runSteps(driver, driver, runtime.blas(), spec, objective, adamw, init, batches);
            FakeDriverScenarios.expect(captured.captured() && captured.capturesBegun() == 1 && captured.graphLaunches() == STEPS - 1,
                    "without a refusal the second step is captured and replayed (" + captured.graphLaunches() + " graph launches)");
            expectSameRun("captured", captured, reference);
            FakeDriverScenarios.expect(warnings.list.isEmpty(), "no warning when the capture works");
            for (Injection refusal : REFUSALS) {
                warnings.list.clear();
                inject(refusal);
                StepRun fallback = runSteps(driver, driver, runtime.blas(), spec, objective, adamw, init, batches);
                FakeDriverScenarios.expect(!fallback.captured() && fallback.graphLaunches() == 0
                        && fallback.capturesBegun() == (refusal.beginsCapture() ? 1 : 0), refusal
                        + ": the step runs eagerly and does not try to capture again (" + fallback.capturesBegun() + " begun)");
                expectSameRun(refusal.toString(), fallback, reference);
                FakeDriverScenarios.expect(warnings.list.size() == 1
                        && warnings.list.getFirst().getLevel() == ch.qos.logback.classic.Level.WARN
                        && warnings.list.getFirst().getFormattedMessage().contains(refusal.errorName()),
                        refusal + ": one warning naming the failure: " + warnings.list.stream().map(ILoggingEvent::getFormattedMessage).toList());
            }
        }
    }

    /** Shampoo captures two graphs around its host work: the second refused, the first must go too. */
    private void shampoosSecondCaptureFailing() {
        MlpSpec spec = new MlpSpec(3, new int[] {6}, Activation.TANH);
        Random random = new Random(TestSeeds.fixed("fake driver shampoo step: parameters and batches", 99));
        double[] init = Fp32.toDoubles(Fp32.toFloats(new Mlp(spec).initialParams(random.nextLong())));
        double[][] batches = new double[STEPS][BATCH * spec.inputDim()];
        for (double[] b : batches) for (int i = 0; i < b.length; i++) b[i] = (float) random.nextGaussian();
        Objective objective = new HutchinsonObjective(1, ProbeDistribution.GAUSSIAN, 5);
        OptimizerSpec shampoo = config("shampoo", 0.01, 2, 2);
        ListAppender<ILoggingEvent> warnings = warningsOf(CudaTrainingStep.class);
        try (GpuRuntime runtime = GpuRuntime.open()) {
            DriverLauncher driver = runtime.launcher();
            StepRun reference = runSteps(eager(driver), driver, runtime.blas(), spec, objective, shampoo, init, batches);
            StepRun captured = runSteps(driver, driver, runtime.blas(), spec, objective, shampoo, init, batches);
            FakeDriverScenarios.expect(captured.captured() && captured.capturesBegun() == 2 && captured.graphLaunches() == 2 * (STEPS - 1),
                    "shampoo: two graphs per step, replayed from the second step");
            expectSameRun("shampoo captured", captured, reference);
            warnings.list.clear();
            int objectsBefore = call(liveObjects);
            Injection second = new Injection("cuStreamEndCapture", CUDA_ERROR_STREAM_CAPTURE_INVALIDATED, 1,
                    "CUDA_ERROR_STREAM_CAPTURE_INVALIDATED", true);
            inject(second);
            StepRun fallback = runSteps(driver, driver, runtime.blas(), spec, objective, shampoo, init, batches);
            FakeDriverScenarios.expect(!fallback.captured() && fallback.graphLaunches() == 0 && fallback.capturesBegun() == 2,
                    "shampoo, " + second + ": the first graph is dropped too and every step runs eagerly");
            expectSameRun("shampoo, " + second, fallback, reference);
            FakeDriverScenarios.expect(warnings.list.size() == 1 && call(liveObjects) == objectsBefore,
                    "shampoo: one warning, and no graph left behind");
        }
    }

    // ---- the Langevin chain ---------------------------------------------------------------------------------------

    private double[] runChain(KernelLauncher launcher, DriverLauncher driver, Blas blas, MlpSpec spec, double[] params,
                              double[] start, int chains, LangevinSchedule schedule, boolean[] captured) {
        int allocationsBefore = driver.memoryUse().allocations();
        double[] points;
        try (DeviceLangevin chain = new DeviceLangevin(launcher, blas, spec, params, chains, schedule, 31)) {
            chain.start(start);
            chain.advance(schedule.steps());
            points = chain.points();
            captured[0] = chain.captured();
        }
        FakeDriverScenarios.expect(driver.memoryUse().allocations() == allocationsBefore, "closing the chain freed its buffers");
        return points;
    }

    private void langevinFallsBackToEagerLaunches() {
        MlpSpec spec = new MlpSpec(2, new int[] {5}, Activation.SILU);
        Random random = new Random(TestSeeds.fixed("fake driver Langevin: parameters and start", 13));
        double[] params = Fp32.toDoubles(Fp32.toFloats(new Mlp(spec).initialParams(random.nextLong())));
        int chains = 4;
        double[] start = new double[chains * 2];
        for (int i = 0; i < start.length; i++) start[i] = (float) random.nextGaussian();
        LangevinSchedule schedule = new LangevinSchedule(6, 0.05, null);
        ListAppender<ILoggingEvent> warnings = warningsOf(DeviceLangevin.class);
        try (GpuRuntime runtime = GpuRuntime.open()) {
            DriverLauncher driver = runtime.launcher();
            boolean[] captured = new boolean[1];
            double[] reference = runChain(eager(driver), driver, runtime.blas(), spec, params, start, chains, schedule, captured);
            int launches = call(graphLaunches);
            double[] replayed = runChain(driver, driver, runtime.blas(), spec, params, start, chains, schedule, captured);
            FakeDriverScenarios.expect(captured[0] && call(graphLaunches) - launches == schedule.steps() - 1
                    && Arrays.equals(replayed, reference), "Langevin: captured from the second step, the eager chain's points");
            for (Injection refusal : List.of(REFUSALS.get(1), REFUSALS.get(2), REFUSALS.get(4))) {
                warnings.list.clear();
                inject(refusal);
                launches = call(graphLaunches);
                double[] fallback = runChain(driver, driver, runtime.blas(), spec, params, start, chains, schedule, captured);
                System.out.printf("  Langevin, %s: points[0..3] %s vs eager %s%n", refusal,
                        Arrays.toString(Arrays.copyOf(fallback, 4)), Arrays.toString(Arrays.copyOf(reference, 4)));
                FakeDriverScenarios.expect(!captured[0] && call(graphLaunches) == launches && Arrays.equals(fallback, reference),
                        "Langevin, " + refusal + ": eager steps, the eager chain's points bit for bit");
                FakeDriverScenarios.expect(warnings.list.size() == 1 && warnings.list.getFirst().getFormattedMessage().contains(refusal.errorName()),
                        "Langevin, " + refusal + ": one warning naming the failure");
            }
        }
    }
}
