package ebm.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import ebm.EbmException;
import ebm.train.RunState;
import ebm.train.Trainer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A grid point's run folder, DIR/runs/NAME, as the sweep sees it: the trainer's files plus sweep-point.json (the
 * point's index, name and values, whether it ever shared the CPU, and a sticky `diverged` status with the trainer's
 * message). Everything else about a run (finished or not, its curves) is read from the trainer's own files, so the
 * report can be rebuilt from any set of run folders.
 */
final class RunFolder {
    static final String RUNS = "runs";
    static final String POINT_FILE = "sweep-point.json";
    static final String LOG = "train.log";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private RunFolder() {}

    /** What happened to a run; the lower-case names are what results.csv shows. */
    enum Status {
        /** RUNNING: not finished, and another process (a shard sharing the folder) holds its run lock now. */
        FINISHED, EARLY_STOPPED, DIVERGED, FAILED, UNFINISHED, RUNNING, NOT_STARTED;

        String label() {
            return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        }

        /** Done training: it reached train.steps, or train.early_stop ended it (both are results, never resumed). */
        boolean done() {
            return this == FINISHED || this == EARLY_STOPPED;
        }
    }

    /** The content of sweep-point.json; `status` is running, finished, diverged, failed or stopped (by a signal) as last written. */
    record PointRecord(int index, String name, Map<String, JsonNode> values, boolean sharedCpu, String status, String message) {
        PointRecord with(boolean shared, String newStatus, String newMessage) {
            return new PointRecord(index, name, values, shared, newStatus, newMessage);
        }
    }

    static PointRecord readPoint(Path runDir) {
        Path file = runDir.resolve(POINT_FILE);
        if (!Files.exists(file)) return null;
        try {
            JsonNode n = JSON.readTree(file.toFile());
            Map<String, JsonNode> values = new LinkedHashMap<>();
            n.path("values").properties().forEach(e -> values.put(e.getKey(), e.getValue()));
            return new PointRecord(n.path("index").asInt(-1), n.path("name").asText(runDir.getFileName().toString()), values,
                    n.path("shared_cpu").asBoolean(false), n.path("status").asText("running"),
                    n.path("message").isNull() ? null : n.path("message").asText(null));
        } catch (IOException e) {
            throw new EbmException("cannot read " + file + ": " + e.getMessage());
        }
    }

    static void writePoint(Path runDir, PointRecord p) {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.put("index", p.index());
        n.put("name", p.name());
        n.set("values", SweepSpec.valuesNode(p.values()));
        n.put("shared_cpu", p.sharedCpu());
        n.put("status", p.status());
        if (p.message() != null) n.put("message", p.message());
        try {
            writeAtomically(runDir.resolve(POINT_FILE), JSON.writeValueAsBytes(n));
        } catch (IOException e) {
            throw new EbmException("cannot write " + runDir.resolve(POINT_FILE) + ": " + e.getMessage());
        }
    }

    /**
     * Finished means the saved state reached train.steps (then the metrics have every step too); early-stopped that
     * its state says train.early_stop ended it.
     */
    static Status status(Path runDir, PointRecord point, int trainSteps) {
        if (point != null && "diverged".equals(point.status())) return Status.DIVERGED;
        RunState state = RunState.exists(runDir) ? RunState.load(runDir) : null;
        long step = state == null ? -1 : state.step();
        if (state != null && state.earlyStopped()) return Status.EARLY_STOPPED;
        if (step >= trainSteps) return Status.FINISHED;
        if (point != null && "failed".equals(point.status())) return Status.FAILED;
        if (step >= 0 || Files.exists(runDir.resolve(Trainer.METRICS))) return Status.UNFINISHED;
        return Status.NOT_STARTED;
    }

    /** The metrics records, stopping quietly at a line cut short by a kill (the trainer cuts it on resume). */
    static List<Map<String, Object>> metrics(Path runDir) {
        Path file = runDir.resolve(Trainer.METRICS);
        List<Map<String, Object>> records = new ArrayList<>();
        if (!Files.exists(file)) return records;
        try {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (line.isBlank()) continue;
                try {
                    @SuppressWarnings("unchecked")
                    Map<String, Object> m = JSON.readValue(line, LinkedHashMap.class);
                    records.add(m);
                } catch (IOException e) {
                    break;
                }
            }
        } catch (IOException e) {
            throw new EbmException("cannot read " + file + ": " + e.getMessage());
        }
        return records;
    }

    /** Temp file + rename, so shards finishing together never leave a half-written report behind. */
    static void writeAtomically(Path file, byte[] bytes) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp" + ProcessHandle.current().pid() + "-" + Thread.currentThread().threadId());
        Files.write(tmp, bytes);
        try {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
