package ebm.train;

import ebm.EbmException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.Map;

/**
 * An OS file lock on a lock file (a run folder's `run.lock`, a sweep's `report.lock`), so one process at a time
 * writes what it guards. The holder writes its pid, host, start time and what it is doing into the file, for the
 * message another process gets. The OS drops the lock when the holder exits or is killed, so a dead process never
 * blocks; only the text can be stale, and a new holder overwrites it. The file is never deleted (deleting it while
 * another process opens it would let two processes each lock a different file of the same name).
 *
 * <p>Inside one JVM a lock is held per thread and re-entrant: the sweep locks a point's folder, decides what to do
 * with it and then hands it to the trainer, which locks it again. The JVM never opens a lock file it holds a second
 * time: on Linux, closing any descriptor of a file drops every lock the process holds on it.
 */
public final class RunLock implements AutoCloseable {
    /** The lock file of a run folder. */
    public static final String FILE = "run.lock";

    private static final Map<Path, RunLock> HELD = new HashMap<>(); // guarded by itself

    private final Path key;
    private final FileChannel channel;
    private final FileLock lock;
    private final Thread owner;
    private final String holder;
    private int holds = 1;

    private RunLock(Path key, FileChannel channel, FileLock lock, String holder) {
        this.key = key;
        this.channel = channel;
        this.lock = lock;
        this.owner = Thread.currentThread();
        this.holder = holder;
    }

    /** Another process (or another thread of this one) holds the lock; the message names it. Exit code 2, as refused input. */
    public static final class Held extends EbmException {
        private final String holder;

        Held(String message, String holder) {
            super(message);
            this.holder = holder;
        }

        /** "pid 123 on host h since 2025-…Z, training", or a note that its details are not readable. */
        public String holder() {
            return holder;
        }
    }

    /** Locks the run folder dir (which must exist) for this thread, or throws {@link Held} at once naming the holder. */
    public static RunLock run(Path dir, String doing) {
        Path file = dir.resolve(FILE);
        return acquire(file, doing, false, holder -> dir + " is in use by another process (" + holder + "); one process at "
                + "a time may write a run folder: wait for it to end (or stop it), or choose another --out");
    }

    /** Locks file, waiting for the holder to let go (for short critical sections, such as writing a sweep's report). */
    public static RunLock waitFor(Path file, String doing) {
        return acquire(file, doing, true, holder -> file + " is locked by " + holder);
    }

    /**
     * Whether another process (or another thread of this one) holds dir's run lock now. A folder without a lock file is
     * free. Only a snapshot: the answer may change as soon as it is given.
     */
    public static boolean heldElsewhere(Path dir) {
        Path file = dir.resolve(FILE);
        if (!Files.exists(file)) return false;
        Path key = key(file);
        synchronized (HELD) {
            RunLock mine = HELD.get(key);
            if (mine != null) return mine.owner != Thread.currentThread();
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                FileLock l = ch.tryLock();
                if (l == null) return true;
                l.release();
                return false;
            } catch (NoSuchFileException e) {
                return false;
            } catch (IOException | OverlappingFileLockException e) {
                return false;
            }
        }
    }

    private static RunLock acquire(Path file, String doing, boolean wait, java.util.function.Function<String, String> message) {
        Path key = key(file);
        String me = describeSelf(doing);
        while (true) {
            synchronized (HELD) {
                RunLock mine = HELD.get(key);
                if (mine == null) {
                    FileChannel ch;
                    try {
                        ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
                    } catch (IOException e) {
                        throw new EbmException("cannot open the lock file " + file + ": " + e.getMessage());
                    }
                    try {
                        FileLock l = ch.tryLock();
                        if (l == null) {
                            String holder = readHolder(ch);
                            ch.close();
                            if (!wait) throw new Held(message.apply(holder), holder);
                        } else {
                            ch.truncate(0);
                            ch.write(ByteBuffer.wrap((me + "\n").getBytes(StandardCharsets.UTF_8)), 0);
                            RunLock lock = new RunLock(key, ch, l, me);
                            HELD.put(key, lock);
                            return lock;
                        }
                    } catch (IOException e) {
                        closeQuietly(ch);
                        throw new EbmException("cannot lock " + file + ": " + e.getMessage());
                    }
                } else if (mine.owner == Thread.currentThread()) {
                    mine.holds++;
                    return mine;
                }
                if (!wait) {
                    String holder = mine.holder + " (this process, another thread)";
                    throw new Held(message.apply(holder), holder);
                }
            }
            pause(file);
        }
    }

    /** Outside the monitor, so a wait on another process never holds up this JVM's other locks. */
    private static void pause(Path file) {
        try {
            Thread.sleep(50);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EbmException("interrupted while waiting for " + file);
        }
    }

    private static String readHolder(FileChannel ch) {
        try {
            ByteBuffer b = ByteBuffer.allocate(4096);
            ch.read(b, 0);
            String text = new String(b.array(), 0, b.position(), StandardCharsets.UTF_8).strip();
            return text.isEmpty() ? "a process that has not written its details yet" : text;
        } catch (IOException e) {
            return "a process whose details cannot be read: " + e.getMessage();
        }
    }

    private static String describeSelf(String doing) {
        return "pid " + ProcessHandle.current().pid() + " on host " + host() + " since "
                + ProcessHandle.current().info().startInstant().orElse(Instant.now()).truncatedTo(ChronoUnit.SECONDS) + ", " + doing;
    }

    private static String host() {
        String h = System.getenv("HOSTNAME");
        if (h != null && !h.isBlank()) return h.strip();
        try {
            String s = Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
            if (!s.isEmpty()) return s;
        } catch (IOException | RuntimeException ignored) {
            // not Linux: ask the resolver
        }
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static Path key(Path file) {
        Path abs = file.toAbsolutePath().normalize();
        try {
            return abs.getParent().toRealPath().resolve(abs.getFileName());
        } catch (IOException e) {
            return abs;
        }
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing held
        }
    }

    /** What this holder wrote into the lock file. */
    public String holder() {
        return holder;
    }

    @Override
    public void close() {
        synchronized (HELD) {
            if (--holds > 0) return;
            HELD.remove(key);
            try {
                lock.release();
            } catch (IOException ignored) {
                // closing the channel releases it too
            }
            closeQuietly(channel);
        }
    }
}
