package ebm.train;

import ebm.model.EnergyModel;
import ebm.model.Mlp;
import ebm.model.MlpSpec;
import ebm.model.ParamView;

/**
 * The energy as users see it: in the data's original coordinates, at the lowest noise level. A standardisation
 * x ↦ (x − m)/s is folded into hidden.0 (W₁' = W₁ diag(1/s), b₁' = b₁ − W₁' m), and an annealed-denoising model is
 * exported as E_θ/σ_min (out.weight and out.bias divided by σ_min), as ARCHITECTURE.md §3 requires of checkpoints.
 */
public final class Export {
    private Export() {}

    public static double[] params(EnergyModel model, double[] params, double[] mean, double[] std, double energyScale) {
        double[] p = params.clone();
        if (!(model instanceof Mlp mlp)) {
            if (mean != null || energyScale != 1.0) {
                throw new IllegalArgumentException("only MLP energies fold standardisation or noise scale");
            }
            return p;
        }
        MlpSpec spec = mlp.spec();
        if (mean != null) {
            ParamView w = mlp.layout().view(MlpSpec.weightName(0));
            ParamView b = mlp.layout().view(MlpSpec.biasName(0));
            int d = spec.inputDim();
            for (int i = 0; i < w.rows(); i++) {
                double shift = 0;
                for (int j = 0; j < d; j++) {
                    int idx = w.offset() + i * d + j;
                    p[idx] = params[idx] / std[j];
                    shift += p[idx] * mean[j];
                }
                p[b.offset() + i] = params[b.offset() + i] - shift;
            }
        }
        if (energyScale != 1.0) {
            for (String name : new String[] {"out.weight", "out.bias"}) {
                ParamView v = mlp.layout().view(name);
                for (int i = 0; i < v.size(); i++) p[v.offset() + i] *= energyScale;
            }
        }
        return p;
    }
}
