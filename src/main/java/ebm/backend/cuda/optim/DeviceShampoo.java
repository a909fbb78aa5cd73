package ebm.backend.cuda.optim;

import ebm.EbmException;
import ebm.backend.cuda.kernels.DeviceKernels;
import ebm.backend.cuda.kernels.Grid;
import ebm.backend.cuda.runtime.Blas;
import ebm.backend.cuda.runtime.DeviceBuffer;
import ebm.backend.cuda.runtime.KernelLauncher;
import ebm.backend.cuda.tape.DeviceTape;
import ebm.model.ParamLayout;
import ebm.model.ParamView;
import ebm.optim.Shampoo;
import ebm.optim.ShampooOptions;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Shampoo grafted to AdamW on the device, step for step as {@link Shampoo}: the graft direction (AdamW moments
 * of every parameter, kernels/adamw.cu), per weight matrix G the statistics L ← GGᵀ + L and R ← GᵀG + R (fp64
 * cuBLAS dgemms on G widened to fp64 once, ε·I start; a side longer than max_precond_dim keeps none), every
 * root_every steps from start_step the inverse fourth roots by the CPU's fp64 eigendecomposition
 * ({@link Shampoo#inverseRoots}, so failures, flooring and condition numbers are the CPU's) on the host, then
 * D = L^{−1/4} G R^{−1/4} (cuBLAS) rescaled to the norm of the block's graft direction (kernels/shampoo.cu), and
 * θ ← θ(1 − lr·λ) − lr·direction.
 *
 * <p>The host needs the statistics of the step it refreshes roots on, so the step is split where the roots are
 * needed: {@link #step} (graft, statistics) is one captured part, {@link #hostWork()} computes roots on root steps
 * only (synchronize, read the statistics, write the roots into their fixed buffers), {@link #finishStep}
 * (precondition, graft norm, update) is the other captured part. Whether preconditioning has started is a flag in
 * device memory written with the learning rate, so the same two graphs serve every step.
 *
 * <p>Why fp64 statistics: in fp32 (cuBLAS sgemm) their rounding, ~6e-8 of the largest eigenvalue, becomes ~6e-8·κ
 * relative error of the root for a statistic of condition number κ, and Shampoo's statistics are squares (κ of L is
 * κ(G)²; 1e4..1e7 after a few steps in the parity checks, and a rank-deficient statistic, such as a first layer's
 * L = Σ GGᵀ with G of rank D, has only rounding noise where the CPU has ε). Measured on the parity checks' 5-step
 * runs, fp32 statistics put the parameters' change 6e-3..9e-2 away from the fp64 reference; fp64 statistics leave
 * only the fp32 gradient's own error (products of fp32 values are exact in fp64). The roots are rounded to fp32
 * for the preconditioning GEMMs. A GPU's dgemm may sum S[i][j] and S[j][i] in different orders, so its statistics
 * can be asymmetric by fp64 rounding; the host symmetrises its copy, (S + Sᵀ)/2, before the eigendecomposition (a
 * no-op on an exactly symmetric S), so the root never depends on which triangle the symmetric solver reads.
 */
public final class DeviceShampoo extends DeviceOptimizer {
    /** Graft direction, statistics and precondition GEMMs of one weight matrix; null buffers for a side kept whole. */
    private record Block(ParamView view, DeviceBuffer leftStat, DeviceBuffer rightStat, DeviceBuffer leftRoot,
                         DeviceBuffer rightRoot) {}

    private final Blas blas;
    private final ShampooOptions c;
    private final int size;
    private final List<Block> blocks;
    /** AdamWScalarsInDevice of the graft (its lr is unused: the graft direction has none). */
    private final DeviceBuffer graftScalars;
    /** {lr, λ} as ebm_muon_apply_f32 reads them, then the precondition flag ebm_shampoo_graft_norm_f32 reads. */
    private final DeviceBuffer updateScalars;
    private final DeviceBuffer expAvg, expAvgSq, direction, leftProduct, preconditioned, norms, partials, rangePartials, range;
    /** The block's G widened to fp64, the dgemms' operand (null when no block keeps a statistic). */
    private final DeviceBuffer wideGradient;

    /** Host copies of what the CPU keeps as fields: steps taken (this object's schedule of root steps), failures. */
    private long steps;
    private long rootFailures;
    private double condLeftMax = Double.NaN;
    private double condRightMax = Double.NaN;

    DeviceShampoo(KernelLauncher launcher, DeviceKernels kernels, Blas blas, ShampooOptions c, ParamLayout layout) {
        super(launcher, kernels);
        this.blas = blas;
        this.c = c;
        this.size = layout.size();
        List<Block> matrices = new ArrayList<>();
        int largest = 1, largestWithStatistics = 0;
        for (ParamView view : layout.views()) {
            if (!view.isMatrix()) continue;
            int rows = view.rows(), cols = view.cols();
            boolean left = rows <= c.maxPrecondDim(), right = cols <= c.maxPrecondDim();
            String name = view.name();
            matrices.add(new Block(view,
                    left ? launcher.allocate(8L * rows * rows, "Shampoo " + name + ".left_stat (fp64)") : null,
                    right ? launcher.allocate(8L * cols * cols, "Shampoo " + name + ".right_stat (fp64)") : null,
                    left ? launcher.allocate(4L * rows * rows, "Shampoo " + name + ".left_root") : null,
                    right ? launcher.allocate(4L * cols * cols, "Shampoo " + name + ".right_root") : null));
            largest = Math.max(largest, view.size());
            if (left || right) largestWithStatistics = Math.max(largestWithStatistics, view.size());
        }
        blocks = List.copyOf(matrices);
        graftScalars = launcher.allocate(8L * 9, "Shampoo graft scalars");
        updateScalars = launcher.allocate(24, "Shampoo scalars");
        expAvg = launcher.allocate(4L * size, "Shampoo exp_avg");
        expAvgSq = launcher.allocate(4L * size, "Shampoo exp_avg_sq");
        direction = launcher.allocate(4L * size, "Shampoo direction");
        leftProduct = launcher.allocate(4L * largest, "Shampoo L^-1/4 G");
        preconditioned = launcher.allocate(4L * largest, "Shampoo L^-1/4 G R^-1/4");
        norms = launcher.allocate(8L * Math.max(1, blocks.size()), "Shampoo graft and preconditioned norms");
        partials = launcher.allocate(4L * DeviceKernels.DOT_PARTIALS, "reduction partials");
        rangePartials = launcher.allocate(8L * AdamW.RANGE_BLOCKS, "Shampoo graft denominator range partials");
        range = launcher.allocate(8, "Shampoo graft denominator range");
        wideGradient = largestWithStatistics == 0 ? null : launcher.allocate(8L * largestWithStatistics, "Shampoo G (fp64)");
        fill(expAvg, 0f);
        fill(expAvgSq, 0f);
        fill(range, Float.NaN); // no step yet: no spread
        for (Block block : blocks) {
            int rows = block.view.rows(), cols = block.view.cols();
            // statistics start at ε·I, roots at I (the direction is then G itself, still grafted)
            if (block.leftStat != null) launcher.write(block.leftStat, Shampoo.scaledIdentity(rows, c.eps()));
            if (block.rightStat != null) launcher.write(block.rightStat, Shampoo.scaledIdentity(cols, c.eps()));
            if (block.leftRoot != null) identity(block.leftRoot, rows, 1f);
            if (block.rightRoot != null) identity(block.rightRoot, cols, 1f);
        }
        writeGraftScalars(0);
        setLearningRate(1.0);
    }

    private void identity(DeviceBuffer buffer, int n, float diagonal) {
        kernels.setIdentityF32(Grid.over((long) n * n), buffer.address(), n, diagonal);
    }

    /** AdamWScalarsInDevice: step, lr (unused), β₁, β₂, eps, λ (unused: decay is applied with the update), then three the advance fills. */
    private void writeGraftScalars(long stepsTaken) {
        MemorySegment s = MemorySegment.ofArray(new long[9]);
        s.set(ValueLayout.JAVA_LONG, 0, stepsTaken);
        double[] rest = {1.0, c.beta1(), c.beta2(), c.graftEps(), 0.0, Double.NaN, Double.NaN, Double.NaN};
        for (int i = 0; i < rest.length; i++) s.set(ValueLayout.JAVA_DOUBLE, 8 + 8L * i, rest[i]);
        launcher.copyToDevice(s, graftScalars);
    }

    /** This step's lr and λ, and whether it preconditions (the step after {@link #steps}): what changes per step. */
    @Override
    public void setLearningRate(double lrScale) {
        MemorySegment s = MemorySegment.ofArray(new long[3]);
        s.set(ValueLayout.JAVA_DOUBLE, 0, c.lr() * lrScale);
        s.set(ValueLayout.JAVA_DOUBLE, 8, c.weightDecay());
        s.set(ValueLayout.JAVA_LONG, 16, c.preconditions(steps + 1) ? 1 : 0);
        launcher.copyToDevice(s, updateScalars);
    }

    private void gemm(boolean transA, boolean transB, int n, int m, int k, long a, int lda, long b, int ldb, float beta,
                      long out, int ldc) {
        DeviceTape.rowMajorGemm(blas, transA, transB, n, m, k, 1f, a, lda, b, ldb, beta, out, ldc);
    }

    /** The graft direction of every parameter, its denominator range, and the statistics of every matrix. */
    @Override
    public void step(long params, long grad) {
        long n = size;
        kernels.adamwAdvance(Grid.blocks(1), graftScalars.address());
        kernels.adamwDirectionF32(Grid.over(n), grad, expAvg.address(), expAvgSq.address(), n, graftScalars.address(),
                direction.address());
        AdamW.denominatorRange(kernels, expAvgSq, n, graftScalars, rangePartials, range);
        for (Block block : blocks) {
            // statistics accumulate from the first step, so they are warm when preconditioning starts
            if (block.leftStat == null && block.rightStat == null) continue;
            accumulateStatistics(kernels, blas, grad + 4L * block.view.offset(), block.view.rows(), block.view.cols(),
                    wideGradient.address(), block.leftStat, block.rightStat);
        }
    }

    /**
     * left ← GGᵀ + left and right ← GᵀG + right (fp64 [rows x rows] and [cols x cols]; either may be null, as
     * ebm.optim.Shampoo's Gemm calls with β = 1) for the row-major fp32 G [rows x cols] at g: G is widened into
     * wide (8·rows·cols bytes) once, then one dgemm per side. Row-major G is column-major Gᵀ with ld = cols, so
     * GGᵀ is (Gᵀ)ᵀ·Gᵀ (TN) and GᵀG is Gᵀ·(Gᵀ)ᵀ (NT); a symmetric result reads the same in either order.
     */
    public static void accumulateStatistics(DeviceKernels kernels, Blas blas, long g, int rows, int cols, long wide,
                                     DeviceBuffer left, DeviceBuffer right) {
        long n = (long) rows * cols;
        kernels.widenF32F64(Grid.over(n), g, n, wide);
        if (left != null) blas.dgemm(true, false, rows, rows, cols, 1.0, wide, cols, wide, cols, 1.0, left.address(), rows);
        if (right != null) blas.dgemm(false, true, cols, cols, rows, 1.0, wide, cols, wide, cols, 1.0, right.address(), cols);
    }

    @Override
    public boolean splitsStep() {
        return true;
    }

    /** Counts the step and, on a root step, recomputes every matrix's roots from its statistics in fp64. */
    @Override
    public void hostWork() {
        steps++;
        if (!c.refreshesRoots(steps)) return;
        launcher.synchronize();
        double stepCondLeft = Double.NaN, stepCondRight = Double.NaN;
        for (Block block : blocks) {
            int rows = block.view.rows(), cols = block.view.cols();
            Shampoo.Roots roots = Shampoo.inverseRoots(block.leftStat == null ? null : symmetrised(readStat(block.leftStat), rows),
                    rows, block.rightStat == null ? null : symmetrised(readStat(block.rightStat), cols), cols);
            if (roots == null) { // the last good roots stay
                rootFailures++;
                continue;
            }
            if (roots.left() != null) launcher.writeAsFloats(block.leftRoot, roots.left());
            if (roots.right() != null) launcher.writeAsFloats(block.rightRoot, roots.right());
            stepCondLeft = Shampoo.nanMax(stepCondLeft, roots.conditionLeft());
            stepCondRight = Shampoo.nanMax(stepCondRight, roots.conditionRight());
        }
        condLeftMax = stepCondLeft;
        condRightMax = stepCondRight;
    }

    private double[] readStat(DeviceBuffer stat) {
        return launcher.readDoubles(stat, (int) (stat.bytes() / 8));
    }

    /** (S + Sᵀ)/2 in place, row-major n x n; leaves an exactly symmetric S bit for bit as it was. */
    static double[] symmetrised(double[] s, int n) {
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < i; j++) s[i * n + j] = s[j * n + i] = 0.5 * (s[i * n + j] + s[j * n + i]);
        }
        return s;
    }

    /** Per matrix: D = L^{−1/4} G R^{−1/4}, rescaled to the graft direction's norm (from start_step); then the update. */
    @Override
    public void finishStep(long params, long grad) {
        for (int b = 0; b < blocks.size(); b++) {
            Block block = blocks.get(b);
            int rows = block.view.rows(), cols = block.view.cols();
            long n = block.view.size(), offset = 4L * block.view.offset();
            long source = grad + offset;
            if (block.leftRoot != null) {
                gemm(false, false, rows, cols, rows, block.leftRoot.address(), rows, source, cols, 0f, leftProduct.address(), cols);
                source = leftProduct.address();
            }
            if (block.rightRoot != null) {
                gemm(false, false, rows, cols, cols, source, cols, block.rightRoot.address(), cols, 0f, preconditioned.address(), cols);
                source = preconditioned.address();
            }
            long p = source, graftSq = norms.address() + 8L * b, pSq = graftSq + 4, dir = direction.address() + offset;
            kernels.dot(dir, dir, n, partials.address(), graftSq);
            kernels.dot(p, p, n, partials.address(), pSq);
            long flag = updateScalars.address() + 16;
            kernels.shampooGraftNormF32(Grid.over(n), p, n, graftSq, pSq, flag, dir);
        }
        long n = size;
        kernels.muonApplyF32(Grid.over(n), params, direction.address(), n, updateScalars.address(), 1f);
    }

    /**
     * "shampoo_cond_left_max" / "_right_max" (at the last root computation, absent before it or when every matrix
     * failed), "shampoo_root_failures", and the graft's "adam_v_spread" (as ebm.optim.Shampoo).
     */
    @Override
    public Map<String, Double> diagnostics() {
        return Shampoo.diagnostics(condLeftMax, condRightMax, rootFailures, size > 0 ? AdamW.spread(launcher, range) : Double.NaN);
    }

    /** ebm.optim.Shampoo's state names and layout (statistics and roots row-major per matrix). */
    @Override
    public Map<String, double[]> state() {
        long deviceSteps = launcher.readLongs(graftScalars, 1)[0];
        if (deviceSteps != steps) {
            throw new IllegalStateException("Shampoo's step counter is " + deviceSteps + " on the device and " + steps + " on the host");
        }
        Map<String, double[]> state = new LinkedHashMap<>();
        state.put("step", new double[] {steps});
        state.put("root_failures", new double[] {rootFailures});
        state.put("cond_left_max", new double[] {condLeftMax});
        state.put("cond_right_max", new double[] {condRightMax});
        state.put("exp_avg", read(expAvg));
        state.put("exp_avg_sq", read(expAvgSq));
        for (Block block : blocks) {
            String name = block.view.name();
            if (block.leftStat != null) {
                state.put(name + ".left_stat", readStat(block.leftStat));
                state.put(name + ".left_root", read(block.leftRoot));
            }
            if (block.rightStat != null) {
                state.put(name + ".right_stat", readStat(block.rightStat));
                state.put(name + ".right_root", read(block.rightRoot));
            }
        }
        return state;
    }

    @Override
    public void loadState(Map<String, double[]> state) {
        // every entry is checked before anything changes, so a bad state leaves the optimizer as it was
        long loadedSteps = counter(state, "step");
        long loadedFailures = counter(state, "root_failures");
        double loadedCondLeft = single(state, "cond_left_max");
        double loadedCondRight = single(state, "cond_right_max");
        List<String> keys = new ArrayList<>(List.of("exp_avg", "exp_avg_sq"));
        List<DeviceBuffer> buffers = new ArrayList<>(List.of(expAvg, expAvgSq));
        for (Block block : blocks) {
            String name = block.view.name();
            if (block.leftStat != null) {
                keys.addAll(List.of(name + ".left_stat", name + ".left_root"));
                buffers.addAll(List.of(block.leftStat, block.leftRoot));
            }
            if (block.rightStat != null) {
                keys.addAll(List.of(name + ".right_stat", name + ".right_root"));
                buffers.addAll(List.of(block.rightStat, block.rightRoot));
            }
        }
        for (int k = 0; k < keys.size(); k++) {
            double[] values = state.get(keys.get(k));
            long expected = buffers.get(k).bytes() / (keys.get(k).endsWith("_stat") ? 8 : 4);
            if (values == null || values.length != expected) {
                throw new EbmException("optimizer state '" + keys.get(k) + "' is " + (values == null ? "missing" : "of length "
                        + values.length) + ", expected " + expected + " values");
            }
        }
        for (int k = 0; k < keys.size(); k++) {
            if (keys.get(k).endsWith("_stat")) launcher.write(buffers.get(k), state.get(keys.get(k)));
            else write(buffers.get(k), state, keys.get(k));
        }
        steps = loadedSteps;
        rootFailures = loadedFailures;
        condLeftMax = loadedCondLeft;
        condRightMax = loadedCondRight;
        writeGraftScalars(loadedSteps);
        fill(range, Float.NaN);
    }

    private static double single(Map<String, double[]> state, String key) {
        double[] v = state.get(key);
        if (v == null || v.length != 1) throw new EbmException("optimizer state has no '" + key + "' value");
        return v[0];
    }

    @Override
    public long stateBytes() {
        long bytes = expAvg.bytes() + expAvgSq.bytes() + direction.bytes() + leftProduct.bytes() + preconditioned.bytes()
                + (wideGradient == null ? 0 : wideGradient.bytes());
        for (Block block : blocks) {
            for (DeviceBuffer buffer : new DeviceBuffer[] {block.leftStat, block.rightStat, block.leftRoot, block.rightRoot}) {
                if (buffer != null) bytes += buffer.bytes();
            }
        }
        return bytes;
    }
}
