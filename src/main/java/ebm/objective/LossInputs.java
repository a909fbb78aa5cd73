package ebm.objective;

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

    /** Samples [from, from + count) of every part, as constants on ops' tape. */
    public LossInputs<T> rows(Ops<T> ops, int from, int count) {
        return new LossInputs<>(ops.rows(x, from, count),
                directions == null ? null : ops.rows(directions, from * directionsPerSample, count * directionsPerSample),
                directionsPerSample, target == null ? null : ops.rows(target, from, count));
    }
}
