package ebm.backend.cuda.tape;

import ebm.backend.cuda.kernels.DeviceKernels;
import ebm.backend.cuda.kernels.Grid;
import ebm.backend.cuda.runtime.Blas;
import ebm.backend.cuda.runtime.DeviceArena;
import ebm.backend.cuda.runtime.DeviceBuffer;
import ebm.tape.Activation;
import ebm.tape.Ops;
import ebm.tape.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@link Ops} primitives on the device: the same batched ops as {@link ebm.tape.Tape} with the same shapes and
 * adjoints, in fp32 on device memory, each op one or two launches of kernels/elementwise.cu, grouped.cu,
 * activation.cu, reduce.cu, hutchpp.cu (GEMMs through {@link Blas}, in its precision). Ops run as they are recorded (queued on the launcher's stream); {@link #backward} queues the
 * adjoints in reverse. Nothing is read back, so a whole step can be captured into a CUDA graph.
 *
 * <p>"Grouped" tensors hold r rows per sample: row b*r + k is direction k of sample b.
 */
public final class DeviceTape implements Ops<DeviceNode> {
    private final DeviceKernels kernels;
    private final Blas blas;
    private final DeviceArena arena;
    private final List<DeviceNode> nodes = new ArrayList<>();
    private long gemms;
    private long flops;

    public DeviceTape(DeviceKernels kernels, Blas blas, DeviceArena arena) {
        this.kernels = kernels;
        this.blas = blas;
        this.arena = arena;
    }

    /** GEMM calls queued by this tape (forward and backward). */
    public long gemms() {
        return gemms;
    }

    /** Floating-point operations of those GEMMs (2mnk each): nearly all of a step's arithmetic. */
    public long flops() {
        return flops;
    }

    private DeviceNode record(int rows, int cols, boolean requiresGrad, String label) {
        DeviceBuffer value = arena.allocate(4L * rows * cols, label);
        DeviceNode n = new DeviceNode(value.address(), rows, cols, requiresGrad, 0);
        nodes.add(n);
        return n;
    }

    /** The adjoint of n, allocated and zeroed when first reached. */
    private long grad(DeviceNode n) {
        if (n.grad == 0) {
            n.grad = arena.allocate(n.bytes(), "tape adjoint").address();
            fill(n.grad, n.size(), 0f);
        }
        return n.grad;
    }

    public void fill(long address, long n, float value) {
        kernels.fill(address, n, value);
    }

    /** A value the loss is not differentiated with respect to. */
    public DeviceNode constant(long address, int rows, int cols) {
        DeviceNode n = new DeviceNode(address, rows, cols, false, 0);
        nodes.add(n);
        return n;
    }

    /** A leaf whose adjoint goes to gradAddress, which the caller has zeroed (a view of the flat gradient). */
    public DeviceNode variable(long address, long gradAddress, int rows, int cols) {
        DeviceNode n = new DeviceNode(address, rows, cols, true, gradAddress);
        nodes.add(n);
        return n;
    }

    @Override
    public void backward(DeviceNode loss) {
        Tensor.requireShape(loss.size() == 1, "backward needs a scalar, got " + loss.rows + "x" + loss.cols);
        long g = grad(loss);
        fill(g, 1, 1f);
        for (int i = nodes.size() - 1; i >= 0; i--) {
            DeviceNode n = nodes.get(i);
            if (n.backward != null && (n.grad != 0 || n.backwardEvenWithoutAdjoint)) n.backward.run();
        }
    }

    @Override
    public DeviceNode rows(DeviceNode t, int from, int count) {
        Tensor.requireShape(from >= 0 && count >= 0 && from + count <= t.rows, "rows [" + from + ", " + (from + count) + ") of " + t.rows);
        return constant(t.value + 4L * from * t.cols, count, t.cols);
    }

    /** A constant [rows x cols] from this tape's arena, for a kernel outside the tape's ops to write (draws, say). */
    DeviceNode uninitialized(int rows, int cols, String label) {
        return record(rows, cols, false, label);
    }

    @Override
    public DeviceNode full(int rows, int cols, double value) {
        DeviceNode out = record(rows, cols, false, "full");
        fill(out.value, out.size(), (float) value);
        return out;
    }

    @Override
    public DeviceNode inputVariable(DeviceNode t) {
        long gradAddress = arena.allocate(t.bytes(), "input adjoint").address();
        fill(gradAddress, t.size(), 0f);
        return variable(t.value, gradAddress, t.rows, t.cols);
    }

    @Override
    public DeviceNode adjoint(DeviceNode leaf) {
        Tensor.requireShape(leaf.grad != 0, "no adjoint on this tensor");
        return constant(leaf.grad, leaf.rows, leaf.cols);
    }

    // ---------------------------------------------------------------- products

    /**
     * Row-major C[n x m] = α op(A) op(B) + β C through the column-major BLAS: a row-major matrix is its transpose in
     * column-major, so this is Cᵀ = op(B)ᵀ op(A)ᵀ with the operands swapped.
     */
    public static void rowMajorGemm(Blas blas, boolean transA, boolean transB, int n, int m, int k, float alpha, long a, int lda,
                             long b, int ldb, float beta, long c, int ldc) {
        blas.gemm(transB, transA, m, n, k, alpha, b, ldb, a, lda, beta, c, ldc);
    }

    /** Row-major C[n x m] = op(A) op(B) + β C, recorded in the tape's GEMM count. */
    private void gemm(boolean transA, boolean transB, int n, int m, int k, long a, int lda, long b, int ldb, float beta,
                      long c, int ldc) {
        gemm(transA, transB, n, m, k, 1f, a, lda, b, ldb, beta, c, ldc);
    }

    /** Row-major C[n x m] = α op(A) op(B) + β C, not recorded on the tape (for values treated as constants). */
    public void gemm(boolean transA, boolean transB, int n, int m, int k, float alpha, long a, int lda, long b, int ldb,
                     float beta, long c, int ldc) {
        rowMajorGemm(blas, transA, transB, n, m, k, alpha, a, lda, b, ldb, beta, c, ldc);
        gemms++;
        flops += 2L * n * m * k;
    }

    /** Device memory from this tape's arena (for values computed outside the tape's ops). */
    public long allocate(long floats, String label) {
        return arena.allocate(4L * floats, label).address();
    }

    /** *out = Σ x·y over n elements (DeviceKernels.dot, its scratch from this tape's arena). */
    public void dot(long x, long y, long n, long out) {
        kernels.dot(x, y, n, allocate(DeviceKernels.DOT_PARTIALS, "reduction partials"), out);
    }

    /** The kernels this tape launches on (for values computed outside the tape's ops). */
    public DeviceKernels kernels() {
        return kernels;
    }

    /** A [n x k] times B[m x k] transposed: [n x m]. */
    @Override
    public DeviceNode matmulNT(DeviceNode a, DeviceNode b) {
        Tensor.requireShape(a.cols == b.cols, "matmulNT inner sizes " + a.cols + " vs " + b.cols);
        return product(a, b, true);
    }

    /** A [n x k] times B [k x m]: [n x m]. */
    @Override
    public DeviceNode matmulNN(DeviceNode a, DeviceNode b) {
        Tensor.requireShape(a.cols == b.rows, "matmulNN inner sizes " + a.cols + " vs " + b.rows);
        return product(a, b, false);
    }

    /**
     * A [n x k] times op(B) [k x m], op(B) = Bᵀ of B [m x k] (transB) or B itself [k x m], and its adjoints:
     * gA += G op(B)ᵀ, and gB += Gᵀ A (transB) or Aᵀ G.
     */
    private DeviceNode product(DeviceNode a, DeviceNode b, boolean transB) {
        int n = a.rows, k = a.cols, m = transB ? b.rows : b.cols, ldb = b.cols;
        DeviceNode out = record(n, m, Tensor.anyRequiresGrad(a, b), "matmul output");
        gemm(false, transB, n, m, k, a.value, k, b.value, ldb, 0f, out.value, m);
        out.backward = () -> {
            if (a.requiresGrad) gemm(false, !transB, n, k, m, out.grad, m, b.value, ldb, 1f, grad(a), k);
            if (b.requiresGrad && transB) gemm(true, false, m, k, n, out.grad, m, a.value, k, 1f, grad(b), k);
            if (b.requiresGrad && !transB) gemm(true, false, k, m, n, a.value, k, out.grad, m, 1f, grad(b), m);
        };
        return out;
    }

    @Override
    public DeviceNode transpose(DeviceNode a) {
        int n = a.rows, m = a.cols;
        DeviceNode out = record(m, n, Tensor.anyRequiresGrad(a), "transpose");
        kernels.transposeF32(Grid.over(a.size()), a.value, n, m, 0, out.value);
        out.backward = () -> kernels.transposeF32(Grid.over(a.size()), out.grad, m, n, 1, grad(a));
        return out;
    }

    // ---------------------------------------------------------------- elementwise

    /**
     * z = pre + bias (a row), then σ(z), σ′(z), σ″(z): Tape.addRow followed by Tape.activations, fused into one
     * launch that also keeps σ‴ for the adjoint of σ″.
     */
    @Override
    public Activations<DeviceNode> biasActivations(Activation act, DeviceNode pre, DeviceNode bias) {
        Tensor.requireShape(bias.rows == 1 && bias.cols == pre.cols, "bias must be [1 x " + pre.cols + "], got " + bias.rows + "x" + bias.cols);
        int n = pre.rows, m = pre.cols;
        long size = pre.size();
        DeviceBuffer planes = arena.allocate(4L * 4 * size, "activations");
        kernels.biasActivationF32(Grid.over(size), pre.value, bias.value, n, m, act.ordinal(), planes.address());
        boolean requiresGrad = Tensor.anyRequiresGrad(pre, bias);
        DeviceNode[] out = new DeviceNode[3];
        for (int order = 0; order < 3; order++) {
            out[order] = new DeviceNode(planes.address() + 4L * order * size, n, m, requiresGrad, 0);
        }
        // One backward for the three orders, placed after them on the tape so it runs once all three adjoints are in;
        // it runs whichever orders were reached (a node's own backward runs only once its adjoint exists).
        DeviceNode joint = new DeviceNode(planes.address(), n, m, requiresGrad, 0);
        for (DeviceNode o : out) nodes.add(o);
        nodes.add(joint);
        joint.backwardEvenWithoutAdjoint = true;
        joint.backward = () -> {
            if (out[0].grad == 0 && out[1].grad == 0 && out[2].grad == 0) return;
            long gz = arena.allocate(4L * size, "activation adjoint").address();
            kernels.activationAdjointF32(Grid.over(size), planes.address(), out[0].grad, out[1].grad, out[2].grad, size,
                    gz);
            if (pre.requiresGrad) axpy(1f, gz, size, grad(pre));
            if (bias.requiresGrad) groupedReduce(gz, 0, 1, n, m, 1f, true, grad(bias)); // column sums
        };
        return new Activations<>(out[0], out[1], out[2]);
    }

    /** alpha*A + beta*B for same-shaped A, B. */
    @Override
    public DeviceNode combine(DeviceNode a, DeviceNode b, double alpha, double beta) {
        Tensor.requireShape(a.rows == b.rows && a.cols == b.cols, "combine shapes " + a.rows + "x" + a.cols + " vs " + b.rows + "x" + b.cols);
        long size = a.size();
        DeviceNode out = record(a.rows, a.cols, Tensor.anyRequiresGrad(a, b), "combine");
        kernels.combineF32(Grid.over(size), a.value, b.value, size, (float) alpha, (float) beta, 0, out.value);
        out.backward = () -> {
            if (a.requiresGrad) axpy((float) alpha, out.grad, size, grad(a));
            if (b.requiresGrad) axpy((float) beta, out.grad, size, grad(b));
        };
        return out;
    }

    /** y += alpha·x over n elements. */
    private void axpy(float alpha, long x, long n, long y) {
        kernels.combineF32(Grid.over(n), x, 0, n, alpha, 0f, 1, y);
    }

    @Override
    public DeviceNode scale(DeviceNode a, double s) {
        long size = a.size();
        DeviceNode out = record(a.rows, a.cols, Tensor.anyRequiresGrad(a), "scale");
        kernels.combineF32(Grid.over(size), a.value, 0, size, (float) s, 0f, 0, out.value);
        out.backward = () -> axpy((float) s, out.grad, size, grad(a));
        return out;
    }

    /** Elementwise product of same-shaped A and B. */
    @Override
    public DeviceNode mul(DeviceNode a, DeviceNode b) {
        Tensor.requireShape(a.rows == b.rows && a.cols == b.cols, "mul shapes " + a.rows + "x" + a.cols + " vs " + b.rows + "x" + b.cols);
        long size = a.size();
        DeviceNode out = record(a.rows, a.cols, Tensor.anyRequiresGrad(a, b), "mul");
        kernels.mulF32(Grid.over(size), a.value, b.value, size, 0, out.value);
        out.backward = () -> {
            if (a.requiresGrad) kernels.mulF32(Grid.over(size), out.grad, b.value, size, 1, grad(a));
            if (b.requiresGrad) kernels.mulF32(Grid.over(size), out.grad, a.value, size, 1, grad(b));
        };
        return out;
    }

    // ---------------------------------------------------------------- row broadcasts

    /** A [n x m] plus the row vector b [1 x m] on every row. */
    @Override
    public DeviceNode addRow(DeviceNode a, DeviceNode b) {
        return rowBroadcast("addRow", a, b, false);
    }

    /** A [n x m] times the row vector v [1 x m], elementwise on every row. */
    @Override
    public DeviceNode mulRow(DeviceNode a, DeviceNode v) {
        return rowBroadcast("mulRow", a, v, true);
    }

    /**
     * out = a + row or a ⊙ row (multiply) on every row. The adjoints: ga += g or g ⊙ row, and the row's is the column
     * sum of g times ∂out/∂row, which is 1 or a: grow[j] += Σ_i g_ij (· a_ij).
     */
    private DeviceNode rowBroadcast(String op, DeviceNode a, DeviceNode row, boolean multiply) {
        Tensor.requireRow(op, a, row);
        int n = a.rows, m = a.cols;
        Grid grid = Grid.over(a.size());
        DeviceNode out = record(n, m, Tensor.anyRequiresGrad(a, row), op);
        if (multiply) kernels.mulRowF32(grid, a.value, row.value, n, m, 0, out.value);
        else kernels.addRowF32(grid, a.value, row.value, n, m, out.value);
        out.backward = () -> {
            if (a.requiresGrad && multiply) kernels.mulRowF32(grid, out.grad, row.value, n, m, 1, grad(a));
            if (a.requiresGrad && !multiply) axpy(1f, out.grad, a.size(), grad(a));
            if (row.requiresGrad) groupedReduce(out.grad, multiply ? a.value : 0, 1, n, m, 1f, true, grad(row));
        };
        return out;
    }

    // ---------------------------------------------------------------- grouped (per-direction) ops

    private static int groups(DeviceNode t, int n) {
        Tensor.requireShape(n > 0 && t.rows % n == 0, "grouped tensor of " + t.rows + " rows does not split into " + n + " samples");
        return t.rows / n;
    }

    /** out[b·r+k, j] ⊕= scale · a[b, j] · (t ? t[b·r+k, j] : 1). */
    private void groupedBroadcast(long a, long t, long n, long r, long m, float scale, boolean accumulate, long out) {
        kernels.groupedBroadcastF32(Grid.over(n * r * m), a, t, n, r, m, scale, accumulate ? 1 : 0, out);
    }

    /** out[b, j] ⊕= scale · Σ_k x[b·r+k, j] · (y ? y[b·r+k, j] : 1). */
    private void groupedReduce(long x, long y, long n, long r, long m, float scale, boolean accumulate, long out) {
        kernels.groupedReduceF32(Grid.over(n * m), x, y, n, r, m, scale, accumulate ? 1 : 0, out);
    }

    /** Row b*r+k of the result is a[b] ⊙ t[b*r+k]: a per-sample factor applied to each of its directions. */
    @Override
    public DeviceNode groupMul(DeviceNode a, DeviceNode t) {
        Tensor.requireShape(a.cols == t.cols, "groupMul widths " + a.cols + " vs " + t.cols);
        int n = a.rows, m = a.cols, r = groups(t, n);
        DeviceNode out = record(t.rows, m, Tensor.anyRequiresGrad(a, t), "groupMul");
        groupedBroadcast(a.value, t.value, n, r, m, 1f, false, out.value);
        out.backward = () -> {
            if (a.requiresGrad) groupedReduce(out.grad, t.value, n, r, m, 1f, true, grad(a));
            if (t.requiresGrad) groupedBroadcast(a.value, out.grad, n, r, m, 1f, true, grad(t));
        };
        return out;
    }

    /** Row b*r+k of the result is a[b] ⊙ c[k]: per-sample factors times directions shared by all samples. */
    @Override
    public DeviceNode sharedMul(DeviceNode a, DeviceNode c) {
        Tensor.requireShape(a.cols == c.cols, "sharedMul widths " + a.cols + " vs " + c.cols);
        int n = a.rows, m = a.cols, r = c.rows;
        DeviceNode out = record(n * r, m, Tensor.anyRequiresGrad(a, c), "sharedMul");
        kernels.sharedMulF32(Grid.over(out.size()), a.value, c.value, n, r, m, out.value);
        out.backward = () -> {
            if (a.requiresGrad) kernels.sharedMulAdjointAF32(Grid.over(a.size()), out.grad, c.value, n, r, m, grad(a));
            if (c.requiresGrad) kernels.sharedMulAdjointCF32(Grid.over(c.size()), out.grad, a.value, n, r, m, grad(c));
        };
        return out;
    }

    /** [n*r x m] → [n x m]: each sample's directions summed. */
    @Override
    public DeviceNode groupSum(DeviceNode t, int n) {
        int m = t.cols, r = groups(t, n);
        DeviceNode out = record(n, m, Tensor.anyRequiresGrad(t), "groupSum");
        groupedReduce(t.value, 0, n, r, m, 1f, false, out.value);
        out.backward = () -> groupedBroadcast(out.grad, 0, n, r, m, 1f, true, grad(t));
        return out;
    }

    /** [n*r x m] → [n x m]: each sample's directions squared and summed (Σ_dirs (∂z)²). */
    @Override
    public DeviceNode groupSumSquares(DeviceNode t, int n) {
        int m = t.cols, r = groups(t, n);
        DeviceNode out = record(n, m, Tensor.anyRequiresGrad(t), "groupSumSquares");
        groupedReduce(t.value, t.value, n, r, m, 1f, false, out.value);
        out.backward = () -> groupedBroadcast(out.grad, t.value, n, r, m, 2f, true, grad(t));
        return out;
    }

    /** [n x m] → [n*r x m]: each row repeated r times (a sample copied once per direction). */
    @Override
    public DeviceNode repeatRows(DeviceNode a, int r) {
        int n = a.rows, m = a.cols;
        DeviceNode out = record(n * r, m, Tensor.anyRequiresGrad(a), "repeatRows");
        groupedBroadcast(a.value, 0, n, r, m, 1f, false, out.value);
        out.backward = () -> groupedReduce(out.grad, 0, n, r, m, 1f, true, grad(a));
        return out;
    }

    // ---------------------------------------------------------------- reductions

    /**
     * [n x m] → [n x 1]: Σ_j a_ij², a block per row (DeviceKernels.rowReduce: a row may be D = 10⁶ long); the adjoint
     * is a broadcast, as a [n·m x 1] grouped tensor with m directions per row.
     */
    @Override
    public DeviceNode rowSumSquares(DeviceNode a) {
        int n = a.rows, m = a.cols;
        DeviceNode out = record(n, 1, Tensor.anyRequiresGrad(a), "rowSumSquares");
        kernels.rowReduce(a.value, a.value, n, m, 1f, false, out.value);
        out.backward = () -> groupedBroadcast(out.grad, a.value, n, m, 1, 2f, true, grad(a));
        return out;
    }

    /** [n x m] → [n x 1]: Σ_j a_ij, a block per row; the adjoint a broadcast. */
    @Override
    public DeviceNode rowSum(DeviceNode a) {
        int n = a.rows, m = a.cols;
        DeviceNode out = record(n, 1, Tensor.anyRequiresGrad(a), "rowSum");
        kernels.rowReduce(a.value, 0, n, m, 1f, false, out.value);
        out.backward = () -> groupedBroadcast(out.grad, 0, n, m, 1, 1f, true, grad(a));
        return out;
    }

    /** [r x m] → [1 x m]: Σ_k c_kj² (the shared directions' squares, summed). */
    @Override
    public DeviceNode colSumSquares(DeviceNode c) {
        int r = c.rows, m = c.cols;
        DeviceNode out = record(1, m, Tensor.anyRequiresGrad(c), "colSumSquares");
        groupedReduce(c.value, c.value, 1, r, m, 1f, false, out.value);
        out.backward = () -> groupedBroadcast(out.grad, c.value, 1, r, m, 2f, true, grad(c));
        return out;
    }

    /** Σ of all elements, as a [1 x 1] node. */
    @Override
    public DeviceNode sum(DeviceNode a) {
        long size = a.size();
        Tensor.requireShape(size <= Integer.MAX_VALUE, "sum of more than 2^31 elements");
        DeviceNode out = record(1, 1, Tensor.anyRequiresGrad(a), "sum");
        kernels.rowReduce(a.value, 0, 1, size, 1f, false, out.value); // one row: a block, not one thread
        out.backward = () -> groupedBroadcast(out.grad, 0, 1, size, 1, 1f, true, grad(a));
        return out;
    }

    // ---------------------------------------------------------------- Hutch++

    @Override
    public SketchInputs<DeviceNode> hutchPlusPlusSketch(DeviceNode x, DeviceNode draws, int sketch, int perSample) {
        int n = x.rows, d = x.cols;
        Tensor.requireShape(draws.rows == n * perSample && draws.cols == d, "Hutch++ draws " + draws.rows + "x" + draws.cols
                + " for " + n + " samples of " + perSample + " x " + d);
        DeviceNode xRep = record(n * sketch, d, false, "Hutch++ repeated batch");
        DeviceNode s = record(n * sketch, d, false, "Hutch++ sketch");
        long count = xRep.size();
        kernels.hutchppSketchInputsF32(Grid.over(count), x.value, draws.value, n, d, sketch, perSample, xRep.value,
                s.value);
        return new SketchInputs<>(xRep, s);
    }

    @Override
    public DeviceNode hutchPlusPlusDirections(DeviceNode hvp, DeviceNode draws, int n, int sketch, int rest) {
        int d = draws.cols, perSample = sketch + rest;
        DeviceNode out = record(draws.rows, d, false, "Hutch++ directions");
        kernels.copy(draws.value, out.value, draws.size());
        long hvpAddress = hvp == null ? 0 : hvp.value;
        float restScale = (float) (1.0 / Math.sqrt(rest));
        int blocks = Math.min(n, Grid.MAX_BLOCKS);
        kernels.hutchppDirectionsF32(Grid.blocks(blocks), hvpAddress, n, d, sketch, perSample, restScale, out.value);
        return out;
    }
}
