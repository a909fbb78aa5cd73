package ebm.plot;

import ebm.EbmException;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import javax.imageio.ImageIO;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.XYStyler;

/**
 * The style every plot of ebm shares (white, with grid lines), its axis ticks, and writing a plot to a PNG file.
 * <p>
 * XChart 3.8's own ticks are not used: on a log axis it labels decades only (one label, or none, when the data span
 * less than two), and on a linear axis whose x values are evenly spaced (steps 1, 2, …, N) it labels every k-th
 * value (1, 90, 179, …). {@link #ticks} computes the axes' ticks from the plotted data instead ({@link Ticks}), and
 * {@link #render} draws them: XChart lays the chart out with its own labels made invisible (the y labels replaced by
 * the widest of ours, so the room it leaves fits them), then the grid goes under the data and our tick marks and
 * labels beside the plot.
 */
public final class Charts {
    private Charts() {}

    private static final Color NONE = new Color(0, 0, 0, 0);
    private static final String ZERO_WIDTH = "\u200B";

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

    /** The x and y axes as they will be drawn. */
    public record AxisTicks(Ticks.Axis x, Ticks.Axis y) {}

    /**
     * The chart's axes as {@link #render} will draw them, from the chart alone: each axis spans the range set on the
     * styler, else that of the plotted values (positive ones on a log axis), with about one label per 90 pixels across
     * and one per 45 pixels up (linear axes).
     */
    public static AxisTicks ticks(XYChart c) {
        XYStyler s = c.getStyler();
        return new AxisTicks(
                axis(c, true, s.isXAxisLogarithmic(), s.getXAxisMin(), s.getXAxisMax(), Math.max(3, (c.getWidth() - 200) / 90)),
                axis(c, false, s.isYAxisLogarithmic(), s.getYAxisMin(), s.getYAxisMax(), Math.max(3, (c.getHeight() - 120) / 45)));
    }

