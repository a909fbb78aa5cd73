package ebm.backend.cuda.optim;

import ebm.backend.cuda.kernels.DeviceKernels;
import ebm.backend.cuda.runtime.Blas;
import ebm.backend.cuda.runtime.KernelLauncher;
import ebm.model.ParamLayout;
import ebm.optim.OptimizerSpec;

/**
 * The device optimizers of the training step ({@link DeviceOptimizer}: kernels/adamw.cu, the Muon pieces of
 * kernels/newton_schulz.cu and its GEMMs) outside the step, for `ebm bench kernels`: the same objects the step
 * builds, over flat fp32 buffers the caller owns.
 */
public final class DeviceOptimizers {
    private DeviceOptimizers() {}

    /** One device optimizer over a flat parameter buffer of layout.size() floats. */
    public static final class Handle {
        private final DeviceOptimizer optimizer;

        private Handle(DeviceOptimizer optimizer) {
            this.optimizer = optimizer;
        }

        /** Queues one update of params from grad (device addresses of layout.size() floats each). */
        public void step(long params, long grad) {
            optimizer.step(params, grad);
        }

        /** Writes this step's learning rate(s): the base rate(s) times lrScale. */
        public void setLearningRate(double lrScale) {
            optimizer.setLearningRate(lrScale);
        }

        /** Device bytes of optimizer state. */
        public long stateBytes() {
            return optimizer.stateBytes();
        }
    }

    /** The optimizer of spec as the CUDA training step builds it (its state allocated on the launcher). */
    public static Handle open(OptimizerSpec spec, ParamLayout layout, KernelLauncher launcher, Blas blas) {
        return new Handle(DeviceOptimizer.create(spec, layout, launcher, new DeviceKernels(launcher), blas));
    }
}
