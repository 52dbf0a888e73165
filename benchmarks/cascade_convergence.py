"""Convergence of the electromagnetic cascade Monte Carlo in its numerical knobs.

Each knob (ic_group, thinning, bins_per_decade, the lepton drop threshold E_min) is halved and
doubled around the defaults, and a "5x finer" run (thinning 0, ic_group / 5) is the reference.
Printed and written as JSON: E^2 dN/dE per injected primary at 0.3, 1, 3, 10, 30 GeV (the
observed bin containing each energy) with its standard error, the photon energy fraction
arriving above E_min and the energy closure (docs/extragalactic.md, "Convergence").

    python benchmarks/cascade_convergence.py [--n 20000] [--z 0.1] [--out cascade_convergence.json]
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np

from montecarlo import cascade_spectrum

E_TALLY_EV = np.array([3e8, 1e9, 3e9, 1e10, 3e10])
DEFAULT = dict(thinning=0.5, ic_group=0.01, bins_per_decade=8, E_min_eV=1e8)


def variants():
    """(name, settings) pairs: the defaults, the 5x finer reference, each knob halved/doubled."""
    out = [("default", dict(DEFAULT)), ("finer_5x", dict(DEFAULT, thinning=0.0, ic_group=0.002))]
    out += [(f"ic_group_{v:g}", dict(DEFAULT, ic_group=v)) for v in (0.005, 0.02)]
    out += [(f"thinning_{v:g}", dict(DEFAULT, thinning=v)) for v in (0.25, 1.0)]
    out += [(f"bins_per_decade_{v}", dict(DEFAULT, bins_per_decade=v)) for v in (4, 16)]
    out += [(f"E_min_eV_{v:g}", dict(DEFAULT, E_min_eV=v)) for v in (5e7, 2e8)]
    return out


def at_energies(res, E_eV):
    """E^2 dN/dE and its error in the observed bin containing each E_eV."""
    i = np.clip(np.searchsorted(res.edges_eV, E_eV) - 1, 0, len(res.E_eV) - 1)
    return res.E2dNdE[i], res.E2dNdE_err[i]


def run(z, n, seed, E_lo=1e11, E_hi=1e14, index=2.0):
    rows = {}
    for name, s in variants():
        t0 = time.time()
        res = cascade_spectrum(z, E_lo, E_hi, index, ebl_model="dominguez", n_primaries=n,
                               seed=seed, **s)
        # the injected level: E^2 dN/dE of the source per primary, for a relative spectrum
        inj = res.accounts[0] / np.log(E_hi / E_lo) if index == 2.0 else 1.0
        y, dy = at_energies(res, E_TALLY_EV)
        rows[name] = dict(settings=s, E_eV=E_TALLY_EV.tolist(), E2dNdE_rel=(y / inj).tolist(),
                          E2dNdE_rel_err=(dy / inj).tolist(),
                          energy_fraction=res.energy_fraction, closure=res.closure,
                          seconds=time.time() - t0)
        print(f"{name:20s} " + " ".join(f"{a:.3f}+-{b:.3f}" for a, b in zip(y / inj, dy / inj))
              + f"  f_arr={res.energy_fraction:.4f} closure={res.closure:+.1e} "
              f"({rows[name]['seconds']:.0f} s)", flush=True)
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=20000)
    p.add_argument("--z", type=float, nargs="+", default=[0.1])
    p.add_argument("--seed", type=int, default=5)
    p.add_argument("--out", default="cascade_convergence.json")
    a = p.parse_args(argv)
    print("E^2 dN/dE / injected level at " + ", ".join(f"{e:g}" for e in E_TALLY_EV) + " eV")
    result = {}
    for z in a.z:
        print(f"z = {z:g}, {a.n} primaries, E^-2 from 1e11 to 1e14 eV")
        result[f"{z:g}"] = run(z, a.n, a.seed)
    with open(a.out, "w") as f:
        json.dump(result, f, indent=1)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
