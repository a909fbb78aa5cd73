package ebm;

import ebm.io.Npy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Files the tests write for the code under test to read. */
public final class TestFiles {
    private TestFiles() {}

    /** Writes yaml to a new file prefix&lt;n&gt;.yaml in dir, a fresh name per call so that one test can write several. */
    public static Path yaml(Path dir, String prefix, String yaml) throws IOException {
        Path file = dir.resolve(prefix + System.nanoTime() + ".yaml");
        Files.writeString(file, yaml);
        return file;
    }

    /** A rows x cols points file of zeros but for one value at a flat index (a file with one bad entry). */
    public static Path npyWithOne(Path file, int rows, int cols, int index, double value) {
        double[] x = new double[rows * cols];
        x[index] = value;
        Npy.write(file, rows, cols, x);
        return file;
    }
}
