package ebm;

import java.util.Locale;

/**
 * What a Java heap can hold, checked before a large allocation so that a size the user asked for ends in one line
 * naming the key and value rather than a NegativeArraySizeException or an OutOfMemoryError.
 */
public final class HeapLimits {
    private HeapLimits() {}

    /** The longest array the JVM allocates (a few header words below Integer.MAX_VALUE on HotSpot). */
    public static final long MAX_ARRAY_LENGTH = Integer.MAX_VALUE - 8;

    /** How to raise the heap, for the end of a message. */
    public static final String RAISE_HEAP = "or raise the JVM heap with EBM_HEAP (e.g. EBM_HEAP=24g ./ebm ...)";

    /** The heap the JVM may grow to. */
    public static long maxHeap() {
        return Runtime.getRuntime().maxMemory();
    }

    /**
     * Refuses rows × cols doubles in one array when that many cannot exist; `setting` names the key or flag and its
     * value ("data.n_train = 2000000000"), `reduce` what to lower. Rows and columns are counts that fit an int, so
     * their product fits a long.
     */
    public static void requireArray(String setting, int rows, int cols, String reduce) {
        if (rows <= 0 || cols <= 0) return;
        if ((long) rows * cols > MAX_ARRAY_LENGTH) {
            throw new EbmException(String.format(Locale.ROOT,
                    "%s at D = %d is %d numbers, more than one Java array holds (%d); %s: at most %d rows at D = %d",
                    setting, cols, (long) rows * cols, MAX_ARRAY_LENGTH,
                    reduce, MAX_ARRAY_LENGTH / cols, cols));
        }
    }

    /**
     * Refuses work that needs `bytes` of heap when the JVM's maximum heap is smaller: `asked` says what was asked
     * for, `reduce` what to lower.
     */
    public static void requireHeap(String asked, long bytes, String reduce) {
        long heap = maxHeap();
        if (bytes > heap) {
            throw new EbmException(asked + " needs at least " + bytes(bytes) + " of memory, the JVM's heap is "
                    + bytes(heap) + "; " + reduce + ", " + RAISE_HEAP);
        }
    }

    /** The one line for an OutOfMemoryError that reached the command boundary. */
    public static String outOfMemoryLine(OutOfMemoryError e) {
        return "out of memory (" + (e.getMessage() == null ? "OutOfMemoryError" : e.getMessage()) + ") with a JVM heap of "
                + bytes(maxHeap()) + "; reduce the sizes of the run (model.hidden, train.batch_size, data.n_train, "
                + "objective.probes, --n) " + RAISE_HEAP;
    }

    /** A byte count for people: "512 B", "3.2 MB", "80.0 GB" (powers of 1000). */
    public static String bytes(long n) {
        if (n < 1000) return n + " B";
        String[] units = {"kB", "MB", "GB", "TB", "PB", "EB"};
        double v = n;
        int u = -1;
        while (v >= 1000 && u < units.length - 1) {
            v /= 1000;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
