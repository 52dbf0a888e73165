"""Run under mpirun by tests/test_cascade.py: a small cascade run on N ranks, tallies saved by rank 0."""
import sys

import numpy as np

from montecarlo import parallel
from montecarlo.cascade import montecarlo as mc
from montecarlo.cascade.interactions import cascade_tables
from transport.core.config import load_config

tables = cascade_tables(load_config(None), "dominguez", "planck18", 0.15)
tally = mc.run_power_law(tables, mc.Settings(thinning=0.5), 0.1, 1e12, 1e14, 2.0, 120, 5,
                         batch_size=15)
if parallel.rank_and_size(parallel.world())[0] == 0:
    np.save(sys.argv[1], np.concatenate([tally.spec.ravel(), tally.accounts.ravel()]))
