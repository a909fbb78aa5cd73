package ebm.cli;

import ebm.EbmException;
import ebm.backend.cuda.runtime.GpuRuntime;
import ebm.backend.cuda.step.CudaBackends;
import ebm.backend.cuda.step.DeviceLangevin;
import ebm.config.BackendKind;
import ebm.config.ConfigLoader;
import ebm.config.RunConfig;
import ebm.data.DataSources;
import ebm.eval.SampleMetrics;
import ebm.io.MlpCheckpoint;
import ebm.io.Npy;
import ebm.model.Mlp;
import ebm.objective.AnnealedDenoisingObjective;
import ebm.plot.Plots;
import ebm.rng.RandomStream;
import ebm.rng.Streams;
import ebm.sample.Langevin;
import ebm.sample.LangevinSchedule;
import ebm.train.DataLoader;
import ebm.train.Evaluation;
import ebm.train.Trainer;
import ebm.train.TrainingData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "sample", mixinStandardHelpOptions = true,
        description = {"Langevin samples from an ebm-mlp-v1 checkpoint (RUN_DIR/checkpoint.safetensors or --checkpoint),",
                "in the data's original coordinates. Each sampling gets its own folder (--out; default a new",
                "RUN_DIR/samples/NNN-..., or samples/NNN-... beside the checkpoint) holding samples.npy (the final",
                "state of each chain, n x D), samples.png (2-D, with data) and summary.md: KSD² under the model and,",
                "with data (--data or the run's), MMD² to it. Chains run on the run's backend (cpu for a bare",
                "checkpoint) unless --backend says otherwise."})
final class SampleCommand implements Callable<Integer> {
    /** Chains whose distance from the reference centre exceeds this multiple of the reference radius have escaped. */
    static final double ESCAPE_FACTOR = 10;
    private static final int METRIC_POINTS = 2000;

    static final class Source {
        @Parameters(paramLabel = "RUN_DIR", description = "A run folder (from ebm train): samples its checkpoint.safetensors.")
        Path dir;

        @Option(names = "--checkpoint", paramLabel = "FILE", description = "An ebm-mlp-v1 safetensors file, sampled on its own.")
        Path checkpoint;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    @Option(names = "--n", paramLabel = "CHAINS", description = "Number of chains (default 1000, or the rows of --init).")
    Integer n;

    @Option(names = "--steps", paramLabel = "DRAWS", defaultValue = "1000", description = "Langevin steps after the warm-up (default ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--warmup", paramLabel = "STEPS", defaultValue = "0", description = "Langevin steps before --steps (default ${DEFAULT-VALUE}); "
            + "the chains take warmup + steps steps in all.")
    int warmup;

    @Option(names = "--step-size", paramLabel = "EPS", defaultValue = "0.01", description = "ε, in the data's original coordinates (default ${DEFAULT-VALUE}).")
    double stepSize;

    @Option(names = "--init", paramLabel = "POINTS.npy", description = "Starting points (n x D); default: the run's data moment-matched "
            + "Gaussian for a run folder, N(0, I) for a bare checkpoint.")
    Path init;

    @Option(names = "--data", paramLabel = "POINTS.npy", description = "Reference points for MMD² and the range check "
            + "(default: the run's held-out data; none for a bare checkpoint, then only KSD² is reported).")
    Path data;

    @Option(names = "--annealed", description = "Annealed Langevin over the noise levels: the run's (annealed-denoising runs), "
            + "or --sigma-max/--sigma-min/--levels with a bare checkpoint.")
    boolean annealed;

    @Option(names = "--sigma-max", description = "Largest noise level for --annealed with a bare checkpoint.")
    Double sigmaMax;

    @Option(names = "--sigma-min", description = "Lowest noise level (the checkpoint's energy is E_θ/σ_min) for --annealed with a bare checkpoint.")
    Double sigmaMin;

    @Option(names = "--levels", description = "Number of geometric noise levels for --annealed with a bare checkpoint.")
    Integer levels;

