package ebm;

import ebm.rng.CheckSeed;

/**
 * Seeds of the randomised tests, always printed before the test compares anything. {@link #seed} is the one
 * mechanism of {@link CheckSeed} ({@code -Debm.seed=<value>}, else {@code EBM_SEED}, else fresh from the clock) and
 * prints the command that replays it; {@link #fixed} prints a seed the test's expected values or tolerances were
 * set on, which the property does not change.
 */
public final class TestSeeds {
    private TestSeeds() {}

    /** Prints {@code <what>: seed=<value> (<source>; replay: ./ebm test -Dtest=<test class> -Debm.seed=<value>)}. */
    public static long seed(String what) {
        CheckSeed seed = CheckSeed.resolve();
        Class<?> test = StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE).getCallerClass();
        while (test.getEnclosingClass() != null) test = test.getEnclosingClass();
        System.out.printf("%s: seed=%d (%s; replay: ./ebm test -Dtest=%s -D%s=%d)%n", what, seed.value(), seed.source(),
                test.getSimpleName(), CheckSeed.PROPERTY, seed.value());
        return seed.value();
    }

    /** Prints {@code <what>: seed=<value> (fixed)} and returns the seed unchanged. */
    public static long fixed(String what, long seed) {
        System.out.printf("%s: seed=%d (fixed)%n", what, seed);
        return seed;
    }
}
