package ebm.bench;

import ebm.EbmException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The peer scripts' CSV files (bench/peers), as every bench's --peer reads them. */
final class PeerCsv {
    private PeerCsv() {}

    /**
     * The index in the header line of each required column; a missing one is a one-line error naming the file, the
     * column and all that the kind of CSV needs.
     */
    static int[] columns(Path file, String header, List<String> required, String kind) {
        List<String> names = java.util.Arrays.asList(header.strip().split(",", -1));
        int[] col = new int[required.size()];
        for (int i = 0; i < col.length; i++) {
            col[i] = names.indexOf(required.get(i));
            if (col[i] < 0) {
                throw new EbmException(file + ": " + kind + " CSV has no column '" + required.get(i) + "' (needs "
                        + String.join(", ", required) + ")");
            }
        }
        return col;
    }

    /** The file's lines; one that cannot be read is a one-line error naming it. */
    static List<String> lines(Path file) {
        try {
            return Files.readAllLines(file);
        } catch (IOException e) {
            throw new EbmException("cannot read peer results " + file + ": " + e.getMessage());
        }
    }
}
