package ebm.train;

import ebm.EbmException;
import ebm.config.ConfigLoader;
import ebm.config.RunConfig;
import ebm.config.TrainConfig;
import ebm.io.MlpCheckpoint;
import ebm.model.EnergyModel;
import ebm.model.Mlp;
import ebm.objective.Objective;
import ebm.optim.OptimizerSpec;
import ebm.optim.Optimizers;
import ebm.plot.Plots;
import ebm.rng.RandomStream;
import ebm.rng.Streams;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The training loop: batch → loss and gradient → clip → optimizer → metrics → eval → checkpoint. Every random draw
 * is keyed by (seed, step, stream) and the optimizer state is saved exactly, so a run stopped at any checkpoint and
 * resumed ends bitwise where an uninterrupted run ends. After every step a {@link DivergenceDetector} decides whether
 * the run blew up ({@link TrainingDiverged}); at the end of every step the {@link StopSignal} ticket is read, and on a
 * termination signal the step's checkpoint is written before the run stops ({@link TrainingStopped}).
 */
public final class Trainer {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Trainer.class);
    public static final String CHECKPOINT = "checkpoint.safetensors";
    public static final String METRICS = "metrics.jsonl";
    public static final String CONFIG = "config.yaml";

    private final RunConfig config;
    private final Path dir;
    private final PrintStream console;
    private final TrainingData data;
    private final EnergyModel model;
    private final Objective objective;
    private final double[] modelTrain;
    private final double exportScale;
    private final Double targetNoise;

    /** What the run reached, for the summary and for callers such as sweeps. */
    public record Outcome(long step, double loss, Double valLoss, Double fisher, Double fisherNoised,
                          Double gaussianFisher, Double gaussianValLoss, double seconds, Path dir) {}

    private Trainer(RunConfig config, Path dir, PrintStream console) {
        this.config = config;
        this.dir = dir;
        this.console = console;
        this.data = DataLoader.load(config);
        TrainingMemory.require(config, data.dim()); // before the model's buffers exist: too large is one line, not an OOM
        this.model = Components.model(config.model(), data.dim());
        if (data.standardized() && !(model instanceof Mlp)) {
            throw new EbmException("data.standardize: only model.kind=mlp folds a standardisation into its weights");
        }
        this.objective = Components.objective(config.objective(), config.seed());
        this.modelTrain = data.modelTrainPoints();
        this.exportScale = Components.exportEnergyScale(config.objective());
        this.targetNoise = Components.targetNoise(config.objective());
        LOG.debug("data {}: {} train x {} validation points, D={}, standardised={}, density known={}", data.name(),
                data.train().rows(), data.validation().rows(), data.dim(), data.standardized(),
                data.density() != null && data.density().knownScore());
        LOG.debug("model {} with {} parameters; objective {}; optimizer {}; {} CPU threads", model.getClass().getSimpleName(),
                model.layout().size(), objective, config.optimizer().name(), ebm.linalg.CpuThreads.threads());
        if (model instanceof Mlp mlp && config.objective().name().equals("exact")) {
            LOG.debug("exact trace algorithm: {}", mlp.resolve(ebm.model.TraceAlgorithm.parse(config.objective().trace())).configName());
        }
    }

    /** A new run in dir (which must not hold one already). */
    public static Outcome start(RunConfig config, Path dir, PrintStream console) {
        return start(config, dir, console, StopSignal.JVM);
    }

    static Outcome start(RunConfig config, Path dir, PrintStream console, StopSignal signal) {
        // One process at a time per folder: an existing folder is locked before anything is read from it, a new one
        // as soon as it is made (after the data checked out, so bad input writes nothing).
        try (RunLock early = Files.isDirectory(dir) ? RunLock.run(dir, "training it") : null) {
            refuseExisting(dir);
            try (StopSignal.Ticket ticket = signal.enter(noCheckpointYet(dir))) {
                Trainer t = new Trainer(config, dir, console); // loads and checks the data first: bad input writes nothing
                try {
                    Files.createDirectories(dir);
                } catch (IOException e) {
                    throw new EbmException("cannot write to " + dir + ": " + e.getMessage());
                }
                try (RunLock lock = RunLock.run(dir, "training it")) {
                    refuseExisting(dir); // another process may have made the folder while the data loaded
                    try {
                        RunFiles.removeTemporaries(dir, console);
                        Files.writeString(dir.resolve(CONFIG), ConfigLoader.toYaml(config));
                    } catch (IOException e) {
                        throw new EbmException("cannot write to " + dir + ": " + e.getMessage());
                    }
                    double[] params = t.model.initialParams(config.seed());
                    try (StepBackend backend = t.backend(params)) {
                        return t.loop(backend, 0, 0.0, config.train().lastStep(), new DivergenceDetector(), ticket);
                    }
                }
            }
        }
    }

    private static void refuseExisting(Path dir) {
        if (RunState.exists(dir)) {
            throw new EbmException(dir + " already holds a run; continue it with `ebm train --resume " + dir
                    + "` or choose another --out");
        }
    }

    /** Continues the run in dir from its last checkpoint up to train.steps. */
    public static Outcome resume(Path dir, PrintStream console) {
        return resume(dir, console, StopSignal.JVM);
    }

    static Outcome resume(Path dir, PrintStream console, StopSignal signal) {
        try (RunLock lock = Files.isDirectory(dir) ? RunLock.run(dir, "resuming it") : null;
             StopSignal.Ticket ticket = signal.enter(noCheckpointYet(dir))) {
            RunConfig config = ConfigLoader.load(dir.resolve(CONFIG), java.util.List.of());
            RunState state = RunState.load(dir);
            ticket.ifLate(lateMessage(dir, state.step()));
            RunFiles.removeTemporaries(dir, console);
            Trainer t = new Trainer(config, dir, console);
            if (state.params().length != t.model.layout().size()) {
                throw new EbmException(dir.resolve(RunState.FILE) + ": holds " + state.params().length
                        + " parameters, the config's model has " + t.model.layout().size());
            }
            DivergenceDetector detector = DivergenceDetector.restore(state.divergence());
            try (StepBackend backend = t.backend(state.params())) {
                backend.loadOptimizerState(state.optimizer());
                console.printf("resuming %s at step %d of %d%n", dir, state.step(), config.train().steps());
                return t.loop(backend, state.step(), state.seconds(), config.train().steps(), detector, ticket);
            }
        }
    }

    private static String noCheckpointYet(Path dir) {
        return "the run in " + dir + " did not reach the end of its step within " + StopSignal.waitMillis() / 1000.0
                + " s of the termination signal and had written no checkpoint yet; start it again";
    }

    private static String lateMessage(Path dir, long checkpointStep) {
        return "the run in " + dir + " did not reach the end of its step within " + StopSignal.waitMillis() / 1000.0
                + " s of the termination signal; its last checkpoint is step " + checkpointStep
                + "; continue with `./ebm train --resume " + dir + "`";
    }

    /** The step on the configured backend, starting from params. */
    private StepBackend backend(double[] params) {
        OptimizerSpec optimizer = config.optimizer().spec();
        StepBackend backend = switch (config.backend()) {
            case CPU -> new CpuStepBackend(model, objective, Optimizers.create(optimizer, model.layout()),
                    config.train().clip(), config.train().batchSize(), params);
            case CUDA, CUDA_EMULATED -> new CudaStepBackend(config, optimizer, model, objective, params);
        };
        LOG.debug("training step on {}", backend.description());
        return backend;
    }

    private Outcome loop(StepBackend backend, long firstDone, double secondsBefore, long lastStep,
                         DivergenceDetector detector, StopSignal.Ticket ticket) {
        TrainConfig tc = config.train();
        int d = data.dim(), batch = tc.batchSize(), nTrain = data.train().rows();
        double[] x = new double[batch * d];
        double lastUpdateNorm = 0;
        Progress progress = new Progress(console, lastStep);
        long start = System.nanoTime();
        double loss = Double.NaN;
        Map<String, Object> lastEval = null;
        Double gaussianFisher = Evaluation.momentMatchedGaussianFisher(data.train().data(), nTrain,
                data.validation().data(), data.validation().rows(), data.density());
        Double gaussianValLoss = Evaluation.momentMatchedGaussianExactLoss(data.train().data(), nTrain,
                data.validation().data(), data.validation().rows(), d);
        long lastCheckpoint = firstDone;
        try (MetricsLog metrics = MetricsLog.open(dir.resolve(METRICS), firstDone)) {
            if (metrics.repairNote() != null) console.println(metrics.repairNote());
            for (long step = firstDone + 1; step <= lastStep; step++) {
                RandomStream pick = new RandomStream(config.seed(), step, Streams.BATCH);
                for (int i = 0; i < batch; i++) System.arraycopy(modelTrain, pick.below(i, nTrain) * d, x, i * d, d);
                double lrScale = tc.lrScale(step);
                StepBackend.Result result = backend.step(x, step, lrScale);
                loss = result.loss();
                DivergenceDetector.Verdict verdict = detector.check(step, loss, result.gradNorm());
                if (verdict != null) throw diverged(step, verdict, lastCheckpoint);
                double updateNorm = result.updateNorm();
                // cosine between successive updates: near 1 = consistent direction, negative = oscillation
                Double updateCosine = step > firstDone + 1 && updateNorm > 0 && lastUpdateNorm > 0
                        ? result.updateDotPrevious() / (updateNorm * lastUpdateNorm) : null;
                lastUpdateNorm = updateNorm;
                double seconds = secondsBefore + (System.nanoTime() - start) * 1e-9;
                Map<String, Object> rec = new LinkedHashMap<>();
                rec.put("step", step);
                rec.put("loss", loss);
                rec.put("grad_norm", result.gradNorm());
                rec.put("grad_noise", result.gradNoise());
                rec.put("update_norm", updateNorm);
                rec.put("update_cosine", updateCosine);
                rec.put("lr", config.optimizer().lr() * lrScale);
                rec.put("seconds", seconds);
                result.diagnostics().forEach((k, v) -> rec.put(k, Double.isFinite(v) ? v : null));
                boolean evalStep = step % tc.evalEvery() == 0 || step == lastStep;
                boolean checkpointStep = step % tc.checkpointEvery() == 0 || step == lastStep;
                double[] params = evalStep || checkpointStep ? backend.params() : null;
                if (evalStep) {
                    lastEval = evaluate(params);
                    rec.putAll(lastEval);
                }
                try {
                    metrics.write(rec);
                } catch (MetricsLog.AppendFailed e) {
                    throw new EbmException(e.getMessage() + " at step " + step + "; free disk space (or move the run folder), "
                            + (lastCheckpoint > 0 ? "then continue with `./ebm train --resume " + dir + "` from the last checkpoint "
                            + "(step " + lastCheckpoint + "); the cut line is repaired then"
                            : "then run the same command again (no checkpoint was written yet)"), e);
                }
                if (checkpointStep) {
                    checkpoint(params, backend.optimizerState(), detector, step, seconds);
                    lastCheckpoint = step;
                    ticket.ifLate(lateMessage(dir, step));
                }
                progress.update(step, loss, evalStep ? lastEval : null);
                // A termination signal: end this step with its checkpoint, then stop (the last step ends the run anyway).
                if (ticket.requested() && step < lastStep) {
                    if (!checkpointStep) {
                        checkpoint(backend.params(), backend.optimizerState(), detector, step, seconds);
                        lastCheckpoint = step;
                    }
                    progress.finish();
                    String message = "stopped by a termination signal (SIGTERM or Ctrl-C) after step " + step + " of "
                            + tc.steps() + "; the checkpoint of that step is in " + dir + "; continue with `./ebm train --resume "
                            + dir + "`";
                    console.println(message);
                    console.flush();
                    throw new TrainingStopped(message);
                }
            }
        }
        double[] params = backend.params();
        progress.finish();
        double seconds = secondsBefore + (System.nanoTime() - start) * 1e-9;
        Outcome outcome = new Outcome(lastStep, loss, lastEval == null ? null : (Double) lastEval.get("val_loss"),
                lastEval == null ? null : (Double) lastEval.get("fisher_divergence"),
                lastEval == null ? null : (Double) lastEval.get("fisher_divergence_noised"), gaussianFisher,
                gaussianValLoss, seconds, dir);
        Summary.write(config, data, outcome, console);
        plots(params, gaussianFisher);
        return outcome;
    }

    /**
     * The error for a run that blew up: the step, the rule and what is left to go back to. Step s's loss and gradient
     * are those of the parameters after step s − 1, so a checkpoint is good only when it is older than that.
     */
    private TrainingDiverged diverged(long step, DivergenceDetector.Verdict v, long lastCheckpoint) {
        String where;
        if (lastCheckpoint <= 0) {
            where = "there is no checkpoint to go back to (none was written yet)";
        } else if (lastCheckpoint >= v.since() - 1) {
            where = "the last checkpoint, " + dir.resolve(CHECKPOINT) + " (step " + lastCheckpoint + "), holds the parameters that gave "
                    + "step " + v.since() + "'s loss or later ones, so no good checkpoint is left";
        } else {
            where = "the last good checkpoint is " + dir.resolve(CHECKPOINT) + " (step " + lastCheckpoint + ")";
        }
        return new TrainingDiverged(v.rule(), "the run diverged at step " + step + " (rule: " + v.rule() + "): " + v.detail()
                + "; " + where + "; try a smaller optimizer.lr or set train.clip");
    }

    private Map<String, Object> evaluate(double[] params) {
        double[] exported = exportParams(params);
        double[] val = data.validation().data();
        int n = data.validation().rows();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("val_loss", Evaluation.exactLoss(model, exported, val, n));
        double[] scores = Evaluation.modelScores(model, exported, val, n);
        m.put("fisher_divergence", Evaluation.fisherToTruth(scores, val, n, data.density()));
        if (targetNoise != null) {
            m.put("fisher_divergence_noised", Evaluation.fisherToNoised(scores, val, n, data.density(), targetNoise));
        }
        return m;
    }

    private void plots(double[] params, Double gaussianFisher) {
        Plots.curves(MetricsLog.read(dir.resolve(METRICS)), gaussianFisher, dir);
        if (data.dim() == 2) {
            double[] exported = exportParams(params);
            double[] val = data.validation().data();
            int n = data.validation().rows();
            Plots.energyContours(model, exported, val, n, dir.resolve("energy.png"));
            Plots.scoreField(model, exported, val, n, dir.resolve("score.png"));
        }
    }

    /** The model's parameters as users see them (original coordinates, lowest noise level). */
    double[] exportParams(double[] params) {
        return Export.params(model, params, data.mean(), data.std(), exportScale);
    }

    private void checkpoint(double[] params, Map<String, double[]> optimizerState, DivergenceDetector detector, long step,
                            double seconds) {
        LOG.debug("checkpoint at step {} in {}", step, dir);
        if (model instanceof Mlp mlp) {
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("step", Long.toString(step));
            meta.put("objective", config.objective().name());
            MlpCheckpoint.save(dir.resolve(CHECKPOINT), mlp.spec(), exportParams(params), meta, false);
        }
        new RunState(step, seconds, params.clone(), optimizerState, detector.state()).save(dir);
    }

}