    @Option(names = "--seed", description = "Seed of the chains' draws (default: the run's seed, 0 for a bare checkpoint).")
    Long seed;

    @Option(names = "--out", paramLabel = "DIR", description = "Folder for this sampling (default: a new numbered folder under "
            + "RUN_DIR/samples, or under samples/ beside the checkpoint).")
    Path out;

    @Option(names = "--backend", description = "cpu (fp64), cuda (fp32 on the GPU) or cuda-emulated (the CUDA code path "
            + "through its host build); default: the run's backend, cpu for a bare checkpoint.")
    String backend;

    @Override
    public Integer call() {
        if (n != null && n < 2) throw new EbmException("--n: need at least 2 chains, got " + n);
        if (steps < 1) throw new EbmException("--steps: need at least 1 Langevin step, got " + steps);
        if (warmup < 0) throw new EbmException("--warmup: must be >= 0, got " + warmup);
        if (!(stepSize > 0) || Double.isInfinite(stepSize)) {
            throw new EbmException("--step-size: must be a finite number > 0 (ε of x + (ε/2)s(x) + √ε ξ), got " + stepSize);
        }
        Path dir = source.dir;
        RunConfig config = null;
        Path checkpointFile;
        if (dir != null) {
            Path configFile = dir.resolve(Trainer.CONFIG);
            if (!Files.isDirectory(dir)) throw new EbmException(dir + " is not a run folder (use --checkpoint FILE for a checkpoint file)");
            if (Files.exists(configFile)) config = ConfigLoader.load(configFile, List.of());
            if (config != null && !config.model().kind().equals("mlp")) {
                throw new EbmException(dir + " has model.kind: " + config.model().kind() + ", which exports no " + MlpCheckpoint.FORMAT
                        + " checkpoint; ebm sample samples energy-MLP checkpoints");
            }
            checkpointFile = dir.resolve(Trainer.CHECKPOINT);
        } else {
            checkpointFile = source.checkpoint;
        }
        if (!annealed && (sigmaMax != null || sigmaMin != null || levels != null)) {
            throw new EbmException("--sigma-max, --sigma-min and --levels set the levels of --annealed; add --annealed or drop them");
        }
        // Loading validates the file: format, shapes and that every weight is finite (an error naming file and tensor).
        MlpCheckpoint.Loaded loaded = MlpCheckpoint.load(checkpointFile);
        Mlp model = new Mlp(loaded.spec());
        double[] params = loaded.params();
        int d = loaded.spec().inputDim();

        BackendKind on = backend != null ? BackendKind.parse("--backend", backend)
                : config != null ? config.backend() : BackendKind.CPU;
        if (on == BackendKind.CUDA) {
            String from = backend != null ? "--backend cuda" : "--backend cuda (the run's backend)";
            GpuRuntime.unavailableReason().ifPresent(reason -> {
                throw new EbmException(from + ": " + reason + "; --backend cpu samples in fp64 on the CPU, --backend "
                        + "cuda-emulated runs the CUDA code path through its host build");
            });
        }
        long chainSeed = seed != null ? seed : config != null ? config.seed() : 0L;

        // Levels: the checkpoint holds E_θ/σ_min, so level i's energy E_θ/σ_i is the checkpoint's scaled by σ_min/σ_i,
        // which the schedule gets as the levels σ_i/σ_min (its step sizes depend on the ratios only).
        double[] sigmas = null;
        String levelsText = null;
        if (annealed) {
            double[] raw;
            if (sigmaMax != null || sigmaMin != null || levels != null) {
                if (sigmaMax == null || sigmaMin == null || levels == null) {
                    throw new EbmException("--annealed with explicit levels needs all of --sigma-max, --sigma-min and --levels");
                }
                raw = AnnealedDenoisingObjective.geometricLevels(sigmaMax, sigmaMin, levels);
            } else if (config != null) {
                if (!config.objective().name().equals("annealed-denoising")) {
                    throw new EbmException("--annealed needs a run trained with objective.name=annealed-denoising; "
                            + dir + " used " + config.objective().name() + " (or give --sigma-max, --sigma-min and --levels)");
                }
                raw = AnnealedDenoisingObjective.geometricLevels(config.objective().sigmaMax(), config.objective().sigmaMin(),
                        config.objective().levels());
            } else {
                throw new EbmException("--annealed with a bare checkpoint needs --sigma-max, --sigma-min and --levels "
                        + "(the checkpoint's energy is E_θ/σ_min)");
            }
            sigmas = new double[raw.length];
            for (int i = 0; i < raw.length; i++) sigmas[i] = raw[i] / raw[raw.length - 1];
            levelsText = String.format(Locale.ROOT, "%d levels σ %.4g … %.4g", raw.length, raw[0], raw[raw.length - 1]);
        }

        // The run's data (original coordinates), when a run folder with a config is sampled.
        TrainingData runData = config != null && (init == null || data == null) ? DataLoader.load(config) : null;
        if (runData != null && runData.dim() != d) {
            throw new EbmException(checkpointFile + " takes D = " + d + " but the run's data has D = " + runData.dim());
        }
        Npy.Matrix reference = data != null ? readPoints(data, "--data", d) : runData != null ? runData.validation() : null;
        String referenceName = data != null ? data.toString() : runData != null ? "the run's held-out data" : null;

        // Starting points.
        double[] x;
        String initText;
        if (init != null) {
            Npy.Matrix start = readPoints(init, "--init", d);
            if (n != null && n != start.rows()) {
                throw new EbmException("--n " + n + " but --init " + init + " has " + start.rows() + " rows; drop --n or make them agree");
            }
            if (start.rows() < 2) throw new EbmException("--init " + init + " needs at least 2 rows (chains)");
            x = start.data().clone();
            initText = init.toString();
        } else {
            int chains = n != null ? n : 1000;
            // the chains, the sampler's working copy and its score buffer
            DataSources.requireDrawable("--n", chains, d, 3);
            x = new double[chains * d];
            double[] mean = new double[d], sd = new double[d];
            if (runData != null) {
                double[] train = runData.train().data();
                int nt = runData.train().rows();
                for (int i = 0; i < nt; i++) for (int j = 0; j < d; j++) mean[j] += train[i * d + j] / nt;
                for (int i = 0; i < nt; i++) for (int j = 0; j < d; j++) sd[j] += Math.pow(train[i * d + j] - mean[j], 2) / nt;
                for (int j = 0; j < d; j++) sd[j] = Math.sqrt(sd[j]);
                initText = "the run's data moment-matched Gaussian";
            } else {
                java.util.Arrays.fill(sd, 1.0);
                initText = "N(0, I)";
            }
            RandomStream draws = new RandomStream(chainSeed, 0, Streams.LANGEVIN);
            for (int i = 0; i < x.length; i++) x[i] = mean[i % d] + sd[i % d] * draws.gaussian(i);
        }
        int chains = x.length / d;
        // The range the chains are checked against: the reference data's, else the starting points'.
        double[] rangeCentre;
        double rangeRadius;
        String rangeName;
        if (reference != null) {
            rangeCentre = centre(reference.data(), reference.rows(), d);
            rangeRadius = maxDistance(reference.data(), reference.rows(), d, rangeCentre);
            rangeName = "the data's";
        } else {
            rangeCentre = centre(x, chains, d);
            rangeRadius = maxDistance(x, chains, d, rangeCentre);
            rangeName = "the starting points'";
        }

        Path outDir = out != null ? out : nextSampleDir(dir != null ? dir.resolve("samples")
                : checkpointFile.toAbsolutePath().getParent().resolve("samples"), chains, warmup + steps, stepSize, annealed);
        try {
            Files.createDirectories(outDir);
        } catch (IOException e) {
            throw new EbmException("cannot create " + outDir + ": " + e.getMessage());
        }

        long t0 = System.nanoTime();
        LangevinSchedule schedule = new LangevinSchedule(warmup + steps, stepSize, sigmas);
        if (on == BackendKind.CPU) {
            Langevin.run(model, params, x, chains, schedule, chainSeed, null);
        } else {
            try (CudaBackends.Runtime runtime = CudaBackends.open(on)) {
                DeviceLangevin.run(runtime.launcher(), runtime.blas(), model.spec(), params, x, chains, schedule, chainSeed, null);
            }
        }
        double seconds = (System.nanoTime() - t0) * 1e-9;
        for (double v : x) {
            if (!Double.isFinite(v)) {
                throw new EbmException("Langevin diverged (non-finite samples) with finite weights in " + checkpointFile
                        + "; try a smaller --step-size than " + stepSize);
            }
        }
        Npy.write(outDir.resolve("samples.npy"), chains, d, x);

        int m = Math.min(chains, METRIC_POINTS);
        Double mmd = null;
        if (reference != null) {
            int nv = Math.min(reference.rows(), METRIC_POINTS);
            if (nv >= 2) mmd = SampleMetrics.mmdSquared(x, m, reference.data(), nv, d);
        }
        double ksd = SampleMetrics.ksdSquared(x, Evaluation.modelScores(model, params, x, m), m, d);
        int escaped = 0;
        double farthest = 0;
        for (int i = 0; i < chains; i++) {
            double r = distance(x, i, d, rangeCentre);
            farthest = Math.max(farthest, r);
            if (r > ESCAPE_FACTOR * rangeRadius) escaped++;
        }
        String warning = escaped == 0 ? null : String.format(Locale.ROOT,
                "warning: %d of %d chains ended beyond %s× %s range (farthest %.3g from its centre, whose points lie within %.3g); "
                        + "the chains have escaped, so the metrics below say little — try a smaller --step-size than %s",
                escaped, chains, fmt(ESCAPE_FACTOR), rangeName, farthest, rangeRadius, Double.toString(stepSize));

        String title = String.format(Locale.ROOT, "%s Langevin samples (%d chains, %d steps, ε=%s)%s",
                annealed ? "Annealed" : "", chains, warmup + steps, Double.toString(stepSize), reference != null ? " vs data" : "").trim();
        boolean plotted = d == 2 && reference != null; // the plot's window is the data's
        if (plotted) Plots.samples(x, chains, reference.data(), reference.rows(), outDir.resolve("samples.png"), title);
        String stepsText = warmup > 0 ? warmup + "+" + steps : Integer.toString(steps);
        String line = String.format(Locale.ROOT, "%d chains x %s steps (ε=%s%s) in %.1fs on %s: %sKSD² under the model %.4g",
                chains, stepsText, Double.toString(stepSize), annealed ? ", annealed" : "", seconds, on,
                mmd != null ? String.format(Locale.ROOT, "MMD² to held-out data %.4g, ", mmd) : "", ksd);
        if (warning != null) System.out.println(warning);
        System.out.println(line);
        writeSummary(outDir, checkpointFile, chains, stepsText, chainSeed, initText, levelsText, referenceName, on, seconds,
                mmd, ksd, warning, farthest, rangeName, rangeRadius, d);
        System.out.println("wrote " + outDir.resolve("samples.npy") + (plotted ? ", samples.png" : "") + " and summary.md");
        return 0;
    }

