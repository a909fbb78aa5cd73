package ebm.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import ebm.TestNets;
import ebm.config.ConfigLoader;
import ebm.config.RunConfig;
import ebm.model.Quadratic;
import ebm.model.TraceAlgorithm;
import ebm.objective.DenoisingObjective;
import ebm.objective.ExactObjective;
import ebm.objective.Objective;
import ebm.optim.Optimizer;
import ebm.optim.Optimizers;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Known answers through the same objective and optimizer code the trainer runs: for E = ½(x−μ)ᵀM(x−μ), exact SM on
 * samples is minimised at μ = sample mean, M = S⁻¹ (S the 1/N covariance), and denoising SM at M = (S + σ²I)⁻¹.
 * Every optimizer must get there (cosine decay to zero where its steps would otherwise hover).
 */
class QuadraticOptimumTest {
    private static final int D = 3;
    private static final int N = 400;
    private static final double DELTA = 1e-4;

    private static double[] data() {
        double[] x = TestNets.points(N, D, 41);
        for (int i = 0; i < N; i++) {
            x[i * D + 1] = 0.7 * x[i * D + 1] + 0.5 * x[i * D] + 1.0;
            x[i * D + 2] = 1.4 * x[i * D + 2] - 0.5;
        }
        return x;
    }

    private static DMatrixRMaj covariance(double[] x, double[] mean) {
        DMatrixRMaj s = new DMatrixRMaj(D, D);
        for (int i = 0; i < N; i++) {
            for (int a = 0; a < D; a++) for (int b = 0; b < D; b++) s.add(a, b, (x[i * D + a] - mean[a]) * (x[i * D + b] - mean[b]) / N);
        }
        return s;
    }

    static RunConfig config(String optimizerYaml) throws Exception {
        return ConfigLoader.fromTree(new ObjectMapper(new YAMLFactory()).readTree("optimizer: " + optimizerYaml), "test");
    }

    private static double[] train(Objective objective, String optimizerYaml, int steps, Quadratic q, double[] x) throws Exception {
        RunConfig rc = config(optimizerYaml);
        Optimizer opt = Optimizers.create(rc.optimizer().spec(), q.layout());
        double[] p = q.initialParams(0);
        double[] g = new double[p.length];
        for (int step = 1; step <= steps; step++) {
            objective.evaluate(q, p, x, N, step, g);
            opt.step(p, g, 0.5 * (1 + Math.cos(Math.PI * (step - 1) / steps)));
        }
        return p;
    }

    private static double relErr(double[] got, DMatrixRMaj want) {
        double num = 0, den = 0;
        for (int i = 0; i < D * D; i++) {
            num += (got[i] - want.getData()[i]) * (got[i] - want.getData()[i]);
            den += want.getData()[i] * want.getData()[i];
        }
        return Math.sqrt(num / den);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "{name: sgd, lr: 0.3}",
        "{name: sgd, lr: 0.1, momentum: 0.9}",
        "{name: sgd, lr: 0.1, momentum: 0.9, nesterov: true}",
        "{name: adamw, lr: 0.05}",
        "{name: muon, lr: 0.05, adam_lr: 0.05}",
        "{name: shampoo, lr: 0.05, root_every: 1, start_step: 1}"})
    void exactScoreMatchingReachesSampleMeanAndInverseCovariance(String optimizer) throws Exception {
        double[] x = data();
        Quadratic q = new Quadratic(D, DELTA);
        double[] p = train(new ExactObjective(TraceAlgorithm.AUTO), optimizer, 3000, q, x);
        double[] mean = new double[D];
        for (int i = 0; i < N; i++) for (int j = 0; j < D; j++) mean[j] += x[i * D + j] / N;
        DMatrixRMaj target = covariance(x, mean);
        CommonOps_DDRM.invert(target);
        double errM = relErr(q.precision(p), target);
        double[] mu = q.mean(p);
        double errMu = 0;
        for (int j = 0; j < D; j++) errMu = Math.max(errMu, Math.abs(mu[j] - mean[j]));
        System.out.printf("exact SM, %-55s ‖M − S⁻¹‖/‖S⁻¹‖ = %.2e, max|μ − mean| = %.2e, M[0][1] %.6f vs %.6f%n",
                optimizer, errM, errMu, q.precision(p)[1], target.get(0, 1));
        assertTrue(errM < 1e-3, "M error " + errM);
        assertTrue(errMu < 1e-3, "mean error " + errMu);
    }

    @ParameterizedTest
    @ValueSource(strings = {"{name: adamw, lr: 0.02}", "{name: sgd, lr: 0.05, momentum: 0.9}"})
    void denoisingReachesTheNoisedPrecision(String optimizer) throws Exception {
        double sigma = 0.5;
        double[] x = data();
        Quadratic q = new Quadratic(D, DELTA);
        double[] p = train(new DenoisingObjective(sigma, 5), optimizer, 4000, q, x);
        double[] mean = new double[D];
        for (int i = 0; i < N; i++) for (int j = 0; j < D; j++) mean[j] += x[i * D + j] / N;
        DMatrixRMaj target = covariance(x, mean);
        for (int i = 0; i < D; i++) target.add(i, i, sigma * sigma);
        CommonOps_DDRM.invert(target);
        double errM = relErr(q.precision(p), target);
        System.out.printf("denoising σ=%.1f, %-40s ‖M − (S+σ²I)⁻¹‖/‖·‖ = %.2e%n", sigma, optimizer, errM);
        // Fresh noise every step: the optimum is that of the expected loss, reached up to Monte Carlo error.
        assertTrue(errM < 3e-2, "M error " + errM);
    }
}
