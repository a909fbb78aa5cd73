package ebm.model;

import ebm.linalg.Gemm;
import ebm.tape.Node;
import ebm.tape.Tape;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.QRDecomposition;

/**
 * The parameters on the CPU tape: one leaf per view (a copy of its block of the flat fp64 buffer), the row-space factor
 * by the thin QR Wᵀ = QR in fp64 (C = Rᵀ = WQ), and {@link #collect} to write the flat gradient after the sweep.
 */
public final class TapeParameters implements Parameters<Node> {
    private final Tape tape;
    private final double[] params;
    private final boolean trainable;
    private final Map<ParamView, Node> leaves = new LinkedHashMap<>();
    /** Row-space factors placed on the tape: the leaf C_T = R, the Q [D x r] that maps its adjoint back, and W's view. */
    private final List<RowSpace> rowSpaces = new ArrayList<>();

    private record RowSpace(Node factor, double[] q, ParamView weight) {}

    /** With trainable, the leaves are variables whose adjoints {@link #collect} gathers; else constants. */
    public TapeParameters(Tape tape, double[] params, boolean trainable) {
        this.tape = tape;
        this.params = params;
        this.trainable = trainable;
    }

    @Override
    public Node leaf(ParamView v) {
        return leaves.computeIfAbsent(v, view -> {
            double[] value = new double[view.size()];
            System.arraycopy(params, view.offset(), value, 0, view.size());
            return trainable ? tape.variable(value, view.rows(), view.cols()) : tape.constant(value, view.rows(), view.cols());
        });
    }

    @Override
    public Node rowSpaceFactor(ParamView weight) {
        int h = weight.rows(), d = weight.cols();
        DMatrixRMaj wt = new DMatrixRMaj(d, h);
        double[] w = leaf(weight).value;
        for (int i = 0; i < h; i++) for (int j = 0; j < d; j++) wt.unsafe_set(j, i, w[i * d + j]);
        QRDecomposition<DMatrixRMaj> qr = DecompositionFactory_DDRM.qr(d, h);
        // false only when a column of Wᵀ (a hidden unit's input weights) is exactly dependent on the ones before it, a
        // zero row of W say: its reflector is then the identity, so Q stays orthonormal, its columns still span W's rows
        // (WQQᵀ = W) and CCᵀ = WWᵀ with its gradient hold as they are.
        qr.decompose(wt);
        DMatrixRMaj q = qr.getQ(null, true);
        DMatrixRMaj r = qr.getR(null, true);
        Node factor = trainable ? tape.variable(r.getData().clone(), h, h) : tape.constant(r.getData().clone(), h, h);
        if (trainable) rowSpaces.add(new RowSpace(factor, q.getData().clone(), weight));
        return factor;
    }

    /** Writes dLoss/dθ (after the tape's backward sweep) into grad, laid out as the flat parameter buffer. */
    public void collect(double[] grad) {
        if (!trainable) throw new IllegalStateException("the parameters were bound as constants");
        for (Map.Entry<ParamView, Node> e : leaves.entrySet()) {
            ParamView v = e.getKey();
            System.arraycopy(e.getValue().grad(), 0, grad, v.offset(), v.size());
        }
        for (RowSpace rs : rowSpaces) {
            int h = rs.weight.rows(), d = rs.weight.cols();
            // gW [H x D] += (gC_T)ᵀ [H x H] · Qᵀ [H x D], with Q stored [D x H].
            Gemm.gemm(true, true, h, d, h, 1, rs.factor.grad(), 0, h, rs.q, 0, h, 1, grad, rs.weight.offset(), d);
        }
    }
}
