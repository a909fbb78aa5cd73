package ebm.tape;

import java.util.ArrayList;
import java.util.List;

/**
 * Every differentiable primitive of {@link Ops}, named once with a recipe that builds its output from random inputs
 * of fixed shapes. The same recipe runs on every backend's tape: the CPU tape's adjoints are checked against finite
 * differences with it, and each device tape against the CPU tape (`ebm validate`).
 */
public final class OpTable {
    private OpTable() {}

    /** Builds an op's output from its inputs on any tape. */
    @FunctionalInterface
    public interface Recipe {
        Tensor apply(Ops<Tensor> ops, Tensor[] inputs);
    }

    /** An op under test: its name, the shapes of its inputs ({rows, cols} each) and its recipe. */
    public record Op(String name, int[][] inputShapes, Recipe recipe) {}

    /** A tape seen through the op interface with its tensor type erased, so that one recipe runs on every tape. */
    @SuppressWarnings("unchecked")
    public static <T extends Tensor> Ops<Tensor> erased(Ops<T> ops) {
        return (Ops<Tensor>) (Ops<?>) ops;
    }

    /** The table: n samples, r directions per sample, widths m and k. */
    public static List<Op> all() {
        int n = 5, r = 3, m = 7, k = 6;
        List<Op> ops = new ArrayList<>();
        ops.add(new Op("matmulNT", new int[][] {{n, k}, {m, k}}, (t, x) -> t.matmulNT(x[0], x[1])));
        ops.add(new Op("matmulNN", new int[][] {{n, k}, {k, m}}, (t, x) -> t.matmulNN(x[0], x[1])));
        ops.add(new Op("transpose", new int[][] {{n, m}}, (t, x) -> t.transpose(x[0])));
        ops.add(new Op("combine", new int[][] {{n, m}, {n, m}}, (t, x) -> t.combine(x[0], x[1], 0.7, -1.3)));
        ops.add(new Op("scale", new int[][] {{n, m}}, (t, x) -> t.scale(x[0], -2.5)));
        ops.add(new Op("mul", new int[][] {{n, m}, {n, m}}, (t, x) -> t.mul(x[0], x[1])));
        ops.add(new Op("addRow", new int[][] {{n, m}, {1, m}}, (t, x) -> t.addRow(x[0], x[1])));
        ops.add(new Op("mulRow", new int[][] {{n, m}, {1, m}}, (t, x) -> t.mulRow(x[0], x[1])));
        ops.add(new Op("groupMul", new int[][] {{n, m}, {n * r, m}}, (t, x) -> t.groupMul(x[0], x[1])));
        ops.add(new Op("sharedMul", new int[][] {{n, m}, {r, m}}, (t, x) -> t.sharedMul(x[0], x[1])));
        ops.add(new Op("groupSum", new int[][] {{n * r, m}}, (t, x) -> t.groupSum(x[0], n)));
        ops.add(new Op("groupSumSquares", new int[][] {{n * r, m}}, (t, x) -> t.groupSumSquares(x[0], n)));
        ops.add(new Op("repeatRows", new int[][] {{n, m}}, (t, x) -> t.repeatRows(x[0], r)));
        ops.add(new Op("rowSumSquares", new int[][] {{n, m}}, (t, x) -> t.rowSumSquares(x[0])));
        ops.add(new Op("rowSum", new int[][] {{n, m}}, (t, x) -> t.rowSum(x[0])));
        ops.add(new Op("colSumSquares", new int[][] {{r, m}}, (t, x) -> t.colSumSquares(x[0])));
        // over squares: a scalar sum of signed random terms cancels, and its relative error would measure that
        ops.add(new Op("sum", new int[][] {{n, m}}, (t, x) -> t.sum(t.mul(x[0], x[0]))));
        for (Activation a : Activation.values()) {
            // the three orders are summed under their own random weights by stacking them into one output
            ops.add(new Op("biasActivations " + a.configName(), new int[][] {{n, m}, {1, m}}, (t, x) -> {
                Ops.Activations<Tensor> s = t.biasActivations(a, x[0], x[1]);
                return t.add(t.add(s.value(), t.scale(s.first(), 0.5)), t.scale(s.second(), 0.25));
            }));
        }
        return ops;
    }
}
