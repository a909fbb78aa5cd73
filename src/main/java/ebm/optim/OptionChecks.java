package ebm.optim;

import ebm.EbmException;

/** Validation of option values; every failure names the config key, the value and the allowed range. */
final class OptionChecks {
    private OptionChecks() {}

    static void positive(String key, double value) {
        if (!(value > 0) || !Double.isFinite(value)) {
            throw new EbmException(key + " = " + value + " is not allowed: it must be finite and > 0");
        }
    }

    static void nonNegative(String key, double value) {
        if (!(value >= 0) || !Double.isFinite(value)) {
            throw new EbmException(key + " = " + value + " is not allowed: it must be finite and >= 0");
        }
    }

    /** [0, 1): momentum-like coefficients, where 1 would never forget and never bias-correct. */
    static void unitHalfOpen(String key, double value) {
        if (!(value >= 0 && value < 1)) {
            throw new EbmException(key + " = " + value + " is not allowed: it must be in [0, 1)");
        }
    }

    static void unitClosed(String key, double value) {
        if (!(value >= 0 && value <= 1)) {
            throw new EbmException(key + " = " + value + " is not allowed: it must be in [0, 1]");
        }
    }

    static void intAtLeast(String key, long value, long min) {
        if (value < min) {
            throw new EbmException(key + " = " + value + " is not allowed: it must be an integer >= " + min);
        }
    }
}
