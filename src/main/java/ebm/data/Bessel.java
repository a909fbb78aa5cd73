package ebm.data;

/**
 * Modified Bessel functions I0, I1 of a non-negative argument, in the forms the ring density needs: log(I0(z) e^-z)
 * and I1(z) / (z I0(z)). Both are accurate to a few ulps: the power series (all terms positive, so no cancellation)
 * up to z = 25, the large-z asymptotic expansion beyond, where its smallest term is below e^-2z ~ 1e-22.
 */
final class Bessel {
    private Bessel() {}

    private static final double SERIES_LIMIT = 25;

    /** log(I0(z)) - z for z >= 0. */
    static double logI0Scaled(double z) {
        if (z <= SERIES_LIMIT) return Math.log(i0Series(z)) - z;
        return Math.log(asymptoticSum(0, z)) - 0.5 * Math.log(2 * Math.PI * z);
    }

    /** I1(z) / (z I0(z)) for z >= 0; its limit at 0 is 1/2. */
    static double i1OverZI0(double z) {
        if (z <= SERIES_LIMIT) return i1OverZSeries(z) / i0Series(z);
        return asymptoticSum(1, z) / asymptoticSum(0, z) / z;
    }

    /** I0(z) = sum_k (z^2/4)^k / (k!)^2. */
    private static double i0Series(double z) {
        double q = z * z / 4;
        double term = 1;
        double sum = 1;
        for (int k = 1; k < 500 && term > 1e-17 * sum; k++) {
            term *= q / ((double) k * k);
            sum += term;
        }
        return sum;
    }

    /** I1(z) / z = (1/2) sum_k (z^2/4)^k / (k! (k+1)!). */
    private static double i1OverZSeries(double z) {
        double q = z * z / 4;
        double term = 1;
        double sum = 1;
        for (int k = 1; k < 500 && term > 1e-17 * sum; k++) {
            term *= q / ((double) k * (k + 1));
            sum += term;
        }
        return 0.5 * sum;
    }

    /**
     * I_nu(z) sqrt(2 pi z) e^-z ~ sum_k t_k with t_0 = 1, t_k = -t_{k-1} (4 nu^2 - (2k-1)^2) / (8 k z); summed until
     * the terms stop shrinking or drop below 1e-17.
     */
    private static double asymptoticSum(int nu, double z) {
        double mu = 4.0 * nu * nu;
        double term = 1;
        double sum = 1;
        for (int k = 1; k < 200; k++) {
            double odd = 2 * k - 1;
            double next = -term * (mu - odd * odd) / (8.0 * k * z);
            if (Math.abs(next) >= Math.abs(term)) break;
            term = next;
            sum += term;
            if (Math.abs(term) < 1e-17 * Math.abs(sum)) break;
        }
        return sum;
    }
}
