package ebm.plot;

import ebm.EbmException;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;

/** The style every plot of ebm shares (white, with grid lines) and writing one to a PNG file. */
public final class Charts {
    private Charts() {}

    /** A white line chart with grid lines; size, legend and marker size are each plot family's own. */
    public static XYChart chart(int width, int height, String title, String x, String y, Styler.LegendPosition legend,
                                int markerSize) {
        XYChart c = new XYChartBuilder().width(width).height(height).title(title).xAxisTitle(x).yAxisTitle(y).build();
        c.getStyler().setChartBackgroundColor(Color.WHITE);
        c.getStyler().setPlotGridLinesVisible(true);
        c.getStyler().setLegendPosition(legend);
        c.getStyler().setMarkerSize(markerSize);
        return c;
    }

    /** Writes the chart to file as a PNG; a failure is a one-line error naming the file. */
    public static void savePng(XYChart c, Path file) {
        try {
            BitmapEncoder.saveBitmap(c, file.toString(), BitmapEncoder.BitmapFormat.PNG);
        } catch (IOException e) {
            throw new EbmException("cannot write plot " + file + ": " + e.getMessage());
        }
    }
}
