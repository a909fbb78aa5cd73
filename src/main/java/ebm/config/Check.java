package ebm.config;

import ebm.EbmException;
import java.util.Arrays;

/**
 * Range and choice checks that name the key, the value and what is allowed. Each returns the value it passed, so
 * that a record resolves a key in one line: {@code steps = Check.atLeast("train.steps", or(steps, 1000), 1)}.
 */
final class Check {
    private Check() {}

    /** The key's value, or its default when the key is left out. */
    static <T> T or(T value, T fallback) {
        return value == null ? fallback : value;
    }

    static String oneOf(String key, String value, String... allowed) {
        if (!Arrays.asList(allowed).contains(value)) {
            throw new EbmException(key + ": '" + value + "' is not allowed; allowed: " + String.join(", ", allowed));
        }
        return value;
    }

    static double positive(String key, double value) {
        if (!(value > 0) || !Double.isFinite(value)) throw new EbmException(key + ": must be > 0, got " + value);
        return value;
    }

    static double nonNegative(String key, double value) {
        if (!(value >= 0) || !Double.isFinite(value)) throw new EbmException(key + ": must be >= 0, got " + value);
        return value;
    }

    static double inRange(String key, double value, double lo, double hi, boolean hiInclusive) {
        boolean ok = value >= lo && (hiInclusive ? value <= hi : value < hi);
        if (!ok) throw new EbmException(key + ": must be in [" + lo + ", " + hi + (hiInclusive ? "]" : ")") + ", got " + value);
        return value;
    }

    static int atLeast(String key, int value, int min) {
        if (value < min) throw new EbmException(key + ": must be >= " + min + ", got " + value);
        return value;
    }
}
