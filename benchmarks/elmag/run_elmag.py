"""Run ELMAG 2.02 (Kachelriess, Ostapchenko & Tomas 2012) for the setups of the comparison
with our cascade Monte Carlo and store its spectra as the reference file
inputs/validation/elmag202_dominguez.json (docs/extragalactic.md, "Comparison with ELMAG").

    benchmarks/elmag/build.sh /tmp/elmag            # fetch + compile ELMAG and our driver
    python benchmarks/elmag/run_elmag.py --work /tmp/elmag [--only NAME ...]

Each setup runs benchmarks/elmag/elmag_corona.f90 once (one core, 0.5-4 min); the file keeps,
per setup, the raw tallies (sums of photon weights per bin and of their per-primary squares,
arriving energies) and what the comparison reads: E^2 dN/dE per injected energy with its
standard error and the energy fractions arriving above 1e8 and 1e9 eV; and ELMAG's photon
optical depth tau(E, z) and pair-production rate (modes 'tau' and 'rate' of the driver).
"""
from __future__ import annotations

import argparse
import datetime
import json
import subprocess
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "inputs" / "validation" / "elmag202_dominguez.json"
ELMAG_COMMIT = "4b0e36c"
#: name, z_source, E_inj_min_eV, E_inj_max_eV, index, n_injected, seed
#: (the energy of an E^-2 sample is carried by its few highest primaries: the power law needs
#: 10-50x more primaries than a line for the same error; fewer at high z, where each costs more)
SETUPS = [(f"z{z:g}_{tag}", z, lo, hi, 2.0, n, 10 * i + j + 1)
          for i, (z, n_pl) in enumerate(((0.03, 1000000), (0.3, 400000), (1.0, 200000)))
          for j, (tag, lo, hi, n) in enumerate((("10TeV", 1e13, 1e13, 20000),
                                                 ("100TeV", 1e14, 1e14, 10000),
                                                 ("E-2_0.1-100TeV", 1e11, 1e14, n_pl)))]
#: ELMAG settings shared by every setup (namelist &run of elmag_corona.f90)
COMMON = dict(a_smp=0.5, B_G=1e-20, E_thr_eV=1e8, E_bins_max_eV=1e14, bins_per_decade=8,
              egmax=1e14)


def namelist(**kw) -> str:
    items = []
    for k, v in kw.items():
        items.append(f"{k}='{v}'" if isinstance(v, str) else f"{k}={v!r}")
    return "&run " + ", ".join(items) + " /\n"


def parse(path: Path) -> dict:
    head, rows = {}, []
    for line in path.read_text().splitlines():
        if line.startswith("# columns"):
            continue
        if line.startswith("#"):
            if " = " in line and line.count("=") == 1:
                key, val = line[1:].split(" = ")
                head[key.strip()] = [float(v) for v in val.split()]
        elif line.strip():
            rows.append([float(v) for v in line.split()])
    return head, np.array(rows)


def derived(head: dict, table: np.ndarray, n: int) -> dict:
    """E^2 dN/dE per injected energy [dimensionless] with its standard error, and the energy
    fractions, from the raw tallies (the same estimators as montecarlo.cascade)."""
    lo, hi, w, w2 = table.T
    E = np.sqrt(lo * hi)
    E_inj_mean = head["E_injected_total_eV"][0] / n
    mean = w / n
    err = np.sqrt(np.maximum(w2 / n - mean ** 2, 0.0) / max(n - 1, 1))
    scale = E ** 2 / (hi - lo) / E_inj_mean
    e_sum = np.array(head["E_photons_above_1e8_1e9_eV_sum"])
    e_sq = np.array(head["E_photons_above_1e8_1e9_eV_sumsq"])
    f = e_sum / n / E_inj_mean
    f_err = np.sqrt(np.maximum(e_sq / n - (e_sum / n) ** 2, 0.0) / max(n - 1, 1)) / E_inj_mean
    return dict(E_eV=E.tolist(), edges_eV=np.append(lo, hi[-1]).tolist(),
                E2dNdE_per_E_inj=(mean * scale).tolist(), E2dNdE_per_E_inj_err=(err * scale).tolist(),
                fraction_above_1e8=float(f[0]), fraction_above_1e8_err=float(f_err[0]),
                fraction_above_1e9=float(f[1]), fraction_above_1e9_err=float(f_err[1]),
                lepton_fraction=head["E_leptons_arriving_eV"][0] / n / E_inj_mean)


