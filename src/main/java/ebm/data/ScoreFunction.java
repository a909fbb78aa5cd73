package ebm.data;

/** A vector field on R^D evaluated one point at a time: out[outOff .. outOff+D) = s(x[off .. off+D)). */
@FunctionalInterface
public interface ScoreFunction {
    void score(double[] x, int off, double[] out, int outOff);
}
