package ebm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.TestNets;
import ebm.TestSeeds;
import ebm.rng.RandomStream;
import ebm.tape.Activation;
import ebm.tape.Node;
import ebm.tape.Tape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The second-order quantities themselves, checked independently of the training code: ∇ₓE against finite
 * differences of E, the Hessian (diagonal, trace, quadratic forms) against finite differences of ∇ₓE, the two
 * exact-trace algorithms against each other, and the Hutchinson mean against its known variance.
 */
class ExactTraceTest {
    private static final int BATCH = 5;

    private static double[] gradX(EnergyModel m, double[] p, double[] x, int n) {
        Tape t = new Tape();
        return m.bind(t, p).gradX(t.constant(x, n, m.dim())).value;
    }

    private static double[] energy(EnergyModel m, double[] p, double[] x, int n) {
        Tape t = new Tape();
        return m.bind(t, p).energy(t.constant(x, n, m.dim())).value;
    }

    /** Full Hessians [n x D x D] by central differences of ∇ₓE. */
    private static double[] fdHessians(EnergyModel m, double[] p, double[] x, int n) {
        int d = m.dim();
        double[] hess = new double[n * d * d];
        double h = 1e-5;
        for (int j = 0; j < d; j++) {
            double[] up = x.clone(), down = x.clone();
            for (int b = 0; b < n; b++) {
                up[b * d + j] += h;
                down[b * d + j] -= h;
            }
            double[] gu = gradX(m, p, up, n), gd = gradX(m, p, down, n);
            for (int b = 0; b < n; b++) {
                for (int i = 0; i < d; i++) hess[(b * d + i) * d + j] = (gu[b * d + i] - gd[b * d + i]) / (2 * h);
            }
        }
        return hess;
    }

    @ParameterizedTest
    @EnumSource(Activation.class)
    void gradientHessianAndTraceMatchFiniteDifferences(Activation act) {
        for (int[] shape : TestNets.SHAPES) {
            Mlp mlp = new Mlp(TestNets.spec(shape, act));
            int d = shape[0];
            double[] p = TestNets.params(mlp, TestSeeds.fixed(mlp.spec() + " parameters", 3));
            double[] x = TestNets.points(BATCH, d, TestSeeds.fixed(mlp.spec() + " points", 4));
            // ∇ₓE vs differences of E
            double[] g = gradX(mlp, p, x, BATCH);
            double[] fdG = new double[g.length];
            for (int i = 0; i < x.length; i++) {
                double[] up = x.clone(), down = x.clone();
                up[i] += 1e-5;
                down[i] -= 1e-5;
                fdG[i] = (energy(mlp, p, up, BATCH)[i / d] - energy(mlp, p, down, BATCH)[i / d]) / 2e-5;
            }
            // ΔE, diagonal and ‖∇E‖² vs the differenced Hessian
            double[] hess = fdHessians(mlp, p, x, BATCH);
            Tape t = new Tape();
            BoundEnergy<Node> e = mlp.bind(t, p);
            Node xs = t.constant(x, BATCH, d);
            double[] diag = e.hessianDiagonal(xs).value;
            double[] fdDiag = new double[BATCH * d];
            double[] fdTrace = new double[BATCH];
            double[] gradSq = new double[BATCH];
            for (int b = 0; b < BATCH; b++) {
                for (int i = 0; i < d; i++) {
                    fdDiag[b * d + i] = hess[(b * d + i) * d + i];
                    fdTrace[b] += fdDiag[b * d + i];
                    gradSq[b] += g[b * d + i] * g[b * d + i];
                }
            }
            for (TraceAlgorithm alg : new TraceAlgorithm[] {TraceAlgorithm.PER_DIMENSION, TraceAlgorithm.ROW_SPACE}) {
                BoundEnergy.Exact<Node> ex = e.exact(xs, alg);
                double errTrace = TestNets.relativeError(ex.laplacian().value, fdTrace);
                double errSq = TestNets.relativeError(ex.gradNormSquared().value, gradSq);
                System.out.printf("%-9s %-46s %-13s ΔE %+.8e vs fd %+.8e (rel %.1e); ‖∇E‖² rel %.1e%n", act.configName(),
                        mlp.spec(), alg.configName(), ex.laplacian().value[0], fdTrace[0], errTrace, errSq);
                assertTrue(errTrace < 1e-7, "trace " + alg + " " + errTrace);
                assertTrue(errSq < 1e-12, "grad norm " + alg + " " + errSq);
            }
            double errG = TestNets.relativeError(g, fdG), errDiag = TestNets.relativeError(diag, fdDiag);
            System.out.printf("%-9s %-46s ∇E rel %.1e, diag rel %.1e%n", act.configName(), mlp.spec(), errG, errDiag);
            assertTrue(errG < 1e-8);
            assertTrue(errDiag < 1e-7);
        }
    }

