package ebm.linalg;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;

/**
 * How many threads the CPU backend's heavy routines use, and the shared daemon pool that runs them.
 * <p>
 * The count is the system property {@code ebm.threads} if set, else the number of available processors;
 * {@link #withThreads} overrides it for the calling thread only, so callers that already run in parallel
 * (several single-threaded runs side by side) can each pick their own count. With a count of 1 no pool thread is
 * ever started. A pool thread asking for threads gets 1, so nested parallel sections run inline instead of
 * oversubscribing the cores.
 */
public final class CpuThreads {
    private CpuThreads() {}

    private static final int CONFIGURED = readConfigured();
    /** Per-caller override set by {@link #withThreads}; null means "use the configured count". */
    private static final ThreadLocal<Integer> OVERRIDE = new ThreadLocal<>();
    private static final ThreadLocal<Boolean> IS_POOL_THREAD = ThreadLocal.withInitial(() -> false);
    private static volatile ExecutorService pool;

    private static int readConfigured() {
        String prop = System.getProperty("ebm.threads");
        if (prop != null && !prop.isBlank()) {
            try {
                int n = Integer.parseInt(prop.trim());
                if (n >= 1) return n;
            } catch (NumberFormatException ignored) {
                // fall through to the processor count: a bad value must not stop the engine
            }
        }
        return Math.max(1, Runtime.getRuntime().availableProcessors());
    }

    /** Threads the calling thread's parallel sections may use (>= 1). */
    public static int threads() {
        if (IS_POOL_THREAD.get()) return 1;
        Integer override = OVERRIDE.get();
        return override != null ? override : CONFIGURED;
    }

    /** Runs {@code body} on the calling thread with {@link #threads()} forced to {@code count} while it runs. */
    public static void withThreads(int count, Runnable body) {
        if (count < 1) throw new IllegalArgumentException("thread count must be >= 1, got " + count);
        Integer previous = OVERRIDE.get();
        OVERRIDE.set(count);
        try {
            body.run();
        } finally {
            if (previous == null) OVERRIDE.remove(); else OVERRIDE.set(previous);
        }
    }

    /**
     * Runs {@code body.accept(t)} for t = 0 .. tasks-1, task 0 on the calling thread and the others on the pool,
     * and returns when all are done. The first failure is rethrown on the caller.
     */
    public static void parallelFor(int tasks, IntConsumer body) {
        if (tasks <= 1) {
            if (tasks == 1) body.accept(0);
            return;
        }
        ExecutorService executor = pool();
        CountDownLatch done = new CountDownLatch(tasks - 1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        for (int t = 1; t < tasks; t++) {
            final int task = t;
            executor.execute(() -> {
                try {
                    body.accept(task);
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                } finally {
                    done.countDown();
                }
            });
        }
        try {
            body.accept(0);
        } catch (Throwable e) {
            failure.compareAndSet(null, e);
        }
        boolean interrupted = false;
        while (true) {
            try {
                done.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true; // the workers write into the caller's arrays: never return before they finish
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
        Throwable e = failure.get();
        if (e instanceof RuntimeException re) throw re;
        if (e instanceof Error err) throw err;
        if (e != null) throw new RuntimeException(e);
    }

    /**
     * Runs {@code body.accept(c)} for every chunk c = 0 .. chunks-1, spread over up to {@link #threads()} threads,
     * each chunk single-threaded inside (its own products run inline). Which thread runs a chunk never changes
     * what the chunk computes, so callers that reduce per-chunk results in chunk order get bitwise the same answer
     * for any thread count.
     */
    public static void forEachChunk(int chunks, IntConsumer body) {
        int workers = Math.min(threads(), chunks);
        if (workers <= 1) {
            for (int c = 0; c < chunks; c++) body.accept(c);
            return;
        }
        parallelFor(workers, t -> withThreads(1, () -> {
            for (int c = t; c < chunks; c += workers) body.accept(c);
        }));
    }

    /** Created on first use, so a run with one thread never starts any. Idle threads end after a while. */
    private static ExecutorService pool() {
        ExecutorService p = pool;
        if (p == null) {
            synchronized (CpuThreads.class) {
                p = pool;
                if (p == null) {
                    AtomicInteger counter = new AtomicInteger();
                    p = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 30, TimeUnit.SECONDS, new SynchronousQueue<>(),
                            runnable -> {
                                Thread t = new Thread(() -> {
                                    IS_POOL_THREAD.set(true);
                                    runnable.run();
                                }, "ebm-cpu-" + counter.incrementAndGet());
                                t.setDaemon(true);
                                return t;
                            });
                    pool = p;
                }
            }
        }
        return p;
    }
}
