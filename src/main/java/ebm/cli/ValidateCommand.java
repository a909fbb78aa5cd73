package ebm.cli;

import ebm.EbmException;
import ebm.backend.cuda.parity.BlasParityChecks;
import ebm.backend.cuda.parity.GpuOnlyChecks;
import ebm.backend.cuda.parity.KernelParityChecks;
import ebm.backend.cuda.parity.ParityResult;
import ebm.backend.cuda.parity.SamplerParityChecks;
import ebm.backend.cuda.parity.StepParityChecks;
import ebm.backend.cuda.runtime.Blas;
import ebm.backend.cuda.runtime.DriverLauncher;
import ebm.backend.cuda.runtime.GpuRuntime;
import ebm.backend.cuda.runtime.HostBlas;
import ebm.backend.cuda.runtime.HostEmulationLauncher;
import ebm.backend.cuda.step.CudaBackends;
import ebm.config.BackendKind;
import ebm.rng.CheckSeed;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "validate", mixinStandardHelpOptions = true,
        description = {"Check every CUDA kernel against the fp64 CPU reference and print a table.",
                "On a GPU it runs them through the driver API, plus CUDA graph replay and cuBLAS at fp32/tf32/bf16;",
                "--emulated runs the kernels through the host build of kernels/ (no GPU needed), every launch in thread order",
                "and under a shuffled schedule, which must give identical bits. Exits non-zero on any failure."})
final class ValidateCommand implements Callable<Integer> {
    /** What the host build cannot show; only a run on a GPU checks these. */
    static final List<String> GPU_ONLY = List.of(
            "real kernel launches on the device (timing, occupancy, the GPU's own libm and FMA contraction)",
            "CUDA graph capture and replay",
            "asynchronous copies and stream ordering",
            "cuBLAS itself (its kernels' rounding and accumulation order; the host GEMM rows check the call patterns)",
            "device memory limits and peak device memory");

    @Option(names = "--emulated", description = "Run the kernels through the host build (g++) instead of a GPU.")
    boolean emulated;

    @Option(names = "--seed", description = {"Seed of the random inputs (default: the system property ebm.seed, else the "
            + "environment variable EBM_SEED, else fresh from the clock). Printed as seed=<value> before the checks run; "
            + "the same value replays the same inputs."})
    Long seed;

    @Option(names = "--schedule-seed", description = {"With --emulated: seed of the shuffled thread schedule every launch is "
            + "also run under (not 0; default: " + HostEmulationLauncher.SCHEDULE_SEED_ENV + " if set and not 0, else fresh every run)."})
    Long scheduleSeed;

