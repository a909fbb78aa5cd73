package ebm.rng;

import ebm.EbmException;

/**
 * The seed of a randomised check (the parity checks of {@code ebm validate}, the randomised tests) and where it came
 * from. One mechanism: the system property {@value #PROPERTY}, else the environment variable {@value #ENVIRONMENT}
 * (the property wins when both are set), else a fresh seed from the clock. A check prints it as {@code seed=<value>}
 * before comparing anything, so a failure replays with the same value ({@code ./ebm validate --seed <value>},
 * {@code ./ebm test -Dtest=SomeTest -Debm.seed=<value>}).
 */
public record CheckSeed(long value, String source) {
    public static final String PROPERTY = "ebm.seed";
    public static final String ENVIRONMENT = "EBM_SEED";

    /** {@value #PROPERTY}, else {@value #ENVIRONMENT}, else fresh from the clock; a value that is not a long is an error. */
    public static CheckSeed resolve() {
        return resolve(System.getProperty(PROPERTY), System.getenv(ENVIRONMENT));
    }

    static CheckSeed resolve(String property, String environment) {
        if (property != null && !property.isBlank()) return new CheckSeed(parse(property, "-D" + PROPERTY), "-D" + PROPERTY);
        if (environment != null && !environment.isBlank()) return new CheckSeed(parse(environment, ENVIRONMENT), ENVIRONMENT);
        return new CheckSeed(System.nanoTime(), "fresh from the clock");
    }

    private static long parse(String text, String where) {
        try {
            return Long.parseLong(text.strip());
        } catch (NumberFormatException e) {
            throw new EbmException(where + " = '" + text + "' is not a seed (a decimal 64-bit integer, e.g. 12345)");
        }
    }

    /** {@code seed=<value> (<source>)}. */
    @Override
    public String toString() {
        return "seed=" + value + " (" + source + ")";
    }
}