    private void writeSummary(Path outDir, Path checkpointFile, int chains, String stepsText, long chainSeed, String initText,
                              String levelsText, String referenceName, BackendKind on, double seconds, Double mmd, double ksd,
                              String warning, double farthest, String rangeName, double rangeRadius, int d) {
        StringBuilder s = new StringBuilder("# Sampling\n\n");
        s.append("- checkpoint: ").append(checkpointFile).append('\n');
        s.append(String.format(Locale.ROOT, "- %d chains x %s steps, ε = %s (original coordinates)%s, seed %d, on %s, %.1f s%n",
                chains, stepsText, Double.toString(stepSize), levelsText != null ? ", annealed over " + levelsText : "",
                chainSeed, on, seconds));
        s.append("- chains started from ").append(initText).append('\n');
        s.append(String.format(Locale.ROOT, "- farthest chain %.4g from the centre of %s range (radius %.4g)%n", farthest, rangeName, rangeRadius));
        s.append('\n');
        if (warning != null) s.append("**").append(warning).append("**\n\n");
        s.append("| metric | value |\n|---|---|\n");
        if (mmd != null) s.append(String.format(Locale.ROOT, "| MMD² to %s | %.4g |%n", referenceName, mmd));
        s.append(String.format(Locale.ROOT, "| KSD² under the model | %.4g |%n", ksd));
        s.append('\n');
        if (mmd == null) s.append("No data was given (--data), so there is no MMD²; only KSD² is reported.\n\n");
        s.append("""
                MMD² (maximum mean discrepancy, RBF kernel with the median pairwise distance as bandwidth) compares the \
                samples with the data: 0 when they come from the same distribution. KSD² (kernel Stein discrepancy, IMQ \
                kernel) compares the samples with the model's own score −∇ₓE, needing no data: 0 when the samples follow \
                the model's density. Both are unbiased U-statistics over at most %d points, so values near 0 can be \
                negative; only their size relative to the noise means anything. A KSD² near 0 does not prove the samples \
                are good: it measures agreement with the model (not with the data), and its kernel fades with distance, \
                so chains that escaped far from the data can score near 0 — check the range line above and MMD².
                """.formatted(METRIC_POINTS));
        try {
            Files.writeString(outDir.resolve("summary.md"), s.toString());
        } catch (IOException e) {
            throw new EbmException("cannot write " + outDir.resolve("summary.md") + ": " + e.getMessage());
        }
    }

