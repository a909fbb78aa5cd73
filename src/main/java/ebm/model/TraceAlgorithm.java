package ebm.model;

import ebm.EbmException;

/** How the exact Hessian trace ΔE is computed (ARCHITECTURE.md §3); both algorithms agree to rounding. */
public enum TraceAlgorithm {
    /** Row-space when D > H_1 (fewer directions), per-dimension otherwise. */
    AUTO("auto"),
    /** D directions e_d carried from the input. */
    PER_DIMENSION("per-dimension"),
    /** r = min(D, H_1) directions: the columns of a factor C with CCᵀ = W_1W_1ᵀ, started at z_1. */
    ROW_SPACE("row-space");

    private final String configName;

    TraceAlgorithm(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }

    public static TraceAlgorithm parse(String name) {
        for (TraceAlgorithm t : values()) if (t.configName.equals(name)) return t;
        throw new EbmException("unknown objective.trace '" + name + "'; allowed: auto, per-dimension, row-space");
    }
}
