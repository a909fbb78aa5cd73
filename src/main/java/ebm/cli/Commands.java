package ebm.cli;

import java.util.List;

/** The subcommands of `ebm`, in the order `ebm --help` lists them. */
final class Commands {
    private Commands() {}

    static List<Object> all() {
        return List.of(new TrainCommand(), new SampleCommand(), new EvalCommand(), new DataCommand(), new BenchCommand(),
                new SweepCommand(), new ValidateCommand(), new InfoCommand());
    }
}