    private static String fmt(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }

    private static Npy.Matrix readPoints(Path file, String option, int d) {
        Npy.Matrix m = Npy.read(file);
        if (m.cols() != d) throw new EbmException(option + " " + file + ": points have " + m.cols() + " columns, the checkpoint takes D = " + d);
        double[] v = m.data();
        for (int i = 0; i < v.length; i++) {
            if (!Double.isFinite(v[i])) {
                throw new EbmException(option + " " + file + ": row " + (i / d) + " (0-based), column " + (i % d) + " is " + v[i]
                        + "; points must be finite");
            }
        }
        return m;
    }

    private static double[] centre(double[] x, int rows, int d) {
        double[] c = new double[d];
        for (int i = 0; i < rows; i++) for (int j = 0; j < d; j++) c[j] += x[i * d + j] / rows;
        return c;
    }

    private static double distance(double[] x, int row, int d, double[] c) {
        double s = 0;
        for (int j = 0; j < d; j++) s += Math.pow(x[row * d + j] - c[j], 2);
        return Math.sqrt(s);
    }

    private static double maxDistance(double[] x, int rows, int d, double[] c) {
        double r = 0;
        for (int i = 0; i < rows; i++) r = Math.max(r, distance(x, i, d, c));
        return r > 0 ? r : 1.0;
    }

    private static final Pattern NUMBERED = Pattern.compile("([0-9]{3,9})-.*");

    /** parent/NNN-nCHAINS-sSTEPS-epsEPS[-annealed], NNN one past the highest number there. */
    static Path nextSampleDir(Path parent, int chains, int totalSteps, double eps, boolean annealed) {
        int next = 1;
        if (Files.isDirectory(parent)) {
            try (Stream<Path> s = Files.list(parent)) {
                for (Path p : s.toList()) {
                    Matcher m = NUMBERED.matcher(p.getFileName().toString());
                    if (m.matches()) next = Math.max(next, Integer.parseInt(m.group(1)) + 1);
                }
            } catch (IOException e) {
                throw new EbmException("cannot list " + parent + ": " + e.getMessage());
            }
        }
        String name = String.format(Locale.ROOT, "%03d-n%d-s%d-eps%s%s", next, chains, totalSteps, Double.toString(eps),
                annealed ? "-annealed" : "");
        return parent.resolve(name);
    }
}
