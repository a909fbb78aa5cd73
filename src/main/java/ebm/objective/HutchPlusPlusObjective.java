package ebm.objective;

import ebm.model.BoundEnergy;
import ebm.model.EnergyModel;
import ebm.tape.Node;
import ebm.tape.Ops;
import ebm.tape.Tape;
import ebm.tape.Tensor;

/**
 * Hutch++ (Meyer, Musco, Musco, Woodruff 2021) for ΔE inside J = mean[−ΔE_est + ½‖∇ₓE‖²]. Per sample and K probes:
 * s = ⌊K/3⌋ sketch vectors S give Y = ∇²E·S (Hessian-vector products); Q = orth(Y), treated as a constant so
 * the estimate stays unbiased; tr(Qᵀ∇²E Q) is taken exactly and the complement by Hutchinson with the remaining
 * g = K − 2s probes projected by (I − QQᵀ). With K < 3 it is plain Hutchinson.
 */
public record HutchPlusPlusObjective(int probes, ProbeDistribution distribution, long seed) implements Objective {
    /** Its sketch and its remaining probes, K directions per sample in all. */
    @Override
    public int directionsPerSample(int dim, int firstWidth) {
        return probes;
    }


    public HutchPlusPlusObjective {
        LossInputs.requireProbes(probes);
    }

    @Override
    public String name() {
        return "hutch++";
    }

    @Override
    public <T extends Tensor> LossInputs<T> inputs(Ops<T> ops, Draws<T> draws, BoundEnergy<T> frozen, T x) {
        int batch = x.rows(), sketch = sketchVectors(x.cols()), rest = restProbes(), perSample = sketch + rest;
        T probes = draws.probes(distribution, batch * perSample, x.cols());
        T hvp = sketch > 0 ? hessianTimesSketch(ops, frozen, x, probes, sketch, perSample) : null;
        return new LossInputs<>(x, ops.hutchPlusPlusDirections(hvp, probes, batch, sketch, rest), perSample, null);
    }

    /** Y = ∇²E·S [B·s x D] by Hessian-vector products: the x-gradient of vᵀ∇E(x), x copied once per sketch vector. */
    private static <T extends Tensor> T hessianTimesSketch(Ops<T> ops, BoundEnergy<T> frozen, T x, T probes, int sketch,
                                                           int perSample) {
        Ops.SketchInputs<T> s = ops.hutchPlusPlusSketch(x, probes, sketch, perSample);
        T xs = ops.inputVariable(s.repeatedX());
        ops.backward(ops.sum(frozen.directionalDerivatives(xs, s.vectors(), 1)));
        return ops.adjoint(xs);
    }

    @Override
    public <T extends Tensor> T losses(Ops<T> ops, BoundEnergy<T> energy, LossInputs<T> in) {
        // the directions carry Q (weight 1) and the projected probes scaled by 1/√g: their sum is the trace estimate
        T trace = energy.alongDirections(in.x(), in.directions(), in.directionsPerSample()).secondDerivativeSum();
        return ops.combine(trace, ops.rowSumSquares(energy.gradX(in.x())), -1, 0.5);
    }

    /** Sketch vectors per sample in dimension d: a third of the probes, at most d. */
    public int sketchVectors(int d) {
        return Math.min(probes / 3, d);
    }

    /** Hutchinson probes per sample on the complement: the probes not spent on the sketch (twice its third). */
    public int restProbes() {
        return probes - 2 * (probes / 3);
    }

    /** The directions of step `step` on the CPU, fp64: s basis vectors (weight 1), then g projected probes scaled by 1/√g. */
    Directions directions(EnergyModel model, double[] params, double[] x, int batch, long step) {
        Tape tape = new Tape();
        LossInputs<Node> in = inputs(tape, new TapeDraws(tape, seed, step), model.bind(tape, params),
                tape.constant(x, batch, model.dim()));
        return new Directions(in.directions().value, in.directionsPerSample());
    }

    record Directions(double[] values, int perSample) {}

    /** The loss with the directions held fixed (Q is a constant for the gradient). */
    double lossAlong(EnergyModel model, double[] params, double[] x, int batch, Directions dirs, double[] grad) {
        Tape tape = new Tape();
        LossInputs<Node> in = new LossInputs<>(tape.constant(x, batch, model.dim()),
                tape.constant(dirs.values(), batch * dirs.perSample(), model.dim()), dirs.perSample(), null);
        return Losses.meanOver(this, model, params, in, batch, grad).loss();
    }

    /**
     * The sketch Y = ∇²E(x_b)·S_b at this step on the CPU in fp64, rows b·s + k (k &lt; s = {@link #sketchVectors}) of
     * [batch·s x D]: what the basis Q_b must span (the parity checks measure the device's Q against it). Empty when s = 0.
     */
    public double[] sketchProducts(EnergyModel model, double[] params, double[] x, int batch, long step) {
        int d = model.dim(), sketch = sketchVectors(d), perSample = sketch + restProbes();
        if (sketch == 0) return new double[0];
        Tape tape = new Tape();
        Node probes = new TapeDraws(tape, seed, step).probes(distribution, batch * perSample, d);
        return hessianTimesSketch(tape, model.bind(tape, params), tape.constant(x, batch, d), probes, sketch, perSample).value;
    }
}
