package ebm.optim;

import ebm.EbmException;
import java.util.Map;

/** Reading an optimizer state map back, with errors that name the missing or mis-sized entry. */
final class StateMaps {
    private StateMaps() {}

    static double[] require(Map<String, double[]> state, String key, int length) {
        double[] value = state.get(key);
        if (value == null) {
            throw new EbmException("optimizer state: missing entry '" + key + "' (present: " + state.keySet() + ")");
        }
        if (value.length != length) {
            throw new EbmException("optimizer state: entry '" + key + "' has " + value.length
                    + " values, expected " + length);
        }
        return value;
    }

    /** Copies a saved buffer into the live one (the live arrays keep their identity). */
    static void load(Map<String, double[]> state, String key, double[] into) {
        System.arraycopy(require(state, key, into.length), 0, into, 0, into.length);
    }

    /** Puts a copy of every live buffer under its name, in the order of {@code buffers}. */
    static void save(Map<String, double[]> state, Map<String, double[]> buffers) {
        buffers.forEach((key, buffer) -> state.put(key, buffer.clone()));
    }

    /** Checks every named buffer is present with its length, then loads them all (nothing changes on an error). */
    static void loadAll(Map<String, double[]> state, Map<String, double[]> buffers) {
        buffers.forEach((key, buffer) -> require(state, key, buffer.length));
        buffers.forEach((key, buffer) -> load(state, key, buffer));
    }

    static long loadCounter(Map<String, double[]> state, String key) {
        double value = require(state, key, 1)[0];
        if (!(value >= 0) || value != Math.rint(value)) {
            throw new EbmException("optimizer state: entry '" + key + "' = " + value + " is not a step count");
        }
        return (long) value;
    }

    static void checkGradient(double[] params, double[] grad, int size) {
        if (params.length != size || grad.length != size) {
            throw new IllegalArgumentException("params/grad lengths " + params.length + "/" + grad.length
                    + " do not match the layout size " + size);
        }
    }
}
