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
 * decides whether it diverged exactly as an uninterrupted one; so do the last update and its norm (the next step's
 * update cosine), the EMA of the parameters (train.ema), the best eval so far (best.safetensors, train.early_stop) and
 * whether the run stopped early. A state saved without any of these (an older run) resumes with them fresh.
 *
 * @param previousUpdate the last step's Δθ, null when not saved (the first resumed step then has no update cosine)
 * @param ema the EMA of the raw parameters, null when train.ema is off or it was not saved
 * @param best the best eval's {step, val_loss, evals since} ({@link BestEval#state()}), null when not saved
 */
public record RunState(long step, double seconds, double[] params, Map<String, double[]> optimizer,
                       Map<String, double[]> divergence, double[] previousUpdate, double previousUpdateNorm, double[] ema,
                       double[] best, boolean earlyStopped) {
    public static final String FILE = "state.safetensors";
    private static final String FORMAT = "ebm-run-state-v1";
    private static final String OPT = "optimizer.";
    private static final String DIV = DivergenceDetector.PREFIX;
    private static final String PREVIOUS_UPDATE = "update.previous";
    private static final String PREVIOUS_UPDATE_NORM = "update.previous_norm";
    private static final String EMA = "ema";
    private static final String EARLY_STOPPED = "early_stopped";

    /** A state with only what every version holds (parameters, optimizer, divergence detector). */
    public RunState(long step, double seconds, double[] params, Map<String, double[]> optimizer, Map<String, double[]> divergence) {
        this(step, seconds, params, optimizer, divergence, null, 0, null, null, false);
    }

    public void save(Path dir) {
        List<Safetensors.Tensor> tensors = new ArrayList<>();
        tensors.add(vector("params", params));
        for (Map.Entry<String, double[]> e : optimizer.entrySet()) tensors.add(vector(OPT + e.getKey(), e.getValue()));
        for (Map.Entry<String, double[]> e : divergence.entrySet()) tensors.add(vector(DIV + e.getKey(), e.getValue()));
        if (previousUpdate != null) {
            tensors.add(vector(PREVIOUS_UPDATE, previousUpdate));
            tensors.add(vector(PREVIOUS_UPDATE_NORM, new double[] {previousUpdateNorm}));
        }
        if (ema != null) tensors.add(vector(EMA, ema));
        if (best != null) tensors.add(vector(BestEval.TENSOR, best));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", FORMAT);
        meta.put("step", Long.toString(step));
        meta.put("seconds", Double.toString(seconds));
        if (earlyStopped) meta.put(EARLY_STOPPED, "true");
        Safetensors.write(dir.resolve(FILE), meta, tensors, Safetensors.F64);
    }

    private static Safetensors.Tensor vector(String name, double[] values) {
        return Safetensors.Tensor.of(name, new long[] {values.length}, values);
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
        double[] previousUpdate = data(c, PREVIOUS_UPDATE), previousNorm = data(c, PREVIOUS_UPDATE_NORM);
        if (previousUpdate != null && (previousNorm == null || previousNorm.length != 1)) {
            throw new EbmException(file + ": tensor '" + PREVIOUS_UPDATE + "' needs '" + PREVIOUS_UPDATE_NORM + "' with one value");
        }
        long step;
        double seconds;
        try {
            step = Long.parseLong(c.metadata().get("step"));
            seconds = Double.parseDouble(c.metadata().get("seconds"));
        } catch (RuntimeException e) {
            throw new EbmException(file + ": metadata 'step'/'seconds' missing or not numbers");
        }
        return new RunState(step, seconds, params.data(), opt, div, previousUpdate,
                previousUpdate == null ? 0 : previousNorm[0], data(c, EMA), data(c, BestEval.TENSOR),
                "true".equals(c.metadata().get(EARLY_STOPPED)));
    }

    private static double[] data(Safetensors.Contents c, String name) {
        Safetensors.Tensor t = c.tensors().get(name);
        return t == null ? null : t.data();
    }
}
