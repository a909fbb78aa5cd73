package ebm.optim;

/**
 * One optimizer's settings, typed: what the config's optimizer.* section parses into once
 * (OptimizerConfig.spec() in the config layer), and what both backends build their optimizer from (the CPU through
 * {@link Optimizers#create}, the CUDA step through its device twin). Sealed, so a switch over it names every
 * optimizer and a new one fails to compile until each backend handles it.
 */
public sealed interface OptimizerSpec permits SgdOptions, AdamWOptions, MuonOptions, ShampooOptions {
    /** The base learning rate (optimizer.lr), before the schedule's factor. */
    double lr();
}
