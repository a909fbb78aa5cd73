package ebm;

import ebm.io.Npy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** Files the tests write for the code under test to read. */
public final class TestFiles {
    private TestFiles() {}

    /** Writes yaml to a new file prefix&lt;n&gt;.yaml in dir, a fresh name per call so that one test can write several. */
    public static Path yaml(Path dir, String prefix, String yaml) throws IOException {
        Path file = dir.resolve(prefix + System.nanoTime() + ".yaml");
        Files.writeString(file, yaml);
        return file;
    }

    /**
     * A run config on the two-peak density (the tests' small runs): seed, n_train/n_val, and the model, optimizer
     * (null: the default) and train sections as YAML flow maps.
     */
    public static String twoPeaks(int seed, int nTrain, int nVal, String model, String optimizer, String train) {
        return "seed: " + seed + "\ndata: {name: two-peaks, n_train: " + nTrain + ", n_val: " + nVal + "}\nmodel: " + model
                + "\n" + (optimizer == null ? "" : "optimizer: " + optimizer + "\n") + "train: " + train + "\n";
    }

    /** A rows x cols points file of zeros but for one value at a flat index (a file with one bad entry). */
    public static Path npyWithOne(Path file, int rows, int cols, int index, double value) {
        double[] x = new double[rows * cols];
        x[index] = value;
        Npy.write(file, rows, cols, x);
        return file;
    }

    /** A copy of the folder `from` (a trained run, say) as `to`, so that a test can change it without touching others. */
    public static Path copyOfFolder(Path from, Path to) {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path p : files.toList()) Files.copy(p, to.resolve(from.relativize(p).toString()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return to;
    }

    /** The names in a folder, sorted. */
    public static Set<String> names(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * sweep.yaml in dir: AdamW (lr 0.01) on two-peaks with the given sizes, one point per seed 0..seeds−1, evaluated and
     * checkpointed every `every` steps.
     */
    public static Path seedSweep(Path dir, int nTrain, int nVal, String hidden, int steps, int batch, int every, int seeds)
            throws IOException {
        StringBuilder seedList = new StringBuilder();
        for (int i = 0; i < seeds; i++) seedList.append(i == 0 ? "" : ", ").append(i);
        Path file = dir.resolve("sweep.yaml");
        Files.writeString(file, "base:\n"
                + "  data: {name: two-peaks, n_train: " + nTrain + ", n_val: " + nVal + "}\n"
                + "  model: {hidden: " + hidden + "}\n"
                + "  optimizer: {name: adamw, lr: 0.01}\n"
                + "  train: {steps: " + steps + ", batch_size: " + batch + ", eval_every: " + every + ", checkpoint_every: " + every + "}\n"
                + "grid:\n"
                + "  seed: [" + seedList + "]\n");
        return file;
    }
}
