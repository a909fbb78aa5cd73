package ebm.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Whole-file writes that readers never see half done: the bytes go to a hidden temporary file beside the target,
 * created like any other file (mode from the umask: Files.createTempFile would make it 0600, and the target with
 * it), which is then moved over the target.
 */
public final class AtomicFile {
    private AtomicFile() {}

    /** Replaces file's content with text (UTF-8) atomically: a reader sees the old text or the new, never a part. */
    public static void writeString(Path file, String text) {
        Path absolute = file.toAbsolutePath();
        Path temporary = null;
        try {
            temporary = createTemporary(absolute.getParent(), absolute.getFileName().toString());
            Files.writeString(temporary, text);
            moveOver(temporary, absolute);
            temporary = null;
        } catch (IOException e) {
            throw new ebm.EbmException("cannot write " + file + ": " + e.getMessage());
        } finally {
            if (temporary != null) {
                try {
                    Files.deleteIfExists(temporary);
                } catch (IOException ignored) {
                    // the run's next start removes temporaries left behind
                }
            }
        }
    }

    /** A hidden, uniquely named empty file in {@code directory}, created with default permissions. */
    static Path createTemporary(Path directory, String targetName) throws IOException {
        for (int attempt = 0; ; attempt++) {
            Path candidate = directory.resolve("." + targetName + "." + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
            try {
                FileChannel.open(candidate, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
                return candidate;
            } catch (FileAlreadyExistsException e) {
                if (attempt >= 10) throw e;
            }
        }
    }

    /** Moves {@code temporary} over {@code target}, atomically where the file system can. */
    static void moveOver(Path temporary, Path target) throws IOException {
        try {
            Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
