"""Bayesian inference of `corona fit` (docs/fit.md): priors, the likelihood of each data set,
the fast forward model, the samplers with their checkpoints. The command itself (fit files,
orchestration over MPI ranks, output) is montecarlo.pipeline.fit."""
