package ebm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.TestTexts;
import ebm.config.ConfigLoader;
import ebm.io.Npy;
import ebm.sweep.SweepSpec;
import ebm.train.MetricsLog;
import ebm.train.Trainer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A relative data path resolves against the folder of the config file that names it (the current directory for
 * `--set`), and the run's config.yaml keeps it absolute, so the run resumes and samples from any folder.
 */
class ConfigPathsTest {
    @TempDir
    Path tmp;

    private static final String TRAIN = """
            seed: 5
            data: {path: points/moons.npy, n_val: 100}
            model: {hidden: [16, 12]}
            train: {steps: 20, stop_after: 10, batch_size: 64, eval_every: 10, checkpoint_every: 10, warmup: 0}
            """;

    private static Path points(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        Random r = new Random(2);
        double[] x = new double[500 * 2];
        for (int i = 0; i < x.length; i++) x[i] = r.nextGaussian();
        Npy.write(file, 500, 2, x);
        return file;
    }

    /** The data.path a run folder's config.yaml holds. */
    private static String savedPath(Path run) {
        return ConfigLoader.load(run.resolve(Trainer.CONFIG), List.of()).data().path();
    }

    /** `ebm ARGS` in a JVM of its own started in folder `cwd`, its output printed and returned with its exit code. */
    private static String runIn(Path cwd, Path log, int expectedExit, String... args) throws Exception {
        Process p = Cli.process(log, args).directory(cwd.toFile()).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "ebm " + String.join(" ", args) + " did not end in 120 s");
        String output = Files.readString(log, StandardCharsets.UTF_8);
        System.out.println("in " + cwd + ": ebm " + String.join(" ", args) + " -> exit " + p.exitValue() + "\n" + output.strip());
        assertEquals(expectedExit, p.exitValue(), output);
        return output;
    }

    @Test
    void aRunWithARelativeDataPathTrainsResumesAndSamplesFromOtherFolders() throws Exception {
        Path project = tmp.resolve("project"), elsewhere = tmp.resolve("elsewhere"), third = tmp.resolve("third");
        Files.createDirectories(elsewhere);
        Files.createDirectories(third);
        Path data = points(project.resolve("points").resolve("moons.npy"));
        Path config = project.resolve("moons.yaml");
        Files.writeString(config, TRAIN);
        // trained here (the test's folder, where points/moons.npy does not exist) into a folder of `elsewhere`
        Path run = elsewhere.resolve("run");
        Cli first = Cli.run("train", config.toString(), "--out", run.toString());
        assertEquals(0, first.exitCode(), first.err());
        System.out.println("config.yaml data.path: " + savedPath(run) + ", expected " + data);
        assertEquals(data.toString(), savedPath(run), "stored absolute, against the config file's folder");

        // resumed from `elsewhere` with a relative run folder, sampled from a third folder
        String resumed = runIn(elsewhere, tmp.resolve("resume.log"), 0, "train", "--resume", "run");
        TestTexts.assertContains(resumed, "resuming run at step 10 of 20");
        assertEquals(20, MetricsLog.read(run.resolve(Trainer.METRICS)).size());
        String sampled = runIn(third, tmp.resolve("sample.log"), 0, "sample", run.toString(), "--n", "50", "--steps", "5");
        TestTexts.assertContains(sampled, "MMD"); // the run's held-out points, read through the stored path
    }

    @Test
    void aPathGivenWithSetResolvesAgainstTheCurrentFolder() throws IOException {
        Path data = points(tmp.resolve("given").resolve("pts.npy"));
        Path config = tmp.resolve("c.yaml");
        Files.writeString(config, TRAIN.replace("path: points/moons.npy", "name: two-peaks"));
        String relative = Path.of("").toAbsolutePath().relativize(data).toString(); // from the test's current folder
        Path run = tmp.resolve("run");
        Cli r = Cli.run("train", config.toString(), "--out", run.toString(), "--set", "data.path=" + relative,
                "--set", "data.name=file");
        assertEquals(0, r.exitCode(), r.err());
        System.out.println("--set data.path=" + relative + " -> config.yaml " + savedPath(run));
        assertEquals(data.toString(), savedPath(run));
    }

    @Test
    void aSweepResolvesItsBaseFileAndTheBasesDataPathsAgainstTheFilesThatNameThem() throws IOException {
        Path study = tmp.resolve("study");
        Files.createDirectories(study.resolve("bases"));
        Files.writeString(study.resolve("bases").resolve("base.yaml"), "data: {path: ../data/a.npy}\n");
        Path fromFile = study.resolve("file-base.yaml");
        Files.writeString(fromFile, "base: bases/base.yaml\ngrid:\n  seed: [0]\n");
        Path inline = study.resolve("inline-base.yaml");
        Files.writeString(inline, """
                base:
                  data: {path: data/a.npy}
                grid:
                  data.path: [data/b.npy, /abs/c.npy]
                """);
        List<String> fromBaseFile = SweepSpec.load(fromFile).points().stream().map(p -> p.config().data().path()).toList();
        List<String> fromInline = SweepSpec.load(inline).points().stream().map(p -> p.config().data().path()).toList();
        System.out.println("base file: " + fromBaseFile + "; inline base with a grid: " + fromInline);
        assertEquals(List.of(study.resolve("data").resolve("a.npy").toString()), fromBaseFile);
        assertEquals(List.of(study.resolve("data").resolve("b.npy").toString(), "/abs/c.npy"), fromInline);
        Path only = study.resolve("only-base.yaml"); // an inline base on its own, one point
        Files.writeString(only, "base:\n  data: {path: data/a.npy}\n");
        assertEquals(study.resolve("data").resolve("a.npy").toString(),
                SweepSpec.load(only).points().getFirst().config().data().path());
    }
}
