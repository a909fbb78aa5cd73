package ebm.model;

import ebm.EbmException;
import ebm.tape.Activation;
import java.util.Arrays;

/**
 * The shape of an energy MLP (checkpoint format ebm-mlp-v1): input width D, hidden widths H_1..H_L, activation.
 * Parameters, in this order in the flat buffer: hidden.{l}.weight [H_{l+1} x H_l], hidden.{l}.bias [1 x H_{l+1}]
 * for l = 0..L-1, then out.weight [1 x H_L] and out.bias [1 x 1].
 */
public record MlpSpec(int inputDim, int[] hidden, Activation activation) {

    public MlpSpec {
        if (inputDim <= 0) throw new EbmException("model input width must be positive, got " + inputDim);
        if (hidden == null || hidden.length == 0) throw new EbmException("model.hidden must list at least one hidden width");
        for (int i = 0; i < hidden.length; i++) {
            if (hidden[i] <= 0) {
                throw new EbmException("model.hidden[" + i + "] must be a positive width, got " + hidden[i]);
            }
        }
        hidden = hidden.clone();
        if (activation == null) throw new EbmException("model.activation is required");
    }

    public int layers() {
        return hidden.length;
    }

    /** Width of h_l: H_0 = D, H_l = hidden[l-1]. */
    public int width(int l) {
        return l == 0 ? inputDim : hidden[l - 1];
    }

    public static String weightName(int layer) {
        return "hidden." + layer + ".weight";
    }

    public static String biasName(int layer) {
        return "hidden." + layer + ".bias";
    }

    public ParamLayout layout() {
        ParamLayout.Builder b = new ParamLayout.Builder();
        for (int l = 0; l < hidden.length; l++) {
            b.add(weightName(l), hidden[l], width(l), l == 0 ? ParamView.Role.FIRST_WEIGHT : ParamView.Role.HIDDEN_WEIGHT);
            b.add(biasName(l), 1, hidden[l], ParamView.Role.BIAS);
        }
        b.add("out.weight", 1, hidden[hidden.length - 1], ParamView.Role.OUTPUT_WEIGHT);
        b.add("out.bias", 1, 1, ParamView.Role.OUTPUT_BIAS);
        return b.build();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MlpSpec s && s.inputDim == inputDim && Arrays.equals(s.hidden, hidden) && s.activation == activation;
    }

    @Override
    public int hashCode() {
        return 31 * (31 * inputDim + Arrays.hashCode(hidden)) + activation.hashCode();
    }

    @Override
    public String toString() {
        return "MlpSpec[D=" + inputDim + ", hidden=" + Arrays.toString(hidden) + ", activation=" + activation.configName() + "]";
    }
}
