package ebm.backend.cuda.parity;

import ebm.backend.cuda.kernels.DeviceKernels;
import ebm.backend.cuda.optim.DeviceShampoo;
import ebm.backend.cuda.runtime.Blas;
import ebm.backend.cuda.runtime.CublasBlas;
import ebm.backend.cuda.runtime.DeviceArena;
import ebm.backend.cuda.runtime.DeviceBuffer;
import ebm.backend.cuda.runtime.DriverLauncher;
import ebm.backend.cuda.runtime.Fp32;
import ebm.backend.cuda.runtime.HostBlas;
import ebm.backend.cuda.runtime.KernelLauncher;
import ebm.backend.cuda.step.CudaTrainingStep;
import ebm.backend.cuda.tape.DeviceNode;
import ebm.backend.cuda.tape.DeviceTape;
import ebm.model.Mlp;
import ebm.model.MlpSpec;
import ebm.model.TraceAlgorithm;
import ebm.objective.AnnealedDenoisingObjective;
import ebm.objective.DenoisingObjective;
import ebm.objective.ExactObjective;
import ebm.objective.HutchPlusPlusObjective;
import ebm.objective.HutchinsonObjective;
import ebm.objective.Objective;
import ebm.objective.ProbeDistribution;
import ebm.objective.SlicedObjective;
import ebm.optim.AdamWOptions;
import ebm.optim.MuonOptions;
import ebm.optim.Optimizer;
import ebm.optim.OptimizerSpec;
import ebm.optim.Optimizers;
import ebm.optim.SgdOptions;
import ebm.optim.ShampooOptions;
import ebm.tape.Activation;
import ebm.tape.Node;
import ebm.tape.OpTable;
import ebm.tape.Tape;
import ebm.tape.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The GPU backend's composite work against the fp64 CPU reference on fresh random inputs, through any launcher
 * and {@link Blas}: every op of the op interface, written once and run on the {@link DeviceTape} and on the CPU
 * {@link Tape} (value and the adjoint of each input, under a random linear loss), each objective's loss and parameter gradient, and whole training steps
 * (objective, clipping, optimizer) against the CPU step. Used by the parity tests and `ebm validate`.
 *
 * Tolerances and why:
 * <ul>
 *   <li>Tape ops, fp32: 1e-5 of ‖ref‖ for the value and each adjoint. Inputs are rounded to fp32 (6e-8) and each
 *       output element is a few roundings, or a dot product of ≤ 64 terms (√64·6e-8 ≈ 5e-7 with cuBLAS's fp32
 *       accumulation).</li>
 *   <li>Objectives, fp32: 1e-4 of ‖∇θ‖ and of the loss against max(|loss|, L₁) (L₁ the mean of |ΔE| + ½‖∇ₓE‖²:
 *       −ΔE + ½‖∇E‖² partly cancels, so the loss alone can be far smaller than the terms whose rounding it carries).
 *       The exact Laplacian passes through ~20 ops per layer; measured 1e-7..3e-6 through the host build. Hutch++ rows with a sketch also
 *       take the device's basis Q against the CPU's fp64 sketch Y = ∇²E·S: ‖(I − QQᵀ)Y‖/‖Y‖ per sample and
 *       |QᵀQ − I|, rounding-level for an fp32 Householder QR (~1e-7), under the same tolerance.</li>
 *   <li>Objectives with TF32 GEMMs (config `precision: tf32`): 1.5e-2, of the loss against max(|loss|, L₁) (L₁ the
 *       mean of |ΔE| + ½‖∇ₓE‖², since a fresh net's loss is a near-cancelling difference of the two) and of ‖∇θ‖.
 *       Each GEMM operand is rounded to 10 mantissa bits (2^-11 relative) and the errors of the forward, direction
 *       and backward GEMMs compound; measured through the host GEMM (RNE rounding) over 20 draws each of exact,
 *       hutchinson-2 and denoising on the quickstart's model (D=2, 64×64) and a D=64 one: worst loss 1.6e-3,
 *       gradient 9.6e-4; over the 330 seeds of `validate --emulated --seed 1..330` the worst loss was 6.2e-3 (exact on
 *       the quickstart's model, seed 159, a loss of 3e-4 on terms of 2e-3). A GPU may truncate the operands instead
 *       (up to 2× the error), hence 1.5e-2.</li>
 *   <li>BF16 GEMMs (`precision: bf16`): 5e-2 by the same measures (7 mantissa bits, 2^-8 relative); measured worst
 *       loss 1.9e-2, gradient 7.7e-3.</li>
 *   <li>Training steps, fp32 against fp64 for 5 steps: the per-step loss within 1e-4 of max(|loss|, L₁), the parameters'
 *       total change within 1e-3 of its norm (θ itself is stored in fp32, whose rounding alone is ~2e-5 of a
 *       5-step update, as in the AdamW check). Shampoo's statistics are fp64 on the device too (DeviceShampoo says
 *       why: in fp32 these rows measured 6e-3..9e-2), so its rows meet the same tolerance (measured ~2e-6).</li>
 *   <li>Optimizer diagnostics after those steps (same keys on both sides; metrics.jsonl's values): adam_v_spread and
 *       muon_orthogonality_error within 1e-4 relative (a ratio of fp32 denominators, each a few roundings of a
 *       moment that carries the fp32 gradient's ~1e-6 error; ‖XXᵀ − I‖ of an fp32 Newton–Schulz result; measured
 *       1e-8..1e-6); Shampoo's condition numbers within 1e-3 (fp64 eigenvalues of statistics built from the fp32
 *       gradient: λmin moves by up to ~2·1e-6·√κ relative, κ ~ 1e7 here; measured ~4e-6); root failures equal.</li>
 * </ul>
 */
public final class StepParityChecks extends DeviceChecks {
    private static final double OP_TOLERANCE = 1e-5;
    private static final double OBJECTIVE_TOLERANCE = 1e-4;
    private static final double TF32_OBJECTIVE_TOLERANCE = 1.5e-2;
    private static final double BF16_OBJECTIVE_TOLERANCE = 5e-2;

    public StepParityChecks(KernelLauncher launcher, Blas blas, long seed) {
        super(launcher, blas, seed);
    }

    public List<ParityResult> all() {
        List<ParityResult> results = new ArrayList<>(tapeOps());
        results.addAll(objectives());
        results.addAll(precisions());
        results.addAll(trainingSteps());
        results.addAll(sketchObjectives());
        return results;
    }

    // ---- tape ops -------------------------------------------------------------------------------------------------

    /** Every op of {@link OpTable}, its recipe run on this device tape and on the CPU tape. */
    public List<ParityResult> tapeOps() {
        List<ParityResult> results = new ArrayList<>();
        for (OpTable.Op op : OpTable.all()) results.add(tapeOp(op));
        return results;
    }

    private ParityResult tapeOp(OpTable.Op op) {
        int inputs = op.inputShapes().length;
        float[][] values = new float[inputs][];
        Tape tape = new Tape();
        Node[] cpuInputs = new Node[inputs];
        for (int i = 0; i < inputs; i++) {
            int[] shape = op.inputShapes()[i];
            values[i] = gaussianFloats(shape[0] * shape[1]);
            cpuInputs[i] = tape.variable(Fp32.toDoubles(values[i]), shape[0], shape[1]);
        }
        Node cpuOut = (Node) op.recipe().apply(OpTable.erased(tape), cpuInputs);
        float[] weights = gaussianFloats(cpuOut.size());
        tape.backward(tape.sum(tape.mul(cpuOut, tape.constant(Fp32.toDoubles(weights), cpuOut.rows, cpuOut.cols))));

        DeviceArena arena = new DeviceArena(launcher);
        DeviceKernels kernels = new DeviceKernels(launcher);
        DeviceTape tapeOnDevice = new DeviceTape(kernels, blas, arena);
        DeviceNode[] deviceInputs = new DeviceNode[inputs];
        DeviceBuffer[] grads = new DeviceBuffer[inputs];
        for (int i = 0; i < inputs; i++) {
            int[] shape = op.inputShapes()[i];
            DeviceBuffer value = arena.allocate(4L * values[i].length, "input");
            launcher.write(value, values[i]);
            grads[i] = arena.allocate(4L * values[i].length, "input adjoint");
            tapeOnDevice.fill(grads[i].address(), values[i].length, 0f);
            deviceInputs[i] = tapeOnDevice.variable(value.address(), grads[i].address(), shape[0], shape[1]);
        }
        DeviceNode deviceOut = (DeviceNode) op.recipe().apply(OpTable.erased(tapeOnDevice), deviceInputs);
        DeviceBuffer weightBuffer = arena.allocate(4L * weights.length, "weights");
        launcher.write(weightBuffer, weights);
        tapeOnDevice.backward(tapeOnDevice.sum(tapeOnDevice.mul(deviceOut, tapeOnDevice.constant(weightBuffer.address(), deviceOut.rows, deviceOut.cols))));
        launcher.synchronize();

        double[] gotOut = launcher.readFloatsAsDoubles(new DeviceBuffer(deviceOut.address(), deviceOut.bytes()), (int) deviceOut.size());
        double worst = KernelParityChecks.normRelative(gotOut, cpuOut.value);
        String problem = KernelParityChecks.problems(gotOut);
        List<String> pairs = new ArrayList<>(KernelParityChecks.worstPairs(gotOut.length,
                i -> Math.abs(gotOut[i] - cpuOut.value[i]), i -> gotOut[i], i -> cpuOut.value[i]).subList(0, 1));
        for (int i = 0; i < inputs; i++) {
            double[] got = launcher.readFloatsAsDoubles(grads[i], values[i].length);
            double[] want = cpuInputs[i].grad();
            worst = Math.max(worst, KernelParityChecks.normRelative(got, want));
            if (Double.isNaN(KernelParityChecks.normRelative(got, want))) worst = Double.NaN;
            if (problem == null) problem = KernelParityChecks.problems(got) == null ? null : "adjoint " + i + ": " + KernelParityChecks.problems(got);
            pairs.add("adjoint " + i + " " + KernelParityChecks.worstPairs(got.length, j -> Math.abs(got[j] - want[j]),
                    j -> got[j], j -> want[j]).getFirst());
        }
        StringBuilder shapes = new StringBuilder();
        for (int[] s : op.inputShapes()) shapes.append(shapes.isEmpty() ? "" : ", ").append(s[0]).append('x').append(s[1]);
        return new ParityResult("tape " + op.name(), shapes.toString(), "fp32", worst, OP_TOLERANCE,
                "‖Δ‖/‖ref‖ of value, adjoints", problem, pairs);
    }

    // ---- objectives -----------------------------------------------------------------------------------------------

    public List<ParityResult> objectives() {
        long seed = random.nextLong();
        List<Objective> objectives = List.of(new ExactObjective(TraceAlgorithm.PER_DIMENSION), new ExactObjective(TraceAlgorithm.ROW_SPACE),
                new HutchinsonObjective(3, ProbeDistribution.GAUSSIAN, seed), new HutchinsonObjective(2, ProbeDistribution.RADEMACHER, seed),
                new SlicedObjective(2, ProbeDistribution.GAUSSIAN, seed), new DenoisingObjective(0.3, seed),
                // Hutch++: 2 sketch + 2 probes, 1 + 2, and 0 + 2 (plain Hutchinson through the same path)
                new HutchPlusPlusObjective(6, ProbeDistribution.GAUSSIAN, seed), new HutchPlusPlusObjective(4, ProbeDistribution.RADEMACHER, seed),
                new HutchPlusPlusObjective(2, ProbeDistribution.GAUSSIAN, seed),
                new AnnealedDenoisingObjective(AnnealedDenoisingObjective.geometricLevels(1.0, 0.05, 4), seed));
        return objectiveRows(objectives, 0);
    }

    /**
     * Hutch++ with 3 and 4 sketch vectors at D = 9 (3 at D = 3, where s ≤ D caps it), the QR's columns past the
     * second, where a race in hutchpp.cu once left Q orthonormal but not spanning Y; their rows check the span. Run
     * last by {@link #all()}, so that adding them left every earlier row's random inputs as they were.
     */
    public List<ParityResult> sketchObjectives() {
        long seed = random.nextLong();
        return objectiveRows(List.of(new HutchPlusPlusObjective(9, ProbeDistribution.GAUSSIAN, seed),
                new HutchPlusPlusObjective(12, ProbeDistribution.GAUSSIAN, seed)), 1);
    }

    private List<ParityResult> objectiveRows(List<Objective> objectives, int firstActivation) {
        List<ParityResult> results = new ArrayList<>();
        Activation[] activations = Activation.values();
        int index = firstActivation;
        for (Objective objective : objectives) {
            // two shapes: D < H₁ and D > H₁; activations rotate so each objective meets two of them
            for (int[] shape : new int[][] {{3, 8, 6}, {9, 5, 7}}) {
                Activation act = activations[index++ % activations.length];
                results.add(objective(objective, new MlpSpec(shape[0], new int[] {shape[1], shape[2]}, act), 10, blas,
                        OBJECTIVE_TOLERANCE));
            }
        }
        return results;
    }

    /**
     * The loss error is taken against max(|loss|, L₁), L₁ = mean_b(|ΔE_b| + ½‖∇ₓE_b‖²): the score-matching loss of a
     * fresh net is a small difference of those terms (4e-5 seen for hutch++-4 on tanh, where |Δloss|/|loss| measured
     * 2e-4 to 4e-4 of cancellation in 2 of 70 seeds), so |Δloss|/|loss| would measure the cancellation, not the
     * device's arithmetic.
     */
    private ParityResult objective(Objective objective, MlpSpec spec, int batch, Blas blas, double tolerance) {
        Mlp model = new Mlp(spec);
        double[] params = roundedToFloat(model.initialParams(random.nextLong()));
        double[] x = Fp32.toDoubles(gaussianFloats(batch * spec.inputDim()));
        long step = 1 + random.nextInt(1000);
        double[] want = new double[params.length];
        double wantLoss = objective.run(model, params, x, batch, step, want).loss();
        double[] got = new double[params.length];
        double gotLoss;
        double[] sketch = null; // Hutch++ with a sketch: worst span residual and orthonormality error of the device's Q
        try (CudaTrainingStep device = new CudaTrainingStep(launcher, blas, spec, objective, adamw(1e-3), batch, null, params)) {
            gotLoss = device.lossAndGradient(x, step, got);
            if (objective instanceof HutchPlusPlusObjective h && h.sketchVectors(spec.inputDim()) > 0) {
                sketch = sketchBasisErrors(h, model, params, x, batch, step, device.directions());
            }
        }
        double lossScale = Math.max(Math.abs(wantLoss), termScale(model, params, x, batch));
        double lossError = Math.abs(gotLoss - wantLoss) / lossScale;
        double gradError = KernelParityChecks.normRelative(got, want);
        double worst = Double.isNaN(lossError) || Double.isNaN(gradError) ? Double.NaN : Math.max(lossError, gradError);
        if (sketch != null) worst = Double.isNaN(worst) || Double.isNaN(sketch[0]) || Double.isNaN(sketch[1]) ? Double.NaN
                : Math.max(worst, Math.max(sketch[0], sketch[1]));
        List<String> pairs = new ArrayList<>();
        pairs.add(String.format("loss: device %.9g, reference %.9g (scale %.3g); loss error %.2e, ‖Δ∇θ‖/‖∇θ‖ %.2e", gotLoss,
                wantLoss, lossScale, lossError, gradError));
        if (sketch != null) {
            pairs.add(String.format("device Q vs the fp64 sketch Y = ∇²E·S: worst ‖(I − QQᵀ)Y_b‖/‖Y_b‖ %.2e (sample %d), "
                    + "worst |QᵀQ − I| %.2e", sketch[0], (int) sketch[2], sketch[1]));
        }
        pairs.addAll(KernelParityChecks.worstPairs(got.length, i -> Math.abs(got[i] - want[i]), i -> got[i], i -> want[i]).subList(0, 2));
        String name = objective.name() + switch (objective) {
            case ExactObjective e -> " " + e.trace().configName();
            case HutchinsonObjective h -> "-" + h.probes() + " " + h.distribution().configName();
            case HutchPlusPlusObjective h -> "-" + h.probes() + " " + h.distribution().configName();
            case SlicedObjective s -> "-" + s.probes();
            case AnnealedDenoisingObjective a -> " " + a.sigmas().length + " levels";
            case DenoisingObjective d -> "";
        };
        String measure = "max(|Δloss|/max(|loss|,L₁), ‖Δ∇θ‖/‖∇θ‖)";
        if (sketch != null) measure = measure.substring(0, measure.length() - 1) + ", span, QᵀQ)";
        return new ParityResult("objective " + name, "B=" + batch + " D=" + spec.inputDim() + " H=" + spec.width(1) + ","
                + spec.width(2) + " " + spec.activation().configName(), blas.precision().name().toLowerCase(java.util.Locale.ROOT),
                worst, tolerance, measure, KernelParityChecks.problems(got), pairs);
    }

    /**
     * The device's Hutch++ basis against the CPU's fp64 sketch Y_b = ∇²E(x_b)·S_b of the same draws: {worst over
     * samples of ‖(I − Q_bQ_bᵀ)Y_b‖_F/‖Y_b‖_F, worst |Q_bᵀQ_b − I| entry, the sample of the worst residual}. The loss
     * does not depend on which orthonormal basis of span(Y_b) Q_b is, so this is what must match: Q_b orthonormal
     * and spanning Y_b. Both are rounding-level for an fp32 Householder QR (backward stable, so the residual is a
     * few fp32 ulps of ‖Y_b‖ whatever Y_b's conditioning), far inside the objective tolerance.
     */
    private static double[] sketchBasisErrors(HutchPlusPlusObjective h, Mlp model, double[] params, double[] x, int batch,
                                              long step, double[] directions) {
        int d = model.dim(), s = h.sketchVectors(d), perSample = s + h.restProbes();
        double[] y = h.sketchProducts(model, params, x, batch, step);
        double worstResidual = 0, worstOrthogonality = 0;
        int worstSample = 0;
        for (int b = 0; b < batch; b++) {
            int q0 = b * perSample * d;
            double residual = 0, norm = 0;
            for (int k = 0; k < s; k++) {
                double[] r = java.util.Arrays.copyOfRange(y, (b * s + k) * d, (b * s + k + 1) * d);
                for (double v : r) norm += v * v;
                for (int c = 0; c < s; c++) {
                    double dot = 0;
                    for (int j = 0; j < d; j++) dot += directions[q0 + c * d + j] * y[(b * s + k) * d + j];
                    for (int j = 0; j < d; j++) r[j] -= dot * directions[q0 + c * d + j];
                }
                for (double v : r) residual += v * v;
            }
            double relative = Math.sqrt(residual / norm);
            if (Double.isNaN(relative) || relative > worstResidual) {
                worstResidual = relative;
                worstSample = b;
                if (Double.isNaN(relative)) break;
            }
            for (int c = 0; c < s; c++) {
                for (int e = 0; e < s; e++) {
                    double dot = 0;
                    for (int j = 0; j < d; j++) dot += directions[q0 + c * d + j] * directions[q0 + e * d + j];
                    double err = Math.abs(dot - (c == e ? 1 : 0));
                    worstOrthogonality = Double.isNaN(err) ? Double.NaN : Math.max(worstOrthogonality, err);
                }
            }
        }
        return new double[] {worstResidual, worstOrthogonality, worstSample};
    }

    // ---- GEMM precision ----------------------------------------------------------------------------------------------

    /**
     * The documented tolerance of an objective's loss and gradient against fp64 with the device tape's GEMMs in this
     * mode (the config's `precision`); the measurements behind each are in the class comment.
     */
    public static double objectiveTolerance(Blas.GemmPrecision precision) {
        return switch (precision) {
            case FP32 -> OBJECTIVE_TOLERANCE;
            case TF32 -> TF32_OBJECTIVE_TOLERANCE;
            case BF16 -> BF16_OBJECTIVE_TOLERANCE;
        };
    }

    /**
     * Objectives with the GEMMs in TF32 and in BF16 (the elementwise kernels stay fp32) against the fp64 CPU: the
     * quickstart's model (D=2, 64×64 softplus) and a D=64 one, exact, hutchinson and denoising.
     */
    public List<ParityResult> precisions() {
        List<ParityResult> results = new ArrayList<>();
        long seed = random.nextLong();
        MlpSpec quickstart = new MlpSpec(2, new int[] {64, 64}, Activation.SOFTPLUS);
        MlpSpec wide = new MlpSpec(64, new int[] {64, 64}, Activation.SILU);
        for (Blas.GemmPrecision p : List.of(Blas.GemmPrecision.TF32, Blas.GemmPrecision.BF16)) {
            try (Blas other = atPrecision(p)) {
                results.add(objective(new ExactObjective(TraceAlgorithm.AUTO), quickstart, 64, other, objectiveTolerance(p)));
                results.add(objective(new ExactObjective(TraceAlgorithm.AUTO), wide, 16, other, objectiveTolerance(p)));
                results.add(objective(new HutchinsonObjective(2, ProbeDistribution.GAUSSIAN, seed), wide, 16, other, objectiveTolerance(p)));
                results.add(objective(new DenoisingObjective(0.1, seed), quickstart, 64, other, objectiveTolerance(p)));
            }
        }
        return results;
    }

    /** L₁ = mean over the batch of |ΔE_b| + ½‖∇ₓE_b‖², in fp64. */
    private static double termScale(Mlp model, double[] params, double[] x, int batch) {
        Tape tape = new Tape();
        ebm.model.BoundEnergy.Exact<Node> e = model.bind(tape, params)
                .exact(tape.constant(x, batch, model.dim()), TraceAlgorithm.PER_DIMENSION);
        double sum = 0;
        for (int b = 0; b < batch; b++) sum += Math.abs(e.laplacian().value[b]) + 0.5 * e.gradNormSquared().value[b];
        return sum / batch;
    }

    /** A BLAS of the same kind as this check's (host GEMM or cuBLAS) in another precision. */
    private Blas atPrecision(Blas.GemmPrecision p) {
        return switch (blas) {
            case HostBlas h -> new HostBlas(p);
            case CublasBlas c -> new CublasBlas((DriverLauncher) launcher, p);
            default -> throw new IllegalStateException("no " + p + " variant of " + blas.description());
        };
    }

    // ---- whole steps ----------------------------------------------------------------------------------------------

    public List<ParityResult> trainingSteps() {
        List<ParityResult> results = new ArrayList<>();
        MlpSpec spec = new MlpSpec(2, new int[] {16, 16}, Activation.SOFTPLUS);
        long seed = random.nextLong();
        results.addAll(trainingStep("exact, adamw, clip 0.05", spec, new ExactObjective(TraceAlgorithm.AUTO), adamw(3e-3), 0.05));
        results.addAll(trainingStep("sliced-2, sgd momentum", spec, new SlicedObjective(2, ProbeDistribution.RADEMACHER, seed),
                sgd(0.05, 0.9, false, 1e-3), null));
        results.addAll(trainingStep("denoising, sgd nesterov", spec, new DenoisingObjective(0.2, seed), sgd(0.02, 0.8, true, 0), null));
        MlpSpec threeLayers = new MlpSpec(3, new int[] {12, 10, 14}, Activation.SILU);
        results.addAll(trainingStep("exact, muon (3 layers)", threeLayers, new ExactObjective(TraceAlgorithm.AUTO),
                muon(0.02, 0.01, 2e-3), null));
        results.addAll(trainingStep("hutchinson-1, sgd", spec, new HutchinsonObjective(1, ProbeDistribution.GAUSSIAN, seed), sgd(0.05, 0, false, 0), null));
        // Shampoo: graft alone at step 1, roots at steps 2 and 4 (preconditioned steps 2..5), weights 12x3, 10x12, 14x10;
        // the first layer's L (12x12) has rank ≤ 3 per step, so its first roots see a rank-deficient statistic
        results.addAll(trainingStep("exact, shampoo (roots at 2, 4)", threeLayers, new ExactObjective(TraceAlgorithm.AUTO),
                shampoo(0.01, 0, 2, 2, 1024), null));
        // max_precond_dim 10: 12x3 keeps only R, 10x12 only L, 14x10 only R; decoupled weight decay; clipping
        results.addAll(trainingStep("denoising, shampoo (one-sided, decay, clip)", threeLayers, new DenoisingObjective(0.2, seed),
                shampoo(0.01, 0.05, 1, 1, 10), 0.5));
        results.add(shampooStatistics(37, 21));
        results.addAll(trainingStep("hutch++-6, adamw", new MlpSpec(5, new int[] {12, 10}, Activation.TANH),
                new HutchPlusPlusObjective(6, ProbeDistribution.GAUSSIAN, seed), adamw(3e-3), null));
        results.addAll(trainingStep("annealed-denoising, adamw", spec, new AnnealedDenoisingObjective(
                AnnealedDenoisingObjective.geometricLevels(1.0, 0.05, 5), seed), adamw(3e-3), null));
        return results;
    }

    /**
     * DeviceShampoo's fp64 statistics (G widened by ebm_widen_f32_f64, then one cuBLAS dgemm per side with β = 1):
     * L += GGᵀ and R += GᵀG of a random fp32 G [rows x cols] onto a random symmetric start, against fp64 sums of the
     * same fp32 values. Tolerance 1e-12 of ‖ref‖: the products of fp32 inputs are exact in fp64, so only fp64 sums
     * differ (≤ ~k·1e-16). A dgemm need not be exactly symmetric (the host symmetrises before the roots), but more
     * than rounding's asymmetry, max |S − Sᵀ| > 1e-13·max |S|, is a wrong operand order and fails.
     */
    private ParityResult shampooStatistics(int rows, int cols) {
        float[] g = gaussianFloats(rows * cols);
        DeviceKernels kernels = new DeviceKernels(launcher);
        DeviceBuffer gradient = launcher.upload(g);
        DeviceBuffer wide = launcher.allocate(8L * rows * cols, "G (fp64)");
        double[][] starts = new double[2][], wants = new double[2][];
        for (int side = 0; side < 2; side++) {
            boolean transpose = side == 1;
            int n = transpose ? cols : rows, k = transpose ? rows : cols;
            double[] start = new double[n * n];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j <= i; j++) start[i * n + j] = start[j * n + i] = random.nextDouble() - 0.5;
            }
            double[] want = start.clone();
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    for (int c = 0; c < k; c++) {
                        double a = transpose ? g[c * cols + i] : g[i * cols + c], b = transpose ? g[c * cols + j] : g[j * cols + c];
                        want[i * n + j] += a * b;
                    }
                }
            }
            starts[side] = start;
            wants[side] = want;
        }
        DeviceBuffer left = launcher.upload(starts[0]), right = launcher.upload(starts[1]);
        DeviceShampoo.accumulateStatistics(kernels, blas, gradient.address(), rows, cols, wide.address(), left, right);
        launcher.synchronize();
        double worst = 0, asymmetry = 0;
        String problem = null;
        List<String> pairs = new ArrayList<>();
        for (int side = 0; side < 2; side++) {
            int n = side == 1 ? cols : rows;
            double[] got = launcher.readDoubles(side == 1 ? right : left, n * n), want = wants[side];
            double error = KernelParityChecks.normRelative(got, want);
            worst = Double.isNaN(error) || Double.isNaN(worst) ? Double.NaN : Math.max(worst, error);
            double largest = 0, sideAsymmetry = 0;
            for (double v : got) largest = Math.max(largest, Math.abs(v));
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < i; j++) sideAsymmetry = Math.max(sideAsymmetry, Math.abs(got[i * n + j] - got[j * n + i]));
            }
            sideAsymmetry /= largest;
            asymmetry = Math.max(asymmetry, sideAsymmetry);
            if (problem == null && !(sideAsymmetry <= 1e-13)) {
                problem = (side == 1 ? "GᵀG" : "GGᵀ") + " asymmetric beyond rounding: max |S − Sᵀ|/max |S| = " + sideAsymmetry;
            }
            pairs.add((side == 1 ? "R += GᵀG " : "L += GGᵀ ") + KernelParityChecks.worstPairs(got.length,
                    i -> Math.abs(got[i] - want[i]), i -> got[i], i -> want[i]).getFirst());
        }
        pairs.add(String.format("max |S − Sᵀ|/max |S| = %.2e (the host symmetrises before the roots)", asymmetry));
        return new ParityResult("shampoo statistics (dgemm)", "G " + rows + "x" + cols, "fp32 in, fp64 dgemm", worst, 1e-12,
                "‖Δ‖/‖ref‖ of L and R", problem, pairs);
    }

    private List<ParityResult> trainingStep(String name, MlpSpec spec, Objective objective, OptimizerSpec options, Double clip) {
        int batch = 12, steps = 5;
        Mlp model = new Mlp(spec);
        double[] params = roundedToFloat(model.initialParams(random.nextLong()));
        double[] start = params.clone();
        Optimizer optimizer = Optimizers.create(options, model.layout());
        double worstLoss = 0;
        List<String> pairs = new ArrayList<>();
        double[] grad = new double[params.length];
        try (CudaTrainingStep device = new CudaTrainingStep(launcher, blas, spec, objective, options, batch, clip, params)) {
            for (int step = 1; step <= steps; step++) {
                double[] x = Fp32.toDoubles(gaussianFloats(batch * spec.inputDim()));
                double lrScale = 1.0 - 0.1 * step;
                double wantLoss = objective.run(model, params, x, batch, step, grad).loss();
                // against max(|loss|, L₁), as the objective rows: a loss near 0 is a cancelling difference of its terms
                double lossScale = Math.max(Math.abs(wantLoss), termScale(model, params, x, batch));
                double norm = 0;
                for (double g : grad) norm += g * g;
                norm = Math.sqrt(norm);
                if (clip != null && norm > clip) for (int i = 0; i < grad.length; i++) grad[i] *= clip / norm;
                optimizer.step(params, grad, lrScale);
                double gotLoss = device.step(x, step, lrScale).loss();
                double e = Math.abs(gotLoss - wantLoss) / lossScale;
                worstLoss = Double.isNaN(e) ? Double.NaN : Math.max(worstLoss, e);
                if (step == 1 || step == steps) pairs.add(String.format("step %d loss: device %.9g, reference %.9g", step, gotLoss, wantLoss));
            }
            Map<String, Double> gotDiagnostics = device.optimizerDiagnostics(), wantDiagnostics = optimizer.diagnostics();
            double[] got = device.params();
            double[] gotChange = new double[got.length], wantChange = new double[got.length];
            for (int i = 0; i < got.length; i++) {
                gotChange[i] = got[i] - start[i];
                wantChange[i] = params[i] - start[i];
            }
            double changeError = KernelParityChecks.normRelative(gotChange, wantChange);
            pairs.add(String.format("‖Δθ_device − Δθ_ref‖/‖Δθ_ref‖ = %.2e", changeError));
            // the loss must match to 1e-4, the parameters' change to 1e-3: scale the latter into the former's units
            double worst = Double.isNaN(worstLoss) || Double.isNaN(changeError) ? Double.NaN : Math.max(worstLoss, changeError / 10);
            String shapes = steps + " steps, B=" + batch + " D=" + spec.inputDim() + " H=" + java.util.Arrays.toString(spec.hidden()).replace(" ", "");
            List<ParityResult> results = new ArrayList<>();
            results.add(new ParityResult("training step " + name, shapes, "fp32", worst,
                    OBJECTIVE_TOLERANCE, "max(|Δloss|/max(|loss|,L₁), ‖ΔΔθ‖/‖Δθ‖ / 10)", KernelParityChecks.problems(gotChange), pairs));
            if (!wantDiagnostics.isEmpty() || !gotDiagnostics.isEmpty()) {
                results.add(diagnostics(name.substring(name.indexOf(", ") + 2), shapes, gotDiagnostics, wantDiagnostics));
            }
            return results;
        }
    }

    /**
     * The optimizer's diagnostics after the last step: the same keys, the root failure count equal, every other value
     * within its relative tolerance, scaled so that the row's worst error is measured against DIAGNOSTIC_TOLERANCE.
     */
    private static ParityResult diagnostics(String name, String shapes, Map<String, Double> got, Map<String, Double> want) {
        double worst = 0;
        String problem = got.keySet().equals(want.keySet()) ? null : "keys " + got.keySet() + " vs reference " + want.keySet();
        List<String> pairs = new ArrayList<>();
        for (Map.Entry<String, Double> e : want.entrySet()) {
            Double g = got.get(e.getKey());
            if (g == null) continue;
            double w = e.getValue(), tolerance = diagnosticTolerance(e.getKey());
            double error = w == g ? 0 : Math.abs(g - w) / Math.abs(w); // a count must be equal: any difference is ≥ 1/count
            double scaled = tolerance == 0 ? (error == 0 ? 0 : Double.POSITIVE_INFINITY) : error * DIAGNOSTIC_TOLERANCE / tolerance;
            worst = Double.isNaN(scaled) ? Double.NaN : Math.max(worst, scaled);
            pairs.add(String.format("%s: device %.9g, reference %.9g (relative %.2e, tolerance %s)", e.getKey(), g, w, error,
                    tolerance == 0 ? "equal" : String.format("%.0e", tolerance)));
        }
        return new ParityResult("diagnostics " + name, shapes, "fp32", worst, DIAGNOSTIC_TOLERANCE,
                "max over keys of relative error × 1e-4/its tolerance", problem, pairs);
    }

    private static final double DIAGNOSTIC_TOLERANCE = 1e-4;

    /** Relative tolerance per diagnostic (reasons in the class comment). */
    private static double diagnosticTolerance(String key) {
        return switch (key) {
            case "shampoo_root_failures" -> 0;
            case "shampoo_cond_left_max", "shampoo_cond_right_max" -> 1e-3;
            default -> DIAGNOSTIC_TOLERANCE;
        };
    }

    // The optimizers of the rows, with the config's defaults (optimizer.* unset) for every key not given.

    private static AdamWOptions adamw(double lr) {
        return new AdamWOptions(lr, 0.9, 0.999, 1e-8, 0);
    }

    private static SgdOptions sgd(double lr, double momentum, boolean nesterov, double weightDecay) {
        return new SgdOptions(lr, momentum, 0, nesterov, weightDecay);
    }

    /** Muon and its inner AdamW (at adamLr) share the weight decay, as optimizer.weight_decay does. */
    private static MuonOptions muon(double lr, double weightDecay, double adamLr) {
        return new MuonOptions(lr, 0.95, true, MuonOptions.DEFAULT_NS_STEPS, weightDecay, false,
                new AdamWOptions(adamLr, 0.9, 0.999, 1e-8, weightDecay));
    }

    private static ShampooOptions shampoo(double lr, double weightDecay, int rootEvery, int startStep, int maxPrecondDim) {
        return new ShampooOptions(lr, 1e-12, rootEvery, startStep, maxPrecondDim, weightDecay, 0.9, 0.999, 1e-8);
    }

    // ---- helpers --------------------------------------------------------------------------------------------------

    private float[] gaussianFloats(int n) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            double u = 1.0 - random.nextDouble(), v = random.nextDouble();
            out[i] = (float) (Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
        }
        return out;
    }

    /** The same values in both precisions, so that only the computation differs. */
    private static double[] roundedToFloat(double[] values) {
        double[] out = new double[values.length];
        for (int i = 0; i < values.length; i++) out[i] = (float) values[i];
        return out;
    }

}
