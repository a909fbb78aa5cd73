package ebm.train;

import ebm.EbmException;
import ebm.backend.cuda.step.CudaBackends;
import ebm.backend.cuda.step.CudaTrainingStep;
import ebm.config.RunConfig;
import ebm.model.EnergyModel;
import ebm.model.Mlp;
import ebm.objective.Objective;
import ebm.optim.OptimizerSpec;
import java.util.Map;

/** The training step on the CUDA backend (fp32 on a GPU, or through the host build of its kernels). */
final class CudaStepBackend implements StepBackend {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(CudaStepBackend.class);
    private final CudaBackends.Runtime runtime;
    private final CudaTrainingStep step;

    CudaStepBackend(RunConfig config, OptimizerSpec optimizer, EnergyModel model, Objective objective, double[] params) {
        if (!(model instanceof Mlp mlp)) {
            throw new EbmException("model.kind: " + config.model().kind() + " runs only on backend cpu; backend "
                    + config.backend() + " trains the energy MLP");
        }
        this.runtime = CudaBackends.open(config.backend(), CudaBackends.precision(config.precision()));
        try {
            this.step = new CudaTrainingStep(runtime.launcher(), runtime.blas(), mlp.spec(), objective, optimizer,
                    config.train().batchSize(), config.train().clip(), params);
        } catch (RuntimeException e) {
            runtime.close();
            throw e;
        }
    }

    @Override
    public String description() {
        return runtime.description();
    }

    private boolean reported;

    @Override
    public Result step(double[] x, long stepNumber, double lrScale) {
        CudaTrainingStep.Stats s = step.step(x, stepNumber, lrScale);
        if (!reported) {
            reported = true;
            LOG.info("CUDA step: {} kernel launches and {} GEMMs ({} GFLOP), {} MB of device memory at the peak; "
                    + "captured into one CUDA graph from the second step where the launcher can record", step.launchesPerStep(),
                    step.gemmsPerStep(), String.format("%.3f", step.flopsPerStep() / 1e9), step.peakDeviceBytes() / 1000000);
        }
        // the CPU optimizer's diagnostic keys (adam_v_spread, muon_orthogonality_error, shampoo_*), computed on the device
        return new Result(s.loss(), s.gradNorm(), s.gradNoise(), s.updateNorm(), s.updateDotPrevious(), step.optimizerDiagnostics());
    }

    @Override
    public double[] params() {
        return step.params();
    }

    @Override
    public Map<String, double[]> optimizerState() {
        return step.optimizerState();
    }

    @Override
    public void loadOptimizerState(Map<String, double[]> state) {
        step.loadOptimizerState(state);
    }

    @Override
    public double[] previousUpdate() {
        return step.previousUpdate();
    }

    @Override
    public void loadPreviousUpdate(double[] update) {
        step.loadPreviousUpdate(update);
    }

    @Override
    public void close() {
        step.close();
        runtime.close();
    }
}
