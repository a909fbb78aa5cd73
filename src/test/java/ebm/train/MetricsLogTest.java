package ebm.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.FilterWriter;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** metrics.jsonl when the disk fills up mid-line, and the repair of that cut line when the run resumes. */
class MetricsLogTest {
    @TempDir
    Path tmp;

    private static Map<String, Object> record(long step) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("step", step);
        m.put("loss", 1.0 / step);
        m.put("grad_norm", 0.25 * step);
        return m;
    }

    /** A file writer on which the disk fills up at line `failAt`: half of that line reaches the file, then ENOSPC. */
    private static Writer fillingUpAt(Path file, int failAt) throws IOException {
        return new FilterWriter(Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            int lines;

            @Override
            public void write(String s, int off, int len) throws IOException {
                if (++lines == failAt) {
                    super.write(s, off, len / 2);
                    super.flush();
                    throw new IOException("No space left on device");
                }
                super.write(s, off, len);
            }
        };
    }

    @Test
    void aFullDiskIsAOneLineErrorNamingTheFile() throws IOException {
        Path file = tmp.resolve("metrics.jsonl");
        MetricsLog log = new MetricsLog(file, fillingUpAt(file, 6), null);
        for (int s = 1; s <= 5; s++) log.write(record(s));
        MetricsLog.AppendFailed e = assertThrows(MetricsLog.AppendFailed.class, () -> log.write(record(6)));
        System.out.println("error: " + e.getMessage());
        assertEquals("cannot append to " + file + ": No space left on device", e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
        List<String> lines = Files.readAllLines(file);
        assertEquals(6, lines.size());
        assertFalse(lines.get(5).endsWith("}"), "the failed write left half a line: " + lines.get(5));
    }

    @Test
    void aLineCutShortIsRepairedOnResume() throws IOException {
        Path file = tmp.resolve("metrics.jsonl");
        MetricsLog log = new MetricsLog(file, fillingUpAt(file, 6), null);
        for (int s = 1; s <= 5; s++) log.write(record(s));
        assertThrows(MetricsLog.AppendFailed.class, () -> log.write(record(6)));
        // The run's last checkpoint was step 4: resume cuts to it, drops the torn line, and appends on a fresh line.
        try (MetricsLog resumed = MetricsLog.open(file, 4)) {
            assertNotNull(resumed.repairNote());
            System.out.println(resumed.repairNote());
            assertTrue(resumed.repairNote().contains("line 6") && resumed.repairNote().contains("cut short"), resumed.repairNote());
            for (int s = 5; s <= 8; s++) resumed.write(record(s));
        }
        List<Map<String, Object>> records = MetricsLog.read(file);
        assertEquals(8, records.size());
        for (int i = 0; i < 8; i++) assertEquals(i + 1, ((Number) records.get(i).get("step")).intValue());
    }

    @Test
    void aCutLastLineIsDroppedEvenWhenItsStepIsKept() throws IOException {
        Path file = tmp.resolve("metrics.jsonl");
        Files.writeString(file, "{\"step\":1,\"loss\":0.5}\n{\"step\":2,\"loss\":0.25}\n{\"step\":3,\"lo");
        try (MetricsLog log = MetricsLog.open(file, 10)) {
            assertNotNull(log.repairNote());
            log.write(record(3));
        }
        assertEquals(List.of(1, 2, 3), MetricsLog.read(file).stream().map(m -> ((Number) m.get("step")).intValue()).toList());
        try (MetricsLog log = MetricsLog.open(file, 3)) {
            assertNull(log.repairNote(), "a whole file needs no repair");
        }
    }

    @Test
    void aNewRunStartsTheLogEmpty() throws IOException {
        Path file = tmp.resolve("metrics.jsonl");
        Files.writeString(file, "{\"step\":1,\"loss\":0.5}\n{\"step\":2,\"lo");
        try (MetricsLog log = MetricsLog.open(file, 0)) {
            log.write(record(1));
        }
        assertEquals(1, MetricsLog.read(file).size());
    }
}
