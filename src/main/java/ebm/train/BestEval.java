package ebm.train;

/**
 * The eval step with the lowest held-out SM loss so far, and how many evals have passed without beating it: what
 * best.safetensors holds and what train.early_stop counts. Saved with the run state (tensor {@link #TENSOR}), so a
 * resumed run keeps the same best and stops at the same step as an uninterrupted one.
 */
final class BestEval {
    static final String TENSOR = "best";
    private long step;
    private double valLoss = Double.POSITIVE_INFINITY;
    private int evalsSinceBest;

    /** None yet. */
    BestEval() {}

    /** From the saved {step, val_loss, evals since} (as written by {@link #state()}); a fresh one when null. */
    static BestEval restore(double[] saved) {
        BestEval b = new BestEval();
        if (saved == null) return b;
        if (saved.length != 3) throw new IllegalArgumentException("best: expected 3 values, got " + saved.length);
        b.step = (long) saved[0];
        b.valLoss = saved[1];
        b.evalsSinceBest = (int) saved[2];
        return b;
    }

    double[] state() {
        return new double[] {step, valLoss, evalsSinceBest};
    }

    /** Records an eval's loss; true when it is a new best (strictly lower; a NaN never is). */
    boolean record(long evalStep, double loss) {
        if (loss < valLoss) {
            step = evalStep;
            valLoss = loss;
            evalsSinceBest = 0;
            return true;
        }
        evalsSinceBest++;
        return false;
    }

    /** Early stopping: patience evals in a row without a new best (patience 0 = never). */
    boolean patienceExhausted(int patience) {
        return patience > 0 && evalsSinceBest >= patience;
    }

    /** The best eval's step, 0 when none. */
    long step() {
        return step;
    }

    double valLoss() {
        return valLoss;
    }

    int evalsSinceBest() {
        return evalsSinceBest;
    }
}
