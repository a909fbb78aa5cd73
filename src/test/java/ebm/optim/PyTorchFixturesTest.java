package ebm.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import ebm.model.ParamLayout;
import ebm.model.ParamView;
import java.io.IOException;
import java.io.InputStream;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * SGD and AdamW against trajectories recorded from torch.optim (float64) by
 * bench/fixtures/make_optimizer_fixtures.py: every parameter after every step agrees to 1e-12 relative.
 */
class PyTorchFixturesTest {
    private static final double TOLERANCE = 1e-12;
    /** Same order as the fixture script: a [3 x 4] matrix then a [3] vector. */
    private static final ParamLayout LAYOUT = new ParamLayout.Builder()
            .add("w", 3, 4, ParamView.Role.FIRST_WEIGHT)
            .add("b", 1, 3, ParamView.Role.BIAS)
            .build();

    @Test
    void sgdMatchesTorch() throws IOException {
        replayAll("sgd.json", "SGD", 5, options -> Optimizers.sgd(new SgdOptions(
                options.get("lr").asDouble(), options.get("momentum").asDouble(), options.get("dampening").asDouble(),
                options.get("nesterov").asBoolean(), options.get("weight_decay").asDouble()), LAYOUT));
    }

    @Test
    void adamwMatchesTorch() throws IOException {
        replayAll("adamw.json", "AdamW", 3, options -> Optimizers.adamw(new AdamWOptions(
                options.get("lr").asDouble(), options.get("beta1").asDouble(), options.get("beta2").asDouble(),
                options.get("eps").asDouble(), options.get("weight_decay").asDouble()), LAYOUT));
    }

    /** Replays every config of the fixture file; it must hold at least {@code atLeast} of them. */
    private static void replayAll(String file, String label, int atLeast, Function<JsonNode, Optimizer> build)
            throws IOException {
        JsonNode root;
        try (InputStream in = PyTorchFixturesTest.class.getResourceAsStream("/fixtures/optim/" + file)) {
            assertTrue(in != null, "fixture " + file + " is missing");
            root = new ObjectMapper().readTree(in);
        }
        int covered = 0;
        for (JsonNode config : root.get("configs")) {
            Optimizer optimizer = build.apply(config.get("options"));
            double[] params = doubles(config.get("params0"));
            assertEquals(LAYOUT.size(), params.length);
            JsonNode grads = config.get("grads");
            JsonNode expected = config.get("params");
            JsonNode lrScale = config.get("lr_scale");
            double worst = 0;
            int worstStep = -1;
            int worstIndex = -1;
            for (int step = 0; step < grads.size(); step++) {
                optimizer.step(params, doubles(grads.get(step)), lrScale.get(step).asDouble());
                double[] want = doubles(expected.get(step));
                for (int i = 0; i < want.length; i++) {
                    double error = Math.abs(params[i] - want[i]) / Math.max(Math.abs(want[i]), Double.MIN_NORMAL);
                    if (error > worst) {
                        worst = error;
                        worstStep = step;
                        worstIndex = i;
                    }
                    assertTrue(error <= TOLERANCE, file + " " + config.get("name").asText() + " step " + (step + 1)
                            + " param " + i + ": got " + params[i] + ", torch " + want[i] + ", rel error " + error);
                }
            }
            assertEquals(grads.size(), optimizer.steps());
            String where = worst == 0 ? "(all bitwise equal)" : "(step " + (worstStep + 1) + ", param " + worstIndex + ")";
            System.out.printf("%-10s %-32s %d steps x %d params vs torch %s: worst rel error %.3e %s%n",
                    file, config.get("name").asText(), grads.size(), params.length, root.get("torch_version").asText(),
                    worst, where);
            covered++;
        }
        assertTrue(covered >= atLeast, "expected several " + label + " configs, got " + covered);
    }

    private static double[] doubles(JsonNode array) {
        double[] values = new double[array.size()];
        for (int i = 0; i < values.length; i++) values[i] = array.get(i).asDouble();
        return values;
    }
}
