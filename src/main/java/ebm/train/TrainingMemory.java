package ebm.train;

import ebm.EbmException;
import ebm.HeapLimits;
import ebm.config.BackendKind;
import ebm.config.RunConfig;

/**
 * A floor on the heap a run needs, checked before its model, optimizer and batch buffers exist, so that a model
 * too large for the JVM is a one-line error naming what was asked for rather than an OutOfMemoryError (or an int
 * overflow in the parameter layout) part-way into the run folder. It counts only the big buffers, so a run it passes
 * may still need more; one it refuses cannot run.
 */
public final class TrainingMemory {
    private TrainingMemory() {}

    /**
     * Whole-parameter buffers every run holds besides the optimizer state: the parameters, their gradient, the
     * tape's leaf copies and their adjoints, the exported copy written to the checkpoint.
     */
    static final int PARAMETER_COPIES = 5;

    /** Values the CPU tape keeps per hidden unit, sample and direction: z, h, σ′(z) and the adjoint. */
    static final int TAPE_VALUES_PER_UNIT = 4;

    /** The estimate, in parts, for the message. */
    record Estimate(long parameters, int copies, long parameterBytes, long activationBytes) {
        long bytes() {
            return parameterBytes > Long.MAX_VALUE - activationBytes ? Long.MAX_VALUE : parameterBytes + activationBytes;
        }
    }

    /** Refuses the run when its estimate exceeds the JVM's maximum heap; dim is the data's D. */
    public static void require(RunConfig config, int dim) {
        Estimate e = estimate(config, dim);
        long heap = HeapLimits.maxHeap();
        if (e.parameters() > Integer.MAX_VALUE - 8 || e.bytes() > heap) {
            throw new EbmException(message(config, dim, e, heap));
        }
    }

    static String message(RunConfig config, int dim, Estimate e, long heap) {
        String what = "model." + (config.model().kind().equals("mlp") ? "hidden = " + config.model().hidden()
                : "kind = quadratic") + " at D = " + dim + " has " + e.parameters() + " parameters";
        if (e.parameters() > Integer.MAX_VALUE - 8) {
            return what + ", more than one Java array holds (" + HeapLimits.MAX_ARRAY_LENGTH + "); reduce model.hidden";
        }
        return what + "; with optimizer." + "name = " + config.optimizer().name() + " and train.batch_size = "
                + config.train().batchSize() + " the run needs at least " + HeapLimits.bytes(e.bytes()) + " of memory ("
                + e.copies() + " parameter-sized buffers: " + HeapLimits.bytes(e.parameterBytes()) + "; batch activations: "
                + HeapLimits.bytes(e.activationBytes()) + "), the JVM's heap is " + HeapLimits.bytes(heap)
                + "; reduce model.hidden or train.batch_size, " + HeapLimits.RAISE_HEAP;
    }

    static Estimate estimate(RunConfig config, int dim) {
        int[] hidden = config.model().hiddenArray();
        boolean mlp = config.model().kind().equals("mlp");
        long parameters = 0;
        long stateExtra = 0; // Shampoo's per-matrix statistics and roots
        int maxPrecond = config.optimizer().maxPrecondDim();
        if (mlp) {
            long previous = dim;
            for (int width : hidden) {
                parameters += previous * width + width;
                if (config.optimizer().name().equals("shampoo")) {
                    // L and R with their inverse roots, for each side small enough to be preconditioned
                    if (width <= maxPrecond) stateExtra += 2L * width * width;
                    if (previous <= maxPrecond) stateExtra += 2L * previous * previous;
                }
                previous = width;
            }
            parameters += previous + 1;
        } else {
            parameters = (long) dim * dim + dim; // the factor A and the mean μ
        }
        int copies = PARAMETER_COPIES + switch (config.optimizer().name()) {
            case "sgd" -> 1;      // the momentum buffer
            case "adamw", "shampoo" -> 2; // m and v (Shampoo's graft)
            case "muon" -> 3;     // momentum and the inner AdamW's m and v
            default -> 2;
        };
        long parameterBytes = saturatingBytes(parameters, copies);
        long shampooBytes = saturatingBytes(stateExtra);
        parameterBytes = parameterBytes > Long.MAX_VALUE - shampooBytes ? Long.MAX_VALUE : parameterBytes + shampooBytes;
        long activationBytes = 0;
        if (config.backend() == BackendKind.CPU && mlp) {
            long units = 0;
            for (int width : hidden) units += width;
            int directions = Components.objective(config.objective(), config.seed()).directionsPerSample(dim, hidden[0]);
            activationBytes = saturatingBytes(units, TAPE_VALUES_PER_UNIT, directions + 1L, config.train().batchSize());
        }
        return new Estimate(parameters, copies, parameterBytes, activationBytes);
    }

    /** The product of the counts × 8 bytes, Long.MAX_VALUE when that overflows (a size no heap holds). */
    private static long saturatingBytes(long... counts) {
        long bytes = Double.BYTES;
        try {
            for (long c : counts) bytes = Math.multiplyExact(bytes, c);
            return bytes;
        } catch (ArithmeticException overflow) {
            return Long.MAX_VALUE;
        }
    }
}
