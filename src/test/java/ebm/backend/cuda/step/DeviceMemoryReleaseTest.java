package ebm.backend.cuda.step;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ebm.EbmException;
import ebm.TestSeeds;
import ebm.backend.cuda.runtime.Blas;
import ebm.backend.cuda.runtime.DeviceArena;
import ebm.backend.cuda.runtime.DeviceBuffer;
import ebm.backend.cuda.runtime.HostBlas;
import ebm.backend.cuda.runtime.HostBuild;
import ebm.backend.cuda.runtime.HostEmulationLauncher;
import ebm.backend.cuda.runtime.RecordingGraphs;
import ebm.backend.cuda.runtime.ScopedLauncher;
import ebm.config.OptimizerConfig;
import ebm.model.Mlp;
import ebm.model.MlpSpec;
import ebm.objective.HutchinsonObjective;
import ebm.objective.ProbeDistribution;
import ebm.optim.OptimizerSpec;
import ebm.sample.Langevin;
import ebm.sample.LangevinSchedule;
import ebm.tape.Activation;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A training step, a Langevin chain and a tape arena give back every device buffer they allocated when they close,
 * while the launcher stays open (a benchmark runs many of them on one runtime): the host build's live allocation
 * count and bytes return to where they were, closing twice does nothing, and using a closed one is an error.
 */
class DeviceMemoryReleaseTest {
    private static final MlpSpec SPEC = new MlpSpec(3, new int[] {7, 5}, Activation.SOFTPLUS);

    private static OptimizerSpec config(String name, Double momentum, Double adamLr, Integer rootEvery, Integer startStep) {
        return new OptimizerConfig(name, 0.01, 0.01, momentum, null, null, null, null, null, adamLr, null, null, rootEvery,
                startStep, null, null).spec();
    }

    private static void expectBack(HostEmulationLauncher host, int allocations, long bytes, String what) {
        System.out.printf("%s: %d allocations (%d bytes) before, %d (%d bytes) after close%n", what, allocations, bytes,
                host.liveAllocations(), host.bytesAllocated());
        assertEquals(allocations, host.liveAllocations(), what + ": allocations after close");
        assertEquals(bytes, host.bytesAllocated(), what + ": bytes after close");
    }

    @Test
    void aTrainingStepFreesEveryBufferOnCloseForEachOptimizer() {
        Random random = new Random(TestSeeds.fixed("training step memory: parameters and batches", 5));
        double[] init = new Mlp(SPEC).initialParams(random.nextLong());
        int batch = 8;
        double[] x = new double[batch * SPEC.inputDim()];
        for (int i = 0; i < x.length; i++) x[i] = random.nextGaussian();
        try (HostEmulationLauncher host = HostBuild.launcherOrSkip(); RecordingGraphs graphs = new RecordingGraphs(host)) {
            DeviceBuffer unrelated = host.allocate(64); // the caller's own buffer: must survive the step's close
            for (OptimizerSpec optimizer : new OptimizerSpec[] {config("adamw", null, null, null, null),
                    config("sgd", 0.9, null, null, null), config("muon", null, 3e-3, null, null), config("shampoo", null, null, 2, 2)}) {
                int allocations = host.liveAllocations();
                long bytes = host.bytesAllocated();
                CudaTrainingStep step = new CudaTrainingStep(graphs.launcher, graphs.blas, SPEC,
                        new HutchinsonObjective(2, ProbeDistribution.RADEMACHER, 3), optimizer, batch, 1.0, init);
                for (int t = 1; t <= 3; t++) step.step(x, t, 1.0); // the second step is recorded: the arena is frozen
                assertTrue(step.captured(), optimizer.getClass().getSimpleName() + ": captured");
                assertTrue(host.liveAllocations() > allocations, optimizer.getClass().getSimpleName() + ": holds buffers while open");
                step.close();
                expectBack(host, allocations, bytes, "training step, " + optimizer.getClass().getSimpleName());
                step.close(); // twice: nothing more
                expectBack(host, allocations, bytes, "training step, " + optimizer.getClass().getSimpleName() + ", closed twice");
                IllegalStateException closed = assertThrows(IllegalStateException.class, () -> step.step(x, 4, 1.0));
                assertTrue(closed.getMessage().contains("closed"), closed.getMessage());
            }
            host.free(unrelated);
        }
    }

