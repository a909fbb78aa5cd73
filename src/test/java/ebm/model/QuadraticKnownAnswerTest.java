package ebm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.TestNets;
import ebm.objective.ExactObjective;
import ebm.tape.Tape;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.junit.jupiter.api.Test;

/** Known answers of the quadratic energy through the same objective code the MLP uses. */
class QuadraticKnownAnswerTest {

    @Test
    void laplacianIsTheTraceOfM() {
        Quadratic q = new Quadratic(4, 0.1);
        double[] p = TestNets.points(1, q.layout().size(), 1);
        double[] m = q.precision(p);
        double trace = 0;
        for (int i = 0; i < 4; i++) trace += m[i * 4 + i];
        Tape t = new Tape();
        double[] lap = q.bind(t, p).exact(t.constant(TestNets.points(3, 4, 2), 3, 4), TraceAlgorithm.AUTO).laplacian().value;
        System.out.printf("quadratic ΔE %.15f, tr M %.15f%n", lap[0], trace);
        for (double v : lap) assertEquals(trace, v, 1e-12 * trace);
    }

    /** At μ = sample mean, AAᵀ + δI = S⁻¹ (S the 1/N covariance), the exact SM gradient vanishes. */
    @Test
    void exactScoreMatchingIsStationaryAtTheSamplePrecision() {
        int d = 3, n = 200;
        double delta = 1e-3;
        double[] x = TestNets.points(n, d, 5);
        for (int i = 0; i < n; i++) x[i * d + 1] += 0.8 * x[i * d] + 2.0; // correlated, shifted
        double[] mean = new double[d];
        for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) mean[j] += x[i * d + j] / n;
        DMatrixRMaj s = new DMatrixRMaj(d, d);
        for (int i = 0; i < n; i++) {
            for (int a = 0; a < d; a++) {
                for (int b = 0; b < d; b++) s.add(a, b, (x[i * d + a] - mean[a]) * (x[i * d + b] - mean[b]) / n);
            }
        }
        DMatrixRMaj target = s.copy();
        CommonOps_DDRM.invert(target);
        for (int i = 0; i < d; i++) target.add(i, i, -delta);
        var chol = DecompositionFactory_DDRM.chol(d, true);
        assertTrue(chol.decompose(target.copy()));
        DMatrixRMaj a = chol.getT(null);
        Quadratic q = new Quadratic(d, delta);
        double[] p = new double[q.layout().size()];
        System.arraycopy(a.getData(), 0, p, 0, d * d);
        System.arraycopy(mean, 0, p, d * d, d);
        double[] grad = new double[p.length];
        new ExactObjective(TraceAlgorithm.AUTO).evaluate(q, p, x, n, 0, grad);
        double norm = 0;
        for (double g : grad) norm += g * g;
        System.out.printf("exact SM gradient norm at (sample mean, S^-1): %.2e%n", Math.sqrt(norm));
        assertTrue(Math.sqrt(norm) < 1e-10);
    }
}