    private static Ticks.Axis axis(XYChart c, boolean x, boolean log, Double setMin, Double setMax, int target) {
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
        for (XYSeries series : c.getSeriesMap().values()) {
            for (double v : x ? series.getXData() : series.getYData()) {
                if (!Double.isFinite(v) || (log && v <= 0)) continue;
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
        }
        if (setMin != null) lo = setMin;
        if (setMax != null) hi = setMax;
        if (!(lo <= hi)) { // no data: an axis over [0, 1] (or [1, 10] on a log axis)
            lo = log ? 1 : 0;
            hi = log ? 10 : 1;
        }
        return log ? Ticks.log(lo, hi) : Ticks.linear(lo, hi, target);
    }

    /** The chart as an image, with the axes of {@link #ticks}; the chart itself is left as it was. */
    public static BufferedImage render(XYChart c) {
        AxisTicks t = ticks(c);
        XYStyler s = c.getStyler();
        Font font = s.getAxisTickLabelsFont();
        Color labelColor = s.getAxisTickLabelsColor(), background = s.getChartBackgroundColor(), plotBackground = s.getPlotBackgroundColor();
        boolean grid = s.isPlotGridHorizontalLinesVisible() || s.isPlotGridVerticalLinesVisible();
        Saved saved = new Saved(s);
        try {
            s.setXAxisMin(t.x().min()).setXAxisMax(t.x().max()).setYAxisMin(t.y().min()).setYAxisMax(t.y().max());
            s.setPlotGridLinesVisible(false);
            s.setAxisTicksMarksVisible(false);
            s.setXAxisTickLabelsColor(NONE);
            // On a log axis XChart labels only decades unless told otherwise, and leaves no room for labels when the
            // range holds none: labelling every mark makes it leave a row for them.
            s.setXAxisLogarithmicDecadeOnly(false);
            s.setYAxisTickLabelsColor(NONE);
            // XChart leaves room for the widest of its labels: make each of them as wide as the widest of ours (the
            // zero-width suffix keeps them distinct, as XChart wants).
            String widest = widest(t.y().labels(), font);
            Map<Double, Integer> seen = new HashMap<>();
            s.setyAxisTickLabelsFormattingFunction(v -> widest + ZERO_WIDTH.repeat(seen.computeIfAbsent(v, k -> seen.size())));

            // First pass: XChart lays the chart out; the axes' screen mapping is read from it.
            int w = c.getWidth(), h = c.getHeight();
            BufferedImage scratch = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
            Graphics2D sg = scratch.createGraphics();
            c.paint(sg, w, h);
            sg.dispose();
            Layout layout = Layout.of(c, t, s.getPlotContentSize());

            // Second pass: background and grid, then the chart over them, then our ticks and labels.
            BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
            Graphics2D g = img.createGraphics();
            g.setColor(background);
            g.fillRect(0, 0, w, h);
            g.setColor(plotBackground);
            g.fill(layout.plot());
            if (grid) drawGrid(g, layout, t, s);
            s.setChartBackgroundColor(NONE);
            s.setPlotBackgroundColor(NONE);
            c.paint(g, w, h);
            drawTicks(g, layout, t, s, font, labelColor);
            g.dispose();
            return img;
        } finally {
            saved.restore(s);
        }
    }

    private static String widest(List<String> labels, Font font) {
        FontMetrics fm = metrics(font);
        String widest = "0";
        for (String l : labels) if (fm.stringWidth(l) > fm.stringWidth(widest)) widest = l;
        return widest;
    }

    private static FontMetrics metrics(Font font) {
        Graphics2D g = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB).createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            return g.getFontMetrics(font);
        } finally {
            g.dispose();
        }
    }

    /** Where the plot box and the axes' values lie on the image. */
    private record Layout(java.awt.geom.Rectangle2D.Double plot, Function<Double, Double> sx, Function<Double, Double> sy) {
        static Layout of(XYChart c, AxisTicks t, double contentSize) {
            Function<Double, Double> sx = c::getScreenXFromChart, sy = c::getScreenYFromChart;
            // The data range fills contentSize of the plot box, centred in it.
            double x0 = sx.apply(t.x().min()), x1 = sx.apply(t.x().max());
            double y0 = sy.apply(t.y().max()), y1 = sy.apply(t.y().min()); // screen y grows downwards
            double mx = (x1 - x0) * (1 - contentSize) / (2 * contentSize), my = (y1 - y0) * (1 - contentSize) / (2 * contentSize);
            return new Layout(new java.awt.geom.Rectangle2D.Double(x0 - mx, y0 - my, x1 - x0 + 2 * mx, y1 - y0 + 2 * my), sx, sy);
        }
    }

    private static void drawGrid(Graphics2D g, Layout l, AxisTicks t, XYStyler s) {
        Color major = s.getPlotGridLinesColor();
        Color minor = new Color(major.getRed(), major.getGreen(), major.getBlue(), major.getAlpha() / 2);
        BasicStroke majorStroke = s.getPlotGridLinesStroke();
        BasicStroke minorStroke = new BasicStroke(majorStroke.getLineWidth() * 0.7f, majorStroke.getEndCap(),
                majorStroke.getLineJoin(), majorStroke.getMiterLimit(), majorStroke.getDashArray(), majorStroke.getDashPhase());
        var p = l.plot();
        for (Ticks.Tick tick : t.x().ticks()) {
            double x = l.sx().apply(tick.value());
            if (x <= p.getMinX() + 1 || x >= p.getMaxX() - 1) continue;
            g.setColor(tick.major() ? major : minor);
            g.setStroke(tick.major() ? majorStroke : minorStroke);
            g.draw(new java.awt.geom.Line2D.Double(x, p.getMinY(), x, p.getMaxY()));
        }
        for (Ticks.Tick tick : t.y().ticks()) {
            double y = l.sy().apply(tick.value());
            if (y <= p.getMinY() + 1 || y >= p.getMaxY() - 1) continue;
            g.setColor(tick.major() ? major : minor);
            g.setStroke(tick.major() ? majorStroke : minorStroke);
            g.draw(new java.awt.geom.Line2D.Double(p.getMinX(), y, p.getMaxX(), y));
        }
    }

    private static void drawTicks(Graphics2D g, Layout l, AxisTicks t, XYStyler s, Font font, Color labelColor) {
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setFont(font);
        FontMetrics fm = g.getFontMetrics();
        // XChart sets labels by their ink, not their line height: digits reach the cap height above the baseline.
        double cap = -new java.awt.font.TextLayout("0123456789", font, g.getFontRenderContext()).getBounds().getY();
        int length = Math.max(3, s.getAxisTickMarkLength()), gap = s.getAxisTickPadding();
        var p = l.plot();
        g.setStroke(s.getAxisTickMarksStroke());
        double lastRight = Double.NEGATIVE_INFINITY;
        for (Ticks.Tick tick : t.x().ticks()) {
            double x = l.sx().apply(tick.value());
            if (x < p.getMinX() - 0.5 || x > p.getMaxX() + 0.5) continue;
            int len = tick.major() ? length : (length + 1) / 2;
            g.setColor(s.getAxisTickMarksColor());
            g.draw(new java.awt.geom.Line2D.Double(x, p.getMaxY(), x, p.getMaxY() + len));
            if (!tick.major()) continue;
            int width = fm.stringWidth(tick.label());
            double left = x - width / 2.0;
            if (left < lastRight + 4) continue; // never overlap the previous label
            g.setColor(labelColor);
            g.drawString(tick.label(), (float) left, (float) (p.getMaxY() + length + gap + cap));
            lastRight = left + width;
        }
        double lastTop = Double.POSITIVE_INFINITY;
        for (Ticks.Tick tick : t.y().ticks()) {
            double y = l.sy().apply(tick.value());
            if (y < p.getMinY() - 0.5 || y > p.getMaxY() + 0.5) continue;
            int len = tick.major() ? length : (length + 1) / 2;
            g.setColor(s.getAxisTickMarksColor());
            g.draw(new java.awt.geom.Line2D.Double(p.getMinX() - len, y, p.getMinX(), y));
            if (!tick.major()) continue;
            double baseline = y + cap / 2;
            if (baseline > lastTop - 3) continue;
            g.setColor(labelColor);
            g.drawString(tick.label(), (float) (p.getMinX() - length - gap - fm.stringWidth(tick.label())), (float) baseline);
            lastTop = baseline - cap;
        }
    }

    /** The styler settings {@link #render} changes for its two passes, put back afterwards. */
    private record Saved(Double xMin, Double xMax, Double yMin, Double yMax, boolean horizontal, boolean vertical, boolean marks,
                         Color xLabels, Color yLabels, boolean xDecades, Function<Double, String> yFormat, Color background,
                         Color plotBackground) {
        Saved(XYStyler s) {
            this(s.getXAxisMin(), s.getXAxisMax(), s.getYAxisMin(), s.getYAxisMax(), s.isPlotGridHorizontalLinesVisible(),
                    s.isPlotGridVerticalLinesVisible(), s.isAxisTicksMarksVisible(), s.getXAxisTickLabelsColor(),
                    s.getYAxisTickLabelsColor(), s.isXAxisLogarithmicDecadeOnly(), s.getyAxisTickLabelsFormattingFunction(),
                    s.getChartBackgroundColor(), s.getPlotBackgroundColor());
        }

        void restore(XYStyler s) {
            s.setXAxisMin(xMin).setXAxisMax(xMax).setYAxisMin(yMin).setYAxisMax(yMax);
            s.setPlotGridHorizontalLinesVisible(horizontal).setPlotGridVerticalLinesVisible(vertical).setAxisTicksMarksVisible(marks);
            s.setXAxisTickLabelsColor(xLabels).setYAxisTickLabelsColor(yLabels).setXAxisLogarithmicDecadeOnly(xDecades);
            s.setyAxisTickLabelsFormattingFunction(yFormat);
            s.setChartBackgroundColor(background).setPlotBackgroundColor(plotBackground);
        }
    }

    /** The chart as PNG bytes. */
    public static byte[] pngBytes(XYChart c) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(render(c), "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** Writes the chart to file as a PNG; a failure is a one-line error naming the file. */
    public static void savePng(XYChart c, Path file) {
        try {
            Files.write(file, pngBytes(c));
        } catch (IOException | UncheckedIOException e) {
            throw new EbmException("cannot write plot " + file + ": " + e.getMessage());
        }
    }
}
