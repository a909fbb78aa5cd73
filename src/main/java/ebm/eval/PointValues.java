package ebm.eval;

import ebm.data.PointChunk;
import ebm.model.BoundEnergy;
import ebm.model.EnergyModel;
import ebm.model.TraceAlgorithm;
import ebm.tape.Node;
import ebm.tape.Tape;

/**
 * Per-point values of an energy, as `ebm eval` writes them: row i is [E, ΔE, ∂E/∂x_1..∂E/∂x_D,
 * ∂²E/∂x_1²..∂²E/∂x_D²] (width 2 + 2D). ΔE comes from the exact trace (the cheaper algorithm for the shapes), the
 * diagonal from per-dimension propagation; points go through in chunks so memory stays bounded.
 */
public final class PointValues {
    private static final int CHUNK = 256;

    private PointValues() {}

    public static int width(int dim) {
        return 2 + 2 * dim;
    }

    public static double[] compute(EnergyModel model, double[] params, double[] points, int n) {
        int d = model.dim();
        int w = width(d);
        double[] out = new double[n * w];
        for (PointChunk c : PointChunk.split(points, n, d, CHUNK)) {
            int start = c.start(), rows = c.rows();
            Tape tape = new Tape();
            BoundEnergy<Node> e = model.bind(tape, params);
            Node x = tape.constant(c.points(), rows, d);
            double[] energy = e.energy(x).value;
            double[] laplacian = e.exact(x, TraceAlgorithm.AUTO).laplacian().value;
            double[] grad = e.gradX(x).value;
            double[] diag = ((Node) e.hessianDiagonal(x)).value;
            for (int i = 0; i < rows; i++) {
                int row = (start + i) * w;
                out[row] = energy[i];
                out[row + 1] = laplacian[i];
                System.arraycopy(grad, i * d, out, row + 2, d);
                System.arraycopy(diag, i * d, out, row + 2 + d, d);
            }
        }
        return out;
    }
}