    @Override
    public Integer call() {
        List<String> ops = List.of("philox words", "probes rademacher", "probes gaussian fp64", "probes gaussian fp32",
                "adamw", "bias+activation (4 activations x orders 0..3)", "reduce sum", "graph replay",
                "cuBLAS gemm, strided batched, dgemm (fp32, tf32, bf16)", "device tape ops (value and adjoints)",
                "objectives (loss and parameter gradient; fp32, tf32, bf16)",
                "training steps (objective, clipping, adamw/sgd/muon/shampoo)", "optimizer diagnostics",
                "langevin sampler (noise, one step, chains)");
        CheckSeed checkSeed = seed != null ? new CheckSeed(seed, "--seed") : CheckSeed.resolve();
        long inputSeed = checkSeed.value();
        List<ParityResult> results;
        String description;
        String memory = null;
        String schedules = null;
        if (!emulated) {
            Optional<String> noDevice = GpuRuntime.deviceUnavailableReason();
            if (noDevice.isPresent()) {
                System.out.println("skipped: " + noDevice.get());
                for (String op : ops) System.out.printf("%-48s skipped%n", op);
                System.out.println("run `ebm validate --emulated` to check the kernels through their host build");
                return 0;
            }
            // A GPU is there: a missing fatbin or cuBLAS is an error to fix (exit 2), not a skip.
            GpuRuntime.unavailableReason().ifPresent(reason -> {
                throw new EbmException(reason);
            });
            announce(checkSeed);
            try (GpuRuntime runtime = GpuRuntime.open()) {
                DriverLauncher launcher = runtime.launcher();
                description = launcher.description() + " and " + runtime.blas().description();
                results = new ArrayList<>(new KernelParityChecks(launcher, inputSeed).all());
                results.addAll(GpuOnlyChecks.all(runtime, inputSeed));
                results.addAll(new StepParityChecks(launcher, runtime.blas(), inputSeed).all());
                results.addAll(new SamplerParityChecks(launcher, runtime.blas(), inputSeed).all());
                DriverLauncher.MemoryUse use = launcher.memoryUse();
                memory = String.format("device memory: ebm peak %.1f MiB, device in use at peak %.1f MiB of %.1f GiB",
                        use.peakBytesAllocated() / 1048576.0, use.peakDeviceBytesInUse() / 1048576.0,
                        use.deviceTotalBytes() / 1073741824.0);
            }
        } else {
            announce(checkSeed);
            long shuffleSeed = scheduleSeed != null ? scheduleSeed : HostEmulationLauncher.configuredOrFreshScheduleSeed();
            if (shuffleSeed == 0) throw new EbmException("--schedule-seed must not be 0 (0 is thread index order, which every launch runs anyway)");
            HostEmulationLauncher host = HostEmulationLauncher.comparingSchedules(shuffleSeed, HostEmulationLauncher.OnDifference.RECORD,
                    KernelParityChecks.SCHEDULE_DEPENDENT);
            try (CudaBackends.Runtime runtime = CudaBackends.emulated(host, Blas.GemmPrecision.FP32)) {
                description = runtime.description();
                results = new ArrayList<>(new KernelParityChecks(runtime.launcher(), inputSeed).all());
                results.addAll(new StepParityChecks(runtime.launcher(), runtime.blas(), inputSeed).all());
                results.addAll(new SamplerParityChecks(runtime.launcher(), runtime.blas(), inputSeed).all());
                // cuBLAS's call patterns (column-major, leading dimensions, transposes, β = 0 never reading C, strided
                // batches, dgemm) at every precision, through the host GEMM that stands in for cuBLAS here
                for (Blas.GemmPrecision p : Blas.GemmPrecision.values()) {
                    results.addAll(new BlasParityChecks(new HostBlas(p), runtime.launcher(), inputSeed).all());
                }
                // one row per kernel: every launch above ran twice, in thread order and shuffled, from the same memory
                results.addAll(KernelParityChecks.scheduleRows(host));
                schedules = String.format("schedule seed %d: all %d launches of %d kernels ran in thread order and shuffled per "
                        + "barrier phase, compared bit for bit (--schedule-seed %d or %s=%d repeats the schedules)", shuffleSeed,
                        host.launchesCompared(), host.kernelsCompared(), shuffleSeed, HostEmulationLauncher.SCHEDULE_SEED_ENV, shuffleSeed);
            }
        }
        System.out.println("kernels through " + description + ", inputs seed " + inputSeed);
        if (schedules != null) System.out.println(schedules);
        String format = "%-44s %-30s %-6s %-36s %11s %9s  %s%n";
        System.out.printf(format, "op", "shapes", "prec", "error measure", "worst", "tolerance", "result");
        int failures = 0;
        for (ParityResult r : results) {
            System.out.printf(format, r.op(), r.shapes(), r.precision(), r.errorMeasure(), String.format("%.3e", r.worstError()),
                    String.format("%.1e", r.tolerance()), r.passed() ? "pass" : "FAIL" + (r.problem() == null ? "" : ": " + r.problem()));
            if (!r.passed()) {
                failures++;
                for (String pair : r.worstPairs()) System.out.println("    " + pair);
            }
        }
        if (emulated) {
            System.out.println("not checked here (GPU only):");
            for (String item : GPU_ONLY) System.out.println("  - " + item);
        } else {
            System.out.println(memory);
        }
        System.out.printf("%d of %d checks passed%n", results.size() - failures, results.size());
        return failures == 0 ? 0 : 1;
    }

    /** Printed before any check runs, so a run that fails or dies part-way still says how to replay it. */
    private void announce(CheckSeed checkSeed) {
        System.out.printf("validate: seed=%d (%s; replay: ./ebm validate%s --seed %d)%n", checkSeed.value(), checkSeed.source(),
                emulated ? " --emulated" : "", checkSeed.value());
    }
}
