package ebm.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.TestNets;
import ebm.model.Mlp;
import ebm.tape.Activation;
import ebm.tape.Tape;
import org.junit.jupiter.api.Test;

/** The exported energy is the trained one seen in original coordinates and at the lowest noise level. */
class ExportTest {
    @Test
    void foldedStandardisationAndNoiseScaleGiveTheSameEnergy() {
        Mlp mlp = new Mlp(TestNets.spec(new int[] {3, 5, 4}, Activation.GELU_TANH));
        double[] p = TestNets.params(mlp, 2);
        double[] mean = {1.5, -2.0, 0.3}, std = {0.5, 3.0, 1.2};
        double scale = 1 / 0.05;
        double[] exported = Export.params(mlp, p, mean, std, scale);
        int n = 6;
        double[] x = TestNets.points(n, 3, 4);
        double[] u = new double[x.length];
        for (int i = 0; i < x.length; i++) u[i] = (x[i] - mean[i % 3]) / std[i % 3];
        Tape t = new Tape();
        double[] direct = mlp.bind(t, p).energy(t.constant(u, n, 3)).value;
        double[] folded = mlp.bind(t, exported).energy(t.constant(x, n, 3)).value;
        for (int i = 0; i < n; i++) direct[i] *= scale;
        double err = TestNets.relativeError(folded, direct);
        System.out.printf("E_export(x) vs E((x−m)/s)/σ_min: rel %.1e (first %.12f vs %.12f)%n", err, folded[0], direct[0]);
        assertTrue(err < 1e-13);
    }
}
