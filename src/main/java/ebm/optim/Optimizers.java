package ebm.optim;

import ebm.model.ParamLayout;

/** Creates each optimizer from its options and the layout of the flat parameter buffer it will update. */
public final class Optimizers {
    private Optimizers() {}

    /** The CPU optimizer of a spec (as parsed from optimizer.* by the config), over layout. */
    public static Optimizer create(OptimizerSpec spec, ParamLayout layout) {
        return switch (spec) {
            case SgdOptions o -> sgd(o, layout);
            case AdamWOptions o -> adamw(o, layout);
            case MuonOptions o -> muon(o, layout);
            case ShampooOptions o -> shampoo(o, layout);
        };
    }

    public static Sgd sgd(SgdOptions options, ParamLayout layout) {
        return new Sgd(options, layout.size());
    }

    public static AdamW adamw(AdamWOptions options, ParamLayout layout) {
        return new AdamW(options, layout.size(), new int[] {0}, new int[] {layout.size()});
    }

    public static Muon muon(MuonOptions options, ParamLayout layout) {
        return new Muon(options, layout);
    }

    public static Shampoo shampoo(ShampooOptions options, ParamLayout layout) {
        return new Shampoo(options, layout);
    }
}
