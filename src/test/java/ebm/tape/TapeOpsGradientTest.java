package ebm.tape;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.TestSeeds;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every differentiable primitive of the op interface, through the same recipe the device parity rows run: the CPU
 * tape's adjoint of each input under a random linear loss L = Σ w ⊙ op(x) against central finite differences in fp64.
 */
class TapeOpsGradientTest {

    static Stream<OpTable.Op> ops() {
        return OpTable.all().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("ops")
    void adjointsMatchFiniteDifferences(OpTable.Op op) {
        long seed = TestSeeds.seed("tape op " + op.name());
        SplittableRandom random = new SplittableRandom(seed);
        int inputs = op.inputShapes().length;
        double[][] values = new double[inputs][];
        for (int i = 0; i < inputs; i++) {
            int[] shape = op.inputShapes()[i];
            values[i] = new double[shape[0] * shape[1]];
            for (int e = 0; e < values[i].length; e++) values[i][e] = random.nextDouble(-1.5, 1.5);
        }
        Tape tape = new Tape();
        Node[] leaves = leaves(tape, op, values);
        Node out = (Node) op.recipe().apply(OpTable.erased(tape), leaves);
        double[] weights = new double[out.size()];
        for (int e = 0; e < weights.length; e++) weights[e] = random.nextDouble(-1, 1);
        tape.backward(tape.sum(tape.mul(out, tape.constant(weights, out.rows, out.cols))));

        double worst = 0;
        String worstPair = "";
        for (int i = 0; i < inputs; i++) {
            double[] got = leaves[i].grad();
            double[] fd = new double[got.length];
            for (int e = 0; e < got.length; e++) {
                double h = 1e-6, keep = values[i][e];
                values[i][e] = keep + h;
                double up = loss(op, values, weights);
                values[i][e] = keep - h;
                double down = loss(op, values, weights);
                values[i][e] = keep;
                fd[e] = (up - down) / (2 * h);
            }
            double num = 0, den = 0;
            int w = 0;
            for (int e = 0; e < got.length; e++) {
                num += (got[e] - fd[e]) * (got[e] - fd[e]);
                den += fd[e] * fd[e];
                if (Math.abs(got[e] - fd[e]) > Math.abs(got[w] - fd[w])) w = e;
            }
            double rel = Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-300);
            if (rel >= worst) {
                worst = rel;
                worstPair = String.format("input %d [%d]: tape %.12g vs differences %.12g", i, w, got[w], fd[w]);
            }
            assertTrue(den > 0, op.name() + ": the finite differences of input " + i + " are all zero");
        }
        System.out.printf("tape op %-28s adjoints vs central differences: ‖Δ‖/‖fd‖ = %.2e (worst %s)%n", op.name(), worst, worstPair);
        assertTrue(worst < 1e-6, op.name() + ": adjoint off by " + worst);
    }

    private static Node[] leaves(Tape tape, OpTable.Op op, double[][] values) {
        Node[] leaves = new Node[values.length];
        for (int i = 0; i < values.length; i++) {
            leaves[i] = tape.variable(values[i].clone(), op.inputShapes()[i][0], op.inputShapes()[i][1]);
        }
        return leaves;
    }

    private static double loss(OpTable.Op op, double[][] values, double[] weights) {
        Tape tape = new Tape();
        Node out = (Node) op.recipe().apply(OpTable.erased(tape), leaves(tape, op, values));
        double s = 0;
        for (int e = 0; e < weights.length; e++) s += weights[e] * out.value[e];
        return s;
    }
}
