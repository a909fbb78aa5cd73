package ebm.backend.cuda.parity;

import ebm.backend.cuda.runtime.Blas;
import ebm.backend.cuda.runtime.KernelLauncher;
import java.util.SplittableRandom;

/** What a family of parity checks runs on: the launcher, its BLAS, and the random inputs drawn from the check's seed. */
abstract class DeviceChecks {
    protected final KernelLauncher launcher;
    protected final Blas blas;
    /** Fresh inputs of every check, in the order the checks run: one seed replays them all. */
    protected final SplittableRandom random;

    DeviceChecks(KernelLauncher launcher, Blas blas, long seed) {
        this.launcher = launcher;
        this.blas = blas;
        this.random = new SplittableRandom(seed);
    }
}
