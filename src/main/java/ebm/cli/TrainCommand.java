package ebm.cli;

import ebm.EbmException;
import ebm.config.ConfigLoader;
import ebm.config.RunConfig;
import ebm.train.Trainer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Train an energy by score matching.",
                "  ebm train CONFIG.yaml [--out DIR] [--set key=value ...]",
                "  ebm train --resume DIR [--steps N]"})
final class TrainCommand implements Callable<Integer> {
    @Parameters(arity = "0..1", paramLabel = "CONFIG", description = "A run config (YAML), e.g. configs/quickstart.yaml.")
    Path config;

    @Option(names = "--out", paramLabel = "DIR", description = "Run folder (default: runs/<config name>).")
    Path out;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override a config key, value in YAML syntax "
            + "(e.g. --set optimizer.lr=3e-4 --set model.hidden=[128,128]). Repeatable.")
    List<String> overrides = new ArrayList<>();

    @Option(names = "--resume", paramLabel = "DIR", description = "Continue the run in DIR from its last checkpoint to train.steps.")
    Path resume;

    @Option(names = "--steps", paramLabel = "N", description = "With --resume: continue a run past its train.steps, to N "
            + "(config.yaml records N); the learning-rate schedule keeps its recorded horizon (train.schedule_steps).")
    Integer steps;

    @Override
    public Integer call() {
        if (resume != null) {
            if (config != null || !overrides.isEmpty() || out != null) {
                throw new EbmException("--resume DIR takes no CONFIG, --out or --set: the run continues with its saved config");
            }
            Trainer.resume(resume, steps, System.out);
            return 0;
        }
        if (steps != null) throw new EbmException("--steps N goes with --resume DIR; for a new run set train.steps (--set train.steps=N)");
        if (config == null) throw new EbmException("give a CONFIG file (e.g. configs/quickstart.yaml) or --resume DIR");
        RunConfig rc = ConfigLoader.load(config, overrides);
        ConfigLoader.warnUnusedKeys(rc);
        Path dir = out != null ? out : Path.of("runs", config.getFileName().toString().replaceFirst("\\.ya?ml$", ""));
        Trainer.start(rc, dir, System.out);
        return 0;
    }
}
