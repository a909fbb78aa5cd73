package ebm.config;

import static ebm.config.Check.or;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import ebm.tape.Activation;
import java.util.List;

/** model.*: an energy MLP (hidden widths, activation) or the quadratic known-answer model. */
@JsonPropertyOrder({"kind", "hidden", "activation", "delta"})
public record ModelConfig(String kind, List<Integer> hidden, String activation, Double delta) {

    public ModelConfig {
        kind = Check.oneOf("model.kind", or(kind, "mlp"), "mlp", "quadratic");
        hidden = hidden == null ? List.of(64, 64) : List.copyOf(hidden);
        if (hidden.isEmpty()) throw new ebm.EbmException("model.hidden: list at least one width, e.g. [64, 64]");
        for (int i = 0; i < hidden.size(); i++) {
            if (hidden.get(i) == null || hidden.get(i) <= 0) {
                throw new ebm.EbmException("model.hidden[" + i + "]: widths must be positive, got " + hidden.get(i));
            }
        }
        activation = activation == null ? "softplus" : activation;
        Activation.parse(activation);
        delta = Check.positive("model.delta", or(delta, 1e-3));
    }

    public int[] hiddenArray() {
        return hidden.stream().mapToInt(Integer::intValue).toArray();
    }
}
