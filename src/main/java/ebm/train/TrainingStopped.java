package ebm.train;

import ebm.EbmException;

/**
 * A run (or a sweep) stopped on a termination signal after writing its checkpoint. The trainer has already printed
 * the message (how to resume) before letting the JVM go; the process exits with 128 + the signal's number (143 after
 * SIGTERM, 130 after Ctrl-C), which the JVM sets itself.
 */
public final class TrainingStopped extends EbmException {
    public TrainingStopped(String message) {
        super(message);
    }
}
