"""PNG figures of a ``corona run`` (imported only when drawing: matplotlib is slow to load)."""
from __future__ import annotations

import warnings
from pathlib import Path

from transport import solve
from transport.plots import plot_corona_emission, plot_radial_profiles, plot_spectra

from montecarlo import plots
from montecarlo.pipeline.extragalactic import Products

#: The two diffusion coefficients of [C] Fig. 2 [cm^2/s].
C_FIG2_D0_CM2_S = (1.2e29, 4e30)


def run_figures(records: dict, outdir) -> list:
    """[C] Fig. 3 (CR spectra), the corona emissivity, Fig. 4 (all-sky spectra vs IceCube and
    the IGRB; with the extragalactic stage also the sum over all galaxies), Fig. 5 (dipole), a
    Mollweide map per sky component, and with the Galactic-plane stage [T] Fig. 1-2."""
    outdir = Path(outdir)
    written = []
    sol = records["transport"].result
    plot_spectra(sol, outdir / "cr_spectra.png")
    written.append(outdir / "cr_spectra.png")
    corona = records["emission"].result.get("corona", {})
    if "gamma" in corona and "nu" in corona:
        plot_corona_emission(corona["gamma"], corona["nu"], outdir / "corona_emission.png")
        written.append(outdir / "corona_emission.png")
    sky = records["sky"].result
    plots.plot_corona_spectra(sky, outdir / "corona_spectra.png")
    plots.plot_dipole(sky, outdir / "dipole.png")
    written += [outdir / "corona_spectra.png", outdir / "dipole.png"]
    for (model, particle), c in sky.components.items():
        path = outdir / f"map_{model}_{particle}.png"
        plots.plot_sky_map(c, sky.E_eV, sol.config.sky.map_E_eV, path)
        written.append(path)
    if "extragalactic" in records:
        eg = records["extragalactic"].result
        cfg = sol.config
        title = (f"coronae of all galaxies (alpha = {cfg.source.alpha:g}, E_cut = "
                 f"{cfg.source.E_cut_eV:.2g} eV, D0 = {cfg.diffusion.D0_cm2_s:.2g} cm$^2$/s)")
        plots.plot_extragalactic(Products(eg["E_eV"], dict(eg["spectra"])),
                                 outdir / "extragalactic_spectra.png", title)
        written.append(outdir / "extragalactic_spectra.png")
    if "galactic_plane" in records:
        plane = records["galactic_plane"].result
        plots.plot_region_spectra(plane.fits, outdir / "plane_regions.png", plane.last_bin_fraction)
        plots.plot_plane_neutrinos(plane.fits, outdir / "plane_neutrinos.png")
        written += [outdir / "plane_regions.png", outdir / "plane_neutrinos.png"]
    return written


def fixed_source_profiles(cfg, Q0_cm3_s_eV: float, D0_cm2_s=C_FIG2_D0_CM2_S,
                          progress: bool = False) -> dict:
    """[C] Fig. 2's solutions: the model of ``cfg`` for each D0 at one fixed source amplitude
    Q0 (normalization mode "rate"): {legend label: TransportSolution}."""
    fixed = {"normalization.mode": "rate", "normalization.Q0_cm3_s_eV": Q0_cm3_s_eV}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # D0 = 4e30 leaves the diffusion regime at the top energies
        return {f"D0 = {D0:.2g} cm$^2$/s": solve(cfg.with_overrides({**fixed, "diffusion.D0_cm2_s": D0}),
                                                  progress=progress)
                for D0 in D0_cm2_s}


def plot_fixed_source_profiles(cfg, Q0_cm3_s_eV: float, path, E_eV: float = 1e14,
                               progress: bool = False) -> None:
    """[C] Fig. 2: E j(r) at E_eV for the two D0 at one source amplitude."""
    plot_radial_profiles(fixed_source_profiles(cfg, Q0_cm3_s_eV, progress=progress), E_eV, path)
