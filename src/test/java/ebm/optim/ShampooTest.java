package ebm.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.TestSeeds;
import ebm.model.ParamLayout;
import ebm.model.ParamView;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.EigenDecomposition_F64;
import org.junit.jupiter.api.Test;

class ShampooTest {
    private static final int ROWS = 3;
    private static final int COLS = 2;
    private static final ParamLayout LAYOUT = new ParamLayout.Builder()
            .add("w", ROWS, COLS, ParamView.Role.HIDDEN_WEIGHT)
            .add("b", 1, ROWS, ParamView.Role.BIAS)
            .build();

    /**
     * rootEvery = 1, startStep = 1: after two steps the matrix moved by lr·(‖A‖/‖D‖)·D with D = L^{−1/4} G R^{−1/4}
     * (L, R accumulated from ε·I; left root from EJML's eigendecomposition, right root from the 2x2 closed-form
     * square root taken twice) and A the AdamW step of the block; the bias moved by lr·A_bias alone.
     */
    @Test
    void directionIsTheInverseFourthRootPreconditionedGradientGraftedToAdamW() {
        for (int maxPrecondDim : new int[] {1024, 2}) {
            ShampooOptions options = new ShampooOptions(0.05, 1e-3, 1, 1, maxPrecondDim, 0.1, 0.9, 0.99, 1e-8);
            Random random = new Random(TestSeeds.fixed("Shampoo direction: parameters and gradients", 11));
            double[] params = MuonTest.gaussian(LAYOUT.size(), random);
            double[][] grads = {MuonTest.gaussian(LAYOUT.size(), random), MuonTest.gaussian(LAYOUT.size(), random)};
            Shampoo shampoo = Optimizers.shampoo(options, LAYOUT);
            shampoo.step(params, grads[0], 1.0);
            double[] before = params.clone();
            double lrScale = 0.8;
            shampoo.step(params, grads[1], lrScale);

            DMatrixRMaj left = CommonOps_DDRM.identity(ROWS);
            CommonOps_DDRM.scale(options.eps(), left);
            DMatrixRMaj right = CommonOps_DDRM.identity(COLS);
            CommonOps_DDRM.scale(options.eps(), right);
            for (double[] grad : grads) {
                DMatrixRMaj g = block(grad);
                CommonOps_DDRM.multAddTransB(g, g, left);
                CommonOps_DDRM.multAddTransA(g, g, right);
            }
            boolean leftPreconditioned = ROWS <= maxPrecondDim;
            DMatrixRMaj leftRoot = leftPreconditioned ? inverseFourthRootByEigen(left) : CommonOps_DDRM.identity(ROWS);
            DMatrixRMaj rightRoot = inverseFourthRoot2x2(right);
            DMatrixRMaj g = block(grads[1]);
            DMatrixRMaj leftG = new DMatrixRMaj(ROWS, COLS);
            CommonOps_DDRM.mult(leftRoot, g, leftG);
            DMatrixRMaj direction = new DMatrixRMaj(ROWS, COLS);
            CommonOps_DDRM.mult(leftG, rightRoot, direction);

            double[] adamStep = adamStepAfterTwo(grads, options);
            double graftNorm = Math.sqrt(sumSquares(adamStep, 0, ROWS * COLS));
            double directionNorm = Math.sqrt(sumSquares(direction.getData(), 0, ROWS * COLS));
            double lr = options.lr() * lrScale;
            double decay = 1 - lr * options.weightDecay();
            double worst = 0;
            double[] stepTaken = new double[ROWS * COLS];
            for (int k = 0; k < ROWS * COLS; k++) {
                double want = before[k] * decay - lr * (graftNorm / directionNorm) * direction.get(k);
                worst = Math.max(worst, Math.abs(params[k] - want) / Math.abs(want));
                stepTaken[k] = (before[k] * decay - params[k]) / lr;
            }
            for (int k = ROWS * COLS; k < LAYOUT.size(); k++) {
                double want = before[k] * decay - lr * adamStep[k];
                worst = Math.max(worst, Math.abs(params[k] - want) / Math.abs(want));
            }
            double takenNorm = Math.sqrt(sumSquares(stepTaken, 0, stepTaken.length));
            System.out.printf("Shampoo 3x2 (max_precond_dim %d, left %s): worst rel error vs independent "
                    + "L^-1/4 G R^-1/4 grafted step %.2e; block step norm %.15f, AdamW step norm %.15f%n",
                    maxPrecondDim, leftPreconditioned ? "preconditioned" : "identity", worst, takenNorm, graftNorm);
            assertTrue(worst < 1e-12, "Shampoo step differs from the independent computation: " + worst);
            assertEquals(graftNorm, takenNorm, 1e-12 * graftNorm);
            assertEquals(leftPreconditioned, shampoo.state().containsKey("w.left_stat"));
            Map<String, Double> diagnostics = shampoo.diagnostics();
            assertTrue(diagnostics.get("shampoo_cond_right_max") >= 1);
            assertEquals(leftPreconditioned, diagnostics.containsKey("shampoo_cond_left_max"));
            assertEquals(0.0, diagnostics.get("shampoo_root_failures"));
        }
    }

