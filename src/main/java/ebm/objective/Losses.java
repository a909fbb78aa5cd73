package ebm.objective;

import ebm.linalg.CpuThreads;
import ebm.model.BoundEnergy;
import ebm.model.EnergyModel;
import ebm.model.TapeParameters;
import ebm.tape.Node;
import ebm.tape.Tape;
import java.util.Arrays;

/**
 * The CPU's way to run an {@link Objective}: the batch mean of its per-sample loss and the parameter gradient,
 * computed over fixed chunks of the batch that run in parallel (both cores on small models, where single products are
 * too small to split) and are reduced in chunk order. Each half of the gradient-noise split is chunked on its own, and
 * the chunking depends only on the batch size, never on the thread count, so results are bitwise the same on any
 * number of threads.
 */
final class Losses {
    /** Rows per chunk at least this, so each chunk's products stay efficient. */
    static final int MIN_CHUNK_ROWS = 128;
    /** At most about this many chunks, bounding the per-chunk gradient buffers. */
    static final int MAX_CHUNKS = 16;

    private Losses() {}

    /** Rows per chunk for this batch: at least two chunks whenever the batch has two samples. */
    private static int chunkRows(int batch) {
        return Math.min(Math.max(MIN_CHUNK_ROWS, (batch + MAX_CHUNKS - 1) / MAX_CHUNKS), Math.max(1, (batch + 1) / 2));
    }

    static Objective.Result mean(Objective objective, EnergyModel model, double[] params, double[] x, int batch, long step,
                                 double[] grad) {
        Tape tape = new Tape();
        LossInputs<Node> in = objective.inputs(tape, new TapeDraws(tape, objective.seed(), step), model.bind(tape, params),
                tape.constant(x, batch, model.dim()));
        return meanOver(objective, model, params, in, batch, grad);
    }

    /** The mean over inputs already drawn (Hutch++'s gradient check holds its directions fixed this way). */
    static Objective.Result meanOver(Objective objective, EnergyModel model, double[] params, LossInputs<Node> in, int batch,
                                     double[] grad) {
        int rows = chunkRows(batch);
        // with a gradient the chunks respect the noise split; a loss alone is chunked from the start
        int rowsA = grad == null ? 0 : Objective.noiseSplitRows(batch), rowsB = batch - rowsA;
        int chunksA = (rowsA + rows - 1) / rows, chunks = chunksA + (rowsB + rows - 1) / rows;
        double[] sums = new double[chunks];
        double[][] grads = new double[chunks][];
        CpuThreads.forEachChunk(chunks, c -> {
            int from = c < chunksA ? c * rows : rowsA + (c - chunksA) * rows;
            int to = Math.min(c < chunksA ? rowsA : batch, from + rows);
            Tape tape = new Tape();
            TapeParameters parameters = new TapeParameters(tape, params, grad != null);
            BoundEnergy<Node> energy = model.bind(tape, parameters);
            Node sum = tape.sum(objective.losses(tape, energy, in.rows(tape, from, to - from)));
            sums[c] = sum.scalar();
            if (grad != null) {
                tape.backward(sum);
                grads[c] = new double[grad.length];
                parameters.collect(grads[c]);
            }
        });
        double total = 0;
        for (double s : sums) total += s;
        if (grad == null) return new Objective.Result(total / batch, null);
        double[] sumA = new double[grad.length];
        Arrays.fill(grad, 0.0);
        for (int c = 0; c < chunks; c++) {
            double[] g = grads[c];
            for (int i = 0; i < g.length; i++) grad[i] += g[i];
            if (c == chunksA - 1) System.arraycopy(grad, 0, sumA, 0, grad.length);
        }
        Double noise = null;
        if (rowsA > 0 && rowsB > 0) {
            double diff = 0, norm = 0;
            for (int i = 0; i < grad.length; i++) {
                double a = sumA[i] / rowsA, b = (grad[i] - sumA[i]) / rowsB, g = grad[i] / batch;
                diff += (a - b) * (a - b);
                norm += g * g;
            }
            double traceSigma = diff / (1.0 / rowsA + 1.0 / rowsB);
            noise = norm > 0 ? Math.sqrt(traceSigma / batch / norm) : null;
        }
        for (int i = 0; i < grad.length; i++) grad[i] /= batch;
        return new Objective.Result(total / batch, noise);
    }
}
