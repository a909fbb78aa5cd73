package ebm.train;

import ebm.config.DataConfig;
import ebm.config.RunConfig;
import ebm.data.DataSources;
import ebm.data.DataSplit;
import ebm.data.Density;
import ebm.data.Standardization;
import ebm.data.SyntheticOptions;
import ebm.data.UserData;
import ebm.io.Npy;
import java.nio.file.Path;

/** Builds a run's train/validation points from data.*: a named density, or a user file. */
public final class DataLoader {
    private DataLoader() {}

    public static TrainingData load(RunConfig config) {
        DataConfig c = config.data();
        long seed = c.seed() != null ? c.seed() : config.seed();
        if (c.name().equals("file")) {
            Path path = Path.of(c.path());
            Npy.Matrix all = UserData.load(path, c.dim() == null ? -1 : c.dim());
            int validation = Math.max(1, Math.min(c.nVal(), all.rows() / 5));
            if (all.rows() < 2) throw new ebm.EbmException(path + ": needs at least 2 rows to split, has " + all.rows());
            // Split in original coordinates; the trainer applies the standardisation (fitted on the train split).
            DataSplit split = UserData.split(all, path.toString(), seed, validation, false);
            Standardization st = c.standardize() ? Standardization.fit(split.train(), path.toString()) : null;
            return withStandardization(path.getFileName().toString(), split.train(), split.validation(), null, st);
        }
        Density density = DataSources.byName(c.name(), seed,
                new SyntheticOptions(c.dim(), c.components(), c.condition(), c.meanScale(), c.scale()));
        Npy.Matrix train = DataSources.trainSamples(density, seed, c.nTrain());
        Npy.Matrix validation = DataSources.validationSamples(density, seed, c.nVal());
        Standardization st = c.standardize() ? Standardization.fit(train, c.name()) : null;
        return withStandardization(c.name(), train, validation, density, st);
    }

    private static TrainingData withStandardization(String name, Npy.Matrix train, Npy.Matrix validation, Density density,
                                                    Standardization st) {
        return new TrainingData(name, train, validation, density, st == null ? null : st.mean(), st == null ? null : st.std());
    }
}
