package ebm.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.config.OptimizerConfig;
import ebm.model.Activation;
import ebm.model.Mlp;
import ebm.model.MlpSpec;
import ebm.model.TraceAlgorithm;
import ebm.objective.DenoisingObjective;
import ebm.objective.ExactObjective;
import ebm.objective.HutchinsonObjective;
import ebm.objective.Objective;
import ebm.objective.ProbeDistribution;
import ebm.objective.SlicedObjective;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Each objective's loss and parameter gradient on the device tape (host build) against the fp64 CPU reference. */
class DeviceObjectiveParityTest {

    @Test
    void lossAndGradientMatchTheCpuReference() {
        SplittableRandom random = new SplittableRandom(7);
        List<Objective> objectives = List.of(new ExactObjective(TraceAlgorithm.PER_DIMENSION),
                new HutchinsonObjective(3, ProbeDistribution.GAUSSIAN, 11), new HutchinsonObjective(2, ProbeDistribution.RADEMACHER, 11),
                new SlicedObjective(2, ProbeDistribution.GAUSSIAN, 5), new DenoisingObjective(0.3, 9));
        try (HostEmulationLauncher launcher = HostBuild.launcherOrSkip(); Blas blas = new HostBlas(Blas.GemmPrecision.FP32)) {
            for (Objective objective : objectives) {
                for (Activation act : new Activation[] {Activation.SOFTPLUS, Activation.TANH}) {
                    MlpSpec spec = new MlpSpec(3, new int[] {8, 6}, act);
                    Mlp model = new Mlp(spec);
                    double[] params = model.initialParams(random.nextLong());
                    int batch = 10;
                    double[] x = new double[batch * 3];
                    for (int i = 0; i < x.length; i++) x[i] = random.nextGaussian();
                    double[] want = new double[params.length];
                    double wantLoss = objective.run(model, params, x, batch, 4, want).loss();
                    CudaTrainingStep step = new CudaTrainingStep(launcher, blas, spec, objective, new OptimizerConfig(
                            null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null),
                            0, batch, null, params);
                    double[] got = new double[params.length];
                    double gotLoss = step.lossAndGradient(x, 4, got);
                    double diff = 0, norm = 0;
                    for (int i = 0; i < got.length; i++) {
                        diff += (got[i] - want[i]) * (got[i] - want[i]);
                        norm += want[i] * want[i];
                    }
                    double gradError = Math.sqrt(diff / norm), lossError = Math.abs(gotLoss - wantLoss) / Math.abs(wantLoss);
                    System.out.printf("%-12s %-9s loss %.6e vs %.6e (rel %.1e), grad rel %.1e, grad[0] %.6e vs %.6e%n",
                            objective.name(), act.configName(), gotLoss, wantLoss, lossError, gradError, got[0], want[0]);
                    assertTrue(lossError < 1e-4 && gradError < 1e-4, objective.name() + " " + act);
                }
            }
        }
    }
}
