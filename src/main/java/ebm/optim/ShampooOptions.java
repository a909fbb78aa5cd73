package ebm.optim;

/**
 * Shampoo grafted to AdamW. {@link #defaults}: eps = 1e-12, roots every 10 steps, start at step 10,
 * maxPrecondDim = 1024, λ = 0, β = (0.9, 0.999), graftEps = 1e-8.
 *
 * @param lr            base learning rate, > 0 (optimizer.lr)
 * @param eps           ε of the ε·I start of both statistics, > 0 (optimizer.precond_eps)
 * @param rootEvery     recompute the inverse fourth roots every this many steps, ≥ 1 (optimizer.root_every)
 * @param startStep     steps before this one (1-based) use the AdamW graft step alone, ≥ 0 (optimizer.start_step)
 * @param maxPrecondDim a matrix side longer than this stays unpreconditioned, ≥ 1 (optimizer.max_precond_dim)
 * @param weightDecay   decoupled λ ≥ 0 (optimizer.weight_decay)
 * @param beta1         graft AdamW first-moment decay in [0, 1) (optimizer.beta1)
 * @param beta2         graft AdamW second-moment decay in [0, 1) (optimizer.beta2)
 * @param graftEps      graft AdamW eps, > 0 (optimizer.eps, shared with AdamW)
 */
public record ShampooOptions(double lr, double eps, int rootEvery, int startStep, int maxPrecondDim,
                             double weightDecay, double beta1, double beta2, double graftEps) implements OptimizerSpec {

    public static final int DEFAULT_MAX_PRECOND_DIM = 1024;

    public ShampooOptions {
        OptionChecks.positive("optimizer.lr", lr);
        OptionChecks.positive("optimizer.precond_eps", eps);
        OptionChecks.intAtLeast("optimizer.root_every", rootEvery, 1);
        OptionChecks.intAtLeast("optimizer.start_step", startStep, 0);
        OptionChecks.intAtLeast("optimizer.max_precond_dim", maxPrecondDim, 1);
        OptionChecks.nonNegative("optimizer.weight_decay", weightDecay);
        OptionChecks.unitHalfOpen("optimizer.beta1", beta1);
        OptionChecks.unitHalfOpen("optimizer.beta2", beta2);
        OptionChecks.positive("optimizer.eps", graftEps);
    }

    /** The first step (1-based) that preconditions: startStep, and step 1 for startStep 0. */
    public long firstPreconditionedStep() {
        return Math.max(1, startStep);
    }

    /** Whether step t (1-based) preconditions; the ones before take the graft step alone. */
    public boolean preconditions(long t) {
        return t >= firstPreconditionedStep();
    }

    /** Whether step t (1-based) recomputes the roots: the first preconditioned step, then every rootEvery steps. */
    public boolean refreshesRoots(long t) {
        return preconditions(t) && (t - firstPreconditionedStep()) % rootEvery == 0;
    }

    public static ShampooOptions defaults(double lr) {
        return new ShampooOptions(lr, 1e-12, 10, 10, DEFAULT_MAX_PRECOND_DIM, 0, 0.9, 0.999, 1e-8);
    }
}
