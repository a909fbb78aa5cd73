package ebm.config;

import ebm.EbmException;
import java.util.Arrays;

/** Range and choice checks that name the key, the value and what is allowed. */
final class Check {
    private Check() {}

    static void oneOf(String key, String value, String... allowed) {
        if (!Arrays.asList(allowed).contains(value)) {
            throw new EbmException(key + ": '" + value + "' is not allowed; allowed: " + String.join(", ", allowed));
        }
    }

    static void positive(String key, double value) {
        if (!(value > 0) || !Double.isFinite(value)) throw new EbmException(key + ": must be > 0, got " + value);
    }

    static void nonNegative(String key, double value) {
        if (!(value >= 0) || !Double.isFinite(value)) throw new EbmException(key + ": must be >= 0, got " + value);
    }

    static void inRange(String key, double value, double lo, double hi, boolean hiInclusive) {
        boolean ok = value >= lo && (hiInclusive ? value <= hi : value < hi);
        if (!ok) throw new EbmException(key + ": must be in [" + lo + ", " + hi + (hiInclusive ? "]" : ")") + ", got " + value);
    }

    static void atLeast(String key, long value, long min) {
        if (value < min) throw new EbmException(key + ": must be >= " + min + ", got " + value);
    }
}
