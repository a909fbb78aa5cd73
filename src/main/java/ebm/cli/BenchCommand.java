package ebm.cli;

import ebm.EbmException;
import ebm.bench.DeviceGemmRate;
import ebm.bench.KernelBench;
import ebm.bench.KernelBenchReport;
import ebm.bench.StepBench;
import ebm.bench.StepBenchReport;
import ebm.bench.TraceBench;
import ebm.bench.TraceBenchReport;
import ebm.bench.TracePeers;
import ebm.config.BackendKind;
import ebm.linalg.Gemm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "bench", mixinStandardHelpOptions = true, description = "Benchmarks (validated before they are timed).",
        subcommands = {BenchCommand.Step.class, BenchCommand.Trace.class, BenchCommand.Kernels.class})
final class BenchCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** A bench's --backend: cpu, cuda or cuda-emulated, else the benches' one-line error. */
    static BackendKind backendOption(String value) {
        return BackendKind.byName(value).orElseThrow(() -> new EbmException("unknown --backend '" + value + "'; allowed: "
                + BackendKind.allowed()));
    }

    @Command(name = "step", mixinStandardHelpOptions = true,
            description = {"Time the CPU training step (loss + gradient + AdamW, fp64) against a fair peer.",
                    "Prints ms/step with its spread, GFLOP/s, the shares of ebm's GEMM rate and of the BLAS's dgemm rate "
                            + "(--limit, from bench/peers/numpy_dgemm.py), the speed-up over the fastest torch row "
                            + "(--peer, from bench/peers/torch_trace.py) and each row's target; bench/cpu-step.sh runs all three."})
    static final class Step implements Callable<Integer> {
        @Option(names = "--shapes", split = ",", description = "DxHxL entries (default 2x128x3,64x256x3,512x128x3).")
        List<String> shapes = new ArrayList<>();

        @Option(names = "--methods", split = ",", description = "Default: exact-per-dimension,exact-row-space,hutchinson-1,"
                + "sliced-1,denoising (also hutchinson-K, sliced-K, their -rademacher- forms).")
        List<String> methods = new ArrayList<>(StepBench.METHODS);

        @Option(names = "--batch", defaultValue = "256")
        int batch;

        @Option(names = "--budget", defaultValue = "5", description = "Seconds of timing per row (at least 3 steps).")
        double budget;

        @Option(names = "--rounds", defaultValue = "1", description = "Time every row this many times, round-robin, and "
                + "keep each row's best median (a shared host's noise comes in bursts).")
        int rounds;

        @Option(names = "--peer", description = "bench/peers/torch_trace.py's CSV (repeatable: the fastest row counts).")
        List<Path> peer = new ArrayList<>();

        @Option(names = "--limit", description = "bench/peers/numpy_dgemm.py's CSV of dgemm rates (repeatable).")
        List<Path> limit = new ArrayList<>();

        @Option(names = "--gemm-shapes", description = "Print the GEMM shapes these rows issue (numpy_dgemm.py's --shapes) and exit.")
        boolean printGemmShapes;

        @Option(names = "--out", description = "Folder for results.csv and report.md.")
        Path out;

        @Override
        public Integer call() {
            List<StepBench.Shape> list = new ArrayList<>();
            if (shapes.isEmpty()) list.addAll(StepBench.SHAPES);
            else for (String s : shapes) list.add(StepBench.Shape.parse(s));
            for (String m : methods) StepBench.directions(m, list.getFirst()); // an unknown method fails here, named
            if (batch < 1) throw new EbmException("--batch must be >= 1, got " + batch);
            if (rounds < 1) throw new EbmException("--rounds must be >= 1, got " + rounds);
            List<StepBench.GemmShape> gemms = StepBench.gemmShapes(list, methods, batch);
            if (printGemmShapes) {
                System.out.println(String.join(",", gemms.stream().map(Object::toString).toList()));
                return 0;
            }
            // read before the run: a bad file fails in a second, not after the rows
            List<TracePeers.Peer> peers = peer.isEmpty() ? List.of() : TracePeers.read(peer);
            List<StepBenchReport.Limit> limits = limit.isEmpty() ? List.of() : StepBenchReport.readLimits(limit);
            Map<StepBench.GemmShape, Double> ebmGemm = new LinkedHashMap<>();
            for (StepBench.GemmShape g : gemms) {
                // 1024³ as one call on all threads; the step's own shapes as the step runs them (chunked)
                ebmGemm.put(g, g.equals(StepBench.GemmShape.SQUARE_1024) ? StepBench.gemmRate(g) : StepBench.stepGemmRate(g, batch));
                System.out.printf(Locale.ROOT, "ebm GEMM %-22s %7.1f GFLOP/s (%s)%n", g, ebmGemm.get(g), g.equals(StepBench.GemmShape.SQUARE_1024) ? Gemm.threads() + " threads" : "as the step runs it");
            }
            double bandwidth = StepBench.streamBandwidth();
            System.out.printf(Locale.ROOT, "memory bandwidth (one thread, y = a·x + y): %.1f GB/s%n", bandwidth);
            double highest = StepBenchReport.highestLimit(ebmGemm, limits);
            List<StepBench.Row> rows = new ArrayList<>();
            for (int round = 0; round < rounds; round++) {
                int i = 0;
                for (StepBench.Shape s : list) {
                    for (String m : methods) {
                        StepBench.Row r = StepBench.run(m, s, batch, budget, highest);
                        System.out.printf(Locale.ROOT, "round %d  %-18s %-20s %9.2f ms/step (%.2f–%.2f)  %7.1f GFLOP/s (%d reps)%s%n",
                                round + 1, s, m, r.msPerStep(), r.msMin(), r.msMax(), r.gflops(), r.reps(),
                                r.exceedsLimit() ? "  ABOVE EVERY MEASURED LIMIT" : "");
                        if (round == 0) rows.add(r);
                        else if (r.msPerStep() < rows.get(i).msPerStep()) rows.set(i, r);
                        i++;
                    }
                }
            }
            StepBenchReport.Result result = new StepBenchReport.Result(StepBenchReport.machine(Gemm.threads()), batch, rounds,
                    rows, ebmGemm, limits, peers, bandwidth);
            String report = StepBenchReport.markdown(result);
            System.out.println();
            System.out.print(report);
            if (out != null) {
                try {
                    Files.createDirectories(out);
                    Files.writeString(out.resolve("results.csv"), StepBenchReport.csv(rows));
                    Files.writeString(out.resolve("report.md"), report);
                } catch (IOException e) {
                    throw new EbmException("cannot write to " + out + ": " + e.getMessage());
                }
            }
            return 0;
        }
    }

    @Command(name = "trace", mixinStandardHelpOptions = true,
            description = {"Compare the exact Hessian trace with Hutchinson, sliced, Hutch++ and denoising per D.",
                    "On one model and batch per D: ms per training step, tape bytes, estimator variance against the exact objective,"
                            + " and the true Fisher divergence reached on a Gaussian mixture after the same wall-clock budget."})
    static final class Trace implements Callable<Integer> {
        @Option(names = "--backend", defaultValue = "cpu", description = "cpu (fp64), cuda (fp32 on a GPU) or cuda-emulated "
                + "(the CUDA code path through its host build: checks it runs, its timings mean nothing).")
        String backend;

        @Option(names = "--precision", description = "fp64 on the CPU; on the CUDA backends the GEMM mode: fp32 (default), "
                + "tf32 or bf16 (the config key `precision`).")
        String precision;

        @Option(names = "--dims", split = ",", description = "Input dimensions (default 2,8,32,128,512; --quick: 2,16).")
        List<Integer> dims;

        @Option(names = "--hidden", split = ",", description = "Hidden width, or a list of widths: each width is a grid of "
                + "its own, reported in DIR/H<width>/, with every row in DIR/results.csv (default 128; --quick: 32).")
        List<Integer> hidden;

        @Option(names = "--layers", description = "Hidden layers (default 3; --quick: 2).")
        Integer layers;

        @Option(names = "--batch", description = "Batch size (default 256; --quick: 64).")
        Integer batch;

        @Option(names = "--methods", split = ",", description = "Default: exact-per-dimension, exact-row-space, hutchinson-1,"
                + " hutchinson-4, hutchinson-16, hutchinson-rademacher-4, sliced-1, sliced-4, hutch++-6, denoising."
                + " Spellings: " + TraceBench.METHOD_SPELLINGS + ".")
        List<String> methods;

        @Option(names = "--budget", description = "Seconds of training per method and D for the Fisher comparison "
                + "(default 5; --quick: 1).")
        Double budget;

        @Option(names = "--draws", description = "Independent probe/noise draws for the variance (default 30; --quick: 10).")
        Integer draws;

        @Option(names = "--max-step-seconds", description = "Skip a row whose single step takes longer (default 2).")
        Double maxStepSeconds;

        @Option(names = "--quick", description = "A small grid that finishes in about a minute.")
        boolean quick;

        @Option(names = "--peer", description = "A peer's CSV (bench/peers/torch_trace.py, jax_trace.py) to compare with; "
                + "repeatable, the fastest peer row per method, D and precision counts. Adds a side-by-side table with "
                + "the targets to report.md.")
        List<Path> peer = new ArrayList<>();

        @Option(names = "--out", description = "Folder for results.csv, curves.csv, report.md and the plots.")
        Path out;

        @Override
        public Integer call() {
            // read before the run: a bad peer file fails in a second, not after the grid
            List<TracePeers.Peer> peers = peer.isEmpty() ? List.of() : TracePeers.read(peer);
            BackendKind on = backendOption(backend);
            TraceBench.Settings base = TraceBench.Settings.defaults(quick).withBackend(on, precision);
            List<Integer> widths = hidden == null || hidden.isEmpty() ? List.of(base.hidden()) : List.copyOf(hidden);
            List<TraceBench.Settings> grids = new ArrayList<>();
            for (int width : widths) {
                TraceBench.Settings s = base.with(dims, width, layers, batch, methods, budget, draws);
                grids.add(maxStepSeconds == null ? s : s.withTiming(s.warmupSeconds(), s.timingSeconds(), maxStepSeconds));
            }
            double rate;
            String machine;
            if (on == BackendKind.CPU) {
                rate = StepBench.gemmRate(quick ? 512 : 1024);
                System.out.printf(Locale.ROOT, "GEMM rate (%d threads): %.1f GFLOP/s%n", Gemm.threads(), rate);
                machine = String.format(Locale.ROOT, "CPU, %d threads, JDK %s; fp64", Gemm.threads(), Runtime.version().feature());
            } else {
                String gemmPrecision = grids.getFirst().precision();
                int n = on == BackendKind.CUDA ? 8192 : 256; // the host build's GEMM is the CPU's: keep it short
                rate = DeviceGemmRate.measure(on, gemmPrecision, n);
                System.out.printf(Locale.ROOT, "device %s GEMM rate (%d³): %.1f GFLOP/s%n", gemmPrecision, n, rate);
                machine = String.format(Locale.ROOT, "%s; %s GEMM (%d³)", on, gemmPrecision, n);
            }
            List<TraceBench.Row> all = new ArrayList<>();
            for (TraceBench.Settings settings : grids) {
                if (grids.size() > 1) System.out.printf(Locale.ROOT, "%n== H = %d%n", settings.hidden());
                List<TraceBench.Row> rows = TraceBench.run(settings, rate, System.out::println);
                all.addAll(rows);
                System.out.println();
                System.out.print(TraceBenchReport.verdict(rows));
                if (!peer.isEmpty()) {
                    System.out.println();
                    System.out.print(TracePeers.summary(TracePeers.lines(settings, rows, peers, rate), settings));
                }
                if (out != null) {
                    Path dir = grids.size() > 1 ? out.resolve("H" + settings.hidden()) : out;
                    TraceBenchReport.write(dir, settings, rows, rate, machine, peers, peer);
                    System.out.println("wrote " + dir.resolve("report.md"));
                }
            }
            if (out != null && grids.size() > 1) {
                TraceBenchReport.writeCombined(out, grids, all);
                System.out.println("wrote " + out.resolve("results.csv") + " (every width) and " + out.resolve("report.md"));
            }
            return 0;
        }
    }

    @Command(name = "kernels", mixinStandardHelpOptions = true,
            description = {"Time each CUDA kernel family against the limit measured in the same run.",
                    "Per kernel family (fused AdamW, Muon Newton-Schulz, MLP forward, exact-trace propagation): achieved "
                            + "GB/s or GFLOP/s next to the limit measured in the same run (a copy; a large GEMM per precision).",
                    "Every row is validated against the fp64 CPU reference before it is timed."})
    static final class Kernels implements Callable<Integer> {
        @Option(names = "--backend", defaultValue = "cpu", description = "cpu (fp64), cuda (a GPU) or cuda-emulated "
                + "(the CUDA code path through its host build: checks it runs, its timings mean nothing).")
        String backend;

        @Option(names = "--sizes", split = ",", description = "AdamW parameter counts; K/M/G suffixes are powers of 2 "
                + "(default cuda: 1M,16M,256M = 2^20,2^24,2^28; cpu: 1M,4M,16M).")
        List<String> sizes;

        @Option(names = "--ns-sizes", split = ",", description = "Muon Newton-Schulz n (n x n; default cuda: 1024,4096,8192; cpu: 256,512,1024).")
        List<Integer> nsSizes;

        @Option(names = "--dims", split = ",", description = "MLP input dimensions D (default cuda: 16,64,256,1024; cpu: 16,64,256).")
        List<Integer> dims;

        @Option(names = "--hidden", description = "MLP hidden width (default 512).")
        Integer hidden;

        @Option(names = "--layers", description = "MLP hidden layers (default 3).")
        Integer layers;

        @Option(names = "--batch", description = "MLP batch size (default 256).")
        Integer batch;

        @Option(names = "--precisions", split = ",", description = "GEMM precisions on the CUDA backends: fp32, tf32, bf16 "
                + "(default all three); fp64 on the CPU.")
        List<String> precisions;

        @Option(names = "--families", split = ",", description = "Default: adamw, muon-ns5, forward, exact-trace.")
        List<String> families;

        @Option(names = "--warmup", description = "Untimed runs before the repeats (default cuda 5, cpu 3).")
        Integer warmup;

        @Option(names = "--repeats", description = "Timed repeats; the median counts (default cuda 20, cpu 7).")
        Integer repeats;

        @Option(names = "--quick", description = "Small sizes that finish in seconds (CI).")
        boolean quick;

        @Option(names = "--peer", description = "A peer's CSV (bench/peers/torch_kernels.py) to compare with; repeatable, "
                + "the fastest peer row per family, shape and precision counts.")
        List<Path> peer = new ArrayList<>();

        @Option(names = "--out", description = "Folder for results.csv and report.md.")
        Path out;

        @Override
        public Integer call() {
            BackendKind on = backendOption(backend);
            KernelBench.Settings settings = KernelBench.Settings.defaults(on, quick);
            List<Long> parsedSizes = null;
            if (sizes != null) {
                parsedSizes = new ArrayList<>();
                for (String size : sizes) parsedSizes.add(KernelBench.parseCount(size));
            }
            settings = settings.with(parsedSizes, nsSizes, dims, hidden, layers, batch, precisions, families, warmup, repeats);
            Map<String, KernelBenchReport.Peer> peerRows = peer.isEmpty() ? null : KernelBenchReport.readPeer(peer);
            KernelBench.Result result = KernelBench.run(settings, System.out::println);
            System.out.println();
            System.out.print(KernelBenchReport.verdict(result.rows(), peerRows, on == BackendKind.CUDA));
            if (out != null) {
                KernelBenchReport.write(out, settings, result, peerRows, peer);
                System.out.println("wrote " + out.resolve("report.md"));
            }
            return result.rows().stream().allMatch(KernelBench.Row::ok) ? 0 : 1;
        }
    }
}
