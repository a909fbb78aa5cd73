package ebm.train;

import ebm.EbmException;
import ebm.io.Safetensors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * DIR/state.safetensors: everything a resume needs beyond config.yaml — the raw training parameters (model
 * coordinates), the optimizer's buffers and counters, the step reached and the wall time spent. The random
 * position is the step itself: every draw is keyed by (seed, step, stream). Written atomically, in F64, so a resumed
 * run continues bitwise. The divergence detector's state (tensors divergence.*) travels with it, so a resumed run
 * decides whether it diverged exactly as an uninterrupted one; a state saved without it resumes with a fresh detector.
 */
public record RunState(long step, double seconds, double[] params, Map<String, double[]> optimizer,
                       Map<String, double[]> divergence) {
    public static final String FILE = "state.safetensors";
    private static final String FORMAT = "ebm-run-state-v1";
    private static final String OPT = "optimizer.";
    private static final String DIV = DivergenceDetector.PREFIX;

    public void save(Path dir) {
        List<Safetensors.Tensor> tensors = new ArrayList<>();
        tensors.add(Safetensors.Tensor.of("params", new long[] {params.length}, params));
        for (Map.Entry<String, double[]> e : optimizer.entrySet()) {
            tensors.add(Safetensors.Tensor.of(OPT + e.getKey(), new long[] {e.getValue().length}, e.getValue()));
        }
        for (Map.Entry<String, double[]> e : divergence.entrySet()) {
            tensors.add(Safetensors.Tensor.of(DIV + e.getKey(), new long[] {e.getValue().length}, e.getValue()));
        }
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", FORMAT);
        meta.put("step", Long.toString(step));
        meta.put("seconds", Double.toString(seconds));
        Safetensors.write(dir.resolve(FILE), meta, tensors, Safetensors.F64);
    }

    public static boolean exists(Path dir) {
        return Files.exists(dir.resolve(FILE));
    }

    public static RunState load(Path dir) {
        Path file = dir.resolve(FILE);
        if (!Files.exists(file)) {
            throw new EbmException(dir + " has no " + FILE + ": nothing to resume (was it a run folder with a checkpoint?)");
        }
        Safetensors.Contents c = Safetensors.read(file);
        if (!FORMAT.equals(c.metadata().get("format"))) {
            throw new EbmException(file + ": format is '" + c.metadata().get("format") + "', expected " + FORMAT);
        }
        Safetensors.Tensor params = c.tensors().get("params");
        if (params == null) throw new EbmException(file + ": tensor 'params' is missing");
        Map<String, double[]> opt = new LinkedHashMap<>(), div = new LinkedHashMap<>();
        for (Map.Entry<String, Safetensors.Tensor> e : c.tensors().entrySet()) {
            if (e.getKey().startsWith(OPT)) opt.put(e.getKey().substring(OPT.length()), e.getValue().data());
            if (e.getKey().startsWith(DIV)) div.put(e.getKey().substring(DIV.length()), e.getValue().data());
        }
        try {
            return new RunState(Long.parseLong(c.metadata().get("step")), Double.parseDouble(c.metadata().get("seconds")),
                    params.data(), opt, div);
        } catch (RuntimeException e) {
            throw new EbmException(file + ": metadata 'step'/'seconds' missing or not numbers");
        }
    }
}
