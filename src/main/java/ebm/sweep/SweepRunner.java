package ebm.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import ebm.EbmException;
import ebm.config.ConfigLoader;
import ebm.config.RunConfig;
import ebm.linalg.CpuThreads;
import ebm.train.RunLock;
import ebm.train.RunState;
import ebm.train.StopSignal;
import ebm.train.Trainer;
import ebm.train.TrainingDiverged;
import ebm.train.TrainingStopped;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs a sweep's grid points (or one shard of them) into DIR/runs/NAME: finished runs are skipped, unfinished ones
 * resumed, the rest started; `parallel` points at a time, each single-threaded when more than one runs. A run that
 * diverges (non-finite or blown-up loss, dead gradient; see the trainer's divergence rules) is recorded as diverged
 * and the sweep goes on. Ends by writing the report. On a termination signal the running points write their
 * checkpoints, nothing new starts, and the sweep ends with how to continue it (run the same command again).
 */
public final class SweepRunner {
    private SweepRunner() {}

    /** shardIndex is 1-based: shard i of n takes the points whose index % n == i - 1. */
    public record Options(int parallel, int shardIndex, int shardCount) {
        public Options {
            if (parallel < 1) throw new EbmException("--parallel must be >= 1, got " + parallel);
            if (shardCount < 1 || shardIndex < 1 || shardIndex > shardCount) {
                throw new EbmException("--shard i/n needs 1 <= i <= n, got " + shardIndex + "/" + shardCount);
            }
        }

        public static Options of(int parallel, String shard) {
            if (shard == null) return new Options(parallel, 1, 1);
            String[] parts = shard.trim().split("/");
            try {
                if (parts.length != 2) throw new NumberFormatException();
                return new Options(parallel, Integer.parseInt(parts[0].trim()), Integer.parseInt(parts[1].trim()));
            } catch (NumberFormatException e) {
                throw new EbmException("--shard expects i/n (e.g. 2/8, i from 1), got '" + shard + "'");
            }
        }
    }

    private enum Action { SKIP_FINISHED, SKIP_DIVERGED, RESUME, START, HELD }

    /** What to do with a point whose folder this thread has locked; refuses a folder holding a different run. */
    private static Action plan(Path runDir, SweepSpec.Point p) {
        checkSameConfig(runDir, p.config());
        RunFolder.Status status = RunFolder.status(runDir, RunFolder.readPoint(runDir), p.config().train().steps());
        return switch (status) {
            case FINISHED, EARLY_STOPPED -> Action.SKIP_FINISHED;
            case DIVERGED -> Action.SKIP_DIVERGED;
            default -> RunState.exists(runDir) ? Action.RESUME : Action.START;
        };
    }

    private static boolean skipped(Action a) {
        return a == Action.SKIP_FINISHED || a == Action.SKIP_DIVERGED;
    }

    private record Task(SweepSpec.Point point, Path runDir, Action action) {}

    /** Runs the shard and writes the report; returns the number of runs that failed for reasons other than divergence. */
    public static int run(SweepSpec spec, Path dir, Options options, PrintStream out) {
        List<SweepSpec.Point> mine = new ArrayList<>();
        for (SweepSpec.Point p : spec.points()) {
            if (p.index() % options.shardCount() == options.shardIndex() - 1) mine.add(p);
        }
        // Decide every point's action, and refuse folders holding a different run, before anything trains.
        // A folder another process holds (a shard sharing DIR) is left to it; its state is read under its lock only.
        List<Task> tasks = new ArrayList<>();
        for (SweepSpec.Point p : mine) {
            Path runDir = dir.resolve(RunFolder.RUNS).resolve(p.name());
            if (Files.isDirectory(runDir)) {
                try (RunLock lock = RunLock.run(runDir, "sweep " + spec.file().getFileName() + ": checking it")) {
                    tasks.add(new Task(p, runDir, plan(runDir, p)));
                } catch (RunLock.Held e) {
                    tasks.add(new Task(p, runDir, Action.HELD));
                }
            } else {
                tasks.add(new Task(p, runDir, Action.START));
            }
        }
        try {
            Files.createDirectories(dir.resolve(RunFolder.RUNS));
            RunFolder.writeAtomically(dir.resolve("sweep.yaml"), spec.text().getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new EbmException("cannot write to " + dir + ": " + e.getMessage());
        }
        long count = tasks.stream().filter(t -> t.action() == Action.START).count();
        long resume = tasks.stream().filter(t -> t.action() == Action.RESUME).count();
        long held = tasks.stream().filter(t -> t.action() == Action.HELD).count();
        long skip = tasks.size() - count - resume - held;
        out.printf(Locale.ROOT, "sweep %s: %d grid points%s; %d to start, %d to resume, %d already done (skipped)%s; "
                        + "%d at a time%s%n", spec.file(), spec.points().size(),
                options.shardCount() > 1 ? ", shard " + options.shardIndex() + "/" + options.shardCount() + " takes " + mine.size() : "",
                count, resume, skip, held > 0 ? ", " + held + " held by another process (skipped)" : "", options.parallel(), options.parallel() > 1 ? " (single-threaded each, wall times marked shared_cpu)" : "");
        for (Task t : tasks) {
            if (skipped(t.action())) {
                out.printf("  %s: %s, skipped%n", t.point().name(), t.action() == Action.SKIP_FINISHED ? "finished" : "diverged before");
            } else if (t.action() == Action.HELD) {
                out.printf("  %s: held by another process, skipped%n", t.point().name());
            }
        }

        List<Task> todo = tasks.stream().filter(t -> t.action() == Action.START || t.action() == Action.RESUME).toList();
        // A held point is not waited for, and is not this shard's to report as failed: the holder records it.
        try (StopSignal.Ticket ticket = StopSignal.JVM.enter("the sweep in " + dir + " did not stop in time; run the same "
                + "command again to continue it")) {
            int failed = runAll(todo, options, out);
            if (ticket.requested()) {
                String message = "sweep stopped by a termination signal (SIGTERM or Ctrl-C): the running points wrote their "
                        + "checkpoints; run the same command again to continue (finished points are skipped, stopped ones resume)";
                synchronized (out) {
                    out.println(message);
                    out.flush();
                }
                throw new TrainingStopped(message);
            }
            SweepReport.write(dir, out); // under the report's own lock: shards finishing together take turns
            return failed;
        }
    }

    private static int runAll(List<Task> todo, Options options, PrintStream out) {
        AtomicInteger done = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        boolean shared = options.parallel() > 1;
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(options.parallel(), Math.max(1, todo.size())));
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (Task t : todo) {
                futures.add(pool.submit(() -> {
                    if (!runOne(t, shared, out, done, todo.size())) failed.incrementAndGet();
                }));
            }
            for (Future<?> f : futures) {
                try {
                    f.get();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new EbmException("sweep interrupted; run it again to continue where it stopped");
                } catch (java.util.concurrent.ExecutionException e) {
                    throw new IllegalStateException("sweep worker failed", e.getCause());
                }
            }
        } finally {
            pool.shutdownNow();
        }
        return failed.get();
    }

    /** Trains one point; returns false when it failed for a reason other than divergence. Never throws. */
    private static boolean runOne(Task planned, boolean shared, PrintStream out, AtomicInteger done, int total) {
        SweepSpec.Point p = planned.point();
        if (StopSignal.JVM.stopping()) return true; // a termination signal came: start nothing new
        RunLock lock;
        Task t;
        try {
            Files.createDirectories(planned.runDir());
            lock = RunLock.run(planned.runDir(), "sweep point " + p.name());
        } catch (RunLock.Held e) {
            // Another shard took it since the plan: its point, not this shard's to wait for.
            int k = done.incrementAndGet();
            synchronized (out) {
                out.printf("  [%d/%d] %s: held by another process (%s), skipped%n", k, total, p.name(), e.holder());
            }
            return true;
        } catch (IOException | EbmException e) {
            synchronized (out) {
                out.printf("  %s: failed: cannot lock its folder: %s%n", p.name(), e.getMessage());
            }
            return false;
        }
        try (lock) {
            // Decided again under the lock: another shard may have finished or diverged it meanwhile.
            try {
                t = new Task(p, planned.runDir(), plan(planned.runDir(), p));
            } catch (EbmException e) {
                synchronized (out) {
                    out.printf("  %s: failed: %s%n", p.name(), e.getMessage());
                }
                return false;
            }
            if (skipped(t.action())) {
                int k = done.incrementAndGet();
                synchronized (out) {
                    out.printf("  [%d/%d] %s: %s meanwhile (another process), skipped%n", k, total, p.name(),
                            t.action() == Action.SKIP_FINISHED ? "finished" : "diverged");
                }
                return true;
            }
            return trainLocked(t, shared, out, done, total);
        }
    }

    /** Trains one point whose folder this thread holds; returns false when it failed for a reason other than divergence. */
    private static boolean trainLocked(Task t, boolean shared, PrintStream out, AtomicInteger done, int total) {
        SweepSpec.Point p = t.point();
        RunFolder.PointRecord before = RunFolder.readPoint(t.runDir());
        boolean everShared = shared || (before != null && before.sharedCpu());
        RunFolder.PointRecord record = new RunFolder.PointRecord(p.index(), p.name(), p.values(), everShared, "running", null);
        String status;
        String message = null;
        Trainer.Outcome outcome = null;
        try {
            Files.createDirectories(t.runDir());
            RunFolder.writePoint(t.runDir(), record);
        } catch (IOException | EbmException e) {
            synchronized (out) {
                out.printf("  %s: failed: cannot write its folder: %s%n", p.name(), e.getMessage());
            }
            return false;
        }
        synchronized (out) {
            out.printf("  %s: %s (log: %s)%n", p.name(), t.action() == Action.RESUME ? "resuming" : "starting",
                    t.runDir().resolve(RunFolder.LOG));
        }
        try (PrintStream log = new PrintStream(new FileOutputStream(t.runDir().resolve(RunFolder.LOG).toFile(), true), true,
                StandardCharsets.UTF_8)) {
            Trainer.Outcome[] result = new Trainer.Outcome[1];
            Runnable body = () -> result[0] = t.action() == Action.RESUME ? Trainer.resume(t.runDir(), log)
                    : Trainer.start(p.config(), t.runDir(), log);
            try {
                if (shared) CpuThreads.withThreads(1, body);
                else body.run();
                outcome = result[0];
                status = outcome.earlyStopped() ? "early-stopped" : "finished";
            } catch (TrainingDiverged e) {
                message = e.getMessage();
                status = "diverged";
                log.println("sweep: " + status + ": " + message);
            } catch (TrainingStopped e) {
                // Checkpointed on a termination signal: unfinished, so the next sweep resumes it.
                message = e.getMessage();
                status = "stopped";
                log.println("sweep: " + status + ": " + message);
            } catch (EbmException e) {
                message = e.getMessage();
                status = "failed";
                log.println("sweep: " + status + ": " + message);
            } catch (RuntimeException e) {
                message = "internal error: " + e;
                status = "failed";
                e.printStackTrace(new PrintWriter(log, true));
            }
        } catch (IOException e) {
            message = "cannot write " + t.runDir().resolve(RunFolder.LOG) + ": " + e.getMessage();
            status = "failed";
        }
        RunFolder.writePoint(t.runDir(), record.with(everShared, status, message));
        int k = done.incrementAndGet();
        synchronized (out) {
            if (outcome != null) {
                out.printf(Locale.ROOT, "  [%d/%d] %s: %s, %d steps in %.1f s, val_loss %s, fisher %s%n", k, total, p.name(),
                        status, outcome.step(), outcome.seconds(), num(outcome.valLoss()), num(outcome.fisher()));
            } else {
                out.printf("  [%d/%d] %s: %s: %s%n", k, total, p.name(), status, message);
            }
        }
        return !status.equals("failed");
    }

    private static String num(Double v) {
        return v == null ? "n/a" : String.format(Locale.ROOT, "%.4g", v);
    }

    /**
     * A folder that already holds a run must hold this point's run: same resolved config, except train.stop_after
     * (when to pause is not part of what is trained), so an edited sweep file never mixes two experiments.
     */
    private static void checkSameConfig(Path runDir, RunConfig expected) {
        Path stored = runDir.resolve(Trainer.CONFIG);
        if (!Files.exists(stored)) return;
        RunConfig actual = ConfigLoader.load(stored, List.of());
        String diff = firstDifference("", withoutStopAfter(ConfigLoader.toTree(actual)), withoutStopAfter(ConfigLoader.toTree(expected)));
        if (diff != null) {
            throw new EbmException(runDir + " holds a run with a different config (" + diff + "); the sweep file changed? "
                    + "Delete that folder or choose another --out");
        }
    }

    private static JsonNode withoutStopAfter(JsonNode tree) {
        JsonNode copy = tree.deepCopy();
        if (copy.get("train") instanceof ObjectNode train) train.remove("stop_after");
        return copy;
    }

    /** The first dotted key whose value differs, as "key: stored X, sweep Y", or null when equal. */
    private static String firstDifference(String prefix, JsonNode a, JsonNode b) {
        if (a.isObject() && b.isObject()) {
            java.util.Set<String> keys = new java.util.LinkedHashSet<>();
            a.fieldNames().forEachRemaining(keys::add);
            b.fieldNames().forEachRemaining(keys::add);
            for (String k : keys) {
                JsonNode x = a.path(k), y = b.path(k);
                String d = firstDifference(prefix.isEmpty() ? k : prefix + "." + k, x, y);
                if (d != null) return d;
            }
            return null;
        }
        boolean same = a.isNumber() && b.isNumber() ? a.asDouble() == b.asDouble() : a.equals(b);
        return same ? null : prefix + ": stored " + a + ", sweep " + b;
    }
}
