package ebm.tape;

import ebm.linalg.Gemm;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.QRDecomposition;

/**
 * A small reverse-mode tape over the engine's own batched ops (dense products, activation derivatives of each
 * order, elementwise products, grouped sums). Models write their energy, input gradient and second-order
 * direction propagation with these ops; every objective's parameter gradient is then one backward sweep, and
 * double backward (through ∇ₓE or through σ″) comes for free because each activation-derivative op's adjoint is
 * the next derivative. Every op's adjoint is checked by finite differences in the tests.
 *
 * <p>"Grouped" tensors hold r rows per sample: row b*r + k is direction k of sample b.
 */
public final class Tape implements Ops<Node> {
    /** Bytes of values (and adjoints, counted when first touched) recorded on all tapes so far, for benchmarks. */
    private static final java.util.concurrent.atomic.LongAdder BYTES = new java.util.concurrent.atomic.LongAdder();

    private final List<Node> nodes = new ArrayList<>();

    /** Bytes of node values and adjoints allocated by all tapes so far: a step's working set is the difference. */
    public static long bytesAllocated() {
        return BYTES.sum();
    }

    static void countBytes(long bytes) {
        BYTES.add(bytes);
    }

    private Node record(double[] value, int rows, int cols, boolean requiresGrad, Runnable backward) {
        BYTES.add(8L * value.length);
        Node n = new Node(value, rows, cols, requiresGrad);
        if (requiresGrad) n.backward = backward;
        nodes.add(n);
        return n;
    }

    /** A value the loss is not differentiated with respect to. */
    public Node constant(double[] value, int rows, int cols) {
        return record(value, rows, cols, false, null);
    }

    /** A leaf whose adjoint is wanted (parameters, or inputs for Hessian-vector products). */
    public Node variable(double[] value, int rows, int cols) {
        return record(value, rows, cols, true, null);
    }

    @Override
    public void backward(Node loss) {
        Tensor.requireShape(loss.size() == 1, "backward needs a scalar, got " + loss.rows + "x" + loss.cols);
        loss.grad()[0] += 1.0;
        for (int i = nodes.size() - 1; i >= 0; i--) {
            Node n = nodes.get(i);
            if (n.backward != null && n.grad != null) n.backward.run();
        }
    }

    @Override
    public Node rows(Node t, int from, int count) {
        Tensor.requireShape(from >= 0 && count >= 0 && from + count <= t.rows, "rows [" + from + ", " + (from + count) + ") of " + t.rows);
        return constant(Arrays.copyOfRange(t.value, from * t.cols, (from + count) * t.cols), count, t.cols);
    }

    @Override
    public Node full(int rows, int cols, double value) {
        double[] v = new double[rows * cols];
        Arrays.fill(v, value);
        return constant(v, rows, cols);
    }

    @Override
    public Node inputVariable(Node t) {
        return variable(t.value.clone(), t.rows, t.cols);
    }

    @Override
    public Node adjoint(Node leaf) {
        return constant(leaf.grad(), leaf.rows, leaf.cols);
    }

    // ---------------------------------------------------------------- products

    /** A [n x k] times B[m x k] transposed: [n x m]. */
    @Override
    public Node matmulNT(Node a, Node b) {
        Tensor.requireShape(a.cols == b.cols, "matmulNT inner sizes " + a.cols + " vs " + b.cols);
        int n = a.rows, k = a.cols, m = b.rows;
        double[] c = new double[n * m];
        Gemm.gemm(false, true, n, m, k, 1, a.value, 0, k, b.value, 0, k, 0, c, 0, m);
        Node[] out = new Node[1];
        out[0] = record(c, n, m, Tensor.anyRequiresGrad(a, b), () -> {
            double[] g = out[0].grad;
            if (a.requiresGrad) Gemm.gemm(false, false, n, k, m, 1, g, 0, m, b.value, 0, k, 1, a.grad(), 0, k);
            if (b.requiresGrad) Gemm.gemm(true, false, m, k, n, 1, g, 0, m, a.value, 0, k, 1, b.grad(), 0, k);
        });
        return out[0];
    }

