package ebm.config;

import static ebm.config.Check.or;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * train.*: the step horizon, the schedule's horizon, batching (and its gradient accumulation), evaluation and
 * checkpoint cadence, schedule, clipping, early stopping and the weights' EMA.
 */
@JsonPropertyOrder({"steps", "schedule_steps", "stop_after", "batch_size", "accumulate", "eval_every", "checkpoint_every",
        "schedule", "warmup", "clip", "early_stop", "ema"})
public record TrainConfig(Integer steps, Integer stopAfter, Integer batchSize, Integer evalEvery, Integer checkpointEvery,
                          String schedule, Integer warmup, Double clip, Integer scheduleSteps, Integer accumulate,
                          Integer earlyStop, Double ema) {

    public TrainConfig {
        steps = Check.atLeast("train.steps", or(steps, 1000), 1);
        // the schedule's horizon is the run's unless recorded otherwise (a run extended by `--resume --steps` keeps its own)
        scheduleSteps = Check.atLeast("train.schedule_steps", or(scheduleSteps, steps), 1);
        if (stopAfter != null) Check.atLeast("train.stop_after", stopAfter, 1);
        batchSize = Check.atLeast("train.batch_size", or(batchSize, 256), 1);
        accumulate = Check.atLeast("train.accumulate", or(accumulate, 1), 1);
        if (batchSize % accumulate != 0) {
            throw new ebm.EbmException("train.accumulate: train.batch_size (" + batchSize + ") must be divisible by "
                    + "train.accumulate (" + accumulate + ")");
        }
        evalEvery = Check.atLeast("train.eval_every", or(evalEvery, 100), 1);
        checkpointEvery = Check.atLeast("train.checkpoint_every", or(checkpointEvery, 500), 1);
        schedule = Check.oneOf("train.schedule", or(schedule, "constant"), "constant", "cosine");
        warmup = Check.atLeast("train.warmup", or(warmup, 0), 0);
        if (warmup > steps) {
            throw new ebm.EbmException("train.warmup: must be <= train.steps (" + steps + "), got " + warmup);
        }
        if (warmup > scheduleSteps) {
            throw new ebm.EbmException("train.warmup: must be <= train.schedule_steps (" + scheduleSteps + "), got " + warmup);
        }
        if (clip != null) Check.positive("train.clip", clip);
        earlyStop = Check.atLeast("train.early_stop", or(earlyStop, 0), 0);
        ema = Check.inRange("train.ema", or(ema, 0.0), 0, 1, false);
    }

    /** The defaults of every key. */
    public static TrainConfig defaults() {
        return new TrainConfig(null, null, null, null, null, null, null, null, null, null, null, null);
    }

    /** The same run continued to a new step count; the schedule keeps its horizon, so the steps done stay the same. */
    public TrainConfig extendedTo(int newSteps) {
        return new TrainConfig(newSteps, stopAfter, batchSize, evalEvery, checkpointEvery, schedule, warmup, clip,
                scheduleSteps, accumulate, earlyStop, ema);
    }

    /** The step the run ends at: stop_after when it comes before the horizon. */
    public int lastStep() {
        return stopAfter == null ? steps : Math.min(stopAfter, steps);
    }

    /**
     * Learning-rate factor at step (1-based): linear warmup, then constant or cosine decay to 0 at `schedule_steps`,
     * staying at 0 after it.
     */
    public double lrScale(long step) {
        if (warmup > 0 && step <= warmup) return step / (double) warmup;
        if (schedule.equals("constant")) return 1.0;
        double progress = (step - warmup) / (double) Math.max(1, scheduleSteps - warmup);
        return 0.5 * (1 + Math.cos(Math.PI * Math.min(1.0, progress)));
    }
}
