package ebm.data;

import ebm.rng.RandomStream;

/** Reads a stream's Gaussian elements in order 0, 1, 2, ...; used to draw the parameters of random densities. */
final class SequentialDraws {
    private final RandomStream rng;
    private long next;

    SequentialDraws(RandomStream rng) {
        this.rng = rng;
    }

    double gaussian() {
        return rng.gaussian(next++);
    }
}
