package ebm.optim;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What every CPU optimizer shares: the buffer-size check before a step, the step counter, and the state map that
 * starts with the counter as "step" and restores it only once every other entry has loaded.
 */
abstract class AbstractOptimizer implements Optimizer {
    /** Length of the flat parameter buffer this optimizer updates. */
    protected final int size;
    /** Steps taken, this one included while {@link #update} runs. */
    protected long steps;

    AbstractOptimizer(int size) {
        this.size = size;
    }

    @Override
    public final void step(double[] params, double[] grad, double lrScale) {
        StateMaps.checkGradient(params, grad, size);
        steps++;
        update(params, grad, lrScale);
    }

    /** The update rule itself, on buffers of the right size; {@link #steps} already counts this step. */
    abstract void update(double[] params, double[] grad, double lrScale);

    @Override
    public final long steps() {
        return steps;
    }

    @Override
    public final Map<String, double[]> state() {
        Map<String, double[]> state = new LinkedHashMap<>();
        state.put("step", new double[] {steps});
        saveState(state);
        return state;
    }

    @Override
    public final void loadState(Map<String, double[]> state) {
        long loadedSteps = StateMaps.loadCounter(state, "step");
        loadOwnState(state);
        steps = loadedSteps;
    }

    /**
     * The decoupled weight decay and step of Muon and Shampoo, θ ← θ·decayFactor − stepSize·d, over
     * params[offset .. offset + direction.length).
     */
    static void decayAndStep(double[] params, int offset, double decayFactor, double stepSize, double[] direction) {
        for (int k = 0; k < direction.length; k++) {
            int i = offset + k;
            params[i] = params[i] * decayFactor - stepSize * direction[k];
        }
    }

    /** The live buffers the state holds after "step" (saved as copies, loaded in place), in their saved order. */
    abstract Map<String, double[]> buffers();

    /** Adds this optimizer's entries after "step": by default copies of its buffers. */
    void saveState(Map<String, double[]> state) {
        StateMaps.save(state, buffers());
    }

    /** Loads this optimizer's entries, checking all of them before changing any, so that a bad map changes nothing. */
    void loadOwnState(Map<String, double[]> state) {
        StateMaps.loadAll(state, buffers());
    }
}
