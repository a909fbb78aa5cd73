package ebm.bench;

import ebm.backend.cuda.parity.StepParityChecks;
import ebm.backend.cuda.step.CudaBackends;
import ebm.backend.cuda.step.CudaTrainingStep;
import ebm.config.BackendKind;
import ebm.linalg.Gemm;
import ebm.model.Mlp;
import ebm.objective.Objective;
import ebm.optim.AdamWOptions;
import ebm.optim.Optimizer;
import ebm.optim.Optimizers;
import ebm.tape.Tape;

/**
 * Where the trace benchmark's steps run, from given parameters: the fp64 CPU objective with AdamW, or the CUDA
 * training step (fp32, AdamW on the device) on the run's one CUDA runtime, which the runner borrows (closing the
 * runner frees its step's device memory; the runtime stays open for the next row). A training step is loss +
 * parameter gradient + AdamW, on both.
 */
abstract class MethodRunner implements AutoCloseable {

    /** The AdamW of both runners: lr from the settings, β = (0.9, 0.999), eps = 1e-8, no weight decay. */
    static AdamWOptions adam(TraceBench.Settings s) {
        return new AdamWOptions(s.lr(), 0.9, 0.999, 1e-8, 0);
    }

    /** One step's cost: wall seconds, bytes of working memory (tape on the CPU, device memory on the GPU), GFLOP. */
    record Cost(double seconds, long peakBytes, double gflop) {}

    /** A loss and how many elements of its gradient are NaN or ±inf. */
    record Checked(double loss, long nonFiniteGradient) {}

    /** A runner on the settings' backend; runtime is the run's CUDA runtime (null on the CPU). */
    static MethodRunner open(TraceBench.Settings s, CudaBackends.Runtime runtime, Objective objective, Mlp mlp, double[] init) {
        return switch (s.backend()) {
            case CPU -> new Cpu(s, objective, mlp, init);
            case CUDA, CUDA_EMULATED -> {
                if (runtime == null) throw new IllegalArgumentException("backend " + s.backend() + " needs the run's CUDA runtime");
                yield new Cuda(s, runtime, objective, mlp, init);
            }
        };
    }

    /** Loss and gradient at the current parameters (no update); step keys the probes or noise. */
    abstract double lossAndGradient(double[] x, long step, double[] grad);

    /**
     * As {@link #lossAndGradient}, returning only the loss and the number of non-finite gradient elements: on the GPU
     * they are counted on the device, so the check does not copy the gradient to the host.
     */
    abstract Checked checkedLossAndGradient(double[] x, long step);

    /** Loss + gradient + AdamW; returns the loss. */
    abstract double trainStep(double[] x, long step);

    /**
     * As {@link #trainStep}, where x holds the same values as in this runner's previous call: on the GPU the batch
     * then stays on the device, so that the time is the device step's, not a host conversion and copy of B·D values.
     */
    double trainStepOnSameBatch(double[] x, long step) {
        return trainStep(x, step);
    }

    /** One training step on the same batch as the previous call, measured. */
    abstract Cost measureStep(double[] x, long step);

    abstract double[] params();

    /** How close an exact method's loss must be to the fp64 reference. */
    abstract double lossTolerance();

    @Override
    public void close() {}

    private static final class Cpu extends MethodRunner {
        private final Objective objective;
        private final Mlp mlp;
        private final int batch;
        private final double[] params;
        private final double[] grad;
        private final Optimizer adam;

        Cpu(TraceBench.Settings s, Objective objective, Mlp mlp, double[] init) {
            this.objective = objective;
            this.mlp = mlp;
            this.batch = s.batch();
            this.params = init.clone();
            this.grad = new double[init.length];
            this.adam = Optimizers.adamw(adam(s), mlp.layout());
        }

        @Override
        double lossAndGradient(double[] x, long step, double[] out) {
            return objective.evaluate(mlp, params, x, batch, step, out);
        }

        @Override
        Checked checkedLossAndGradient(double[] x, long step) {
            double loss = objective.evaluate(mlp, params, x, batch, step, grad);
            long nonFinite = 0;
            for (double g : grad) if (!Double.isFinite(g)) nonFinite++;
            return new Checked(loss, nonFinite);
        }

        @Override
        double trainStep(double[] x, long step) {
            double loss = objective.evaluate(mlp, params, x, batch, step, grad);
            adam.step(params, grad, 1.0);
            return loss;
        }

        @Override
        Cost measureStep(double[] x, long step) {
            long flops0 = Gemm.flops(), bytes0 = Tape.bytesAllocated(), t0 = System.nanoTime();
            trainStep(x, step);
            double seconds = (System.nanoTime() - t0) * 1e-9;
            return new Cost(seconds, Tape.bytesAllocated() - bytes0, (Gemm.flops() - flops0) / 1e9);
        }

        @Override
        double[] params() {
            return params.clone();
        }

        @Override
        double lossTolerance() {
            return 1e-10;
        }
    }

    private static final class Cuda extends MethodRunner {
        private final CudaBackends.Runtime runtime;
        private final CudaTrainingStep step;
        /** The array whose values are on the device: the last batch this runner wrote. */
        private double[] residentBatch;

        Cuda(TraceBench.Settings s, CudaBackends.Runtime runtime, Objective objective, Mlp mlp, double[] init) {
            this.runtime = runtime;
            // a constructor that fails (out of device memory, say) has freed what it allocated: the runtime is fine
            step = new CudaTrainingStep(runtime.launcher(), runtime.blas(), mlp.spec(), objective, adam(s), s.batch(), null, init);
        }

        @Override
        double lossAndGradient(double[] x, long stepNumber, double[] grad) {
            residentBatch = x;
            return step.lossAndGradient(x, stepNumber, grad);
        }

        @Override
        Checked checkedLossAndGradient(double[] x, long stepNumber) {
            residentBatch = x;
            CudaTrainingStep.CheckedLoss c = step.checkedLossAndGradient(x, stepNumber);
            return new Checked(c.loss(), c.nonFiniteGradient());
        }

        @Override
        double trainStep(double[] x, long stepNumber) {
            residentBatch = x;
            return step.step(x, stepNumber, 1.0).loss(); // reads the loss back: the step has finished on the device
        }

        @Override
        double trainStepOnSameBatch(double[] x, long stepNumber) {
            return x == residentBatch ? step.stepOnResidentBatch(stepNumber, 1.0).loss() : trainStep(x, stepNumber);
        }

        @Override
        Cost measureStep(double[] x, long stepNumber) {
            long t0 = System.nanoTime();
            trainStepOnSameBatch(x, stepNumber);
            double seconds = (System.nanoTime() - t0) * 1e-9;
            return new Cost(seconds, step.peakDeviceBytes(), step.flopsPerStep() / 1e9);
        }

        @Override
        double[] params() {
            return step.params();
        }

        @Override
        double lossTolerance() {
            return StepParityChecks.objectiveTolerance(runtime.blas().precision()); // against fp64, per GEMM mode
        }

        /** Frees the step's device memory; the runtime is the run's, closed by it. */
        @Override
        public void close() {
            step.close();
        }
    }
}
