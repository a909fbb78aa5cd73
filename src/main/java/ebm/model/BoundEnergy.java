package ebm.model;

import ebm.tape.Tensor;

/**
 * An energy whose parameters sit on a tape (any backend's). Inputs x are [B x D] tensors; results are tensors on the
 * same tape, so objectives combine them into a loss and one backward sweep gives the parameter gradient.
 */
public interface BoundEnergy<T extends Tensor> {
    /** E(x): [B x 1]. */
    T energy(T x);

    /** ∇ₓE(x): [B x D]. */
    T gradX(T x);

    /**
     * Second-order forward propagation along per-sample directions v ([B*r x D], row b*r+k is direction k of
     * sample b): the first derivatives vᵀ∇ₓE ([B*r x 1]) and the sum over each sample's directions of vᵀ∇²ₓE v
     * ([B x 1]).
     */
    Directional<T> alongDirections(T x, T v, int directionsPerSample);

    /** vᵀ∇ₓE ([B*r x 1]) alone: the first-order half of {@link #alongDirections} (for Hessian-vector products). */
    T directionalDerivatives(T x, T v, int directionsPerSample);

    /** Exact ΔE ([B x 1]) and ‖∇ₓE‖² ([B x 1]) by the given trace algorithm. */
    Exact<T> exact(T x, TraceAlgorithm algorithm);

    /** The Hessian diagonal ∂²E/∂x_d² as [B x D] (evaluation only; not differentiated). */
    T hessianDiagonal(T x);

    record Directional<T>(T firstDerivatives, T secondDerivativeSum) {}

    record Exact<T>(T laplacian, T gradNormSquared) {}
}
