package ebm.optim;

import java.util.LinkedHashMap;
import java.util.Map;

/** SGD with PyTorch's semantics (see {@link SgdOptions}); one pass over the flat buffer per step. */
public final class Sgd implements Optimizer {
    private final SgdOptions options;
    private final int size;
    /** Allocated only with momentum, so that plain SGD keeps no state beyond the step counter. */
    private final double[] momentumBuffer;
    private long steps;

    Sgd(SgdOptions options, int size) {
        this.options = options;
        this.size = size;
        this.momentumBuffer = options.momentum() != 0 ? new double[size] : null;
    }

    @Override
    public void step(double[] params, double[] grad, double lrScale) {
        StateMaps.checkGradient(params, grad, size);
        double lr = options.lr() * lrScale;
        double mu = options.momentum();
        double decay = options.weightDecay();
        double keep = 1 - options.dampening();
        boolean firstStep = steps == 0;
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
        steps++;
    }

    @Override
    public long steps() {
        return steps;
    }

    @Override
    public Map<String, double[]> state() {
        Map<String, double[]> state = new LinkedHashMap<>();
        state.put("step", new double[] {steps});
        if (momentumBuffer != null) state.put("momentum_buffer", momentumBuffer.clone());
        return state;
    }

    @Override
    public void loadState(Map<String, double[]> state) {
        long loadedSteps = StateMaps.loadCounter(state, "step");
        if (momentumBuffer != null) StateMaps.load(state, "momentum_buffer", momentumBuffer);
        steps = loadedSteps;
    }

    @Override
    public Map<String, Double> diagnostics() {
        return Map.of();
    }
}
