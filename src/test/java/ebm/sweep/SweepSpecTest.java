package ebm.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.TestFiles;
import ebm.cli.Cli;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Sweep files: grid order and run names, variants, logspace, and one-line errors that name the key. */
class SweepSpecTest {
    @TempDir
    Path tmp;

    private Path sweep(String yaml) throws IOException {
        return TestFiles.yaml(tmp, "s", yaml);
    }

    @Test
    void theSmokeSweepExpandsInAFixedOrderWithReadableNames() {
        SweepSpec spec = SweepSpec.load(Path.of("configs/sweeps/smoke.yaml"));
        List<String> names = spec.points().stream().map(SweepSpec.Point::name).toList();
        System.out.println("smoke sweep points: " + names);
        assertEquals(20, names.size());
        assertEquals("exact_sgd_lr0.03_seed0", names.get(0));
        assertEquals("exact_nesterov_lr0.01_seed0", names.get(2));
        assertEquals("denoising_muon_lr0.05_seed0", names.get(19));
        SweepSpec.Point nesterov = spec.points().get(2);
        assertEquals("sgd", nesterov.config().optimizer().name());
        assertEquals(0.9, nesterov.config().optimizer().momentum());
        assertTrue(nesterov.config().optimizer().nesterov());
        SweepSpec.Point muon = spec.points().get(8);
        assertEquals("muon", muon.config().optimizer().name());
        assertEquals(0.003, muon.config().optimizer().adamLr());
        for (int i = 0; i < names.size(); i++) assertEquals(i, spec.points().get(i).index());
        assertEquals(names, SweepSpec.load(Path.of("configs/sweeps/smoke.yaml")).points().stream().map(SweepSpec.Point::name).toList());
    }

    @Test
    void defaultsFollowThePointsValuesAndLogspaceGivesRoundNumbers() throws IOException {
        SweepSpec spec = SweepSpec.load(sweep("""
                base: {optimizer: {name: adamw}, model: {hidden: [8]}}
                grid:
                  seed: [3, 4]
                  optimizer.name: [sgd, muon]
                  model.hidden: [[8], [16, 16]]
                  optimizer.momentum: {logspace: [0.1, 0.001, 3]}
                """));
        List<String> names = spec.points().stream().map(SweepSpec.Point::name).toList();
        System.out.println("points: " + names);
        assertEquals(2 * 2 * 3 * 2, names.size());
        assertEquals("sgd_hidden8_momentum0.1_seed3", names.get(0));
        assertEquals("sgd_hidden8_momentum0.1_seed4", names.get(1));
        assertEquals("sgd_hidden8_momentum0.01_seed3", names.get(2));
        assertEquals("muon_hidden16x16_momentum0.001_seed4", names.getLast());
        // optimizer.lr was never set: each point gets its optimizer's own default, not the base's resolved one.
        assertEquals(0.01, spec.points().get(0).config().optimizer().lr());
        assertEquals(0.02, spec.points().getLast().config().optimizer().lr());
        assertEquals(List.of(16, 16), spec.points().getLast().config().model().hidden());
    }

    @Test
    void baseMayBeAConfigFileBesideTheSweep() throws IOException {
        Files.writeString(tmp.resolve("run.yaml"), "model: {hidden: [12]}\ntrain: {steps: 7}\n");
        SweepSpec spec = SweepSpec.load(sweep("base: run.yaml\ngrid: {optimizer.lr: [0.1, 0.2]}\n"));
        assertEquals(List.of("lr0.1", "lr0.2"), spec.points().stream().map(SweepSpec.Point::name).toList());
        assertEquals(7, spec.points().get(1).config().train().steps());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "unknown top-level key | base: {}\\ngird: {seed: [0]} | 'gird'",
            "no base | grid: {seed: [0]} | 'base:'",
            "unknown grid key | base: {}\\ngrid: {optimizer.lrr: [0.1]} | optimizer.lrr",
            "unknown grid section | base: {}\\ngrid: {optimiser.lr: [0.1]} | optimiser",
            "bad grid value | base: {}\\ngrid: {optimizer.lr: [0.1, -1]} | optimizer.lr",
            "wrong value type | base: {}\\ngrid: {train.steps: [ten]} | train.steps",
            "empty grid list | base: {}\\ngrid: {optimizer.lr: []} | optimizer.lr",
            "grid value not a list | base: {}\\ngrid: {optimizer.lr: 0.1} | optimizer.lr",
            "repeated value | base: {}\\ngrid: {seed: [1, 1]} | seed",
            "key under a value | base: {}\\ngrid: {seed.x: [1]} | seed.x",
            "unknown key in a variant | base: {}\\nvariants: {a: {optimizer.nam: sgd}} | optimizer.nam",
            "bad value in a variant | base: {}\\nvariants: {a: {optimizer.name: sgd, optimizer.nesterov: true}} | optimizer.nesterov",
            "key in grid and variant | base: {}\\ngrid: {optimizer.lr: [0.1]}\\nvariants: {a: {optimizer.lr: [0.2]}} | optimizer.lr",
            "bad variant name | base: {}\\nvariants: {'a b': {optimizer.name: sgd}} | 'a b'",
            "bad logspace | base: {}\\ngrid: {optimizer.lr: {logspace: [0.1, 1]}} | optimizer.lr",
            "bad base value | base: {optimizer: {lr: -2}}\\ngrid: {seed: [0]} | optimizer.lr",
    })
    void badSweepFilesAreOneLineErrorsNamingTheKeyAndRunNothing(String what, String yaml, String named) throws IOException {
        Path f = sweep(yaml.replace("\\n", "\n"));
        Path out = tmp.resolve("out-" + what.replace(' ', '-'));
        Cli r = Cli.run("sweep", f.toString(), "--out", out.toString());
        String err = r.err().strip();
        System.out.println(what + " -> " + err);
        assertEquals(2, r.exitCode());
        assertFalse(err.contains("\n"), "one line");
        assertTrue(err.contains(named), "names " + named);
        assertFalse(Files.exists(out), "nothing ran");
    }

    @Test
    void badOptionsAreOneLineErrors() throws IOException {
        Path f = sweep("base: {}\ngrid: {seed: [0]}\n");
        for (String[] args : new String[][] {{"--shard", "3/2"}, {"--shard", "x"}, {"--parallel", "0"}}) {
            Cli r = Cli.run("sweep", f.toString(), "--out", tmp.resolve("o").toString(), args[0], args[1]);
            assertEquals(2, r.exitCode());
            assertTrue(r.err().contains(args[0]), r.err());
        }
        Cli r = Cli.run("sweep", "report", tmp.resolve("nothing").toString());
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("runs/"), r.err());
    }

    /** Every shipped sweep file loads (every point a valid run config) and has the run count its header states. */
    @Test
    void everyShippedSweepLoadsWithTheRunCountItsHeaderStates() throws IOException {
        java.util.regex.Pattern stated = java.util.regex.Pattern.compile("= (\\d+) runs");
        try (java.util.stream.Stream<Path> files = Files.list(Path.of("configs/sweeps"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
                SweepSpec spec = SweepSpec.load(f);
                java.util.regex.Matcher m = stated.matcher(Files.readString(f).replace("\n#", ""));
                if (m.find()) assertEquals(Integer.parseInt(m.group(1)), spec.points().size(), f + ": header's run count");
                System.out.println(f + ": " + spec.points().size() + " runs" + (m.find(0) ? " (as its header says)" : ""));
            }
        }
    }
}
