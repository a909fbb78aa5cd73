package ebm.plot;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.TestNets;
import ebm.model.Mlp;
import ebm.tape.Activation;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlotsTest {
    @TempDir
    Path tmp;

    /** A nearly flat energy gives contour levels that print alike; the plot must still be written. */
    @Test
    void contoursOfANearlyFlatEnergyAreWritten() throws IOException {
        Mlp mlp = new Mlp(TestNets.spec(new int[] {2, 8}, Activation.SOFTPLUS));
        double[] p = mlp.initialParams(1);
        var out = mlp.layout().view("out.weight");
        for (int i = 0; i < out.size(); i++) p[out.offset() + i] *= 1e-7;
        double[] data = TestNets.points(300, 2, 3);
        Path file = tmp.resolve("energy.png");
        Plots.energyContours(mlp, p, data, 300, file);
        System.out.println("wrote " + file + ", " + Files.size(file) + " bytes");
        assertTrue(Files.size(file) > 1000);
    }
}