    @ParameterizedTest
    @EnumSource(Activation.class)
    void perDimensionAndRowSpaceAgreeToRounding(Activation act) {
        int[][] shapes = {{40, 12, 9}, {12, 20, 7, 11}, {64, 16, 16, 16}};
        for (int[] shape : shapes) {
            Mlp mlp = new Mlp(TestNets.spec(shape, act));
            double[] p = mlp.initialParams(TestSeeds.fixed(mlp.spec() + " parameters", 8));
            double[] x = TestNets.points(16, shape[0], TestSeeds.fixed(mlp.spec() + " points", 9));
            Tape t = new Tape();
            BoundEnergy<Node> e = mlp.bind(t, p);
            Node xs = t.constant(x, 16, shape[0]);
            BoundEnergy.Exact<Node> perDim = e.exact(xs, TraceAlgorithm.PER_DIMENSION);
            BoundEnergy.Exact<Node> rowSpace = e.exact(xs, TraceAlgorithm.ROW_SPACE);
            double[] diag = e.hessianDiagonal(xs).value;
            double[] diagSum = new double[16];
            for (int i = 0; i < diag.length; i++) diagSum[i / shape[0]] += diag[i];
            double errTrace = TestNets.relativeError(rowSpace.laplacian().value, perDim.laplacian().value);
            double errSq = TestNets.relativeError(rowSpace.gradNormSquared().value, perDim.gradNormSquared().value);
            double errDiag = TestNets.relativeError(diagSum, perDim.laplacian().value);
            int w = TestNets.worst(rowSpace.laplacian().value, perDim.laplacian().value);
            System.out.printf("%-9s %-46s row-space vs per-dim: ΔE rel %.1e (worst %+.15e vs %+.15e), ‖∇E‖² rel %.1e;"
                    + " Σ diag vs ΔE rel %.1e%n", act.configName(), mlp.spec(), errTrace, rowSpace.laplacian().value[w],
                    perDim.laplacian().value[w], errSq, errDiag);
            assertTrue(errTrace < 1e-10);
            assertTrue(errSq < 1e-10);
            assertTrue(errDiag < 1e-12);
        }
    }

    /**
     * A first layer of lower rank (a hidden unit with zero input weights, another a copy of its neighbour): W₁ᵀ's QR
     * meets exactly dependent columns, whose reflectors are the identity, and the row-space loss and parameter
     * gradient must still equal the per-dimension ones.
     */
    @Test
    void rowSpaceHandlesARankDeficientFirstLayer() {
        Mlp mlp = new Mlp(TestNets.spec(new int[] {40, 12, 9}, Activation.SOFTPLUS));
        double[] p = mlp.initialParams(TestSeeds.fixed("rank-deficient W1: parameters", 5));
        ParamView w1 = mlp.layout().view(MlpSpec.weightName(0));
        java.util.Arrays.fill(p, w1.offset() + 3 * w1.cols(), w1.offset() + 4 * w1.cols(), 0.0);
        System.arraycopy(p, w1.offset() + 6 * w1.cols(), p, w1.offset() + 7 * w1.cols(), w1.cols());
        double[] x = TestNets.points(16, 40, TestSeeds.fixed("rank-deficient W1: points", 3));
        double[] gradRowSpace = new double[p.length], gradPerDim = new double[p.length];
        double lossRowSpace = new ebm.objective.ExactObjective(TraceAlgorithm.ROW_SPACE).evaluate(mlp, p, x, 16, 0, gradRowSpace);
        double lossPerDim = new ebm.objective.ExactObjective(TraceAlgorithm.PER_DIMENSION).evaluate(mlp, p, x, 16, 0, gradPerDim);
        double errLoss = Math.abs(lossRowSpace - lossPerDim) / Math.abs(lossPerDim);
        double errGrad = TestNets.relativeError(gradRowSpace, gradPerDim);
        System.out.printf("rank-%d W1 (12x40): row-space vs per-dimension loss rel %.1e, gradient rel %.1e%n", 10, errLoss, errGrad);
        assertTrue(errLoss < 1e-10, "loss " + lossRowSpace + " vs " + lossPerDim);
        assertTrue(errGrad < 1e-9, "gradient relative error " + errGrad);
    }

    @Test
    void hutchinsonMeanLandsWithinItsKnownVariance() {
        Mlp mlp = new Mlp(TestNets.spec(new int[] {6, 8, 5}, Activation.SOFTPLUS));
        double[] p = TestNets.params(mlp, TestSeeds.fixed("hutchinson mean: parameters", 12));
        double[] x = TestNets.points(1, 6, TestSeeds.fixed("hutchinson mean: point", 13));
        double[] hess = fdHessians(mlp, p, x, 1);
        double trace = 0, frob = 0, diagSq = 0;
        for (int i = 0; i < 6; i++) {
            trace += hess[i * 6 + i];
            diagSq += hess[i * 6 + i] * hess[i * 6 + i];
            for (int j = 0; j < 6; j++) {
                double sym = 0.5 * (hess[i * 6 + j] + hess[j * 6 + i]);
                frob += sym * sym;
            }
        }
        int probes = 20000;
        for (String dist : new String[] {"gaussian", "rademacher"}) {
            double[] v = new double[probes * 6];
            RandomStream rng = new RandomStream(TestSeeds.fixed("hutchinson mean: " + dist + " probes", 77), 0, 4);
            if (dist.equals("gaussian")) rng.fillGaussian(v, 0, v.length, 0);
            else rng.fillRademacher(v, 0, v.length, 0);
            Tape t = new Tape();
            BoundEnergy<Node> e = mlp.bind(t, p);
            double sum = e.alongDirections(t.constant(x, 1, 6), t.constant(v, probes, 6), probes).secondDerivativeSum().value[0];
            double mean = sum / probes;
            // Var(vᵀHv) = 2‖H‖_F² for Gaussian v, 2(‖H‖_F² − Σ H_ii²) for Rademacher v.
            double variance = dist.equals("gaussian") ? 2 * frob : 2 * (frob - diagSq);
            double bound = 5 * Math.sqrt(variance / probes);
            System.out.printf("hutchinson %-10s mean of %d probes %+.6f, exact %+.6f, |diff| %.2e <= 5 sd %.2e%n",
                    dist, probes, mean, trace, Math.abs(mean - trace), bound);
            assertEquals(trace, mean, bound);
        }
    }
}
