package ebm;

import java.util.Arrays;
import java.util.Locale;
import java.util.function.Function;
import java.util.stream.Collectors;

/** How an enum's constants are spelled in configs, and the one way such a spelling is read back. */
public final class ConfigNames {
    private ConfigNames() {}

    /** A constant's config spelling: its name in lower case, with '-' for '_' when dashed. */
    public static String of(Enum<?> constant, boolean dashed) {
        String lower = constant.name().toLowerCase(Locale.ROOT);
        return dashed ? lower.replace('_', '-') : lower;
    }

    /** The constant spelled `given`; else a one-line error naming `what` and every allowed spelling. */
    public static <E extends Enum<E>> E parse(E[] values, Function<E, String> spelling, String what, String given) {
        for (E e : values) if (spelling.apply(e).equals(given)) return e;
        throw new EbmException("unknown " + what + " '" + given + "'; allowed: "
                + Arrays.stream(values).map(spelling).collect(Collectors.joining(", ")));
    }
}
