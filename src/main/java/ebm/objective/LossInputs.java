package ebm.objective;

import ebm.EbmException;
import ebm.tape.Ops;
import ebm.tape.Tensor;

/**
 * What an objective's per-sample loss reads, for the whole batch: the points it evaluates the energy at (x, or x̃ for
 * denoising), the per-sample directions (probes, or Hutch++'s basis and projected probes; null when none) and the
 * denoising target (null when none).
 */
public record LossInputs<T extends Tensor>(T x, T directions, int directionsPerSample, T target) {

    public static <T extends Tensor> LossInputs<T> points(T x) {
        return new LossInputs<>(x, null, 0, null);
    }

    /** x with `probes` probe vectors per sample from the step's draws (Hutchinson's and sliced SM's inputs). */
    public static <T extends Tensor> LossInputs<T> probed(Draws<T> draws, ProbeDistribution distribution, T x, int probes) {
        return new LossInputs<>(x, draws.probes(distribution, x.rows() * probes, x.cols()), probes, null);
    }

    /** The objectives' one check of their probe count (a one-line error naming the key). */
    static void requireProbes(int probes) {
        if (probes < 1) throw new EbmException("objective.probes must be >= 1, got " + probes);
    }

    /** The noised batch and its target (the denoising objectives' inputs). */
    public static <T extends Tensor> LossInputs<T> noised(Draws.Noised<T> noised) {
        return new LossInputs<>(noised.noisy(), null, 0, noised.target());
    }

    /** Samples [from, from + count) of every part, as constants on ops' tape. */
    public LossInputs<T> rows(Ops<T> ops, int from, int count) {
        return new LossInputs<>(ops.rows(x, from, count),
                directions == null ? null : ops.rows(directions, from * directionsPerSample, count * directionsPerSample),
                directionsPerSample, target == null ? null : ops.rows(target, from, count));
    }
}
