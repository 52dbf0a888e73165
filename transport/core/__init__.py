"""The application's plumbing shared by every stage: configuration (keys, schema, loading),
errors, physical constants, bundled-data lookup, numerical grids and HDF5 output with
provenance. Nothing here depends on the physics sub-packages except the schema's
cross-checks, which read the yield models' ranges."""
