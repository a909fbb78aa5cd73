package ebm.cli;

import ebm.EbmException;
import ebm.sweep.SweepReport;
import ebm.sweep.SweepRunner;
import ebm.sweep.SweepSpec;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "sweep", mixinStandardHelpOptions = true,
        description = {"Train a grid of configs as ordinary runs and write a report on them. "
                + "It trains every point of a grid of configs (optimizer x objective x learning rate x seed) as ordinary run "
                + "folders DIR/runs/NAME, then write DIR/results.csv, DIR/report.md and DIR/plots/. Finished runs are skipped "
                + "and unfinished ones resumed, so running it again continues an interrupted sweep.",
                "  ebm sweep SWEEP.yaml [--out DIR] [--parallel N] [--shard i/n]",
                "  ebm sweep report DIR"},
        subcommands = {SweepCommand.Report.class})
final class SweepCommand implements Callable<Integer> {
    @Parameters(arity = "0..1", paramLabel = "SWEEP", description = "A sweep file, e.g. configs/sweeps/smoke.yaml.")
    Path file;

    @Option(names = "--out", paramLabel = "DIR", description = "Sweep folder (default: runs/<sweep file name>).")
    Path out;

    @Option(names = "--parallel", paramLabel = "N", defaultValue = "1",
            description = "Grid points trained at a time, each single-threaded when N > 1 (default ${DEFAULT-VALUE}).")
    int parallel;

    @Option(names = "--shard", paramLabel = "i/n",
            description = "Take only the points whose index %% n == i-1 (i from 1), e.g. one task of a job array.")
    String shard;

    @Override
    public Integer call() {
        if (file == null) throw new EbmException("give a sweep file (e.g. configs/sweeps/smoke.yaml), or `ebm sweep report DIR`");
        SweepRunner.Options options = SweepRunner.Options.of(parallel, shard);
        SweepSpec spec = SweepSpec.load(file);
        Path dir = out != null ? out : Path.of("runs", file.getFileName().toString().replaceFirst("\\.ya?ml$", ""));
        int failed = SweepRunner.run(spec, dir, options, System.out);
        if (failed > 0) {
            throw new EbmException(failed + " run(s) failed for reasons other than divergence (status=failed in "
                    + dir.resolve("results.csv") + "; see each run's train.log); run the sweep again to retry them");
        }
        return 0;
    }

    @Command(name = "report", mixinStandardHelpOptions = true,
            description = "Rebuild DIR/results.csv, report.md and plots/ from the run folders in DIR/runs (e.g. after shards).")
    static final class Report implements Callable<Integer> {
        @Parameters(paramLabel = "DIR", description = "A sweep folder.")
        Path dir;

        @Override
        public Integer call() {
            SweepReport.write(dir, System.out);
            return 0;
        }
    }
}
