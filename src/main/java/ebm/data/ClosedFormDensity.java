package ebm.data;

/**
 * A density whose log-density, score and noised density are all closed-form (the Gaussians, their mixtures and
 * rings), so that it must implement each of them instead of inheriting the "no closed form" defaults.
 */
interface ClosedFormDensity extends Density {
    @Override
    default boolean knownScore() {
        return true;
    }

    @Override
    default boolean knownNoisedScore() {
        return true;
    }

    @Override
    double logDensity(double[] x, int off);

    @Override
    void score(double[] x, int off, double[] out, int outOff);

    @Override
    Density noised(double sigma);
}
