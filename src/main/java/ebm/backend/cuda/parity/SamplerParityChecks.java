package ebm.backend.cuda.parity;

import ebm.backend.cuda.runtime.Blas;
import ebm.backend.cuda.runtime.KernelLauncher;
import ebm.backend.cuda.step.DeviceLangevin;
import ebm.model.Mlp;
import ebm.model.MlpSpec;
import ebm.sample.Langevin;
import ebm.sample.LangevinSchedule;
import ebm.tape.Activation;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The device Langevin sampler ({@link DeviceLangevin}, fp32) against the CPU one ({@link Langevin}, fp64) on fresh
 * random energy MLPs and starting points, compared after every step. Both start from the same fp32-rounded
 * parameters and points, so only the computation differs. Used by the parity tests and `ebm validate`.
 *
 * Tolerances and why:
 * <ul>
 *   <li>Noise (zero energy, ε = 1, so x_t − x_{t−1} is ξ_t itself): 2e-6 of ‖ξ‖, the fp32 Box-Muller tolerance of
 *       the probes kernels (the angle 2πu is known to an fp32 ulp of π); any reuse of a step's draws is a failure.</li>
 *   <li>One step: 1e-5 of ‖x₁‖. The drift is (ε/2)·∇ₓE with ∇ₓE good to ~1e-6 (the tape ops' fp32), the noise √ε·ξ
 *       to 2e-6 of itself, and x₁ is rounded once to fp32 (6e-8); measured ~1e-7.</li>
 *   <li>Chains (20 steps, plain and annealed): 1e-4 of ‖x_t‖ at every step. Each step adds an error like one step's,
 *       and earlier errors are carried by the Jacobian I − (ε/2)∇²ₓE, which for these small steps grows them by at
 *       most a few percent per step; 20 steps of ~1e-7 stay near 1e-6.</li>
 * </ul>
 */
public final class SamplerParityChecks extends DeviceChecks {
    private static final double NOISE_TOLERANCE = 2e-6;
    private static final double STEP_TOLERANCE = 1e-5;
    private static final double CHAIN_TOLERANCE = 1e-4;

    public SamplerParityChecks(KernelLauncher launcher, Blas blas, long seed) {
        super(launcher, blas, seed);
    }

    public List<ParityResult> all() {
        List<ParityResult> results = new ArrayList<>();
        results.add(noise());
        results.add(chain("langevin one step", new MlpSpec(3, new int[] {8, 6}, Activation.SOFTPLUS), 10,
                new LangevinSchedule(1, 0.05, null), STEP_TOLERANCE));
        results.add(chain("langevin chain", new MlpSpec(9, new int[] {5, 7}, Activation.SILU), 12,
                new LangevinSchedule(20, 0.02, null), CHAIN_TOLERANCE));
        // 20 steps over 3 levels: 7, 7, 6, so both level boundaries fall inside the chain
        results.add(chain("langevin annealed chain", new MlpSpec(2, new int[] {16, 16}, Activation.TANH), 16,
                new LangevinSchedule(20, 0.01, new double[] {1.0, 0.4, 0.16}), CHAIN_TOLERANCE));
        return results;
    }

    /**
     * With a zero energy (every parameter 0, so ∇ₓE = 0 exactly), x₀ = 0 and ε = 1, a step adds ξ_t alone: the device
     * draws against the CPU sampler's, step by step, and each step's draws against the previous step's.
     */
    public ParityResult noise() {
        MlpSpec spec = new MlpSpec(3, new int[] {4}, Activation.GELU_TANH);
        int n = 7, steps = 3, d = spec.inputDim();
        long seed = random.nextLong();
        double[] zeroParams = new double[spec.layout().size()];
        LangevinSchedule schedule = new LangevinSchedule(steps, 1.0, null);
        double[][] want = increments(trajectory(null, spec, zeroParams, new double[n * d], n, schedule, seed));
        double[][] got = increments(trajectory(launcher, spec, zeroParams, new double[n * d], n, schedule, seed));
        double worst = 0;
        String problem = null;
        for (int t = 0; t < steps; t++) {
            double e = KernelParityChecks.normRelative(got[t], want[t]);
            worst = Double.isNaN(e) ? Double.NaN : Math.max(worst, e);
            if (problem == null) problem = KernelParityChecks.problems(got[t]);
            if (problem == null && t > 0 && Arrays.equals(got[t], got[t - 1])) {
                problem = "steps " + t + " and " + (t + 1) + " drew the same noise (the step counter did not reach the draws)";
            }
        }
        double[] first = got[0], wantFirst = want[0], last = got[steps - 1], wantLast = want[steps - 1];
        List<String> pairs = new ArrayList<>();
        pairs.add("step 1 " + KernelParityChecks.worstPairs(first.length, i -> Math.abs(first[i] - wantFirst[i]),
                i -> first[i], i -> wantFirst[i]).getFirst());
        pairs.add("step " + steps + " " + KernelParityChecks.worstPairs(last.length, i -> Math.abs(last[i] - wantLast[i]),
                i -> last[i], i -> wantLast[i]).getFirst());
        return new ParityResult("langevin noise ξ_t (zero energy)", "T=" + steps + " N=" + n + " D=" + d, "fp32",
                worst, NOISE_TOLERANCE, "‖Δξ_t‖/‖ξ_t‖, worst step", problem, pairs);
    }

    private ParityResult chain(String name, MlpSpec spec, int n, LangevinSchedule schedule, double tolerance) {
        Mlp model = new Mlp(spec);
        double[] params = roundedToFloat(model.initialParams(random.nextLong()));
        double[] start = new double[n * spec.inputDim()];
        for (int i = 0; i < start.length; i++) start[i] = (float) gaussian();
        long seed = random.nextLong();
        double[][] want = trajectory(null, spec, params, start.clone(), n, schedule, seed);
        double[][] got = trajectory(launcher, spec, params, start.clone(), n, schedule, seed);
        double worst = 0;
        int worstStep = 1;
        String problem = null;
        for (int t = 0; t < got.length; t++) {
            double e = KernelParityChecks.normRelative(got[t], want[t]);
            if (Double.isNaN(e)) {
                worst = Double.NaN;
                worstStep = t + 1;
                break;
            }
            if (e > worst) {
                worst = e;
                worstStep = t + 1;
            }
            if (problem == null) problem = KernelParityChecks.problems(got[t]);
        }
        double[] g = got[worstStep - 1], w = want[worstStep - 1];
        List<String> pairs = new ArrayList<>();
        pairs.add("worst at step " + worstStep + ": " + KernelParityChecks.worstPairs(g.length, i -> Math.abs(g[i] - w[i]),
                i -> g[i], i -> w[i]).getFirst());
        double[] gl = got[got.length - 1], wl = want[want.length - 1];
        pairs.add(String.format("step %d: ‖Δx‖/‖x‖ = %.2e, moved ‖x_t − x₀‖/‖x₀‖ = %.2e", got.length,
                KernelParityChecks.normRelative(gl, wl), KernelParityChecks.normRelative(wl, start)));
        // T steps, L noise levels, N chains
        String levels = schedule.levels() > 1 ? " L=" + schedule.levels() : "";
        String hidden = Arrays.toString(spec.hidden()).replace(" ", "").replace("[", "").replace("]", "");
        return new ParityResult(name, "T=" + schedule.steps() + levels + " N=" + n + " D=" + spec.inputDim() + " H=" + hidden
                + " " + spec.activation().configName(), "fp32",
                worst, tolerance, "‖Δx_t‖/‖x_t‖, worst step", problem, pairs);
    }

    /** The chain's points after each step, on the CPU (launcher null) or the device. */
    private double[][] trajectory(KernelLauncher on, MlpSpec spec, double[] params, double[] init, int n,
                                  LangevinSchedule schedule, long seed) {
        double[][] out = new double[schedule.steps()][];
        Langevin.StepObserver record = (t, points) -> out[(int) t - 1] = points.clone();
        if (on == null) {
            Langevin.run(new Mlp(spec), params, init, n, schedule, seed, record);
        } else {
            DeviceLangevin.run(on, blas, spec, params, init, n, schedule, seed, record);
        }
        return out;
    }

    /** x_t − x_{t−1} for each step (x₀ = 0). */
    private static double[][] increments(double[][] points) {
        double[][] out = new double[points.length][];
        for (int t = 0; t < points.length; t++) {
            out[t] = points[t].clone();
            if (t > 0) for (int i = 0; i < out[t].length; i++) out[t][i] -= points[t - 1][i];
        }
        return out;
    }

    private double gaussian() {
        double u = 1.0 - random.nextDouble(), v = random.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }

    private static double[] roundedToFloat(double[] values) {
        double[] out = new double[values.length];
        for (int i = 0; i < values.length; i++) out[i] = (float) values[i];
        return out;
    }
}
