"""Run under mpirun by tests/test_montecarlo.py: a small Monte Carlo on N ranks; rank 0 saves
the map, its errors and the all-sky average."""
import sys

import numpy as np

from montecarlo import parallel

sys.path.insert(0, __file__.rsplit("/", 2)[0])
from test_montecarlo import small_run  # noqa: E402

result = small_run()
assert result.n_ranks == int(sys.argv[2]), result.n_ranks
if parallel.rank_and_size(parallel.world())[0] == 0:
    np.save(sys.argv[1], np.concatenate([result.maps.ravel(), result.maps_err.ravel(),
                                         result.all_sky]))
