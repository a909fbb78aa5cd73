package ebm.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import ebm.EbmException;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * DIR/metrics.jsonl: one JSON object per logged step, appended and flushed as the run goes. A write that fails (a full
 * disk) is an {@link AppendFailed} naming the file; the half line it may leave is dropped when the run resumes.
 */
public final class MetricsLog implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper().disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);
    private final Path file;
    private final Writer out;
    private final String repairNote;

    /** Appending to the metrics file failed; the message names the file and the system's reason. */
    public static final class AppendFailed extends EbmException {
        AppendFailed(Path file, IOException cause) {
            super("cannot append to " + file + ": " + reason(cause), cause);
        }
    }

    MetricsLog(Path file, Writer out, String repairNote) {
        this.file = file;
        this.out = out;
        this.repairNote = repairNote;
    }

    /**
     * Opens the log for appending after cutting it back to the lines with step ≤ keepThroughStep (a new run,
     * keepThroughStep 0, starts it empty). A line cut short by a kill or a full disk, and everything after it, is
     * dropped.
     */
    public static MetricsLog open(Path file, long keepThroughStep) {
        String note = null;
        try {
            if (keepThroughStep > 0 && Files.isRegularFile(file)) { // (a device or a pipe is appended to as it is)
                List<String> kept = new ArrayList<>();
                List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
                for (int i = 0; i < lines.size(); i++) {
                    String line = lines.get(i);
                    if (line.isBlank()) continue;
                    JsonNode node;
                    try {
                        node = JSON.readTree(line);
                    } catch (IOException e) {
                        // a line cut short by a kill or a full disk: everything from here on is dropped
                        note = "repaired " + file + ": dropped line " + (i + 1) + ", which was cut short"
                                + (i + 1 < lines.size() ? ", and the " + (lines.size() - i - 1) + " line(s) after it" : "");
                        break;
                    }
                    if (node.path("step").asLong(Long.MAX_VALUE) <= keepThroughStep) kept.add(line);
                }
                Files.write(file, kept, StandardCharsets.UTF_8);
            }
            Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    keepThroughStep > 0 ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING);
            return new MetricsLog(file, w, note);
        } catch (IOException e) {
            throw new EbmException("cannot open metrics log " + file + ": " + reason(e));
        }
    }

    /** What open() repaired (a line cut short), for the console; null when the file was whole. */
    public String repairNote() {
        return repairNote;
    }

    public void write(Map<String, Object> record) {
        try {
            out.write(JSON.writeValueAsString(record) + "\n");
            out.flush();
        } catch (IOException e) {
            throw new AppendFailed(file, e);
        }
    }

    /** All records of a metrics file, in order. */
    public static List<Map<String, Object>> read(Path file) {
        List<Map<String, Object>> records = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (line.isBlank()) continue;
                @SuppressWarnings("unchecked")
                Map<String, Object> m = JSON.readValue(line, LinkedHashMap.class);
                records.add(m);
            }
        } catch (IOException e) {
            throw new EbmException("cannot read metrics " + file + ": " + e.getMessage());
        }
        return records;
    }

    @Override
    public void close() {
        try {
            out.close();
        } catch (IOException e) {
            throw new AppendFailed(file, e);
        }
    }

    /** An I/O error as a reader wants it: the system's message (e.g. "No space left on device"), else its type. */
    static String reason(IOException e) {
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }
}