    /** Before startStep every parameter, matrices included, takes the AdamW (graft) step alone. */
    @Test
    void beforeStartStepItIsAdamW() {
        ShampooOptions options = new ShampooOptions(0.05, 1e-3, 2, 4, 1024, 0.1, 0.9, 0.99, 1e-8);
        Random random = new Random(TestSeeds.fixed("Shampoo before start_step: parameters and gradients", 5));
        double[] params = MuonTest.gaussian(LAYOUT.size(), random);
        double[] adamParams = params.clone();
        Shampoo shampoo = Optimizers.shampoo(options, LAYOUT);
        AdamW adamw = Optimizers.adamw(new AdamWOptions(0.05, 0.9, 0.99, 1e-8, 0.1), LAYOUT);
        double worst = 0;
        for (int step = 1; step <= 3; step++) {
            double[] grad = MuonTest.gaussian(LAYOUT.size(), random);
            shampoo.step(params, grad, 1.0);
            adamw.step(adamParams, grad, 1.0);
            for (int k = 0; k < params.length; k++) {
                worst = Math.max(worst, Math.abs(params[k] - adamParams[k]) / Math.abs(adamParams[k]));
            }
        }
        System.out.printf("Shampoo before start_step vs AdamW, 3 steps: worst rel error %.2e%n", worst);
        assertTrue(worst < 1e-13);
        assertFalse(shampoo.diagnostics().containsKey("shampoo_cond_left_max"), "no root before start_step");
        shampoo.step(params, MuonTest.gaussian(LAYOUT.size(), random), 1.0);
        assertTrue(shampoo.diagnostics().containsKey("shampoo_cond_left_max"), "roots computed at start_step");
    }

    /** A NaN gradient poisons the statistics: the refresh fails, the last good roots stay, one failure counted. */
    @Test
    void poisonedGradientKeepsTheLastGoodRootAndCountsTheFailure() {
        ShampooOptions options = new ShampooOptions(0.05, 1e-3, 1, 1, 1024, 0, 0.9, 0.99, 1e-8);
        Random random = new Random(TestSeeds.fixed("Shampoo NaN gradient: parameters and gradients", 17));
        double[] params = MuonTest.gaussian(LAYOUT.size(), random);
        Shampoo shampoo = Optimizers.shampoo(options, LAYOUT);
        shampoo.step(params, MuonTest.gaussian(LAYOUT.size(), random), 1.0);
        shampoo.step(params, MuonTest.gaussian(LAYOUT.size(), random), 1.0);
        Map<String, double[]> good = shampoo.state();
        assertEquals(0.0, good.get("root_failures")[0]);

        double[] poisoned = MuonTest.gaussian(LAYOUT.size(), random);
        poisoned[1] = Double.NaN;
        shampoo.step(params, poisoned, 1.0);
        Map<String, double[]> after = shampoo.state();
        System.out.printf("Shampoo NaN gradient: root_failures %s -> %s, left root kept %s, right root kept %s%n",
                good.get("root_failures")[0], after.get("root_failures")[0],
                Arrays.equals(good.get("w.left_root"), after.get("w.left_root")),
                Arrays.equals(good.get("w.right_root"), after.get("w.right_root")));
        assertEquals(1.0, shampoo.diagnostics().get("shampoo_root_failures"));
        assertEquals(1.0, after.get("root_failures")[0]);
        assertArrayEquals(good.get("w.left_root"), after.get("w.left_root"), 0.0);
        assertArrayEquals(good.get("w.right_root"), after.get("w.right_root"), 0.0);
        assertTrue(Double.isNaN(after.get("w.left_stat")[0]), "the statistic itself is poisoned");
    }