    @Test
    void aStepWhoseConstructorFailsFreesWhatItHadAllocated() {
        try (HostEmulationLauncher host = HostBuild.launcherOrSkip(); RecordingGraphs graphs = new RecordingGraphs(host)) {
            int allocations = host.liveAllocations();
            long bytes = host.bytesAllocated();
            graphs.failAllocation = 6; // partway through the step's own buffers, as a device out of memory would
            EbmException e = assertThrows(EbmException.class, () -> new CudaTrainingStep(graphs.launcher, graphs.blas, SPEC,
                    new HutchinsonObjective(1, ProbeDistribution.GAUSSIAN, 3), config("adamw", null, null, null, null), 4, null,
                    new Mlp(SPEC).initialParams(1)));
            System.out.println("constructor failed as expected: " + e.getMessage());
            expectBack(host, allocations, bytes, "failed training step constructor");
        }
    }

    @Test
    void aLangevinChainFreesEveryBufferOnClose() {
        try (HostEmulationLauncher host = HostBuild.launcherOrSkip(); RecordingGraphs graphs = new RecordingGraphs(host)) {
            int allocations = host.liveAllocations();
            long bytes = host.bytesAllocated();
            int chains = 5;
            DeviceLangevin chain = new DeviceLangevin(graphs.launcher, graphs.blas, SPEC, new Mlp(SPEC).initialParams(2), chains,
                    new LangevinSchedule(4, 0.1, null), TestSeeds.fixed("Langevin memory: noise", 11));
            chain.start(new double[chains * SPEC.inputDim()]);
            chain.advance(4);
            assertTrue(chain.captured() && host.liveAllocations() > allocations);
            chain.close();
            expectBack(host, allocations, bytes, "Langevin chain");
            chain.close();
            expectBack(host, allocations, bytes, "Langevin chain, closed twice");
            assertThrows(IllegalStateException.class, chain::points);
        }
    }

    @Test
    void anArenaFreesItsChunksAndRefusesToAllocateAfterClose() {
        try (HostEmulationLauncher host = HostBuild.launcherOrSkip()) {
            int allocations = host.liveAllocations();
            DeviceArena arena = new DeviceArena(host);
            arena.allocate(10L << 20, "first chunk"); // chunks are at least 16 MiB
            arena.allocate(10L << 20, "second chunk"); // does not fit the first's rest: a second chunk
            arena.allocate(1000, "in the second chunk");
            assertEquals(allocations + 2, host.liveAllocations(), "two chunks");
            arena.close();
            expectBack(host, allocations, 0, "arena");
            arena.close();
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> arena.allocate(16, "after close"));
            assertTrue(e.getMessage().contains("closed arena"), e.getMessage());
        }
    }

    @Test
    void aScopeFreesOnlyWhatWasAllocatedThroughIt() {
        try (HostEmulationLauncher host = HostBuild.launcherOrSkip()) {
            DeviceBuffer outside = host.allocate(128);
            ScopedLauncher scope = new ScopedLauncher(host);
            DeviceBuffer freedEarly = scope.allocate(256, "freed early");
            scope.allocate(512, "freed on close");
            scope.free(freedEarly);
            assertThrows(IllegalArgumentException.class, () -> scope.free(outside), "not the scope's");
            assertEquals(1, scope.liveAllocations());
            scope.close();
            assertEquals(1, host.liveAllocations(), "only the caller's own buffer is left");
            assertEquals(128, host.bytesAllocated());
            assertThrows(IllegalStateException.class, () -> scope.allocate(8, "after close"));
            host.free(outside);
            assertThrows(IllegalArgumentException.class, () -> host.free(outside), "freeing twice");
        }
    }
}
