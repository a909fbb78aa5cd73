package ebm.train;

import ebm.linalg.CpuThreads;
import ebm.model.EnergyModel;
import ebm.objective.Objective;
import ebm.optim.Optimizer;
import java.util.Map;

/** The fp64 reference step: the objective on the CPU tape, clipping, the optimizer, all in place on one buffer. */
final class CpuStepBackend implements StepBackend {
    private final EnergyModel model;
    private final Objective objective;
    private final Optimizer optimizer;
    private final Double clip;
    private final double[] params;
    private final double[] grad;
    private final double[] before;
    private final double[] lastUpdate;
    private final int batch;
    private final int microBatches;

    CpuStepBackend(EnergyModel model, Objective objective, Optimizer optimizer, Double clip, int batch, int microBatches,
                   double[] params) {
        this.model = model;
        this.objective = objective;
        this.optimizer = optimizer;
        this.clip = clip;
        this.batch = batch;
        this.microBatches = microBatches;
        this.params = params.clone();
        this.grad = new double[params.length];
        this.before = new double[params.length];
        this.lastUpdate = new double[params.length];
    }

    @Override
    public String description() {
        return "cpu fp64, " + CpuThreads.threads() + " threads" + (microBatches > 1 ? ", " + microBatches + " micro-batches per step" : "");
    }

    @Override
    public Result step(double[] x, long step, double lrScale) {
        Objective.Result result = objective.run(model, params, x, batch, step, grad, microBatches);
        double gradNorm = norm(grad);
        if (!Double.isFinite(result.loss()) || !Double.isFinite(gradNorm)) {
            return new Result(result.loss(), gradNorm, null, Double.NaN, Double.NaN, Map.of()); // the trainer stops
        }
        if (clip != null && gradNorm > clip) {
            double s = clip / gradNorm;
            for (int i = 0; i < grad.length; i++) grad[i] *= s;
        }
        System.arraycopy(params, 0, before, 0, params.length);
        optimizer.step(params, grad, lrScale);
        double update = 0, dot = 0;
        for (int i = 0; i < params.length; i++) {
            double u = params[i] - before[i];
            update += u * u;
            dot += u * lastUpdate[i];
            lastUpdate[i] = u;
        }
        return new Result(result.loss(), gradNorm, result.gradNoise(), Math.sqrt(update), dot, optimizer.diagnostics());
    }

    @Override
    public double[] params() {
        return params.clone();
    }

    @Override
    public Map<String, double[]> optimizerState() {
        return optimizer.state();
    }

    @Override
    public void loadOptimizerState(Map<String, double[]> state) {
        optimizer.loadState(state);
    }

    @Override
    public double[] previousUpdate() {
        return lastUpdate.clone();
    }

    @Override
    public void loadPreviousUpdate(double[] update) {
        if (update.length != lastUpdate.length) {
            throw new IllegalArgumentException(update.length + " update values for " + lastUpdate.length + " parameters");
        }
        System.arraycopy(update, 0, lastUpdate, 0, update.length);
    }

    private static double norm(double[] v) {
        double s = 0;
        for (double e : v) s += e * e;
        return Math.sqrt(s);
    }
}