    /** A [n x k] times B [k x m]: [n x m]. */
    @Override
    public Node matmulNN(Node a, Node b) {
        Tensor.requireShape(a.cols == b.rows, "matmulNN inner sizes " + a.cols + " vs " + b.rows);
        int n = a.rows, k = a.cols, m = b.cols;
        double[] c = new double[n * m];
        Gemm.gemm(false, false, n, m, k, 1, a.value, 0, k, b.value, 0, m, 0, c, 0, m);
        Node[] out = new Node[1];
        out[0] = record(c, n, m, Tensor.anyRequiresGrad(a, b), () -> {
            double[] g = out[0].grad;
            if (a.requiresGrad) Gemm.gemm(false, true, n, k, m, 1, g, 0, m, b.value, 0, m, 1, a.grad(), 0, k);
            if (b.requiresGrad) Gemm.gemm(true, false, k, m, n, 1, a.value, 0, k, g, 0, m, 1, b.grad(), 0, m);
        });
        return out[0];
    }

    @Override
    public Node transpose(Node a) {
        int n = a.rows, m = a.cols;
        double[] t = new double[n * m];
        for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) t[j * n + i] = a.value[i * m + j];
        Node[] out = new Node[1];
        out[0] = record(t, m, n, Tensor.anyRequiresGrad(a), () -> {
            double[] g = out[0].grad, ga = a.grad();
            for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) ga[i * m + j] += g[j * n + i];
        });
        return out[0];
    }

    // ---------------------------------------------------------------- elementwise

    /**
     * σ(Z), σ′(Z), σ″(Z) elementwise, computed in one pass. The adjoint of σ^(k) uses σ^(k+1), so σ‴ is kept for
     * the adjoint of σ″ (training through the Laplacian).
     */
    public Node[] activations(Activation act, Node z) {
        double[][] y = new double[4][z.size()];
        act.derivatives(z.value, y);
        Node[] out = new Node[3];
        for (int k = 0; k < 3; k++) {
            final int order = k;
            out[k] = record(y[k], z.rows, z.cols, Tensor.anyRequiresGrad(z), () -> {
                double[] g = out[order].grad, gz = z.grad(), next = y[order + 1];
                for (int i = 0; i < g.length; i++) gz[i] += g[i] * next[i];
            });
        }
        return out;
    }

    /** addRow then {@link #activations}: the device fuses the two into one launch. */
    @Override
    public Activations<Node> biasActivations(Activation act, Node pre, Node bias) {
        Node[] s = activations(act, addRow(pre, bias));
        return new Activations<>(s[0], s[1], s[2]);
    }

    @Override
    public Node combine(Node a, Node b, double alpha, double beta) {
        Tensor.requireShape(a.rows == b.rows && a.cols == b.cols, "combine shapes " + a.rows + "x" + a.cols + " vs " + b.rows + "x" + b.cols);
        double[] y = new double[a.size()];
        for (int i = 0; i < y.length; i++) y[i] = alpha * a.value[i] + beta * b.value[i];
        Node[] out = new Node[1];
        out[0] = record(y, a.rows, a.cols, Tensor.anyRequiresGrad(a, b), () -> {
            double[] g = out[0].grad;
            if (a.requiresGrad) {
                double[] ga = a.grad();
                for (int i = 0; i < g.length; i++) ga[i] += alpha * g[i];
            }
            if (b.requiresGrad) {
                double[] gb = b.grad();
                for (int i = 0; i < g.length; i++) gb[i] += beta * g[i];
            }
        });
        return out[0];
    }

    @Override
    public Node scale(Node a, double s) {
        double[] y = new double[a.size()];
        for (int i = 0; i < y.length; i++) y[i] = s * a.value[i];
        Node[] out = new Node[1];
        out[0] = record(y, a.rows, a.cols, Tensor.anyRequiresGrad(a), () -> {
            double[] g = out[0].grad, ga = a.grad();
            for (int i = 0; i < g.length; i++) ga[i] += s * g[i];
        });
        return out[0];
    }

    /** Elementwise product of same-shaped A and B. */
    @Override
    public Node mul(Node a, Node b) {
        Tensor.requireShape(a.rows == b.rows && a.cols == b.cols, "mul shapes " + a.rows + "x" + a.cols + " vs " + b.rows + "x" + b.cols);
        double[] y = new double[a.size()];
        for (int i = 0; i < y.length; i++) y[i] = a.value[i] * b.value[i];
        Node[] out = new Node[1];
        out[0] = record(y, a.rows, a.cols, Tensor.anyRequiresGrad(a, b), () -> {
            double[] g = out[0].grad;
            if (a.requiresGrad) {
                double[] ga = a.grad();
                for (int i = 0; i < g.length; i++) ga[i] += g[i] * b.value[i];
            }
            if (b.requiresGrad) {
                double[] gb = b.grad();
                for (int i = 0; i < g.length; i++) gb[i] += g[i] * a.value[i];
            }
        });
        return out[0];
    }

    // ---------------------------------------------------------------- row broadcasts

    /** A [n x m] plus the row vector b [1 x m] on every row. */
    @Override
    public Node addRow(Node a, Node b) {
        Tensor.requireRow("addRow", a, b);
        int n = a.rows, m = a.cols;
        double[] y = new double[n * m];
        for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) y[i * m + j] = a.value[i * m + j] + b.value[j];
        Node[] out = new Node[1];
        out[0] = record(y, n, m, Tensor.anyRequiresGrad(a, b), () -> {
            double[] g = out[0].grad;
            if (a.requiresGrad) {
                double[] ga = a.grad();
                for (int i = 0; i < g.length; i++) ga[i] += g[i];
            }
            if (b.requiresGrad) {
                double[] gb = b.grad();
                for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) gb[j] += g[i * m + j];
            }
        });
        return out[0];
    }

    /** A [n x m] times the row vector v [1 x m], elementwise on every row. */
    @Override
    public Node mulRow(Node a, Node v) {
        Tensor.requireRow("mulRow", a, v);
        int n = a.rows, m = a.cols;
        double[] y = new double[n * m];
        for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) y[i * m + j] = a.value[i * m + j] * v.value[j];
        Node[] out = new Node[1];
        out[0] = record(y, n, m, Tensor.anyRequiresGrad(a, v), () -> {
            double[] g = out[0].grad;
            if (a.requiresGrad) {
                double[] ga = a.grad();
                for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) ga[i * m + j] += g[i * m + j] * v.value[j];
            }
            if (v.requiresGrad) {
                double[] gv = v.grad();
                for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) gv[j] += g[i * m + j] * a.value[i * m + j];
            }
        });
        return out[0];
    }

    // ---------------------------------------------------------------- grouped (per-direction) ops

    private static int groups(Node t, int n) {
        Tensor.requireShape(n > 0 && t.rows % n == 0, "grouped tensor of " + t.rows + " rows does not split into " + n + " samples");
        return t.rows / n;
    }

    /** Row b*r+k of the result is a[b] ⊙ t[b*r+k]: a per-sample factor applied to each of its directions. */
    @Override
    public Node groupMul(Node a, Node t) {
        Tensor.requireShape(a.cols == t.cols, "groupMul widths " + a.cols + " vs " + t.cols);
        int n = a.rows, m = a.cols, r = groups(t, n);
        double[] y = new double[t.size()];
        for (int b = 0; b < n; b++) {
            for (int k = 0; k < r; k++) {
                int row = (b * r + k) * m;
                for (int j = 0; j < m; j++) y[row + j] = a.value[b * m + j] * t.value[row + j];
            }
        }
        Node[] out = new Node[1];
        out[0] = record(y, t.rows, m, Tensor.anyRequiresGrad(a, t), () -> {
            double[] g = out[0].grad;
            double[] ga = a.requiresGrad ? a.grad() : null, gt = t.requiresGrad ? t.grad() : null;
            for (int b = 0; b < n; b++) {
                for (int k = 0; k < r; k++) {
                    int row = (b * r + k) * m;
                    for (int j = 0; j < m; j++) {
                        if (ga != null) ga[b * m + j] += g[row + j] * t.value[row + j];
                        if (gt != null) gt[row + j] += g[row + j] * a.value[b * m + j];
                    }
                }
            }
        });
        return out[0];
    }

    /** Row b*r+k of the result is a[b] ⊙ c[k]: per-sample factors times directions shared by all samples. */
    @Override
    public Node sharedMul(Node a, Node c) {
        Tensor.requireShape(a.cols == c.cols, "sharedMul widths " + a.cols + " vs " + c.cols);
        int n = a.rows, m = a.cols, r = c.rows;
        double[] y = new double[n * r * m];
        for (int b = 0; b < n; b++) {
            for (int k = 0; k < r; k++) {
                int row = (b * r + k) * m;
                for (int j = 0; j < m; j++) y[row + j] = a.value[b * m + j] * c.value[k * m + j];
            }
        }
        Node[] out = new Node[1];
        out[0] = record(y, n * r, m, Tensor.anyRequiresGrad(a, c), () -> {
            double[] g = out[0].grad;
            double[] ga = a.requiresGrad ? a.grad() : null, gc = c.requiresGrad ? c.grad() : null;
            for (int b = 0; b < n; b++) {
                for (int k = 0; k < r; k++) {
                    int row = (b * r + k) * m;
                    for (int j = 0; j < m; j++) {
                        if (ga != null) ga[b * m + j] += g[row + j] * c.value[k * m + j];
                        if (gc != null) gc[k * m + j] += g[row + j] * a.value[b * m + j];
                    }
                }
            }
        });
        return out[0];
    }

    /** [n*r x m] → [n x m]: each sample's directions summed. */
    @Override
    public Node groupSum(Node t, int n) {
        return groupReduce(t, n, false);
    }

    /** [n*r x m] → [n x m]: each sample's directions squared and summed (Σ_dirs (∂z)²). */
    @Override
    public Node groupSumSquares(Node t, int n) {
        return groupReduce(t, n, true);
    }

    /** Each sample's directions summed, or their squares (the adjoint of t² is 2t, of t is 1). */
    private Node groupReduce(Node t, int n, boolean squares) {
        int m = t.cols, r = groups(t, n);
        double[] y = new double[n * m];
        for (int b = 0; b < n; b++) {
            for (int k = 0; k < r; k++) {
                int row = (b * r + k) * m;
                for (int j = 0; j < m; j++) {
                    double v = t.value[row + j];
                    y[b * m + j] += squares ? v * v : v;
                }
            }
        }
        Node[] out = new Node[1];
        out[0] = record(y, n, m, Tensor.anyRequiresGrad(t), () -> {
            double[] g = out[0].grad, gt = t.grad();
            for (int b = 0; b < n; b++) {
                for (int k = 0; k < r; k++) {
                    int row = (b * r + k) * m;
                    for (int j = 0; j < m; j++) gt[row + j] += (squares ? 2 * t.value[row + j] : 1) * g[b * m + j];
                }
            }
        });
        return out[0];
    }

    /** [n x m] → [n*r x m]: each row repeated r times (a sample copied once per direction). */
    @Override
    public Node repeatRows(Node a, int r) {
        int n = a.rows, m = a.cols;
        double[] y = new double[n * r * m];
        for (int b = 0; b < n; b++) for (int k = 0; k < r; k++) System.arraycopy(a.value, b * m, y, (b * r + k) * m, m);
        Node[] out = new Node[1];
        out[0] = record(y, n * r, m, Tensor.anyRequiresGrad(a), () -> {
            double[] g = out[0].grad, ga = a.grad();
            for (int b = 0; b < n; b++) {
                for (int k = 0; k < r; k++) {
                    int row = (b * r + k) * m;
                    for (int j = 0; j < m; j++) ga[b * m + j] += g[row + j];
                }
            }
        });
        return out[0];
    }

    // ---------------------------------------------------------------- reductions

    /** [n x m] → [n x 1]: Σ_j a_ij². */
    @Override
    public Node rowSumSquares(Node a) {
        return rowReduce(a, true);
    }

    /** [n x m] → [n x 1]: Σ_j a_ij. */
    @Override
    public Node rowSum(Node a) {
        return rowReduce(a, false);
    }

    /** Each row summed, or its squares (the adjoint of a² is 2a, of a is 1). */
    private Node rowReduce(Node a, boolean squares) {
        int n = a.rows, m = a.cols;
        double[] y = new double[n];
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int j = 0; j < m; j++) {
                double v = a.value[i * m + j];
                s += squares ? v * v : v;
            }
            y[i] = s;
        }
        Node[] out = new Node[1];
        out[0] = record(y, n, 1, Tensor.anyRequiresGrad(a), () -> {
            double[] g = out[0].grad, ga = a.grad();
            for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) ga[i * m + j] += (squares ? 2 * a.value[i * m + j] : 1) * g[i];
        });
        return out[0];
    }

    /** [r x m] → [1 x m]: Σ_k c_kj² (the shared directions' squares, summed). */
    @Override
    public Node colSumSquares(Node c) {
        int r = c.rows, m = c.cols;
        double[] y = new double[m];
        for (int k = 0; k < r; k++) for (int j = 0; j < m; j++) y[j] += c.value[k * m + j] * c.value[k * m + j];
        Node[] out = new Node[1];
        out[0] = record(y, 1, m, Tensor.anyRequiresGrad(c), () -> {
            double[] g = out[0].grad, gc = c.grad();
            for (int k = 0; k < r; k++) for (int j = 0; j < m; j++) gc[k * m + j] += 2 * c.value[k * m + j] * g[j];
        });
        return out[0];
    }

    /** Σ of all elements, as a [1 x 1] node. */
    @Override
    public Node sum(Node a) {
        double s = 0;
        for (double v : a.value) s += v;
        Node[] out = new Node[1];
        out[0] = record(new double[] {s}, 1, 1, Tensor.anyRequiresGrad(a), () -> {
            double g = out[0].grad[0];
            double[] ga = a.grad();
            for (int i = 0; i < ga.length; i++) ga[i] += g;
        });
        return out[0];
    }

    // ---------------------------------------------------------------- Hutch++

    @Override
    public SketchInputs<Node> hutchPlusPlusSketch(Node x, Node draws, int sketch, int perSample) {
        int n = x.rows, d = x.cols;
        Tensor.requireShape(draws.rows == n * perSample && draws.cols == d, "Hutch++ draws " + draws.rows + "x" + draws.cols
                + " for " + n + " samples of " + perSample + " x " + d);
        double[] s = new double[n * sketch * d];
        for (int b = 0; b < n; b++) System.arraycopy(draws.value, b * perSample * d, s, b * sketch * d, sketch * d);
        return new SketchInputs<>(constant(repeatRows(x, sketch).value, n * sketch, d), constant(s, n * sketch, d));
    }

    @Override
    public Node hutchPlusPlusDirections(Node hvp, Node draws, int n, int sketch, int rest) {
        int d = draws.cols, perSample = sketch + rest;
        double[] basis = sketch > 0 ? orthonormalBases(hvp.value, n, sketch, d) : null;
        double[] directions = new double[n * perSample * d];
        double restScale = 1.0 / Math.sqrt(rest);
        for (int b = 0; b < n; b++) {
            int out = b * perSample * d;
            if (sketch > 0) System.arraycopy(basis, b * sketch * d, directions, out, sketch * d);
            for (int k = 0; k < rest; k++) {
                int src = (b * perSample + sketch + k) * d;
                int dst = out + (sketch + k) * d;
                System.arraycopy(draws.value, src, directions, dst, d);
                if (sketch > 0) projectOut(basis, b * sketch * d, sketch, d, directions, dst);
                for (int j = 0; j < d; j++) directions[dst + j] *= restScale;
            }
        }
        return constant(directions, n * perSample, d);
    }

    /** Orthonormal bases Q_b [sketch x D] (rows) of the span of each sample's `sketch` rows of hs, by fp64 QR. */
    private static double[] orthonormalBases(double[] hs, int n, int sketch, int d) {
        double[] basis = new double[n * sketch * d];
        for (int b = 0; b < n; b++) {
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

    /** v ← v − Q Qᵀ v for the rows of Q stored at basis[off ..]. */
    private static void projectOut(double[] basis, int off, int rows, int d, double[] v, int vOff) {
        for (int k = 0; k < rows; k++) {
            double dot = 0;
            for (int j = 0; j < d; j++) dot += basis[off + k * d + j] * v[vOff + j];
            for (int j = 0; j < d; j++) v[vOff + j] -= dot * basis[off + k * d + j];
        }
    }

    public Node mean(Node a) {
        return scale(sum(a), 1.0 / a.size());
    }
}
