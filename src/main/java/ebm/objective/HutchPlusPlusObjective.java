package ebm.objective;

import ebm.EbmException;
import ebm.model.BoundEnergy;
import ebm.model.EnergyModel;
import ebm.rng.Streams;
import ebm.tape.Node;
import ebm.tape.Tape;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.QRDecomposition;

/**
 * Hutch++ (Meyer, Musco, Musco, Woodruff 2021) for ΔE inside J = mean[−ΔE_est + ½‖∇ₓE‖²]. Per sample and K probes:
 * s = ⌊K/3⌋ sketch vectors S give Y = ∇²E·S (Hessian-vector products); Q = orth(Y), treated as a constant so
 * the estimate stays unbiased; tr(Qᵀ∇²E Q) is taken exactly and the complement by Hutchinson with the remaining
 * g = K − 2s probes projected by (I − QQᵀ). With K < 3 it is plain Hutchinson.
 */
public record HutchPlusPlusObjective(int probes, ProbeDistribution distribution, long seed) implements Objective {

    public HutchPlusPlusObjective {
        if (probes < 1) throw new EbmException("objective.probes must be >= 1, got " + probes);
    }

    @Override
    public String name() {
        return "hutch++";
    }

    @Override
    public Objective.Result run(EnergyModel model, double[] params, double[] x, int batch, long step, double[] grad) {
        return along(model, params, x, batch, directions(model, params, x, batch, step), grad);
    }

    /** Directions per sample: s basis vectors (weight 1), then g projected probes scaled by 1/sqrt(g). */
    Directions directions(EnergyModel model, double[] params, double[] x, int batch, long step) {
        int d = model.dim();
        int sketch = sketchVectors(d);
        int rest = restProbes();
        double[] draws = distribution.draw(seed, step, Streams.PROBES, batch * (sketch + rest) * d);
        int perSample = sketch + rest;
        double[] directions = new double[batch * perSample * d];
        double[] basis = sketch > 0 ? sketchBasis(model, params, x, batch, draws, sketch, rest) : null;
        double restScale = 1.0 / Math.sqrt(rest);
        for (int b = 0; b < batch; b++) {
            int out = b * perSample * d;
            if (sketch > 0) System.arraycopy(basis, b * sketch * d, directions, out, sketch * d);
            for (int k = 0; k < rest; k++) {
                int src = (b * perSample + sketch + k) * d;
                int dst = out + (sketch + k) * d;
                System.arraycopy(draws, src, directions, dst, d);
                if (sketch > 0) projectOut(basis, b * sketch * d, sketch, d, directions, dst);
                for (int j = 0; j < d; j++) directions[dst + j] *= restScale;
            }
        }
        return new Directions(directions, perSample);
    }

    record Directions(double[] values, int perSample) {}

    /** Sketch vectors per sample in dimension d: a third of the probes, at most d. */
    public int sketchVectors(int d) {
        return Math.min(probes / 3, d);
    }

    /** Hutchinson probes per sample on the complement: the probes not spent on the sketch (twice its third). */
    public int restProbes() {
        return probes - 2 * (probes / 3);
    }

    /** The loss with the directions held fixed (Q is a constant for the gradient). */
    double lossAlong(EnergyModel model, double[] params, double[] x, int batch, Directions dirs, double[] grad) {
        return along(model, params, x, batch, dirs, grad).loss();
    }

    private Objective.Result along(EnergyModel model, double[] params, double[] x, int batch, Directions dirs, double[] grad) {
        int d = model.dim(), r = dirs.perSample();
        return Losses.mean(model, params, batch, grad, (tape, energy, from, to) -> {
            Node xs = tape.constant(Losses.rows(x, d, from, to), to - from, d);
            Node vs = tape.constant(Losses.rows(dirs.values(), r * d, from, to), (to - from) * r, d);
            Node trace = energy.alongDirections(xs, vs, r).secondDerivativeSum();
            return tape.combine(trace, tape.rowSumSquares(energy.gradX(xs)), -1, 0.5);
        });
    }

