package ebm.bench;

import ebm.EbmException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The peer scripts' CSV files (bench/peers), as every bench's --peer reads them. */
final class PeerCsv {
    private PeerCsv() {}

    /** The file's lines; one that cannot be read is a one-line error naming it. */
    static List<String> lines(Path file) {
        try {
            return Files.readAllLines(file);
        } catch (IOException e) {
            throw new EbmException("cannot read peer results " + file + ": " + e.getMessage());
        }
    }
}
