package ebm.optim;

import java.util.Map;

/** SGD with PyTorch's semantics (see {@link SgdOptions}); one pass over the flat buffer per step. */
public final class Sgd extends AbstractOptimizer {
    private final SgdOptions options;
    /** Allocated only with momentum, so that plain SGD keeps no state beyond the step counter. */
    private final double[] momentumBuffer;

    Sgd(SgdOptions options, int size) {
        super(size);
        this.options = options;
        this.momentumBuffer = options.momentum() != 0 ? new double[size] : null;
    }

    @Override
    void update(double[] params, double[] grad, double lrScale) {
        double lr = options.lr() * lrScale;
        double mu = options.momentum();
        double decay = options.weightDecay();
        double keep = 1 - options.dampening();
        boolean firstStep = steps == 1;
        for (int i = 0; i < size; i++) {
            double d = grad[i];
            if (decay != 0) d += decay * params[i];
            if (momentumBuffer != null) {
                // PyTorch starts the buffer at the gradient itself (no dampening on the first step).
                double b = firstStep ? d : mu * momentumBuffer[i] + keep * d;
                momentumBuffer[i] = b;
                d = options.nesterov() ? d + mu * b : b;
            }
            params[i] -= lr * d;
        }
    }

    @Override
    Map<String, double[]> buffers() {
        return momentumBuffer == null ? Map.of() : Map.of("momentum_buffer", momentumBuffer);
    }

    @Override
    public Map<String, Double> diagnostics() {
        return Map.of();
    }
}
