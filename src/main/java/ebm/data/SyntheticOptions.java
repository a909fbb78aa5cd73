package ebm.data;

import ebm.EbmException;

/**
 * Parameters of the synthetic densities "gaussian" and "mixture" (the 2-D toys have fixed parameters; a dim other
 * than 2 for them is an error).
 *
 * @param dim             dimension D of gaussian and mixture
 * @param components      number of mixture components K
 * @param conditionNumber ratio of the largest to the smallest covariance eigenvalue (1 = isotropic)
 * @param meanScale       means are drawn as meanScale * N(0, I)
 * @param scale           the largest covariance eigenvalue is scale^2 (gaussian: its covariance; mixture: each
 *                        component's)
 */
public record SyntheticOptions(int dim, int components, double conditionNumber, double meanScale, double scale) {
    public SyntheticOptions {
        if (dim < 1) throw new EbmException("data: dim must be >= 1, got " + dim);
        if (components < 1) throw new EbmException("data: components must be >= 1, got " + components);
        if (!(conditionNumber >= 1) || Double.isInfinite(conditionNumber)) {
            throw new EbmException("data: condition_number must be >= 1 and finite, got " + conditionNumber);
        }
        if (!(meanScale >= 0) || Double.isInfinite(meanScale)) {
            throw new EbmException("data: mean_scale must be >= 0 and finite, got " + meanScale);
        }
        if (!(scale > 0) || Double.isInfinite(scale)) throw new EbmException("data: scale must be > 0, got " + scale);
    }

    /** D as given, K = 8, condition number 10, mean scale 2, scale 1. */
    public static SyntheticOptions defaults(int dim) {
        return new SyntheticOptions(dim, 8, 10, 2, 1);
    }
}
