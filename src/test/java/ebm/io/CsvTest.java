package ebm.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.EbmException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CsvTest {
    @TempDir
    Path dir;

    private Path write(String name, String content) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, content);
        return p;
    }

    @Test
    void readsHeaderQuotesCrlfAndTrailingBlankLines() throws IOException {
        Csv.Table t = Csv.readTable(write("a.csv", "\uFEFFx, y ,\"z\"\r\n1,2.5,-3e-1\r\n\".5\", +4 ,nan\r\n\r\n  \n"));
        System.out.println("header " + t.header() + ", data " + Arrays.toString(t.matrix().data()));
        assertEquals(List.of("x", "y", "z"), t.header());
        assertEquals(2, t.matrix().rows());
        assertEquals(3, t.matrix().cols());
        assertArrayEquals(new double[] {1, 2.5, -0.3, 0.5, 4, Double.NaN}, t.matrix().data(), 0.0);
        assertEquals(3, t.lineOf(1));

        Npy.Matrix noHeader = Csv.read(write("b.csv", "1,2\n3,4\n-inf,Infinity\n"));
        System.out.println("no header: " + Arrays.toString(noHeader.data()));
        assertArrayEquals(new double[] {1, 2, 3, 4, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY},
                noHeader.data(), 0.0);
    }

    private String failure(Path file) {
        EbmException e = assertThrows(EbmException.class, () -> Csv.read(file));
        System.out.println(file.getFileName() + " -> " + e.getMessage());
        assertTrue(e.getMessage().contains(file.toString()), "message names the file: " + e.getMessage());
        return e.getMessage();
    }

    @Test
    void badCellsAndRowsAreNamedByLineAndColumn() throws IOException {
        String cell = failure(write("cell.csv", "a,b\n1,2\n3,abc\n5,6\n"));
        assertTrue(cell.contains("line 3, column 2") && cell.contains("'abc'"), cell);
        String hexLike = failure(write("suffix.csv", "1,2\n3,4d\n"));
        assertTrue(hexLike.contains("line 2, column 2") && hexLike.contains("'4d'"), hexLike);
        String empty = failure(write("emptycell.csv", "1,2\n3,\n"));
        assertTrue(empty.contains("line 2, column 2: empty cell"), empty);
        String ragged = failure(write("ragged.csv", "1,2,3\n4,5,6\n7,8\n9,1,2\n"));
        assertTrue(ragged.contains("line 3") && ragged.contains("data row 2") && ragged.contains("2 cells, expected 3"),
                ragged);
        String header = failure(write("header.csv", "a,b,c\n1,2\n"));
        assertTrue(header.contains("line 2 has 2 cells") && header.contains("header"), header);
        assertTrue(failure(write("blank.csv", "1,2\n\n3,4\n")).contains("line 2 is blank"));
        assertTrue(failure(write("empty.csv", "")).contains("empty CSV file"));
        assertTrue(failure(write("blanks.csv", "\n \n")).contains("empty CSV file"));
        assertTrue(failure(write("onlyheader.csv", "a,b\n")).contains("no data rows"));
        assertTrue(failure(dir.resolve("absent.csv")).contains("no such file"));
    }
}
