"""Sky products: HEALPix pixels, regions and masks, all-sky and region averages, the dipole and
contrast (analysis), and whole-sky maps with their HDF5/FITS output (maps)."""
