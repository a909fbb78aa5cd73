package ebm.data;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.QRDecomposition;

/** The few fp64 dense operations the densities need; matrices are row-major d x d arrays. */
final class DenseLinalg {
    private DenseLinalg() {}

    /** Lower Cholesky factor L with L L^T = a, or null when a is not (numerically) positive definite. */
    static double[] cholesky(double[] a, int d) {
        double[] l = new double[d * d];
        for (int i = 0; i < d; i++) {
            for (int j = 0; j <= i; j++) {
                double s = a[i * d + j];
                for (int k = 0; k < j; k++) s -= l[i * d + k] * l[j * d + k];
                if (i == j) {
                    if (!(s > 0)) return null;
                    l[i * d + i] = Math.sqrt(s);
                } else {
                    l[i * d + j] = s / l[j * d + j];
                }
            }
        }
        return l;
    }

    /** log det(L L^T) = 2 sum log L_ii. */
    static double logDet(double[] chol, int d) {
        double s = 0;
        for (int i = 0; i < d; i++) s += Math.log(chol[i * d + i]);
        return 2 * s;
    }

    /** Solves L y = b in place (b becomes y). */
    static void forwardSolve(double[] l, int d, double[] b) {
        for (int i = 0; i < d; i++) {
            double s = b[i];
            for (int k = 0; k < i; k++) s -= l[i * d + k] * b[k];
            b[i] = s / l[i * d + i];
        }
    }

    /** Solves L^T y = b in place. */
    static void backSolveTransposed(double[] l, int d, double[] b) {
        for (int i = d - 1; i >= 0; i--) {
            double s = b[i];
            for (int k = i + 1; k < d; k++) s -= l[k * d + i] * b[k];
            b[i] = s / l[i * d + i];
        }
    }

    /**
     * A Haar-distributed orthogonal matrix: Q of the QR decomposition of a d x d standard Gaussian matrix, with
     * column j multiplied by sign(R_jj) (without that fix Q would not be uniformly distributed).
     */
    static double[] randomOrthogonal(SequentialDraws draws, int d) {
        DMatrixRMaj g = new DMatrixRMaj(d, d);
        for (int i = 0; i < d * d; i++) g.data[i] = draws.gaussian();
        QRDecomposition<DMatrixRMaj> qr = DecompositionFactory_DDRM.qr(d, d);
        if (!qr.decompose(g)) throw new IllegalStateException("QR of a Gaussian matrix failed");
        DMatrixRMaj q = qr.getQ(null, false);
        DMatrixRMaj r = qr.getR(null, false);
        double[] out = new double[d * d];
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < d; j++) {
                out[i * d + j] = q.get(i, j) * (r.get(j, j) < 0 ? -1 : 1);
            }
        }
        return out;
    }

    /** Q diag(eigenvalues) Q^T, symmetrised exactly. */
    static double[] fromEigen(double[] q, double[] eigenvalues, int d) {
        double[] out = new double[d * d];
        for (int i = 0; i < d; i++) {
            for (int j = 0; j <= i; j++) {
                double s = 0;
                for (int k = 0; k < d; k++) s += q[i * d + k] * eigenvalues[k] * q[j * d + k];
                out[i * d + j] = s;
                out[j * d + i] = s;
            }
        }
        return out;
    }

    /** Eigenvalues scale^2 * cond^(-i/(d-1)), i = 0..d-1: log-uniformly spaced from scale^2 down to scale^2/cond. */
    static double[] logSpacedEigenvalues(int d, double conditionNumber, double scale) {
        double[] ev = new double[d];
        for (int i = 0; i < d; i++) {
            double t = d == 1 ? 0 : (double) i / (d - 1);
            ev[i] = scale * scale * Math.pow(conditionNumber, -t);
        }
        return ev;
    }
}
