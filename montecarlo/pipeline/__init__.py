"""The application layer: the stages each ``corona`` subcommand runs, reading saved results
or computing them, and writing HDF5 files and figures."""
