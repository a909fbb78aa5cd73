package ebm.io;

import ebm.EbmException;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Numeric comma-separated files. One row per line; cells are trimmed and may be wrapped in double quotes. The
 * first line is a header when not every one of its cells is a number. Trailing blank lines are ignored; a blank
 * line between data lines is an error (it usually means two files were concatenated). Numbers are decimal
 * ({@code 1}, {@code -2.5}, {@code .5}, {@code 1e-3}); {@code nan}, {@code inf}, {@code infinity} (any case,
 * optional sign) parse to non-finite values so the data loader can report them by row. Lines are numbered from 1,
 * counting the header.
 */
public final class Csv {
    private Csv() {}

    private static final Pattern DECIMAL = Pattern.compile("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?");
    private static final Pattern NON_FINITE = Pattern.compile("(?i)[+-]?(nan|inf|infinity)");

    /**
     * A parsed file: the matrix and its header cells (empty when the file has no header). Row r of the matrix
     * came from line {@link #lineOf(int) lineOf(r)} of the file.
     */
    public record Table(Npy.Matrix matrix, List<String> header) {
        public int lineOf(int row) {
            return row + 1 + (header.isEmpty() ? 0 : 1);
        }
    }

    /**
     * Writes a row-major rows x cols matrix as CSV: the header line, then one line per row, each number in the
     * shortest form that reads back to the same double (NaN and Infinity as this class reads them). Like
     * {@link Npy#write}, through a temporary file moved over the target.
     */
    public static void write(Path file, List<String> header, int rows, int cols, double[] data) {
        if ((long) rows * cols != data.length || rows < 0 || cols < 0 || header.size() != cols) {
            throw new IllegalArgumentException("shape " + rows + " x " + cols + " with " + header.size()
                    + " header cells does not match " + data.length + " values");
        }
        Path target = file.toAbsolutePath();
        Path tmp = null;
        try {
            tmp = AtomicFile.createTemporary(target.getParent(), target.getFileName().toString());
            try (java.io.Writer out = new java.io.BufferedWriter(Files.newBufferedWriter(tmp, StandardCharsets.UTF_8), 1 << 16)) {
                out.write(String.join(",", header));
                out.write('\n');
                StringBuilder line = new StringBuilder();
                for (int r = 0; r < rows; r++) {
                    line.setLength(0);
                    for (int c = 0; c < cols; c++) {
                        if (c > 0) line.append(',');
                        line.append(data[r * cols + c]);
                    }
                    line.append('\n');
                    out.append(line);
                }
            }
            AtomicFile.moveOver(tmp, target);
            tmp = null;
        } catch (IOException e) {
            throw new EbmException(file + ": cannot write CSV file: " + e.getMessage(), e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // best effort: the original error is the one to report
                }
            }
        }
    }

    /** The matrix of a numeric CSV file. */
    public static Npy.Matrix read(Path file) {
        return readTable(file).matrix();
    }

    public static Table readTable(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new EbmException(file + ": no such file");
        } catch (CharacterCodingException e) {
            throw new EbmException(file + ": not a UTF-8 text file (is it a binary file with a .csv name?)", e);
        } catch (IOException e) {
            throw new EbmException(file + ": cannot read CSV file: " + e.getMessage(), e);
        }
        if (!lines.isEmpty() && lines.get(0).startsWith("\uFEFF")) lines.set(0, lines.get(0).substring(1));
        int end = lines.size();
        while (end > 0 && lines.get(end - 1).isBlank()) end--;
        if (end == 0) throw new EbmException(file + ": empty CSV file (no rows)");

        List<String> header = List.of();
        int first = 0;
        String[] firstCells = split(lines.get(0));
        boolean firstNumeric = true;
        for (String c : firstCells) firstNumeric &= isNumber(c);
        if (!firstNumeric) {
            String[] names = new String[firstCells.length];
            for (int i = 0; i < names.length; i++) names[i] = unquote(firstCells[i]);
            header = List.of(names);
            first = 1;
        }
        if (first == end) throw new EbmException(file + ": CSV file has a header line but no data rows");

        int cols = -1;
        int widthLine = 0;
        double[] data = null;
        int rows = end - first;
        for (int i = first; i < end; i++) {
            int lineNo = i + 1;
            String line = lines.get(i);
            if (line.isBlank()) {
                throw new EbmException(file + ": line " + lineNo + " is blank between data rows");
            }
            String[] cells = split(line);
            if (cols < 0) {
                cols = cells.length;
                widthLine = lineNo;
                if (!header.isEmpty() && header.size() != cols) {
                    throw new EbmException(file + ": line " + lineNo + " has " + cols + " cells but the header "
                            + "(line 1) has " + header.size());
                }
                data = new double[Math.multiplyExact(rows, cols)];
            } else if (cells.length != cols) {
                throw new EbmException(file + ": line " + lineNo + " (data row " + (i - first) + ") has "
                        + cells.length + " cells, expected " + cols + " as on line " + widthLine);
            }
            int base = (i - first) * cols;
            for (int c = 0; c < cols; c++) {
                String cell = unquote(cells[c]);
                if (!isNumber(cell)) {
                    throw new EbmException(file + ": line " + lineNo + ", column " + (c + 1) + ": "
                            + (cell.isEmpty() ? "empty cell" : "not a number: '" + shorten(cell) + "'"));
                }
                data[base + c] = parse(cell);
            }
        }
        return new Table(new Npy.Matrix(rows, cols, data), header);
    }

    private static String[] split(String line) {
        String[] cells = line.split(",", -1);
        for (int i = 0; i < cells.length; i++) cells[i] = cells[i].strip();
        return cells;
    }

    private static String unquote(String cell) {
        if (cell.length() >= 2 && cell.startsWith("\"") && cell.endsWith("\"")) {
            return cell.substring(1, cell.length() - 1).strip();
        }
        return cell;
    }

    static boolean isNumber(String rawCell) {
        String cell = unquote(rawCell);
        return DECIMAL.matcher(cell).matches() || NON_FINITE.matcher(cell).matches();
    }

    private static double parse(String cell) {
        if (DECIMAL.matcher(cell).matches()) return Double.parseDouble(cell);
        boolean negative = cell.startsWith("-");
        String word = cell.replaceFirst("^[+-]", "").toLowerCase();
        if (word.equals("nan")) return Double.NaN;
        return negative ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
    }

    private static String shorten(String s) {
        return s.length() <= 40 ? s : s.substring(0, 37) + "...";
    }
}
