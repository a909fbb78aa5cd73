package ebm.backend.cuda.kernels;

import ebm.backend.cuda.bindings.Dim3;
import ebm.backend.cuda.bindings.KernelFunction;
import ebm.backend.cuda.runtime.KernelArgs;
import ebm.backend.cuda.runtime.KernelLauncher;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The kernels of kernels/ on one launcher. Each {@code extern "C"} entry point has one typed method here, named after
 * it ({@code ebm_combine_f32} is {@link #combineF32}), taking its {@link Grid} first and then exactly the kernel's C
 * parameters, in order, under their names in camelCase: a pointer or {@code long long} as a long (a device address
 * or a count), an {@code int} or {@code uint32_t} as an int, a float as a float. KernelSignaturesTest holds every
 * method to its C signature and marshalling, so an argument out of order or of the wrong size fails a test rather
 * than a launch.
 *
 * <p>One class with a section per kernels/*.cu file, in file order, rather than a class per file: every caller needs
 * entries of several families (the tape alone uses five), each entry is a one-line marshal with no state of its own,
 * and one object keeps the launch path private and the launch count in one place. Functions are looked up once, every
 * launch is queued on the launcher (so a step can be captured) and counted, so a step can say how many launches it
 * takes. The few compositions every caller needs (fill, copy, dot, row reductions) come first.
 */
public final class DeviceKernels {
    /** Floats of scratch a {@link #dot} needs for its block partials. */
    public static final int DOT_PARTIALS = 256;

    private final KernelLauncher launcher;
    /** Whether each launch waits for its kernel (parity checks: a fault then surfaces at the check that caused it). */
    private final boolean waits;
    private final Map<String, KernelFunction> functions = new HashMap<>();
    private long launches;

    /** Launches queued without waiting, as the training step and the sampler need for capture. */
    public DeviceKernels(KernelLauncher launcher) {
        this(launcher, false);
    }

    private DeviceKernels(KernelLauncher launcher, boolean waits) {
        this.launcher = launcher;
        this.waits = waits;
    }

    /** Kernels whose every launch waits for the kernel to finish ({@link KernelLauncher#launch}). */
    public static DeviceKernels waiting(KernelLauncher launcher) {
        return new DeviceKernels(launcher, true);
    }

    public KernelLauncher launcher() {
        return launcher;
    }

    /**
     * The one launch path, for the typed entries below: `args` writes the kernel's parameters in the order and sizes
     * of its C signature (KernelSignaturesTest checks every entry against kernels/*.cu).
     */
    private void launch(Grid grid, String kernel, Consumer<KernelArgs> args) {
        KernelFunction f = functions.computeIfAbsent(kernel, launcher::function);
        try (KernelArgs a = new KernelArgs()) {
            args.accept(a);
            Dim3 blocks = Dim3.of(grid.blocks()), threads = Dim3.of(grid.threads());
            if (waits) launcher.launch(f, blocks, threads, grid.sharedBytes(), a);
            else launcher.launchAsync(f, blocks, threads, grid.sharedBytes(), a);
        }
        launches++;
    }

    /**
     * Threads per block of ebm_row_reduce_f32 for rows of m elements: the power of two at or above m, from one warp
     * up to 1024 (a short row leaves no block mostly idle; a long one gets the most threads a block has). It depends
     * on m alone, so a row's sum is the same bits whatever the number of rows or blocks.
     */
    public static int rowReduceThreads(long m) {
        int threads = 32;
        while (threads < m && threads < 1024) threads <<= 1;
        return threads;
    }

    /**
     * out[i] ⊕= scale · Σ_j x[i, j] · (y ? y[i, j] : 1) over the n rows of m elements (y = 0 for none): one block per
     * row (kernels/reduce.cu), at most {@link Grid#MAX_BLOCKS} blocks striding over the rows.
     */
    public void rowReduce(long x, long y, long n, long m, float scale, boolean accumulate, long out) {
        int blocks = (int) Math.max(1, Math.min(Grid.MAX_BLOCKS, n));
        rowReduceF32(Grid.of(blocks, rowReduceThreads(m), 0), x, y, n, m, scale, accumulate ? 1 : 0, out);
    }

    /**
     * *count (a uint64 in device memory) = the number of NaN and ±inf among x[0..n): zeroed, then counted by
     * kernels/reduce.cu's ebm_count_nonfinite_f32, without copying x to the host.
     */
    public void countNonFinite(long x, long n, long count) {
        fill(count, 2, 0f); // two fp32 zeros are the 64-bit zero
        countNonfiniteF32(Grid.blocks(Math.min(DOT_PARTIALS, Grid.blocksFor(n))), x, n, count);
    }

    /** out[0..n) = value. */
    public void fill(long out, long n, float value) {
        fillF32(Grid.over(n), out, n, value);
    }

    /** to[0..n) = from[0..n). */
    public void copy(long from, long to, long n) {
        combineF32(Grid.over(n), from, 0, n, 1f, 0f, 0, to);
    }

    /**
     * *out = Σ x·y over n elements: block partials into `partials` ({@link #DOT_PARTIALS} floats), then one block
     * over them; no atomics, so the same bits on every run.
     */
    public void dot(long x, long y, long n, long partials, long out) {
        int blocks = Math.min(DOT_PARTIALS, Grid.blocksFor(n));
        reduceDotF32(Grid.blocks(blocks), x, y, n, 1f, partials);
        reduceSumF32(Grid.blocks(1), partials, blocks, 1f, out);
    }

    /** Kernel launches so far (GEMMs are counted by the caller). */
    public long launches() {
        return launches;
    }

    // ================================================================ typed entries, one section per kernels/*.cu file

    // ---- activation.cu ----------------------------------------------------------------------------------------------
    // The fused bias + activation (σ, σ′, σ″, σ‴ in four planes of rows·cols) and its adjoint.

    /** z = pre + bias (a row), then σ⁽ᵏ⁾(z) into plane k of out (four planes of rows·cols). */
    public void biasActivationF32(Grid grid, long pre, long bias, long rows, long cols, int activation, long out) {
        launch(grid, "ebm_bias_activation_f32", args -> args.i64(pre).i64(bias).i64(rows).i64(cols).i32(activation)
                .i64(out));
    }

    /** gz = g0·σ′ + g1·σ″ + g2·σ‴ from the planes (a null g_k: nothing reached that order). */
    public void activationAdjointF32(Grid grid, long planes, long g0, long g1, long g2, long n, long gz) {
        launch(grid, "ebm_activation_adjoint_f32", args -> args.i64(planes).i64(g0).i64(g1).i64(g2).i64(n).i64(gz));
    }

    // ---- adamw.cu ---------------------------------------------------------------------------------------------------
    // AdamW over the flat fp32 buffer, Shampoo's graft direction and adam_v_spread's block partials; s is an
    // AdamWScalarsInDevice (step, lr, betas, eps, λ and what the advance derives from them).

    /** One thread: step += 1, then the decay factor and bias corrections from the lr in device memory. */
    public void adamwAdvance(Grid grid, long s) {
        launch(grid, "ebm_adamw_advance", args -> args.i64(s));
    }

    /** The fused AdamW step over n parameters, after {@link #adamwAdvance}. */
    public void adamwStepF32(Grid grid, long params, long grad, long expAvg, long expAvgSq, long n, long s) {
        launch(grid, "ebm_adamw_step_f32", args -> args.i64(params).i64(grad).i64(expAvg).i64(expAvgSq).i64(n).i64(s));
    }

    /** The moments as {@link #adamwStepF32}, and the bias-corrected step without lr into out (Shampoo's graft). */
    public void adamwDirectionF32(Grid grid, long grad, long expAvg, long expAvgSq, long n, long s, long out) {
        launch(grid, "ebm_adamw_direction_f32", args -> args.i64(grad).i64(expAvg).i64(expAvgSq).i64(n).i64(s)
                .i64(out));
    }

    /** Block b writes the min and max of √v̂ + eps over its slice into partials[2b], partials[2b + 1]. */
    public void adamwDenominatorRangeF32(Grid grid, long expAvgSq, long n, long s, long partials) {
        launch(grid, "ebm_adamw_denominator_range_f32", args -> args.i64(expAvgSq).i64(n).i64(s).i64(partials));
    }

    // ---- denoising.cu -----------------------------------------------------------------------------------------------
    // The noised batch and the target of (annealed) denoising score matching.

    /** noisy = x + σ·eps, target = eps/σ. */
    public void denoisingInputsF32(Grid grid, long x, long eps, long n, float sigma, long noisy, long target) {
        launch(grid, "ebm_denoising_inputs_f32", args -> args.i64(x).i64(eps).i64(n).f32(sigma).i64(noisy).i64(target));
    }

    /** noisy = x + σ_l·eps, each row's level l drawn from `stream` with the key at `key`. */
    public void annealedDenoisingInputsF32(Grid grid, long x, long eps, long batch, long d, long sigmas, int levels,
            int stream, long key, long noisy) {
        launch(grid, "ebm_annealed_denoising_inputs_f32", args -> args.i64(x).i64(eps).i64(batch).i64(d).i64(sigmas)
                .i32(levels).i32(stream).i64(key).i64(noisy));
    }

    // ---- elementwise.cu ---------------------------------------------------------------------------------------------
    // The device tape's elementwise and row-broadcast ops, the fills, the clipping scale, the fp32 → fp64 widening;
    // accumulate is 0 (out = f) or 1 (out += f).

    /** out[0..n) = value. */
    public void fillF32(Grid grid, long out, long n, float value) {
        launch(grid, "ebm_fill_f32", args -> args.i64(out).i64(n).f32(value));
    }

    /** out ⊕= alpha·a + beta·b (b null: alpha·a). */
    public void combineF32(Grid grid, long a, long b, long n, float alpha, float beta, int accumulate, long out) {
        launch(grid, "ebm_combine_f32", args -> args.i64(a).i64(b).i64(n).f32(alpha).f32(beta).i32(accumulate)
                .i64(out));
    }

    /** out ⊕= a ⊙ b. */
    public void mulF32(Grid grid, long a, long b, long n, int accumulate, long out) {
        launch(grid, "ebm_mul_f32", args -> args.i64(a).i64(b).i64(n).i32(accumulate).i64(out));
    }

    /** out[r, c] = a[r, c] + row[c]. */
    public void addRowF32(Grid grid, long a, long row, long rows, long cols, long out) {
        launch(grid, "ebm_add_row_f32", args -> args.i64(a).i64(row).i64(rows).i64(cols).i64(out));
    }

    /** out[r, c] ⊕= a[r, c] · row[c]. */
    public void mulRowF32(Grid grid, long a, long row, long rows, long cols, int accumulate, long out) {
        launch(grid, "ebm_mul_row_f32", args -> args.i64(a).i64(row).i64(rows).i64(cols).i32(accumulate).i64(out));
    }

    /** out[c, r] ⊕= a[r, c] (out is [cols x rows]). */
    public void transposeF32(Grid grid, long a, long rows, long cols, int accumulate, long out) {
        launch(grid, "ebm_transpose_f32", args -> args.i64(a).i64(rows).i64(cols).i32(accumulate).i64(out));
    }

    /** out[0..n) = (double) x[0..n). */
    public void widenF32F64(Grid grid, long x, long n, long out) {
        launch(grid, "ebm_widen_f32_f64", args -> args.i64(x).i64(n).i64(out));
    }

    /** g ← g · min(1, clip/‖g‖), with ‖g‖² read from device memory. */
    public void clipScaleF32(Grid grid, long g, long n, long normSquared, float clip) {
        launch(grid, "ebm_clip_scale_f32", args -> args.i64(g).i64(n).i64(normSquared).f32(clip));
    }

    // ---- grouped.cu -------------------------------------------------------------------------------------------------
    // Grouped tensors [n·r x m] (row b·r + k is direction k of sample b): the per-direction ops and their adjoints;
    // a null (0) y or t stands for ones, accumulate is 0 or 1.

    /** out[b, j] ⊕= scale · Σ_k x[b·r+k, j] · (y ? y[b·r+k, j] : 1). */
    public void groupedReduceF32(Grid grid, long x, long y, long n, long r, long m, float scale, int accumulate,
            long out) {
        launch(grid, "ebm_grouped_reduce_f32", args -> args.i64(x).i64(y).i64(n).i64(r).i64(m).f32(scale)
                .i32(accumulate).i64(out));
    }

    /** out[b·r+k, j] ⊕= scale · a[b, j] · (t ? t[b·r+k, j] : 1). */
    public void groupedBroadcastF32(Grid grid, long a, long t, long n, long r, long m, float scale, int accumulate,
            long out) {
        launch(grid, "ebm_grouped_broadcast_f32", args -> args.i64(a).i64(t).i64(n).i64(r).i64(m).f32(scale)
                .i32(accumulate).i64(out));
    }

    /** out[b·r+k, j] = a[b, j] · c[k, j]. */
    public void sharedMulF32(Grid grid, long a, long c, long n, long r, long m, long out) {
        launch(grid, "ebm_shared_mul_f32", args -> args.i64(a).i64(c).i64(n).i64(r).i64(m).i64(out));
    }

    /** ga[b, j] += Σ_k g[b·r+k, j] · c[k, j]. */
    public void sharedMulAdjointAF32(Grid grid, long g, long c, long n, long r, long m, long ga) {
        launch(grid, "ebm_shared_mul_adjoint_a_f32", args -> args.i64(g).i64(c).i64(n).i64(r).i64(m).i64(ga));
    }

    /** gc[k, j] += Σ_b g[b·r+k, j] · a[b, j]. */
    public void sharedMulAdjointCF32(Grid grid, long g, long a, long n, long r, long m, long gc) {
        launch(grid, "ebm_shared_mul_adjoint_c_f32", args -> args.i64(g).i64(a).i64(n).i64(r).i64(m).i64(gc));
    }

    // ---- hutchpp.cu -------------------------------------------------------------------------------------------------
    // Hutch++'s sketch inputs and per-sample directions (one block per sample).

    /** Rows b·sketch + k of xRep and s: x_b and draw row b·perSample + k. */
    public void hutchppSketchInputsF32(Grid grid, long x, long draws, long batch, long d, long sketch, long perSample,
            long xRep, long s) {
        launch(grid, "ebm_hutchpp_sketch_inputs_f32", args -> args.i64(x).i64(draws).i64(batch).i64(d).i64(sketch)
                .i64(perSample).i64(xRep).i64(s));
    }

    /**
     * Per sample (a block each): Q of the sketch Y over the sketch rows of directions, the other probes
     * projected by I − QQᵀ and scaled by restScale.
     */
    public void hutchppDirectionsF32(Grid grid, long y, long batch, long d, long sketch, long perSample,
            float restScale, long directions) {
        launch(grid, "ebm_hutchpp_directions_f32", args -> args.i64(y).i64(batch).i64(d).i64(sketch).i64(perSample)
                .f32(restScale).i64(directions));
    }

    // ---- langevin.cu ------------------------------------------------------------------------------------------------
    // One Langevin step of every chain; s is a LangevinChainState (key, step, the level's coefficients).

    /** One thread: step += 1 and the step's level coefficients from the table of levelCount levels. */
    public void langevinAdvance(Grid grid, long s, long levels, int levelCount) {
        launch(grid, "ebm_langevin_advance", args -> args.i64(s).i64(levels).i32(levelCount));
    }

    /** x += a·gradX + b·ξ, ξ from `stream` at the state's key and step. */
    public void langevinStepF32(Grid grid, long x, long gradX, long n, int stream, long s) {
        launch(grid, "ebm_langevin_step_f32", args -> args.i64(x).i64(gradX).i64(n).i32(stream).i64(s));
    }

    // ---- newton_schulz.cu -------------------------------------------------------------------------------------------
    // The elementwise pieces of the GEMM-only iterations (row-space factor, Muon's Newton–Schulz) and Muon's
    // momentum and update.

    /** out = value · I (n x n). */
    public void setIdentityF32(Grid grid, long out, long n, float value) {
        launch(grid, "ebm_set_identity_f32", args -> args.i64(out).i64(n).f32(value));
    }

    /** out = x · (*scalar)^exponent. */
    public void scaleByPowerF32(Grid grid, long x, long n, long scalar, float exponent, long out) {
        launch(grid, "ebm_scale_by_power_f32", args -> args.i64(x).i64(n).i64(scalar).f32(exponent).i64(out));
    }

    /** b ← μb + (1 − μ)g into buffer; update = (1 − μ)g + μb (nesterov) or b. */
    public void muonMomentumF32(Grid grid, long grad, long buffer, long n, float mu, int nesterov, long update) {
        launch(grid, "ebm_muon_momentum_f32", args -> args.i64(grad).i64(buffer).i64(n).f32(mu).i32(nesterov)
                .i64(update));
    }

    /** out = x / (√(*sumSquares) + eps). */
    public void normalizeF32(Grid grid, long x, long n, long sumSquares, float eps, long out) {
        launch(grid, "ebm_normalize_f32", args -> args.i64(x).i64(n).i64(sumSquares).f32(eps).i64(out));
    }

    /** θ ← θ(1 − lr·λ) − lr·scale·orthogonal, lr and λ from a MuonScalarsInDevice at s. */
    public void muonApplyF32(Grid grid, long params, long orthogonal, long n, long s, float scale) {
        launch(grid, "ebm_muon_apply_f32", args -> args.i64(params).i64(orthogonal).i64(n).i64(s).f32(scale));
    }

    // ---- probes.cu --------------------------------------------------------------------------------------------------
    // Elements first .. first+n-1 of the Philox stream (seed, step, stream), the key a PhiloxKeyInDevice in device
    // memory; one thread per Philox block of four elements.

    /** Raw uint32 words. */
    public void probesWordsU32(Grid grid, long out, long n, long first, int stream, long key) {
        launch(grid, "ebm_probes_words_u32", args -> args.i64(out).i64(n).i64(first).i32(stream).i64(key));
    }

    /** ±1 signs, fp32. */
    public void probesRademacherF32(Grid grid, long out, long n, long first, int stream, long key) {
        launch(grid, "ebm_probes_rademacher_f32", args -> args.i64(out).i64(n).i64(first).i32(stream).i64(key));
    }

    /** Gaussians from Box–Muller, fp32. */
    public void probesGaussianF32(Grid grid, long out, long n, long first, int stream, long key) {
        launch(grid, "ebm_probes_gaussian_f32", args -> args.i64(out).i64(n).i64(first).i32(stream).i64(key));
    }

    /** Gaussians from Box–Muller, fp64. */
    public void probesGaussianF64(Grid grid, long out, long n, long first, int stream, long key) {
        launch(grid, "ebm_probes_gaussian_f64", args -> args.i64(out).i64(n).i64(first).i32(stream).i64(key));
    }

    // ---- reduce.cu --------------------------------------------------------------------------------------------------
    // Block tree reductions (blocks of a power of two up to 1024 threads) and the non-finite count.

    /** Block b writes out[b] = scale · Σ of its grid-stride slice of x. */
    public void reduceSumF32(Grid grid, long x, long n, float scale, long out) {
        launch(grid, "ebm_reduce_sum_f32", args -> args.i64(x).i64(n).f32(scale).i64(out));
    }

    /** Block b writes out[b] = scale · Σ x·y over its grid-stride slice. */
    public void reduceDotF32(Grid grid, long x, long y, long n, float scale, long out) {
        launch(grid, "ebm_reduce_dot_f32", args -> args.i64(x).i64(y).i64(n).f32(scale).i64(out));
    }

    /** One block: out[0] = min of pairs[2i], out[1] = max of pairs[2i + 1] over count pairs. */
    public void reduceMinMaxF32(Grid grid, long pairs, long count, long out) {
        launch(grid, "ebm_reduce_min_max_f32", args -> args.i64(pairs).i64(count).i64(out));
    }

    /** out[i] ⊕= scale · Σ_j x[i·m + j] · (y ? y[i·m + j] : 1), one block per row. */
    public void rowReduceF32(Grid grid, long x, long y, long n, long m, float scale, int accumulate, long out) {
        launch(grid, "ebm_row_reduce_f32", args -> args.i64(x).i64(y).i64(n).i64(m).f32(scale).i32(accumulate)
                .i64(out));
    }

    /** *count += the number of NaN and ±inf among x[0..n) (a uint64 in device memory). */
    public void countNonfiniteF32(Grid grid, long x, long n, long count) {
        launch(grid, "ebm_count_nonfinite_f32", args -> args.i64(x).i64(n).i64(count));
    }

    // ---- sgd.cu -----------------------------------------------------------------------------------------------------
    // SGD with momentum over the flat fp32 buffer; s is an SgdScalarsInDevice (step, lr, momentum, ...).

    /** The SGD step over n parameters (momentumBuffer null without momentum), before {@link #sgdAdvance}. */
    public void sgdStepF32(Grid grid, long params, long grad, long momentumBuffer, long n, long s) {
        launch(grid, "ebm_sgd_step_f32", args -> args.i64(params).i64(grad).i64(momentumBuffer).i64(n).i64(s));
    }

    /** One thread: step += 1. */
    public void sgdAdvance(Grid grid, long s) {
        launch(grid, "ebm_sgd_advance", args -> args.i64(s));
    }

    // ---- shampoo.cu -------------------------------------------------------------------------------------------------
    // The graft rescaling of one block's preconditioned direction.

    /** direction = (‖graft‖/‖P‖)·P from the squared norms in device memory, once *precondition != 0. */
    public void shampooGraftNormF32(Grid grid, long preconditioned, long n, long graftSq, long preconditionedSq,
            long precondition, long direction) {
        launch(grid, "ebm_shampoo_graft_norm_f32", args -> args.i64(preconditioned).i64(n).i64(graftSq)
                .i64(preconditionedSq).i64(precondition).i64(direction));
    }
}
