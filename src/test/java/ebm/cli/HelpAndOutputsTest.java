package ebm.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.TestFiles;
import ebm.config.ConfigLoader;
import ebm.config.RunConfig;
import ebm.io.Csv;
import ebm.io.Npy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The help pages (every command listed, one full sentence each), the output formats of eval and data (.npy or CSV
 * by name, anything else refused), file modes that follow the umask, and a run's config.yaml (fp64 on the CPU, no
 * warnings when it is loaded or resumed, an older one that says fp32 still resumes).
 */
class HelpAndOutputsTest {
    @TempDir
    Path tmp;

    private static final List<String> COMMANDS = List.of("help", "train", "sample", "eval", "data", "bench", "sweep",
            "validate", "info");

    /** The lines of a help page's Commands: section. */
    private static List<String> commandLines(String help) {
        List<String> lines = help.lines().toList();
        int at = lines.indexOf("Commands:");
        assertTrue(at >= 0, help);
        return lines.subList(at + 1, lines.size()).stream().filter(l -> !l.isBlank()).toList();
    }

    @Test
    void plainEbmListsEveryCommandOnOneLineWithAFullSentence() {
        Cli r = Cli.run();
        assertEquals(0, r.exitCode());
        List<String> lines = commandLines(r.out());
        System.out.println(String.join("\n", lines));
        assertEquals(COMMANDS.size(), lines.size(), r.out());
        for (int i = 0; i < COMMANDS.size(); i++) {
            String[] cells = lines.get(i).strip().split("\\s+", 2);
            assertEquals(COMMANDS.get(i), cells[0], lines.get(i));
            assertTrue(cells.length == 2 && cells[1].endsWith(".") && !cells[1].endsWith(",."), lines.get(i));
        }
        assertEquals(r.out(), Cli.run("--help").out(), "plain ebm is ebm --help");
    }

    @Test
    void subcommandListsAreFullSentencesToo() {
        for (String[] args : new String[][] {{"bench"}, {"bench", "--help"}, {"sweep", "--help"}}) {
            Cli r = Cli.run(args);
            assertEquals(0, r.exitCode());
            List<String> lines = commandLines(r.out());
            assertFalse(lines.isEmpty());
            for (String l : lines) assertTrue(l.strip().endsWith(".") && !l.contains(",."), l);
        }
        assertEquals(3, commandLines(Cli.run("bench").out()).size());
    }

    private Path trainTiny() throws IOException {
        Path config = TestFiles.yaml(tmp, "c", """
                data: {name: two-peaks, n_train: 200, n_val: 50}
                model: {hidden: [8]}
                train: {steps: 4, stop_after: 2, batch_size: 16, eval_every: 2, checkpoint_every: 2}
                """);
        Path dir = tmp.resolve("run");
        Cli r = Cli.run("train", config.toString(), "--out", dir.toString());
        assertEquals(0, r.exitCode(), r.err());
        return dir;
    }

    @Test
    void evalAndDataWriteCsvForACsvNameNpyForANpyNameAndRefuseTheRest() throws IOException {
        Path npy = tmp.resolve("moons.npy");
        Path csv = tmp.resolve("moons.csv");
        assertEquals(0, Cli.run("data", "moons", "--n", "7", "--out", npy.toString()).exitCode());
        assertEquals(0, Cli.run("data", "moons", "--n", "7", "--out", csv.toString()).exitCode());
        Npy.Matrix fromNpy = Npy.read(npy);
        Csv.Table table = Csv.readTable(csv);
        assertEquals(List.of("x1", "x2"), table.header());
        assertArrayEquals(fromNpy.data(), table.matrix().data(), "CSV holds the same doubles, exactly");
        assertTrue(Files.readString(csv).startsWith("x1,x2\n"));

        Path dir = trainTiny();
        Path ckpt = dir.resolve("checkpoint.safetensors");
        Path evNpy = tmp.resolve("values.npy");
        Path evCsv = tmp.resolve("values.csv");
        assertEquals(0, Cli.run("eval", "--checkpoint", ckpt.toString(), "--data", npy.toString(), "--out", evNpy.toString()).exitCode());
        assertEquals(0, Cli.run("eval", "--checkpoint", ckpt.toString(), "--data", npy.toString(), "--out", evCsv.toString()).exitCode());
        Csv.Table values = Csv.readTable(evCsv);
        assertEquals(List.of("E", "laplacian", "grad_1", "grad_2", "hess_diag_1", "hess_diag_2"), values.header());
        assertArrayEquals(Npy.read(evNpy).data(), values.matrix().data());

        for (String[] args : new String[][] {
                {"data", "moons", "--out", tmp.resolve("moons.txt").toString()},
                {"data", "moons", "--out", tmp.resolve("moons").toString()},
                {"eval", "--checkpoint", ckpt.toString(), "--data", npy.toString(), "--out", tmp.resolve("v.bin").toString()}}) {
            Cli r = Cli.run(args);
            assertEquals(2, r.exitCode());
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertTrue(r.err().contains(".npy") && r.err().contains(".csv"), r.err());
            assertFalse(Files.exists(Path.of(args[args.length - 1])));
        }
    }

    @Test
    void npyAndCsvOutputsHaveTheModeOfAnyNewFile() throws IOException {
        if (!tmp.getFileSystem().supportedFileAttributeViews().contains("posix")) return;
        Path plain = Files.createFile(tmp.resolve("plain"));
        Set<PosixFilePermission> expected = Files.getPosixFilePermissions(plain); // what the umask gives
        Path npy = tmp.resolve("a.npy");
        Path csv = tmp.resolve("a.csv");
        Npy.write(npy, 1, 2, new double[] {1, 2});
        Csv.write(csv, List.of("a", "b"), 1, 2, new double[] {1, 2});
        assertEquals(expected, Files.getPosixFilePermissions(npy));
        assertEquals(expected, Files.getPosixFilePermissions(csv));
        try (var s = Files.list(tmp)) {
            assertEquals(List.of(), s.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList(), "no temporaries left");
        }
    }

    @Test
    void aRunsConfigSaysFp64LoadsWithoutWarningsAndAnOldFp32OneResumes() throws IOException {
        Path dir = trainTiny();
        Path saved = dir.resolve("config.yaml");
        String yaml = Files.readString(saved);
        assertTrue(yaml.contains("precision: fp64"), yaml);
        RunConfig c = ConfigLoader.load(saved, List.of());
        assertEquals(List.of(), ConfigLoader.unusedKeyWarnings(c));

        // an earlier version wrote fp32 for a cpu run: it still loads as the same config and resumes
        Files.writeString(saved, yaml.replace("precision: fp64", "precision: fp32").replace("stop_after: 2", "stop_after: null"));
        assertEquals("fp64", ConfigLoader.load(saved, List.of()).precision());
        Cli r = Cli.run("train", "--resume", dir.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("resuming"), r.out());
        assertFalse(r.err().contains("WARN"), r.err());
    }
}
