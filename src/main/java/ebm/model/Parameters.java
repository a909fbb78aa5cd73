package ebm.model;

import ebm.tape.Tensor;

/**
 * A model's flat parameter buffer as leaves on one backend's tape, and the one piece of linear algebra that differs
 * between backends: the row-space factor of a weight matrix (thin QR in fp64 on the CPU, coupled Newton–Schulz on
 * the device). The backend also completes the parameter gradient after the backward sweep (its own method), since
 * where the adjoints live differs: per-leaf arrays on the CPU, views of one flat buffer on the device.
 */
public interface Parameters<T extends Tensor> {
    /** The tensor of this view: a trainable leaf (its adjoint joins the parameter gradient) or a constant. */
    T leaf(ParamView view);

    /**
     * C_T [r x r] with C = C_Tᵀ satisfying CCᵀ = WWᵀ for the weight W [r x D] of this view (r < D), so that the rows of
     * C_T are directions at z = Wx with the Hessian's trace. The loss depends on C only through CCᵀ, so its adjoint
     * reaches W as (∂J/∂C)Qᵀ with Q = WᵀC⁻ᵀ (orthonormal columns spanning W's rows), added when the gradient is completed.
     */
    T rowSpaceFactor(ParamView weight);
}
