package ebm.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.TestSeeds;
import ebm.backend.cuda.runtime.HostEmulationLauncher;
import ebm.backend.cuda.runtime.HostKernelLibrary;
import ebm.backend.cuda.step.CudaBackends;
import ebm.config.BackendKind;
import ebm.model.Mlp;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The trace benchmark's CUDA rows through the host build: the finiteness check before timing counts non-finite
 * gradient elements on the device (no copy of the gradient) and counts what a copy would show; one runtime serves
 * a whole run, and each row's device memory is back when its runner closes.
 */
class MethodRunnerTest {
    private static TraceBench.Settings settings(List<Integer> dims, List<String> methods) {
        return new TraceBench.Settings(dims, 4, 1, 4, methods, 0.05, 2, 0.0, 0.0, 5.0, 0.1, 2e-3, 64, 32, 2,
                BackendKind.CUDA_EMULATED, null);
    }

    private static long count(double[] grad) {
        long n = 0;
        for (double g : grad) if (!Double.isFinite(g)) n++;
        return n;
    }

    @Test
    void theDeviceCountOfNonFiniteGradientElementsIsWhatTheCopiedGradientHolds() {
        Assumptions.assumeFalse(HostKernelLibrary.skippedForMissingCompiler(), "skipped: no host compiler");
        int dim = 5;
        TraceBench.Settings s = settings(List.of(dim), List.of("hutchinson-2"));
        Mlp mlp = TraceBench.model(dim, s.hidden(), s.layers());
        Random random = new Random(TestSeeds.seed("MethodRunner non-finite count: batch"));
        double[] x = new double[s.batch() * dim];
        for (int i = 0; i < x.length; i++) x[i] = random.nextGaussian();
        double[] clean = mlp.initialParams(1);
        double[] poisoned = clean.clone();
        poisoned[random.nextInt(poisoned.length)] = Double.NaN; // one parameter: the gradient goes NaN where it reaches
        try (CudaBackends.Runtime runtime = CudaBackends.open(BackendKind.CUDA_EMULATED)) {
            HostEmulationLauncher host = (HostEmulationLauncher) runtime.launcher();
            int allocations = host.liveAllocations();
            for (double[] params : List.of(clean, poisoned)) {
                MethodRunner.Checked checked;
                double[] grad = new double[params.length];
                double loss;
                try (MethodRunner runner = MethodRunner.open(s, runtime, TraceBench.objective("hutchinson-2", 0.1), mlp, params)) {
                    checked = runner.checkedLossAndGradient(x, 1);
                    loss = runner.lossAndGradient(x, 1, grad);
                }
                long copied = count(grad);
                System.out.printf("params %s: device count %d, copied gradient %d of %d non-finite; loss %s (checked) vs %s "
                        + "(copied)%n", params == clean ? "clean" : "with a NaN", checked.nonFiniteGradient(), copied,
                        grad.length, checked.loss(), loss);
                assertEquals(copied, checked.nonFiniteGradient(), "device count vs the copied gradient");
                assertEquals(Double.doubleToRawLongBits(loss), Double.doubleToRawLongBits(checked.loss()), "the same loss");
                if (params == clean) assertEquals(0, copied);
                else assertTrue(copied > 0, "a NaN parameter must give non-finite gradient elements");
                assertEquals(allocations, host.liveAllocations(), "the runner's step freed its buffers on close");
            }
        }
    }

    @Test
    void oneRuntimeServesEveryRowOfARun() {
        Assumptions.assumeFalse(HostKernelLibrary.skippedForMissingCompiler(), "skipped: no host compiler");
        // D = 3 has every measurement (three runners per row); the second D is timing only
        TraceBench.Settings s = settings(List.of(3, TraceBench.REFERENCE_MAX_DIM + 1), List.of("exact-row-space", "hutchinson-1"));
        long before = CudaBackends.runtimesOpened();
        List<String> log = new ArrayList<>();
        List<TraceBench.Row> rows = TraceBench.run(s, log::add);
        long opened = CudaBackends.runtimesOpened() - before;
        log.forEach(System.out::println);
        System.out.println("runtimes opened for " + rows.size() + " rows: " + opened);
        assertEquals(4, rows.size());
        for (TraceBench.Row r : rows) assertTrue(r.measured() && r.msPerStep() > 0, r.toString());
        assertEquals(1, opened, "one context, module and BLAS handle for the whole run");
    }
}
