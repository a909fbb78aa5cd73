package ebm.train;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/** Housekeeping of a run folder that a kill can leave untidy. */
final class RunFiles {
    private RunFiles() {}

    /**
     * The temporary files of atomic writes (checkpoint and state: `.NAME.HEX.tmp`; .npy: `.NAMEDIGITS.tmp`; a sweep's
     * `NAME.tmpPID-TID`). They only outlive a write when the process was killed inside it, so when a run starts or
     * resumes in its folder (one run owns a folder at a time) they are leftovers.
     */
    static final Pattern TEMPORARY = Pattern.compile("\\..+\\.tmp|.+\\.tmp\\d+-\\d+");

    /** Deletes the leftover temporary files in dir and says so on the console; returns their names. */
    static List<String> removeTemporaries(Path dir, PrintStream console) {
        List<String> removed = new ArrayList<>();
        if (!Files.isDirectory(dir)) return removed;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir,
                p -> Files.isRegularFile(p) && TEMPORARY.matcher(p.getFileName().toString()).matches())) {
            for (Path p : files) {
                Files.deleteIfExists(p);
                removed.add(p.getFileName().toString());
            }
        } catch (IOException e) {
            console.println("warning: could not remove leftover temporary files in " + dir + ": " + e.getMessage());
        }
        if (!removed.isEmpty()) {
            console.println("removed " + removed.size() + " temporary file(s) left by an interrupted write in " + dir + ": "
                    + String.join(", ", removed));
        }
        return removed;
    }
}
