package ebm.data;

import ebm.io.Npy;

/**
 * Train and validation rows, both already standardised by {@code standardization} (the identity when
 * standardisation is off). validation may have 0 rows.
 */
public record DataSplit(Npy.Matrix train, Npy.Matrix validation, Standardization standardization) {}
