package ebm;

import java.util.List;

/** English for generated reports: counts with the right noun form and lists joined with "and" / "or". */
public final class Words {
    private Words() {}

    /** "1 run", "3 runs" (the plural is the singular plus s). */
    public static String count(long n, String singular) {
        return count(n, singular, singular + "s");
    }

    /** "1 repeat", "0 repeats", "1 of the analyses" style: n then the noun that fits it. */
    public static String count(long n, String singular, String plural) {
        return n + " " + (n == 1 ? singular : plural);
    }

    /** "a", "a and b", "a, b and c"; "" for none. */
    public static String and(List<String> items) {
        return join(items, "and");
    }

    /** "a", "a or b", "a, b or c"; "" for none. */
    public static String or(List<String> items) {
        return join(items, "or");
    }

    private static String join(List<String> items, String last) {
        if (items.isEmpty()) return "";
        if (items.size() == 1) return items.getFirst();
        return String.join(", ", items.subList(0, items.size() - 1)) + " " + last + " " + items.getLast();
    }
}
