package ebm.model;

import ebm.ConfigNames;

/** How the exact Hessian trace ΔE is computed (ARCHITECTURE.md §3); both algorithms agree to rounding. */
public enum TraceAlgorithm {
    /** Row-space when D > H_1 (fewer directions), per-dimension otherwise. */
    AUTO,
    /** D directions e_d carried from the input. */
    PER_DIMENSION,
    /** r = min(D, H_1) directions: the columns of a factor C with CCᵀ = W_1W_1ᵀ, started at z_1. */
    ROW_SPACE;

    /** As configs spell it: auto, per-dimension, row-space. */
    public String configName() {
        return ConfigNames.of(this, true);
    }

    public static TraceAlgorithm parse(String name) {
        return ConfigNames.parse(values(), TraceAlgorithm::configName, "objective.trace", name);
    }
}
