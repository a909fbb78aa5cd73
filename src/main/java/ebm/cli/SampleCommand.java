package ebm.cli;

import ebm.EbmException;
import ebm.backend.cuda.runtime.GpuRuntime;
import ebm.backend.cuda.step.CudaBackends;
import ebm.backend.cuda.step.DeviceLangevin;
import ebm.config.BackendKind;
import ebm.config.ConfigLoader;
import ebm.config.RunConfig;
import ebm.eval.SampleMetrics;
import ebm.io.Npy;
import ebm.model.EnergyModel;
import ebm.model.Mlp;
import ebm.objective.AnnealedDenoisingObjective;
import ebm.plot.Plots;
import ebm.rng.RandomStream;
import ebm.rng.Streams;
import ebm.sample.Langevin;
import ebm.sample.LangevinSchedule;
import ebm.train.Components;
import ebm.train.DataLoader;
import ebm.train.Evaluation;
import ebm.train.Export;
import ebm.train.RunState;
import ebm.train.Trainer;
import ebm.train.TrainingData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "sample", mixinStandardHelpOptions = true,
        description = {"Langevin samples from a trained run: writes DIR/samples.npy (and samples.png for 2-D data),",
                "MMD² to held-out data and KSD² under the model, appended to DIR/summary.md.",
                "The chains run on the run's backend unless --backend says otherwise."})
final class SampleCommand implements Callable<Integer> {
    @Parameters(paramLabel = "DIR", description = "A run folder (from ebm train).")
    Path dir;

    @Option(names = "--n", defaultValue = "1000", description = "Number of chains (default ${DEFAULT-VALUE}).")
    int n;

    @Option(names = "--steps", defaultValue = "1000", description = "Langevin steps (default ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--step-size", defaultValue = "0.01", description = "ε, in the model's coordinates (default ${DEFAULT-VALUE}).")
    double stepSize;

    @Option(names = "--annealed", description = "Annealed Langevin over the noise levels (annealed-denoising runs).")
    boolean annealed;

    @Option(names = "--backend", description = "cpu (fp64), cuda (fp32 on the GPU) or cuda-emulated (the CUDA code path "
            + "through its host build); default: the run's backend.")
    String backend;

    @Override
    public Integer call() {
        if (n < 2 || steps < 1 || !(stepSize > 0)) {
            throw new EbmException("need --n >= 2, --steps >= 1 and --step-size > 0 (got " + n + ", " + steps + ", " + stepSize + ")");
        }
        RunConfig config = ConfigLoader.load(dir.resolve(Trainer.CONFIG), List.of());
        BackendKind on = backend != null ? BackendKind.parse("--backend", backend) : config.backend();
        if (on.cuda() && !config.model().kind().equals("mlp")) {
            throw new EbmException("--backend " + on + " samples the energy MLP only; " + dir + " has model.kind: "
                    + config.model().kind() + " (use --backend cpu)");
        }
        if (on == BackendKind.CUDA) {
            String from = backend != null ? "--backend cuda" : "--backend cuda (the run's backend)";
            GpuRuntime.unavailableReason().ifPresent(reason -> {
                throw new EbmException(from + ": " + reason + "; --backend cpu samples in fp64 on the CPU, --backend "
                        + "cuda-emulated runs the CUDA code path through its host build");
            });
        }
        RunState state = RunState.load(dir);
        TrainingData data = DataLoader.load(config);
        EnergyModel model = Components.model(config.model(), data.dim());
        int d = data.dim();
        double[] sigmas = null;
        double[] modelParams;
        if (annealed) {
            if (!config.objective().name().equals("annealed-denoising")) {
                throw new EbmException("--annealed needs a run trained with objective.name=annealed-denoising; "
                        + dir + " used " + config.objective().name());
            }
            sigmas = AnnealedDenoisingObjective.geometricLevels(config.objective().sigmaMax(), config.objective().sigmaMin(),
                    config.objective().levels());
            modelParams = state.params();
        } else {
            modelParams = Export.params(model, state.params(), null, null, Components.exportEnergyScale(config.objective()));
        }
        // Chains start from the moment-matched diagonal Gaussian of the training data, in model coordinates.
        double[] train = data.modelTrainPoints();
        int nt = data.train().rows();
        double[] mean = new double[d], sd = new double[d];
        for (int i = 0; i < nt; i++) for (int j = 0; j < d; j++) mean[j] += train[i * d + j] / nt;
        for (int i = 0; i < nt; i++) for (int j = 0; j < d; j++) sd[j] += Math.pow(train[i * d + j] - mean[j], 2) / nt;
        double[] x = new double[n * d];
        RandomStream init = new RandomStream(config.seed(), 0, Streams.LANGEVIN);
        for (int i = 0; i < x.length; i++) x[i] = mean[i % d] + Math.sqrt(sd[i % d]) * init.gaussian(i);
        long t0 = System.nanoTime();
        LangevinSchedule schedule = new LangevinSchedule(steps, stepSize, sigmas);
        if (on == BackendKind.CPU) {
            Langevin.run(model, modelParams, x, n, schedule, config.seed(), null);
        } else {
            try (CudaBackends.Runtime runtime = CudaBackends.open(on)) {
                DeviceLangevin.run(runtime.launcher(), runtime.blas(), ((Mlp) model).spec(), modelParams, x, n, schedule,
                        config.seed(), null);
            }
        }
        double seconds = (System.nanoTime() - t0) * 1e-9;
        if (data.standardized()) {
            for (int i = 0; i < x.length; i++) x[i] = data.mean()[i % d] + data.std()[i % d] * x[i];
        }
        for (double v : x) {
            if (!Double.isFinite(v)) {
                throw new EbmException("Langevin diverged (non-finite samples); try a smaller --step-size than " + stepSize);
            }
        }
        Npy.write(dir.resolve("samples.npy"), n, d, x);
        double[] exported = Export.params(model, state.params(), data.mean(), data.std(),
                Components.exportEnergyScale(config.objective()));
        int m = Math.min(n, 2000);
        double[] val = data.validation().data();
        int nv = Math.min(data.validation().rows(), 2000);
        double mmd = SampleMetrics.mmdSquared(x, m, val, nv, d);
        double[] scores = Evaluation.modelScores(model, exported, x, m);
        double ksd = SampleMetrics.ksdSquared(x, scores, m, d);
        String title = String.format(Locale.ROOT, "%s Langevin samples (%d chains, %d steps, ε=%s) vs data",
                annealed ? "Annealed" : "", n, steps, Double.toString(stepSize)).trim();
        if (d == 2) Plots.samples(x, n, val, data.validation().rows(), dir.resolve("samples.png"), title);
        String line = String.format(Locale.ROOT, "%d chains x %d steps (ε=%s%s) in %.1fs on %s: MMD² to held-out data %.4g, KSD² under the model %.4g",
                n, steps, Double.toString(stepSize), annealed ? ", annealed" : "", seconds, on, mmd, ksd);
        System.out.println(line);
        try {
            Files.writeString(dir.resolve("summary.md"), "\n## Sampling\n\n" + line + "\n", StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new EbmException("cannot append to " + dir.resolve("summary.md") + ": " + e.getMessage());
        }
        System.out.println("wrote " + dir.resolve("samples.npy") + (d == 2 ? " and samples.png" : ""));
        return 0;
    }
}
