package ebm.optim;

/**
 * torch.optim.AdamW: θ ← θ(1 − lr·λ), m and v EMAs, bias corrections, eps added after the corrected √v.
 * Defaults ({@link #defaults}) are PyTorch's: β = (0.9, 0.999), eps = 1e-8, λ = 0.01.
 *
 * @param lr          base learning rate, > 0 (optimizer.lr)
 * @param beta1       first-moment decay in [0, 1) (optimizer.beta1)
 * @param beta2       second-moment decay in [0, 1) (optimizer.beta2)
 * @param eps         > 0 (optimizer.eps)
 * @param weightDecay decoupled λ ≥ 0 (optimizer.weight_decay)
 */
public record AdamWOptions(double lr, double beta1, double beta2, double eps, double weightDecay) implements OptimizerSpec {

    public AdamWOptions {
        check("optimizer.", lr, beta1, beta2, eps, weightDecay);
    }

    /** PyTorch's defaults with the given learning rate. */
    public static AdamWOptions defaults(double lr) {
        return new AdamWOptions(lr, 0.9, 0.999, 1e-8, 0.01);
    }

    /**
     * Builds the options, naming keys under {@code keyPrefix} in errors (for instance "optimizer.adamw." for
     * Muon's inner AdamW, so that a bad inner lr is reported as optimizer.adamw.lr).
     */
    public static AdamWOptions validated(String keyPrefix, double lr, double beta1, double beta2, double eps,
                                         double weightDecay) {
        check(keyPrefix, lr, beta1, beta2, eps, weightDecay);
        return new AdamWOptions(lr, beta1, beta2, eps, weightDecay);
    }

    private static void check(String prefix, double lr, double beta1, double beta2, double eps, double weightDecay) {
        OptionChecks.positive(prefix + "lr", lr);
        OptionChecks.unitHalfOpen(prefix + "beta1", beta1);
        OptionChecks.unitHalfOpen(prefix + "beta2", beta2);
        OptionChecks.positive(prefix + "eps", eps);
        OptionChecks.nonNegative(prefix + "weight_decay", weightDecay);
    }
}