    /**
     * The sketch Y = ∇²E(x_b)·S_b at this step, rows b·s + k (k &lt; s = {@link #sketchVectors}) of [batch·s x D]: what
     * the basis Q_b must span (the parity checks measure the device's Q against it). Empty when s = 0.
     */
    public double[] sketchProducts(EnergyModel model, double[] params, double[] x, int batch, long step) {
        int d = model.dim(), sketch = sketchVectors(d);
        if (sketch == 0) return new double[0];
        double[] draws = distribution.draw(seed, step, Streams.PROBES, batch * (sketch + restProbes()) * d);
        return hessianTimesSketch(model, params, x, batch, draws, sketch, restProbes());
    }

    /** Hessian-vector products: the x-gradient of vᵀ∇E(x), with x copied once per sketch vector. */
    private static double[] hessianTimesSketch(EnergyModel model, double[] params, double[] x, int batch, double[] draws,
                                               int sketch, int rest) {
        int d = model.dim();
        int perSample = sketch + rest;
        double[] s = new double[batch * sketch * d];
        for (int b = 0; b < batch; b++) {
            System.arraycopy(draws, b * perSample * d, s, b * sketch * d, sketch * d);
        }
        Tape tape = new Tape();
        BoundEnergy energy = model.bind(tape, params, false);
        Node xs = tape.variable(repeatRows(x, batch, d, sketch), batch * sketch, d);
        Node first = energy.alongDirections(xs, tape.constant(s, batch * sketch, d), 1).firstDerivatives();
        tape.backward(tape.sum(first));
        return xs.grad();
    }

    /** Orthonormal bases Q_b [sketch x D] (rows) of ∇²E(x_b)·S_b, from the first `sketch` draws of each sample. */
    private static double[] sketchBasis(EnergyModel model, double[] params, double[] x, int batch, double[] draws,
                                        int sketch, int rest) {
        int d = model.dim();
        double[] hs = hessianTimesSketch(model, params, x, batch, draws, sketch, rest);
        double[] basis = new double[batch * sketch * d];
        for (int b = 0; b < batch; b++) {
            DMatrixRMaj y = new DMatrixRMaj(d, sketch);
            for (int k = 0; k < sketch; k++) for (int j = 0; j < d; j++) y.unsafe_set(j, k, hs[(b * sketch + k) * d + j]);
            QRDecomposition<DMatrixRMaj> qr = DecompositionFactory_DDRM.qr(d, sketch);
            // false only when a column is exactly dependent on the ones before it (two equal or opposite Rademacher
            // sketch vectors, frequent in low D): its reflector is then the identity, so Q is still orthonormal, fixed
            // by S alone, and the estimate unbiased. The device's QR (kernels/hutchpp.cu) makes the same choice.
            qr.decompose(y);
            DMatrixRMaj q = qr.getQ(null, true);
            for (int k = 0; k < sketch; k++) for (int j = 0; j < d; j++) basis[(b * sketch + k) * d + j] = q.unsafe_get(j, k);
        }
        return basis;
    }

    private static double[] repeatRows(double[] x, int batch, int d, int times) {
        double[] out = new double[batch * times * d];
        for (int b = 0; b < batch; b++) for (int k = 0; k < times; k++) System.arraycopy(x, b * d, out, (b * times + k) * d, d);
        return out;
    }

    /** v ← v − Q Qᵀ v for the rows of Q stored at basis[off ..]. */
    private static void projectOut(double[] basis, int off, int rows, int d, double[] v, int vOff) {
        for (int k = 0; k < rows; k++) {
            double dot = 0;
            for (int j = 0; j < d; j++) dot += basis[off + k * d + j] * v[vOff + j];
            for (int j = 0; j < d; j++) v[vOff + j] -= dot * basis[off + k * d + j];
        }
    }
}
