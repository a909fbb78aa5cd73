package ebm.objective;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.TestNets;
import ebm.TestSeeds;
import ebm.model.EnergyModel;
import ebm.model.Mlp;
import ebm.model.Quadratic;
import ebm.model.TraceAlgorithm;
import ebm.tape.Activation;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.BiFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every objective's hand-built parameter gradient against central finite differences in fp64, on 1-, 2- and
 * 3-layer nets with unequal widths, every activation, and the quadratic model. The random draws are keyed by the
 * step, so the loss is a deterministic function of θ; for Hutch++ the sketch basis is held fixed, as the
 * estimator treats it as a constant.
 */
class ObjectiveGradientTest {
    private static final long SEED = 11;
    private static final int BATCH = 4;
    private static final long STEP = 3;
    private static final long POINTS_SEED = 17, QUADRATIC_PARAMS_SEED = 23, QUADRATIC_POINTS_SEED = 29;

    private static long paramsSeed(int[] shape) {
        return 5 + shape.length;
    }

    /** The fixed seeds of the random nets, points and probes, printed once before any case compares. */
    @BeforeAll
    static void printSeeds() {
        TestSeeds.fixed("objectives' probes and noise", SEED);
        for (int[] shape : TestNets.SHAPES) TestSeeds.fixed("parameters of the " + Arrays.toString(shape) + " nets", paramsSeed(shape));
        TestSeeds.fixed("points of the nets", POINTS_SEED);
        TestSeeds.fixed("quadratic's parameters", QUADRATIC_PARAMS_SEED);
        TestSeeds.fixed("quadratic's points", QUADRATIC_POINTS_SEED);
    }

    static List<Objective> objectives() {
        return List.of(
                new ExactObjective(TraceAlgorithm.PER_DIMENSION),
                new ExactObjective(TraceAlgorithm.ROW_SPACE),
                new HutchinsonObjective(3, ProbeDistribution.GAUSSIAN, SEED),
                new HutchinsonObjective(2, ProbeDistribution.RADEMACHER, SEED),
                new SlicedObjective(3, ProbeDistribution.GAUSSIAN, SEED),
                new HutchPlusPlusObjective(7, ProbeDistribution.GAUSSIAN, SEED),
                new DenoisingObjective(0.3, SEED),
                new AnnealedDenoisingObjective(AnnealedDenoisingObjective.geometricLevels(1.0, 0.1, 4), SEED));
    }

    static Stream<Arguments> mlpCases() {
        List<Arguments> cases = new ArrayList<>();
        for (Objective o : objectives()) {
            for (Activation a : Activation.values()) {
                for (int[] shape : TestNets.SHAPES) cases.add(Arguments.of(o, a, shape));
            }
        }
        return cases.stream();
    }

    static Stream<Arguments> quadraticCases() {
        return objectives().stream().map(Arguments::of);
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("mlpCases")
    void mlpGradientMatchesFiniteDifferences(Objective objective, Activation act, int[] shape) {
        Mlp mlp = new Mlp(TestNets.spec(shape, act));
        double[] params = TestNets.params(mlp, paramsSeed(shape));
        double[] x = TestNets.points(BATCH, shape[0], POINTS_SEED);
        check(objective, mlp, params, x, mlp.spec().toString());
    }

    @ParameterizedTest(name = "{0} quadratic")
    @MethodSource("quadraticCases")
    void quadraticGradientMatchesFiniteDifferences(Objective objective) {
        Quadratic q = new Quadratic(3, 0.05);
        double[] params = TestNets.points(1, q.layout().size(), QUADRATIC_PARAMS_SEED);
        double[] x = TestNets.points(BATCH, 3, QUADRATIC_POINTS_SEED);
        check(objective, q, params, x, "quadratic D=3");
    }

    private static void check(Objective objective, EnergyModel model, double[] params, double[] x, String what) {
        BiFunction<double[], double[], Double> loss;
        if (objective instanceof HutchPlusPlusObjective hpp) {
            HutchPlusPlusObjective.Directions dirs = hpp.directions(model, params, x, BATCH, STEP);
            loss = (p, g) -> hpp.lossAlong(model, p, x, BATCH, dirs, g);
        } else {
            loss = (p, g) -> objective.evaluate(model, p, x, BATCH, STEP, g);
        }
        double[] grad = new double[params.length];
        double value = loss.apply(params, grad);
        double[] fd = new double[params.length];
        for (int i = 0; i < params.length; i++) {
            double h = 1e-5 * Math.max(1, Math.abs(params[i]));
            double[] p = params.clone();
            p[i] = params[i] + h;
            double up = loss.apply(p, null);
            p[i] = params[i] - h;
            double down = loss.apply(p, null);
            fd[i] = (up - down) / (2 * h);
        }
        double err = TestNets.relativeError(grad, fd);
        int w = TestNets.worst(grad, fd);
        System.out.printf("%-22s %-40s J=%+.6e  |g|=%.3e  rel.err=%.2e  worst[%d]: %+.10e vs fd %+.10e%n",
                objective.name(), what, value, norm(fd), err, w, grad[w], fd[w]);
        assertTrue(err < 1e-6, objective.name() + " on " + what + ": relative error " + err);
    }

    private static double norm(double[] v) {
        double s = 0;
        for (double e : v) s += e * e;
        return Math.sqrt(s);
    }
}
