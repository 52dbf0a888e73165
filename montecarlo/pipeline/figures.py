"""PNG figures of a ``corona run`` (imported only when drawing: matplotlib is slow to load)."""
from __future__ import annotations

from pathlib import Path

from transport.plots import plot_corona_emission, plot_spectra

from montecarlo import plots


def run_figures(records: dict, outdir) -> list:
    """Seed 004 Fig. 3 (CR spectra), the corona emissivity, Fig. 4 (all-sky spectra vs
    IceCube and the IGRB), Fig. 5 (dipole) and a Mollweide map per sky component."""
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
    return written
