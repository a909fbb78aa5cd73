package ebm.cli;

import ebm.EbmException;
import ebm.eval.PointValues;
import ebm.io.MlpCheckpoint;
import ebm.io.Npy;
import ebm.model.Mlp;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "eval", mixinStandardHelpOptions = true,
        description = {"Energy, exact Laplacian, gradient and Hessian diagonal of a checkpoint at given points.",
                "Writes N rows of 2+2D values: E, ΔE, ∂E/∂x_1..∂E/∂x_D, ∂²E/∂x_1²..∂²E/∂x_D², as a float64 .npy for a "
                        + ".npy name or as CSV (header E,laplacian,grad_1..grad_D,hess_diag_1..hess_diag_D) for a .csv name."})
final class EvalCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", required = true, description = "An ebm-mlp-v1 safetensors file.")
    Path checkpoint;

    @Option(names = "--data", required = true, description = "Points: a 2-D float32/float64 .npy of shape (N, D).")
    Path data;

    @Option(names = "--out", required = true, description = "Where to write the values: a .npy or .csv file.")
    Path out;

    @Override
    public Integer call() {
        MatrixOutput.check("--out", out);
        MlpCheckpoint.Loaded loaded = MlpCheckpoint.load(checkpoint);
        Npy.Matrix points = Npy.read(data);
        int d = loaded.spec().inputDim();
        if (points.cols() != d) {
            throw new EbmException(data + ": points have " + points.cols() + " columns but the checkpoint " + checkpoint
                    + " expects D = " + d);
        }
        double[] x = points.data();
        for (int i = 0; i < x.length; i++) {
            if (!Double.isFinite(x[i])) {
                throw new EbmException(data + ": row " + (i / d) + " (0-based), column " + (i % d) + " is " + x[i]
                        + "; points must be finite");
            }
        }
        double[] values = PointValues.compute(new Mlp(loaded.spec()), loaded.params(), x, points.rows());
        java.util.List<String> header = new java.util.ArrayList<>(java.util.List.of("E", "laplacian"));
        for (int j = 1; j <= d; j++) header.add("grad_" + j);
        for (int j = 1; j <= d; j++) header.add("hess_diag_" + j);
        MatrixOutput.write("--out", out, header, points.rows(), PointValues.width(d), values);
        System.out.printf("wrote %s: %d points x %d values (E, ΔE, ∇E, diag ∇²E) for %s%n", out, points.rows(),
                PointValues.width(d), loaded.spec());
        return 0;
    }
}
