package ebm.train;

import java.util.Map;

/**
 * Where the training step runs: the loss and gradient of a batch, clipping, the optimizer update, and the step's
 * norms. The CPU backend ({@link CpuStepBackend}) is the fp64 reference; the CUDA backend runs the same step on a
 * GPU (or through the host build of its kernels). The trainer owns everything else (data, metrics, evaluation,
 * checkpoints), so both backends write the same run folder.
 */
interface StepBackend extends AutoCloseable {

    /** One step's numbers: the gradient norm is before clipping; updateDotPrevious is Δθ_t · Δθ_{t−1}. */
    record Result(double loss, double gradNorm, Double gradNoise, double updateNorm, double updateDotPrevious,
                  Map<String, Double> diagnostics) {}

    /** A short description for logs ("cpu fp64, 2 threads", the GPU's name). */
    String description();

    Result step(double[] x, long step, double lrScale);

    /** The current parameters in fp64 (a copy). */
    double[] params();

    Map<String, double[]> optimizerState();

    void loadOptimizerState(Map<String, double[]> state);

    /** The last step's update Δθ (zeros before the first step), saved with the run state for the update cosine. */
    double[] previousUpdate();

    /** Restores {@link #previousUpdate()} on resume. */
    void loadPreviousUpdate(double[] update);

    @Override
    default void close() {}
}
