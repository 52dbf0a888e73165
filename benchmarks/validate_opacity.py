"""Full-resolution validation of the pair-production opacity (too slow for the test suite).

    python benchmarks/validate_opacity.py [--direct N] [--output benchmarks/results/validate_opacity.json]

Prints and writes JSON:
- the CMB minimum mean free path and its energy, against an independent 2-D brute force;
- the EBL comparison: our tau against every model's published tau table;
- the dust calibration numbers (local colour, energy density, maximum absorption);
- the anisotropic versus angle-averaged dust optical depths;
- sample survival probabilities towards the Galactic centre;
- the "fine" dust table against the direct calculation (no tables) at N points (default 3;
  each takes minutes).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from scipy import optimize

import montecarlo as mc
import transport
from montecarlo.opacity import ratetables as rt
from montecarlo.fields import dust, ebl
from montecarlo.geometry import direction_from_lb
from montecarlo.opacity.api import opacity_for
from transport.core.constants import KPC_CM
from transport.core.output import code_version

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from test_ebl import _points  # noqa: E402
from test_pairproduction import _cmb_rate_2d  # noqa: E402

from _report import write_json


def cmb_minimum():
    bounds, opts = (np.log(1e15), np.log(5e15)), {"xatol": 1e-6}
    ref = optimize.minimize_scalar(lambda x: -_cmb_rate_2d(np.exp(x)), bounds=bounds,
                                   method="bounded", options=opts)
    ours = optimize.minimize_scalar(lambda x: float(mc.mean_free_path_kpc(np.exp(x))),
                                    bounds=bounds, method="bounded", options=opts)
    return {"lambda_min_kpc": float(ours.fun), "E_min_eV": float(np.exp(ours.x)),
            "brute_force_lambda_min_kpc": float(1.0 / -ref.fun / KPC_CM),
            "brute_force_E_min_eV": float(np.exp(ref.x))}


def ebl_comparison():
    rows = []
    for model in ebl.TAU_TABLE_OF:
        for z, E in _points(model):
            ours = float(mc.optical_depth_ebl(E, z, model=model))
            if model in ebl.TAU_INCLUDES_CMB:
                ours += float(mc.optical_depth_cosmological(E, z, fields=("cmb",)))
            table = float(ebl.tau_from_table(E, z, model))
            rows.append({"model": model, "z": z, "E_eV": E, "tau_ours": ours,
                         "tau_table": table, "ratio": ours / table})
    return rows


def dust_numbers(op, op_iso):
    model = dust.DustModel.from_config(op.config)
    E = np.geomspace(3e13, 1e15, 121)
    out = {"local_I60_over_I100": dust.local_colour_ratio(model),
           "local_energy_density_eV_cm3": float(op.dust.u_eV_cm3[list(op.dust.R_kpc).index(8.5), 0]),
           "T_cold_GC_K": float(model.temperature_K(model.components[0], 0.0)),
           "T_warm_GC_K": float(model.temperature_K(model.components[1], 0.0))}
    for d in (8.5, 17.0, 30.0):
        P = op.survival_probability(E, 0, 0, d, ("dust",))
        out[f"P_abs_max_l0_d{d:g}"] = float(1 - P.min())
        out[f"E_at_P_abs_max_l0_d{d:g}"] = float(E[P.argmin()])
    aniso = {}
    for l in (0.0, 30.0, 90.0, 180.0):
        ta = float(op.optical_depth_galactic([1.5e14], l, 0, 8.5, ("dust",))[0])
        ti = float(op_iso.optical_depth_galactic([1.5e14], l, 0, 8.5, ("dust",))[0])
        aniso[f"l{l:g}"] = {"tau_anisotropic": ta, "tau_angle_averaged": ti,
                            "relative_difference": ta / ti - 1}
    out["anisotropic_vs_angle_averaged_150TeV_8.5kpc"] = aniso
    return out


def survival_samples(op):
    E = np.array([1.5e14, 1e15])
    return {"+".join(f): op.survival_probability(E, 0, 0, 8.5, f).tolist()
            for f in (("cmb",), ("dust",), ("cmb", "dust"))}


def dust_direct(op, n):
    model = dust.DustModel.from_config(op.config)
    cases = [((-8.5, 0, 0), (0, 0)), ((-8.5, 0, 0), (200, -50)), ((-3, 2, 0.1), (45, 0)),
             ((0.3, 0.2, -0.02), (30, 20)), ((-6, -1, 0.6), (300, -10))][:n]
    E = np.array([3e13, 1e14, 1.5e14, 5e14, 2e15])
    rows = []
    for x, (l, b) in cases:
        x = np.array(x, dtype=float)
        u = direction_from_lb(l, b)
        t0 = time.perf_counter()
        direct = rt.dust_rate_direct_per_cm(model, x, u, E, n_mu=128, n_phi=96, n_eps=240,
                                            n_steps=2000) * KPC_CM
        ratio = op.dust.rate_per_kpc(x, u, E)[0] / direct
        rows.append({"x_kpc": x.tolist(), "l_deg": l, "b_deg": b, "E_eV": E.tolist(),
                     "table_over_direct": ratio.tolist(), "seconds": time.perf_counter() - t0})
        print(f"  x = {x}, u = (l {l}, b {b}): table/direct = {np.round(ratio, 4)}", flush=True)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="benchmarks/results/validate_opacity.json")
    parser.add_argument("--direct", type=int, default=3, help="points for table vs direct")
    args = parser.parse_args()
    op = opacity_for(transport.load_config(), progress=True)
    op_iso = opacity_for(transport.load_config({"opacity.dust_mode": "angle_averaged"}))
    res = {"code_version": code_version(), "cmb": cmb_minimum()}
    c = res["cmb"]
    print(f"CMB: lambda_min = {c['lambda_min_kpc']:.4f} kpc at {c['E_min_eV']:.4e} eV "
          f"(brute force {c['brute_force_lambda_min_kpc']:.4f} kpc at {c['brute_force_E_min_eV']:.4e} eV)")
    res["ebl"] = ebl_comparison()
    print("EBL: model | z | E [eV] | tau ours | tau table | ratio")
    for r in res["ebl"]:
        print(f"  {r['model']:16s} {r['z']:5.2f} {r['E_eV']:8.1e} {r['tau_ours']:8.3f} "
              f"{r['tau_table']:8.3f} {r['ratio']:7.3f}")
    res["dust"] = dust_numbers(op, op_iso)
    print("dust:", json.dumps(res["dust"], indent=1))
    res["survival_l0_b0_8.5kpc_150TeV_1PeV"] = survival_samples(op)
    print("P_surv(l = 0, b = 0, 8.5 kpc) at 150 TeV, 1 PeV:", res["survival_l0_b0_8.5kpc_150TeV_1PeV"])
    if args.direct:
        print("fine dust table against the direct calculation:")
        res["dust_table_vs_direct"] = dust_direct(op, args.direct)
    write_json(res, args.output)


if __name__ == "__main__":
    main()
