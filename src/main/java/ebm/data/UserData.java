package ebm.data;

import ebm.EbmException;
import ebm.io.Csv;
import ebm.io.Npy;
import ebm.rng.RandomStream;
import ebm.rng.Streams;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * The user's own data: a .npy or .csv matrix (one point per row), checked, split into train and validation, and
 * standardised with statistics of the train split.
 */
public final class UserData {
    private UserData() {}

    /**
     * Loads a .npy or .csv file by its extension. Rows holding NaN or +-Inf are rejected with the first one named:
     * for .npy as "row r, column c" counted from 0 (numpy's indexing), for .csv as "line l, column c" counted from
     * 1 (as an editor shows them, the header line included). expectedWidth &lt;= 0 accepts any number of columns.
     */
    public static Npy.Matrix load(Path file, int expectedWidth) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        Npy.Matrix m;
        if (name.endsWith(".npy")) {
            m = Npy.read(file);
            int bad = firstNonFinite(m);
            if (bad >= 0) {
                int r = bad / m.cols();
                int c = bad % m.cols();
                throw new EbmException(file + ": row " + r + ", column " + c + " (both 0-based) is " + m.data()[bad]
                        + "; remove non-finite rows first");
            }
        } else if (name.endsWith(".csv")) {
            Csv.Table t = Csv.readTable(file);
            m = t.matrix();
            int bad = firstNonFinite(m);
            if (bad >= 0) {
                int r = bad / m.cols();
                int c = bad % m.cols();
                throw new EbmException(file + ": line " + t.lineOf(r) + ", column " + (c + 1) + " (both 1-based) is "
                        + m.data()[bad] + "; remove non-finite rows first");
            }
        } else {
            throw new EbmException(file + ": unsupported data file extension; use .npy (2-D float32/float64) or .csv");
        }
        if (expectedWidth > 0 && m.cols() != expectedWidth) {
            throw new EbmException(file + ": has " + m.cols() + " columns, expected " + expectedWidth);
        }
        return m;
    }

    private static int firstNonFinite(Npy.Matrix m) {
        double[] x = m.data();
        for (int i = 0; i < x.length; i++) if (!Double.isFinite(x[i])) return i;
        return -1;
    }

    /** round(fraction * n), for a fraction in [0, 1). */
    public static int validationRows(int n, double fraction) {
        if (!(fraction >= 0 && fraction < 1)) {
            throw new EbmException("validation fraction must be in [0, 1), got " + fraction);
        }
        return (int) Math.round(fraction * n);
    }

    /**
     * A uniformly random permutation of 0..n-1 from stream (seed, step 0, {@link Streams#SPLIT}), by Fisher-Yates:
     * for i = n-1 down to 1, swap positions i and j = below(n-1-i, i+1).
     */
    public static int[] permutation(long seed, int n) {
        RandomStream rng = new RandomStream(seed, 0, Streams.SPLIT);
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i >= 1; i--) {
            int j = rng.below(n - 1 - i, i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    /**
     * Splits rows: the first validationRows entries of {@link #permutation} form the validation set, the rest the
     * train set; each set keeps the file's row order (so "train row 5" can be found in the file). With standardise,
     * both are mapped by the train split's statistics; otherwise the standardisation is the identity.
     *
     * @param source the file name, for messages
     */
    public static DataSplit split(Npy.Matrix data, String source, long seed, int validationRows, boolean standardise) {
        int n = data.rows();
        if (validationRows < 0 || validationRows >= n) {
            throw new EbmException(source + ": " + validationRows + " validation rows requested but the file has "
                    + n + " rows (at least one must stay for training)");
        }
        int[] p = permutation(seed, n);
        int[] val = Arrays.copyOfRange(p, 0, validationRows);
        int[] train = Arrays.copyOfRange(p, validationRows, n);
        Arrays.sort(val);
        Arrays.sort(train);
        Npy.Matrix trainRows = data.selectRows(train);
        Npy.Matrix valRows = data.selectRows(val);
        if (!standardise) return new DataSplit(trainRows, valRows, Standardization.identity(data.cols()));
        Standardization s = Standardization.fit(trainRows, source);
        return new DataSplit(s.apply(trainRows), s.apply(valRows), s);
    }
}