def run_one(binary: Path, tables: Path, scratch: Path, name, z, lo, hi, index, n, seed) -> dict:
    out = scratch / f"{name}.txt"
    text = namelist(tables_dir=str(tables), output=str(out), mode="cascade", z_source=z,
                    E_inj_min_eV=lo, E_inj_max_eV=hi, index=index, n_injected=n, seed=seed,
                    **COMMON)
    subprocess.run([str(binary)], input=text, text=True, check=True, cwd=scratch,
                   stdout=subprocess.DEVNULL)
    head, table = parse(out)
    res = dict(name=name, z_source=z, E_inj_min_eV=lo, E_inj_max_eV=hi, index=index,
               n_injected=n, seed=seed, cpu_s=head["cpu_s"][0],
               raw=dict(E_injected_total_eV=head["E_injected_total_eV"][0],
                        E_photons_above_1e8_1e9_eV_sum=head["E_photons_above_1e8_1e9_eV_sum"],
                        E_photons_above_1e8_1e9_eV_sumsq=head["E_photons_above_1e8_1e9_eV_sumsq"],
                        sum_weights=table[:, 2].tolist(), sum_sq_weights=table[:, 3].tolist()))
    res.update(derived(head, table, n))
    print(f"{name:22s} n={n:6d} f(>0.1 GeV)={res['fraction_above_1e8']:.4f}+-"
          f"{res['fraction_above_1e8_err']:.4f} f(>1 GeV)={res['fraction_above_1e9']:.4f} "
          f"({res['cpu_s']:.0f} s cpu)", flush=True)
    return res


def _run_table(binary: Path, tables: Path, scratch: Path, mode: str) -> np.ndarray:
    """Rows of the numeric table the driver writes in ``mode`` ("tau" or "rate")."""
    out = scratch / f"{mode}.txt"
    subprocess.run([str(binary)], input=namelist(tables_dir=str(tables), output=str(out), mode=mode,
                                                  egmax=COMMON["egmax"]),
                   text=True, check=True, cwd=scratch, stdout=subprocess.DEVNULL)
    return np.array([[float(v) for v in line.split()] for line in out.read_text().splitlines()
                     if line.strip() and not line.startswith("#")])


def run_tau(binary: Path, tables: Path, scratch: Path) -> dict:
    rows = _run_table(binary, tables, scratch, "tau")
    return dict(z_source=rows[:, 0].tolist(), E_obs_eV=rows[:, 1].tolist(),
                tau_path_integral=rows[:, 2].tolist(), tau_elmag_stepping=rows[:, 3].tolist())


def run_rate(binary: Path, tables: Path, scratch: Path) -> dict:
    rows = _run_table(binary, tables, scratch, "rate")
    return dict(z=rows[:, 0].tolist(), E_local_eV=rows[:, 1].tolist(),
                rate_bb_per_cm=rows[:, 2].tolist(), rate_EBL_tab_per_cm=rows[:, 3].tolist())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", default="/tmp/elmag", help="build.sh's WORKDIR")
    ap.add_argument("--only", nargs="*", help="rerun these setups, keep the others")
    args = ap.parse_args(argv)
    work = Path(args.work)
    binary, tables = work / "build" / "elmag_corona", work / "src" / "Tables"
    scratch = work / "runs"
    scratch.mkdir(parents=True, exist_ok=True)
    old = json.loads(REFERENCE.read_text()) if REFERENCE.exists() else {"setups": []}
    done = {s["name"]: s for s in old["setups"]}
    setups = []
    for name, z, lo, hi, index, n, seed in SETUPS:
        if args.only is not None and name not in args.only and name in done:
            setups.append(done[name])
            continue
        setups.append(run_one(binary, tables, scratch, name, z, lo, hi, index, n, seed))
    header = dict(
        code="ELMAG 2.02 (Kachelriess, Ostapchenko & Tomas 2012, Comput. Phys. Commun. 183, 1036)",
        source=f"github.com/me-manu/myElmag202 at commit {ELMAG_COMMIT} (ELMAG 2.02 with the "
               "Dominguez et al. 2011 EBL table), compiled by benchmarks/elmag/build.sh "
               "(gfortran, Debian) with the driver benchmarks/elmag/elmag_corona.f90",
        produced_by="python benchmarks/elmag/run_elmag.py",
        date=datetime.date.today().isoformat(),
        ebl="Dominguez et al. (2011), ELMAG model 6 (Tables/n_Dom.dat), plus ELMAG's CMB "
            "(kT0 = 2.348e-4 eV, T0 = 2.7248 K) and its radio background",
        cosmology="flat, H0 = 70 km/s/Mpc, Omega_m = 0.3, Omega_Lambda = 0.7 (ELMAG's fixed choice)",
        B_G=COMMON["B_G"], th_jet_deg=180.0,
        E_thr_eV=COMMON["E_thr_eV"], a_smp=COMMON["a_smp"], egmax_eV=COMMON["egmax"],
        normalisation="E2dNdE_per_E_inj = E_c^2 dN/dE / <E_inj>: E_c the geometric bin centre, "
                      "dN/dE the photons arriving at z = 0 per injected primary and eV, <E_inj> the "
                      "mean injected (source-frame) energy; errors are standard errors over primaries; "
                      "fraction_above_X = photon energy arriving above X eV / injected energy",
        injection="photons at z_source with dN/dE ~ E^-index on [E_inj_min_eV, E_inj_max_eV] "
                  "(source frame; min = max: mono-energetic)")
    result = dict(header=header, setups=setups, tau=run_tau(binary, tables, scratch),
                  rate=run_rate(binary, tables, scratch))
    REFERENCE.parent.mkdir(parents=True, exist_ok=True)
    REFERENCE.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {REFERENCE}")


if __name__ == "__main__":
    main()
