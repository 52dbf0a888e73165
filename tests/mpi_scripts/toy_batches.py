"""Run under mpirun by tests/test_parallel.py: the toy batches on N ranks, total saved by rank 0."""
import sys

import numpy as np

from montecarlo import parallel

sys.path.insert(0, __file__.rsplit("/", 2)[0])
from test_parallel import toy  # noqa: E402

result = parallel.run_batches(toy(11), 23, (5,), chunk_batches=4, progress=False)
assert result.n_ranks == 2, result.n_ranks
if parallel.rank_and_size(parallel.world())[0] == 0:
    np.save(sys.argv[1], result.total)
