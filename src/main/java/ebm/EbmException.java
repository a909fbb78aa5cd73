package ebm;

/**
 * A problem the user can fix (bad input, bad config, missing GPU). The CLI prints its message as one line and
 * exits non-zero; the message must name what is wrong (file, key, row, value) on its own.
 */
public class EbmException extends RuntimeException {
    public EbmException(String message) {
        super(message);
    }

    public EbmException(String message, Throwable cause) {
        super(message, cause);
    }
}