    private static DMatrixRMaj block(double[] grad) {
        return new DMatrixRMaj(ROWS, COLS, true, Arrays.copyOf(grad, ROWS * COLS));
    }

    /** AdamW's update direction (without lr) at step 2 for every entry, bias-corrected, written out by hand. */
    private static double[] adamStepAfterTwo(double[][] grads, ShampooOptions o) {
        double[] step = new double[grads[0].length];
        for (int k = 0; k < step.length; k++) {
            double g1 = grads[0][k];
            double g2 = grads[1][k];
            double m = o.beta1() * (1 - o.beta1()) * g1 + (1 - o.beta1()) * g2;
            double v = o.beta2() * (1 - o.beta2()) * g1 * g1 + (1 - o.beta2()) * g2 * g2;
            double mHat = m / (1 - o.beta1() * o.beta1());
            double vHat = v / (1 - o.beta2() * o.beta2());
            step[k] = mHat / (Math.sqrt(vHat) + o.graftEps());
        }
        return step;
    }

    private static DMatrixRMaj inverseFourthRootByEigen(DMatrixRMaj symmetric) {
        int n = symmetric.numRows;
        EigenDecomposition_F64<DMatrixRMaj> eig = DecompositionFactory_DDRM.eig(n, true, true);
        assertTrue(eig.decompose(symmetric.copy()));
        DMatrixRMaj root = new DMatrixRMaj(n, n);
        for (int i = 0; i < n; i++) {
            DMatrixRMaj v = eig.getEigenVector(i);
            double weight = Math.pow(eig.getEigenvalue(i).real, -0.25);
            for (int r = 0; r < n; r++) {
                for (int c = 0; c < n; c++) root.add(r, c, weight * v.get(r) * v.get(c));
            }
        }
        return root;
    }

    /** For a 2x2 SPD M: √M = (M + √det·I)/√(tr + 2√det); applied twice gives M^{1/4}, then inverted. */
    private static DMatrixRMaj inverseFourthRoot2x2(DMatrixRMaj m) {
        DMatrixRMaj fourthRoot = sqrt2x2(sqrt2x2(m));
        DMatrixRMaj inverse = new DMatrixRMaj(2, 2);
        assertTrue(CommonOps_DDRM.invert(fourthRoot, inverse));
        return inverse;
    }

    private static DMatrixRMaj sqrt2x2(DMatrixRMaj m) {
        double sqrtDet = Math.sqrt(m.get(0, 0) * m.get(1, 1) - m.get(0, 1) * m.get(1, 0));
        double t = Math.sqrt(m.get(0, 0) + m.get(1, 1) + 2 * sqrtDet);
        DMatrixRMaj root = m.copy();
        root.add(0, 0, sqrtDet);
        root.add(1, 1, sqrtDet);
        CommonOps_DDRM.divide(root, t);
        return root;
    }

    private static double sumSquares(double[] values, int from, int to) {
        double sum = 0;
        for (int k = from; k < to; k++) sum += values[k] * values[k];
        return sum;
    }
}
