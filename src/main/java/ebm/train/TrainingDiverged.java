package ebm.train;

import ebm.EbmException;

/**
 * A run stopped because it blew up (a {@link DivergenceDetector} rule fired). The message names the step, the rule
 * and the last good checkpoint; the CLI exits with {@link #EXIT_CODE}, a sweep records the run as `diverged`.
 */
public final class TrainingDiverged extends EbmException {
    public static final int EXIT_CODE = 3;
    private final String rule;

    TrainingDiverged(String rule, String message) {
        super(message);
        this.rule = rule;
    }

    /** The rule that fired: non-finite, loss magnitude, gradient norm, zero gradient or constant loss. */
    public String rule() {
        return rule;
    }
}
