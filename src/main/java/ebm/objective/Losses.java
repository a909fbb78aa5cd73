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

    /** The rows of each chunk of a gradient evaluation of this batch (one micro-batch), in order. */
    static int[] gradientChunkRows(int batch) {
        int[][] chunks = chunks(0, batch, Objective.noiseSplitRows(batch), chunkRows(batch));
        int[] rows = new int[chunks.length];
        for (int c = 0; c < rows.length; c++) rows[c] = chunks[c][1] - chunks[c][0];
        return rows;
    }

    static Objective.Result mean(Objective objective, EnergyModel model, double[] params, double[] x, int batch, long step,
                                 double[] grad, int microBatches) {
        Tape tape = new Tape();
        LossInputs<Node> in = objective.inputs(tape, new TapeDraws(tape, objective.seed(), step), model.bind(tape, params),
                tape.constant(x, batch, model.dim()));
        return meanOver(objective, model, params, in, batch, grad, microBatches);
    }

    /** The mean over inputs already drawn (Hutch++'s gradient check holds its directions fixed this way). */
    static Objective.Result meanOver(Objective objective, EnergyModel model, double[] params, LossInputs<Node> in, int batch,
                                     double[] grad) {
        return meanOver(objective, model, params, in, batch, grad, 1);
    }

    /**
     * The mean over microBatches consecutive slices of batch / microBatches rows (gradient accumulation): each slice is
     * chunked as a batch of its own size and its chunks' gradients are added into grad before the next slice runs, so
     * at most one slice's chunk tapes and gradient buffers are alive at once. The sums run in the same order over the
     * same rows as one batch, only the chunk boundaries differ, so the result is the full batch's to rounding. The
     * inputs (probes, noise) are the full batch's draws, and the gradient-noise split stays the batch's ⌈B/2⌉.
     */
    static Objective.Result meanOver(Objective objective, EnergyModel model, double[] params, LossInputs<Node> in, int batch,
                                     double[] grad, int microBatches) {
        if (microBatches < 1 || batch % microBatches != 0) {
            throw new IllegalArgumentException("batch " + batch + " is not a multiple of " + microBatches + " micro-batches");
        }
        int micro = batch / microBatches, rows = chunkRows(micro);
        // with a gradient the chunks respect the noise split; a loss alone is chunked from the start
        int rowsA = grad == null ? 0 : Objective.noiseSplitRows(batch), rowsB = batch - rowsA;
        double total = 0;
        double[] sumA = grad == null ? null : new double[grad.length];
        if (grad != null) Arrays.fill(grad, 0.0);
        for (int m = 0; m < microBatches; m++) {
            int[][] chunks = chunks(m * micro, (m + 1) * micro, rowsA, rows);
            double[] sums = new double[chunks.length];
            double[][] grads = new double[chunks.length][];
            CpuThreads.forEachChunk(chunks.length, c -> {
                int from = chunks[c][0], to = chunks[c][1];
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
            for (int c = 0; c < chunks.length; c++) {
                total += sums[c];
                if (grad == null) continue;
                double[] g = grads[c];
                for (int i = 0; i < g.length; i++) grad[i] += g[i];
                if (chunks[c][1] == rowsA) System.arraycopy(grad, 0, sumA, 0, grad.length);
            }
        }
        if (grad == null) return new Objective.Result(total / batch, null);
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

    /** Chunks {from, to} of at most `rows` rows over [start, end), cut at split when it falls inside. */
    private static int[][] chunks(int start, int end, int split, int rows) {
        java.util.List<int[]> out = new java.util.ArrayList<>();
        int[] bounds = split > start && split < end ? new int[] {start, split, end} : new int[] {start, end};
        for (int p = 0; p + 1 < bounds.length; p++) {
            for (int from = bounds[p]; from < bounds[p + 1]; from += rows) out.add(new int[] {from, Math.min(bounds[p + 1], from + rows)});
        }
        return out.toArray(new int[0][]);
    }
}
