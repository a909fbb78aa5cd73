package ebm.data;

import ebm.rng.RandomStream;

/**
 * Where one sample's random numbers sit in a {@link RandomStream}. A sample needs {@code gaussians} Gaussian
 * elements and {@code uniforms} uniform words; both are read from whole Philox blocks (4 elements each) so the two
 * kinds never share a block (Gaussian element 4j..4j+3 and word 4j..4j+3 come from the same block j). Sample s
 * owns elements [s * stride, (s + 1) * stride) with stride = 4 * (ceil(gaussians / 4) + ceil(uniforms / 4)):
 * its Gaussians first, then its uniform words.
 */
record DrawLayout(int gaussians, int uniforms) {
    long stride() {
        return 4L * (blocks(gaussians) + blocks(uniforms));
    }

    /** Stream index of Gaussian k of sample s. */
    long gaussian(long sample, int k) {
        return sample * stride() + k;
    }

    /** Stream index of uniform word k of sample s. */
    long uniform(long sample, int k) {
        return sample * stride() + 4L * blocks(gaussians) + k;
    }

    private static long blocks(int count) {
        return (count + 3) / 4;
    }
}
