package ebm.cli;

import ebm.EbmException;
import ebm.io.Csv;
import ebm.io.Npy;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** The --out of eval and data: a float64 .npy for a .npy name, CSV for a .csv name, anything else refused. */
final class MatrixOutput {
    private MatrixOutput() {}

    /** Refuses an output name that is neither .npy nor .csv, before any work is done. */
    static void check(String option, Path out) {
        String name = out.getFileName() == null ? "" : out.getFileName().toString().toLowerCase(Locale.ROOT);
        if (!name.endsWith(".npy") && !name.endsWith(".csv")) {
            throw new EbmException(option + " " + out + ": the name must end in .npy (float64 array) or .csv (text)");
        }
    }

    static void write(String option, Path out, List<String> header, int rows, int cols, double[] data) {
        check(option, out);
        if (out.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".csv")) Csv.write(out, header, rows, cols, data);
        else Npy.write(out, rows, cols, data);
    }
}
