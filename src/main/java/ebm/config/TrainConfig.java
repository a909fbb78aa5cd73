package ebm.config;

import static ebm.config.Check.or;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/** train.*: the step horizon (also the schedule's), batching, evaluation and checkpoint cadence, schedule, clipping. */
@JsonPropertyOrder({"steps", "stop_after", "batch_size", "eval_every", "checkpoint_every", "schedule", "warmup", "clip"})
public record TrainConfig(Integer steps, Integer stopAfter, Integer batchSize, Integer evalEvery, Integer checkpointEvery,
                          String schedule, Integer warmup, Double clip) {

    public TrainConfig {
        steps = Check.atLeast("train.steps", or(steps, 1000), 1);
        if (stopAfter != null) Check.atLeast("train.stop_after", stopAfter, 1);
        batchSize = Check.atLeast("train.batch_size", or(batchSize, 256), 1);
        evalEvery = Check.atLeast("train.eval_every", or(evalEvery, 100), 1);
        checkpointEvery = Check.atLeast("train.checkpoint_every", or(checkpointEvery, 500), 1);
        schedule = Check.oneOf("train.schedule", or(schedule, "constant"), "constant", "cosine");
        warmup = Check.atLeast("train.warmup", or(warmup, 0), 0);
        if (warmup > steps) {
            throw new ebm.EbmException("train.warmup: must be <= train.steps (" + steps + "), got " + warmup);
        }
        if (clip != null) Check.positive("train.clip", clip);
    }

    /** The step the run ends at: stop_after when it comes before the horizon. */
    public int lastStep() {
        return stopAfter == null ? steps : Math.min(stopAfter, steps);
    }

    /** Learning-rate factor at step (1-based): linear warmup, then constant or cosine decay to 0 at `steps`. */
    public double lrScale(long step) {
        if (warmup > 0 && step <= warmup) return step / (double) warmup;
        if (schedule.equals("constant")) return 1.0;
        double progress = (step - warmup) / (double) Math.max(1, steps - warmup);
        return 0.5 * (1 + Math.cos(Math.PI * Math.min(1.0, progress)));
    }
}
