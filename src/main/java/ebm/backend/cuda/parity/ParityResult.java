package ebm.backend.cuda.parity;

import java.util.List;

/**
 * One kernel checked against the CPU reference. It passes only when nothing went wrong ({@code problem} is null:
 * no NaN, no untouched or all-zero output) and the worst error is within the tolerance; a NaN error never passes.
 *
 * @param errorMeasure how {@code worstError} is measured (e.g. "‖Δ‖/‖ref‖", "|Δ|/r of the pair", "mismatched words")
 * @param worstPairs   a few (index, kernel, reference) lines, worst first, for the report
 */
public record ParityResult(String op, String shapes, String precision, double worstError, double tolerance,
                           String errorMeasure, String problem, List<String> worstPairs) {

    public boolean passed() {
        return problem == null && !Double.isNaN(worstError) && worstError <= tolerance;
    }

    public String summary() {
        return String.format("%s [%s, %s]: worst %s = %.3e (tolerance %.1e) %s%s", op, shapes, precision, errorMeasure,
                worstError, tolerance, passed() ? "pass" : "FAIL", problem == null ? "" : " — " + problem);
    }
}
