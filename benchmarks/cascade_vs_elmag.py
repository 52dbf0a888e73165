"""Our cascade Monte Carlo against ELMAG 2.02 (Kachelriess, Ostapchenko & Tomas 2012).

Reads the stored ELMAG spectra (inputs/validation/elmag202_dominguez.json, made by
benchmarks/elmag/run_elmag.py), runs `montecarlo.cascade_spectrum` for the same setups
(Dominguez et al. 2011 EBL + CMB, flat H0 = 70, Omega_m = 0.3 as ELMAG, photons injected at
z = 0.03, 0.3, 1: 10 TeV, 100 TeV and E^-2 from 0.1 to 100 TeV), and prints per setup the
energy fractions arriving above 100 MeV and 1 GeV of both codes and the largest |ratio - 1|
of E^2 dN/dE (per injected energy) over the bins where both are known to better than 10 %;
then the photon optical depths of both codes. Writes runs/benchmarks/cascade_vs_elmag.json
and docs/validation_figures/cascade_vs_elmag.png (docs/extragalactic.md, "Comparison with ELMAG").

    python benchmarks/cascade_vs_elmag.py [--n-scale 1.0] [--only z0.03_10TeV ...] [--replot]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from montecarlo import cascade_spectrum
from montecarlo.cascade import interactions
from montecarlo.cascade import kernels as ck
from montecarlo.fields.ebl import tau_from_table
from transport.core.config import load_config

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import uptime, write_json  # noqa: E402

REFERENCE = ROOT / "inputs" / "validation" / "elmag202_dominguez.json"
OUT_JSON = ROOT / "runs" / "benchmarks" / "cascade_vs_elmag.json"
OUT_PNG = ROOT / "docs" / "validation_figures" / "cascade_vs_elmag.png"
#: our primaries per setup kind (thinning 0.5, the default) and the seed
N_OURS = {"10TeV": 20000, "100TeV": 10000, "E-2_0.1-100TeV": 400000}
SEED = 7
#: a bin enters max|ratio - 1| when both codes know it to better than this (relative error)
REL_ERR_MAX = 0.10


def load_reference(path=REFERENCE) -> dict:
    """The ELMAG reference file (header, setups, tau)."""
    return json.loads(Path(path).read_text())


def ours(setup: dict, n: int, seed: int = SEED) -> dict:
    """Our cascade for an ELMAG setup, on the same bins: E^2 dN/dE per injected energy and
    its standard error, and the photon energy fractions above 1e8 and 1e9 eV."""
    res = cascade_spectrum(setup["z_source"], setup["E_inj_min_eV"], setup["E_inj_max_eV"],
                           setup["index"], ebl_model="dominguez", E_min_eV=1e8, n_primaries=n,
                           seed=seed, cosmology="seed", bins_per_decade=8)
    E_inj = res.accounts[ck.ACC_INJECTED]
    y, dy = res.E2dNdE / E_inj, res.E2dNdE_err / E_inj
    return dict(E_eV=res.E_eV.tolist(), edges_eV=res.edges_eV.tolist(), E2dNdE_per_E_inj=y.tolist(),
                E2dNdE_per_E_inj_err=dy.tolist(), fraction_above_1e8=res.energy_fraction,
                fraction_above_1e9_binned=binned_fraction(res.edges_eV, y, 1e9),
                n_primaries=n, seed=seed, closure=res.closure)


def binned_fraction(edges_eV, y, E_above_eV) -> float:
    """Energy fraction above E_above_eV (a bin edge) from E^2 dN/dE per injected energy:
    sum of y width / E_c over the bins above (E_c the geometric centre)."""
    edges = np.asarray(edges_eV)
    E = np.sqrt(edges[1:] * edges[:-1])
    sel = edges[:-1] >= E_above_eV * (1 - 1e-9)
    return float(np.sum((np.asarray(y) * np.diff(edges) / E)[sel]))


def compare(ref: dict, mine: dict) -> dict:
    """Ratio ours / ELMAG on the common bins (both start at 1e8 eV, 8 per decade)."""
    nb = min(len(ref["E_eV"]), len(mine["E_eV"]))
    a, da = np.asarray(mine["E2dNdE_per_E_inj"][:nb]), np.asarray(mine["E2dNdE_per_E_inj_err"][:nb])
    b, db = np.asarray(ref["E2dNdE_per_E_inj"][:nb]), np.asarray(ref["E2dNdE_per_E_inj_err"][:nb])
    ok = (a > 0) & (b > 0)
    good = ok & (da < REL_ERR_MAX * np.where(ok, a, 1)) & (db < REL_ERR_MAX * np.where(ok, b, 1))
    ratio = np.where(ok, a / np.where(ok, b, 1), np.nan)
    ratio_err = np.where(ok, ratio * np.hypot(da / np.where(ok, a, 1), db / np.where(ok, b, 1)), np.nan)
    pull = np.where(good, (a - b) / np.sqrt(da ** 2 + db ** 2 + 1e-300), np.nan)
    i = int(np.nanargmax(np.where(good, np.abs(ratio - 1), np.nan))) if good.any() else -1
    elmag_binned_1e9 = binned_fraction(ref["edges_eV"], ref["E2dNdE_per_E_inj"], 1e9)
    return dict(
        E_eV=mine["E_eV"][:nb], ratio=ratio.tolist(), ratio_err=ratio_err.tolist(),
        compared=good.tolist(), n_compared=int(good.sum()),
        max_abs_ratio_minus_1=float(abs(ratio[i] - 1)) if i >= 0 else None,
        at_E_eV=float(mine["E_eV"][i]) if i >= 0 else None,
        at_ratio_err=float(ratio_err[i]) if i >= 0 else None,
        rms_pull=float(np.sqrt(np.nanmean(pull ** 2))) if good.any() else None,
        mean_ratio=float(np.sum((ratio / ratio_err ** 2)[good]) / np.sum(1 / ratio_err[good] ** 2))
        if good.any() else None,
        fraction_above_1e8=(mine["fraction_above_1e8"], ref["fraction_above_1e8"],
                            ref["fraction_above_1e8_err"]),
        fraction_above_1e9=(mine["fraction_above_1e9_binned"], elmag_binned_1e9,
                            ref["fraction_above_1e9"]))


def tau_comparison(tau_ref: dict, cfg) -> dict:
    """Photon optical depth tau(E_obs, z) of our cascade tables (cosmology as ELMAG's) against
    ELMAG's rate integrated along the path and ELMAG's own stepping (rate frozen per step)."""
    tabs = interactions.cascade_tables(cfg, "dominguez", "seed", 1.0)
    z = np.asarray(tau_ref["z_source"])
    E = np.asarray(tau_ref["E_obs_eV"])
    ours_tau = np.empty_like(E)
    for k, (zz, ee) in enumerate(zip(z, E)):
        row = [np.interp(np.log(ee), tabs.lnE, tabs.tau_gamma[:, j]) for j in range(tabs.z_tau.size)]
        ours_tau[k] = np.interp(zz, tabs.z_tau, np.array(row))
    published = np.full_like(E, np.nan)           # Dominguez et al.'s own tau table (EBL only)
    for zz in np.unique(z):
        m = (z == zz) & (E >= 3e10)
        published[m] = tau_from_table(E[m], zz, "dominguez")
    return dict(z_source=z.tolist(), E_obs_eV=E.tolist(), tau_ours=ours_tau.tolist(),
                tau_elmag_path=tau_ref["tau_path_integral"], tau_elmag_stepping=tau_ref["tau_elmag_stepping"],
                tau_dominguez_published=published.tolist())


def rate_comparison(rate_ref: dict) -> dict:
    """ELMAG's photon rate on CMB + EBL (interpolated, as its cascade uses it) over ours
    (montecarlo.cascade.interactions.rates_per_cm) at the local energies and redshifts stored."""
    z = np.asarray(rate_ref["z"])
    E = np.asarray(rate_ref["E_local_eV"])
    ours_rate = np.empty_like(E)
    for zz in np.unique(z):
        m = z == zz
        ours_rate[m] = interactions.rates_per_cm(E[m], zz, "dominguez", False)
    elmag = np.asarray(rate_ref["rate_bb_per_cm"])
    ratio = np.where(ours_rate > 0, elmag / np.where(ours_rate > 0, ours_rate, 1), np.nan)
    return dict(z=z.tolist(), E_local_eV=E.tolist(), rate_ours_per_cm=ours_rate.tolist(),
                rate_elmag_per_cm=elmag.tolist(), elmag_over_ours=ratio.tolist())


def below_cutoff(setup: dict, comparison: dict, tau: dict) -> dict:
    """max |ratio - 1| and the weighted mean ratio over the compared bins below the EBL cutoff
    (our tau(E, z_source) < 1), where the two codes' optical depths hardly matter."""
    m = np.isclose(tau["z_source"], setup["z_source"], rtol=1e-9, atol=0)
    E_t, t_o = np.asarray(tau["E_obs_eV"])[m], np.asarray(tau["tau_ours"])[m]
    E = np.asarray(comparison["E_eV"])
    ok = np.asarray(comparison["compared"]) & (np.interp(np.log(E), np.log(E_t), t_o) < 1.0)
    r, dr = np.asarray(comparison["ratio"])[ok], np.asarray(comparison["ratio_err"])[ok]
    if not ok.any():
        return dict(n=0, max_abs_ratio_minus_1=None, mean_ratio=None, rms_pull=None)
    return dict(n=int(ok.sum()), max_abs_ratio_minus_1=float(np.max(np.abs(r - 1))),
                at_E_eV=float(E[ok][np.argmax(np.abs(r - 1))]),
                mean_ratio=float(np.sum(r / dr ** 2) / np.sum(1 / dr ** 2)),
                rms_pull=float(np.sqrt(np.mean(((r - 1) / dr) ** 2))))


def print_table(setups, results, tau):
    """The comparison table (docs/extragalactic.md, section 6)."""
    print(f"{'setup':22s} {'f(>0.1GeV) ours':>15s} {'ELMAG':>15s} {'f(>1GeV) ours':>13s} {'ELMAG':>7s} "
          f"{'all: max|r-1|':>13s} {'at E':>8s} {'<r>':>6s} | {'E<cutoff: max|r-1|':>18s} {'<r>':>6s} "
          f"{'rms pull':>8s}")
    for s in setups:
        c = results[s["name"]]["comparison"]
        b = below_cutoff(s, c, tau)
        results[s["name"]]["below_cutoff"] = b
        f8, f9 = c["fraction_above_1e8"], c["fraction_above_1e9"]
        print(f"{s['name']:22s} {f8[0]:15.4f} {f8[1]:8.4f}+-{f8[2]:.4f} {f9[0]:13.4f} {f9[1]:7.4f} "
              f"{c['max_abs_ratio_minus_1']:13.3f} {c['at_E_eV']:8.1e} {c['mean_ratio']:6.3f} | "
              f"{b['max_abs_ratio_minus_1']:18.3f} {b['mean_ratio']:6.3f} {b['rms_pull']:8.2f}")


def figure(setups, results, tau, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from transport.plots import save_figure
    zs = sorted({s["z_source"] for s in setups})
    fig, axes = plt.subplots(2, len(zs), figsize=(4.2 * len(zs), 5.6), sharex=True,
                             gridspec_kw=dict(height_ratios=[2.2, 1]), squeeze=False)
    colours = {"10TeV": "C0", "100TeV": "C3", "E-2_0.1-100TeV": "C2"}
    labels = {"10TeV": "10 TeV", "100TeV": "100 TeV", "E-2_0.1-100TeV": "E$^{-2}$, 0.1-100 TeV"}
    for col, z in enumerate(zs):
        top, bot = axes[0, col], axes[1, col]
        for s in setups:
            if s["z_source"] != z:
                continue
            kind = s["name"].split("_", 1)[1]
            r = results[s["name"]]
            c = colours[kind]
            E = np.asarray(r["ours"]["E_eV"])
            y = np.asarray(r["ours"]["E2dNdE_per_E_inj"])
            top.step(E, np.where(y > 0, y, np.nan), where="mid", color=c, lw=1.3,
                     label=f"{labels[kind]}: this code")
            Ee, ye, de = (np.asarray(s[k]) for k in ("E_eV", "E2dNdE_per_E_inj", "E2dNdE_per_E_inj_err"))
            m = ye > 0
            top.errorbar(Ee[m], ye[m], de[m], fmt="o", ms=2.5, color=c, mfc="none", lw=0.8,
                         label=f"{labels[kind]}: ELMAG 2.02")
            cmp_ = r["comparison"]
            Er, rr, er, ok = (np.asarray(cmp_[k]) for k in ("E_eV", "ratio", "ratio_err", "compared"))
            bot.errorbar(Er[ok], rr[ok], er[ok], fmt="o-", ms=2.5, lw=0.8, color=c)
        tz = np.isclose(tau["z_source"], z, rtol=1e-9, atol=0)
        if tz.any():                      # unscattered photons from z_source: exp(tau_ELMAG - tau_ours)
            Et = np.asarray(tau["E_obs_eV"])[tz]
            d = np.asarray(tau["tau_elmag_stepping"])[tz] - np.asarray(tau["tau_ours"])[tz]
            bot.plot(Et, np.exp(d), "k--", lw=0.9,
                     label=r"exp($\tau_{\rm ELMAG} - \tau_{\rm ours}$), photons from the source")
            bot.legend(fontsize=6.5, loc="upper left")
        top.set_xscale("log")
        top.set_yscale("log")
        top.set_ylim(1e-4, 2)
        top.set_title(f"z = {z:g}")
        bot.axhline(1.0, color="k", lw=0.6)
        bot.set_ylim(0.7, 1.5)
        bot.set_xlabel("observed photon energy [eV]")
        if col == 0:
            top.set_ylabel(r"$E^2\,dN/dE$ / injected energy")
            bot.set_ylabel("this code / ELMAG")
    axes[0, 0].legend(fontsize=6.5, loc="lower left")
    fig.suptitle("Cascade photons: this code vs ELMAG 2.02 (Kachelriess et al. 2012), "
                 "Dominguez et al. 2011 EBL, B = 0", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    save_figure(fig, path)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-scale", type=float, default=1.0, help="scale our primaries per setup")
    ap.add_argument("--only", nargs="*", help="these setups only (no figure)")
    ap.add_argument("--out", default=str(OUT_JSON))
    ap.add_argument("--replot", action="store_true",
                    help="no new runs: the table and figure from the JSON written before")
    args = ap.parse_args(argv)
    ref = load_reference()
    setups = [s for s in ref["setups"] if not args.only or s["name"] in args.only]
    if args.replot:
        old = json.loads(Path(args.out).read_text())
        print_table(setups, old["setups"], old["tau"])        # adds the below-cutoff metrics
        write_json(old, args.out)
        figure(setups, old["setups"], old["tau"], OUT_PNG)
        print(f"wrote {OUT_PNG}")
        return
    results = {}
    print(f"{'setup':22s} {'f(>0.1GeV) ours':>16s} {'ELMAG':>14s} {'f(>1GeV) ours':>14s} {'ELMAG':>8s} "
          f"{'max|r-1|':>9s} {'at E [eV]':>9s} {'rms pull':>8s} {'<r>':>6s}")
    for s in setups:
        kind = s["name"].split("_", 1)[1]
        t0 = time.time()
        mine = ours(s, max(100, int(N_OURS[kind] * args.n_scale)))
        c = compare(s, mine)
        results[s["name"]] = dict(ours=mine, comparison=c, seconds=time.time() - t0)
        f8, f9 = c["fraction_above_1e8"], c["fraction_above_1e9"]
        print(f"{s['name']:22s} {f8[0]:16.4f} {f8[1]:8.4f}+-{f8[2]:.4f} {f9[0]:14.4f} {f9[1]:8.4f} "
              f"{c['max_abs_ratio_minus_1']:9.3f} {c['at_E_eV']:9.2e} {c['rms_pull']:8.2f} "
              f"{c['mean_ratio']:6.3f}  ({results[s['name']]['seconds']:.0f} s)", flush=True)
    tau = tau_comparison(ref["tau"], load_config(None))
    print("\nphoton optical depth tau(E_obs, z): ours (cascade tables), ELMAG path integral, ELMAG stepping")
    for zz, ee, a, b, c in zip(tau["z_source"], tau["E_obs_eV"], tau["tau_ours"], tau["tau_elmag_path"],
                               tau["tau_elmag_stepping"]):
        if 0.05 < b < 20:
            print(f"  z = {zz:4.2f}  E = {ee:9.3e}  {a:8.4f} {b:8.4f} {c:8.4f}   ELMAG path / ours "
                  f"{b / a:6.3f}   stepping / path {c / b:6.3f}")
    pub = np.asarray(tau["tau_dominguez_published"])
    print("\ntau / Dominguez et al.'s published tau (0.1 < tau < 20): ours, ELMAG path integral")
    for zz in sorted(set(tau["z_source"])):
        m = (np.asarray(tau["z_source"]) == zz) & (pub > 0.1) & (pub < 20)
        if m.any():
            a = np.asarray(tau["tau_ours"])[m] / pub[m]
            b = np.asarray(tau["tau_elmag_path"])[m] / pub[m]
            print(f"  z = {zz:4.2f}: ours {a.min():.3f}-{a.max():.3f}, ELMAG {b.min():.3f}-{b.max():.3f}")
    print()
    print_table(setups, results, tau)
    rate = rate_comparison(ref["rate"])
    print("\nphoton rate ELMAG / ours at local energy 0.3, 1, 3, 10 TeV")
    zr, Er, rr = (np.asarray(rate[k]) for k in ("z", "E_local_eV", "elmag_over_ours"))
    for zz in np.unique(zr):
        sel = [int(np.argmin(np.abs(np.log(Er / e)) + 1e3 * (zr != zz))) for e in (3e11, 1e12, 3e12, 1e13)]
        print(f"  z = {zz:5.3f}: " + " ".join(f"{rr[i]:.3f}" for i in sel))
    write_json(dict(reference=str(REFERENCE.relative_to(ROOT)), reference_header=ref["header"],
                    n_ours=N_OURS, n_scale=args.n_scale, seed=SEED, rel_err_max=REL_ERR_MAX,
                    setups=results, tau=tau, rate=rate, uptime=uptime()), args.out)
    if not args.only:
        figure(setups, results, tau, OUT_PNG)
        print(f"wrote {OUT_PNG}")


if __name__ == "__main__":
    main()
