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
    /** The model at the eval step with the lowest held-out SM loss (format ebm-mlp-v1, like CHECKPOINT). */
    public static final String BEST = "best.safetensors";

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
                          Double gaussianFisher, Double gaussianValLoss, double seconds, Path dir, Long bestStep,
                          Double bestValLoss, boolean earlyStopped) {}

    /**
     * What the loop carries from step to step besides the backend, and saves with the run state: the divergence
     * detector, the parameters' EMA (null when train.ema is 0), the best eval and the last update's norm.
     */
    private static final class Carried {
        final DivergenceDetector detector;
        final double[] ema;
        final BestEval best;
        double previousUpdateNorm;

        Carried(DivergenceDetector detector, double[] ema, BestEval best, double previousUpdateNorm) {
            this.detector = detector;
            this.ema = ema;
            this.best = best;
            this.previousUpdateNorm = previousUpdateNorm;
        }
    }

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
                        // the EMA starts at the initial parameters
                        Carried carried = new Carried(new DivergenceDetector(), config.train().ema() > 0 ? params.clone() : null,
                                new BestEval(), 0);
                        return t.loop(backend, 0, 0.0, config.train().lastStep(), carried, ticket);
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
        return resume(dir, null, console, StopSignal.JVM);
    }

    /**
     * Continues the run in dir up to newSteps (null: its train.steps), which must be more than its train.steps. An
     * extended run keeps its schedule's horizon (train.schedule_steps), so its steps up to the old train.steps are
     * bitwise those of the run as recorded; config.yaml records the new train.steps.
     */
    public static Outcome resume(Path dir, Integer newSteps, PrintStream console) {
        return resume(dir, newSteps, console, StopSignal.JVM);
    }

    static Outcome resume(Path dir, PrintStream console, StopSignal signal) {
        return resume(dir, null, console, signal);
    }

    static Outcome resume(Path dir, Integer newSteps, PrintStream console, StopSignal signal) {
        try (RunLock lock = Files.isDirectory(dir) ? RunLock.run(dir, "resuming it") : null;
             StopSignal.Ticket ticket = signal.enter(noCheckpointYet(dir))) {
            RunConfig config = ConfigLoader.load(dir.resolve(CONFIG), java.util.List.of());
            RunState state = RunState.load(dir);
            if (state.earlyStopped()) {
                throw new EbmException("the run in " + dir + " stopped early at step " + state.step() + " (train.early_stop: "
                        + config.train().earlyStop() + " evals without a lower val_loss) and is done; nothing to resume");
            }
            ticket.ifLate(lateMessage(dir, state.step()));
            RunFiles.removeTemporaries(dir, console);
            RunConfig recorded = config;
            if (newSteps != null) config = extended(config, newSteps);
            Trainer t = new Trainer(config, dir, console);
            int size = t.model.layout().size();
            if (state.params().length != size) {
                throw new EbmException(dir.resolve(RunState.FILE) + ": holds " + state.params().length
                        + " parameters, the config's model has " + size);
            }
            if (newSteps != null) recordExtension(dir, recorded.train(), config, console); // once the data and state check out
            double[] ema = null;
            if (config.train().ema() > 0) {
                // a state without an EMA (saved before it was kept) starts it at the resumed parameters
                ema = state.ema() != null && state.ema().length == size ? state.ema().clone() : state.params().clone();
            }
            Carried carried = new Carried(DivergenceDetector.restore(state.divergence()), ema, BestEval.restore(state.best()),
                    state.previousUpdateNorm());
            try (StepBackend backend = t.backend(state.params())) {
                backend.loadOptimizerState(state.optimizer());
                if (state.previousUpdate() != null && state.previousUpdate().length == size) {
                    backend.loadPreviousUpdate(state.previousUpdate());
                } else {
                    carried.previousUpdateNorm = 0; // an older state: the first resumed step has no update cosine
                }
                console.printf("resuming %s at step %d of %d%n", dir, state.step(), config.train().steps());
                return t.loop(backend, state.step(), state.seconds(), config.train().steps(), carried, ticket);
            }
        }
    }

    /** The run's config with train.steps = newSteps (more than its own), the schedule's horizon kept. */
    private static RunConfig extended(RunConfig config, int newSteps) {
        TrainConfig old = config.train();
        if (newSteps <= old.steps()) {
            throw new EbmException("--steps: must be more than the run's train.steps (" + old.steps() + "), got " + newSteps
                    + "; without --steps the run continues to train.steps");
        }
        return new RunConfig(config.seed(), config.backend(), config.precision(), config.data(), config.model(),
                config.objective(), config.optimizer(), old.extendedTo(newSteps));
    }

    /** Writes the extended config to config.yaml and says what happens to the schedule. */
    private static void recordExtension(Path dir, TrainConfig old, RunConfig longer, PrintStream console) {
        ebm.io.AtomicFile.writeString(dir.resolve(CONFIG), ConfigLoader.toYaml(longer));
        console.printf("extending %s from train.steps %d to %d; the learning-rate schedule keeps its horizon "
                + "(train.schedule_steps %d)%s%n", dir, old.steps(), longer.train().steps(), old.scheduleSteps(),
                old.schedule().equals("cosine") ? ": the cosine rate stays at its floor, 0, after step " + old.scheduleSteps()
                        : ": the constant rate goes on");
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
                    config.train().clip(), config.train().batchSize(), config.train().accumulate(), params);
            case CUDA, CUDA_EMULATED -> new CudaStepBackend(config, optimizer, model, objective, params);
        };
        LOG.debug("training step on {}", backend.description());
        return backend;
    }

    private Outcome loop(StepBackend backend, long firstDone, double secondsBefore, long lastStep, Carried carried,
                         StopSignal.Ticket ticket) {
        TrainConfig tc = config.train();
        int d = data.dim(), batch = tc.batchSize(), nTrain = data.train().rows();
        double[] x = new double[batch * d];
        Progress progress = new Progress(console, lastStep);
        long start = System.nanoTime();
        double loss = Double.NaN;
        Map<String, Object> lastEval = null;
        Double gaussianFisher = Evaluation.momentMatchedGaussianFisher(data.train().data(), nTrain,
                data.validation().data(), data.validation().rows(), data.density());
        Double gaussianValLoss = Evaluation.momentMatchedGaussianExactLoss(data.train().data(), nTrain,
                data.validation().data(), data.validation().rows(), d);
        long lastCheckpoint = firstDone, endStep = lastStep;
        boolean earlyStopped = false;
        try (MetricsLog metrics = MetricsLog.open(dir.resolve(METRICS), firstDone)) {
            if (metrics.repairNote() != null) console.println(metrics.repairNote());
            for (long step = firstDone + 1; step <= lastStep; step++) {
                RandomStream pick = new RandomStream(config.seed(), step, Streams.BATCH);
                for (int i = 0; i < batch; i++) System.arraycopy(modelTrain, pick.below(i, nTrain) * d, x, i * d, d);
                double lrScale = tc.lrScale(step);
                StepBackend.Result result = backend.step(x, step, lrScale);
                loss = result.loss();
                DivergenceDetector.Verdict verdict = carried.detector.check(step, loss, result.gradNorm());
                if (verdict != null) throw diverged(step, verdict, lastCheckpoint);
                double updateNorm = result.updateNorm();
                // cosine between successive updates: near 1 = consistent direction, negative = oscillation (the previous
                // update's norm is saved with the state, so the first resumed step has it too)
                Double updateCosine = updateNorm > 0 && carried.previousUpdateNorm > 0
                        ? result.updateDotPrevious() / (updateNorm * carried.previousUpdateNorm) : null;
                carried.previousUpdateNorm = updateNorm;
                if (carried.ema != null) updateEma(carried.ema, backend.params(), tc.ema());
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
                    double[] evaluated = carried.ema != null ? carried.ema : params;
                    lastEval = evaluate(evaluated);
                    rec.putAll(lastEval);
                    // only the evals every run has count (not the extra one where stop_after ends a run), so a
                    // stopped and resumed run keeps the best and stops early exactly as an uninterrupted one
                    boolean scheduledEval = step % tc.evalEvery() == 0 || step == tc.steps();
                    if (scheduledEval && carried.best.record(step, (Double) lastEval.get("val_loss"))) saveBest(evaluated, step);
                    if (scheduledEval && carried.best.patienceExhausted(tc.earlyStop()) && step < lastStep) {
                        earlyStopped = true;
                        checkpointStep = true; // the early stop's step is the run's last: it gets the final checkpoint
                    }
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
                    checkpoint(params, backend, carried, step, seconds, earlyStopped);
                    lastCheckpoint = step;
                    ticket.ifLate(lateMessage(dir, step));
                }
                progress.update(step, loss, evalStep ? lastEval : null);
                if (earlyStopped) {
                    endStep = step;
                    break;
                }
                // A termination signal: end this step with its checkpoint, then stop (the last step ends the run anyway).
                if (ticket.requested() && step < lastStep) {
                    if (!checkpointStep) {
                        checkpoint(backend.params(), backend, carried, step, seconds, false);
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
        double[] params = carried.ema != null ? carried.ema : backend.params();
        progress.finish();
        if (earlyStopped) {
            console.printf("stopped early at step %d of %d: val_loss has not gone below %.6g (step %d) for %d evals "
                    + "(train.early_stop); the run is done%n", endStep, lastStep, carried.best.valLoss(), carried.best.step(),
                    tc.earlyStop());
        }
        double seconds = secondsBefore + (System.nanoTime() - start) * 1e-9;
        boolean anyBest = carried.best.step() > 0;
        Outcome outcome = new Outcome(endStep, loss, lastEval == null ? null : (Double) lastEval.get("val_loss"),
                lastEval == null ? null : (Double) lastEval.get("fisher_divergence"),
                lastEval == null ? null : (Double) lastEval.get("fisher_divergence_noised"), gaussianFisher,
                gaussianValLoss, seconds, dir, anyBest ? carried.best.step() : null, anyBest ? carried.best.valLoss() : null,
                earlyStopped);
        Summary.write(config, data, outcome, console);
        plots(params, gaussianFisher, gaussianValLoss);
        return outcome;
    }

    /** ema ← d·ema + (1 − d)·θ, after an optimizer step. */
    static void updateEma(double[] ema, double[] params, double decay) {
        for (int i = 0; i < ema.length; i++) ema[i] = decay * ema[i] + (1 - decay) * params[i];
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

    private void plots(double[] params, Double gaussianFisher, Double gaussianValLoss) {
        Plots.curves(MetricsLog.read(dir.resolve(METRICS)), gaussianFisher, gaussianValLoss, dir);
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

    /** best.safetensors: the evaluated parameters (the EMA when on) of a new best eval, exported like the checkpoint. */
    private void saveBest(double[] evaluated, long step) {
        if (model instanceof Mlp mlp) {
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("step", Long.toString(step));
            meta.put("objective", config.objective().name());
            MlpCheckpoint.save(dir.resolve(BEST), mlp.spec(), exportParams(evaluated), meta, false);
        }
    }

    /**
     * checkpoint.safetensors (the EMA when on, else the raw parameters, exported) and the run state (the raw parameters,
     * the EMA, the optimizer, detector, last update and best eval) of the step.
     */
    private void checkpoint(double[] params, StepBackend backend, Carried carried, long step, double seconds,
                            boolean earlyStopped) {
        LOG.debug("checkpoint at step {} in {}", step, dir);
        if (model instanceof Mlp mlp) {
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("step", Long.toString(step));
            meta.put("objective", config.objective().name());
            MlpCheckpoint.save(dir.resolve(CHECKPOINT), mlp.spec(), exportParams(carried.ema != null ? carried.ema : params),
                    meta, false);
        }
        new RunState(step, seconds, params.clone(), backend.optimizerState(), carried.detector.state(), backend.previousUpdate(),
                carried.previousUpdateNorm, carried.ema == null ? null : carried.ema.clone(), carried.best.state(),
                earlyStopped).save(dir);
    }

}
