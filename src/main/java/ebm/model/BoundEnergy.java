package ebm.model;

import ebm.tape.Node;

/**
 * An energy whose parameters sit on a tape. Inputs x are [B x D] nodes; results are nodes on the same tape, so
 * objectives combine them into a loss and one backward sweep gives the parameter gradient.
 */
public interface BoundEnergy {
    /** E(x): [B x 1]. */
    Node energy(Node x);

    /** ∇ₓE(x): [B x D]. */
    Node gradX(Node x);

    /**
     * Second-order forward propagation along per-sample directions v ([B*r x D], row b*r+k is direction k of
     * sample b): the first derivatives vᵀ∇ₓE ([B*r x 1]) and the sum over each sample's directions of vᵀ∇²ₓE v
     * ([B x 1]).
     */
    Directional alongDirections(Node x, Node v, int directionsPerSample);

    /** Exact ΔE ([B x 1]) and ‖∇ₓE‖² ([B x 1]) by the given trace algorithm. */
    Exact exact(Node x, TraceAlgorithm algorithm);

    /** The Hessian diagonal ∂²E/∂x_d² as [B x D] (evaluation only; not differentiated). */
    double[] hessianDiagonal(Node x);

    /** Writes dLoss/dθ (after the tape's backward sweep) into grad, laid out as the flat parameter buffer. */
    void collectGrad(double[] grad);

    record Directional(Node firstDerivatives, Node secondDerivativeSum) {}

    record Exact(Node laplacian, Node gradNormSquared) {}
}
