"""The summary table of ``corona run``: the summary scalars of :func:`.run.summarise` (and of
the Galactic-plane and Monte Carlo stages) as rows a physicist can read, grouped, each with
its unit and, where needed, its definition; chi^2 with the degrees of freedom and p-value.

The same rows are printed (:func:`summary_table`) and stored in the run's HDF5 file
(:func:`write_summary_table`: dataset ``table`` of the summary stage, one record per row).
Definitions (docs/physics.md, section 5; docs/pipeline.md, "Summary"):

- dipole amplitude A = sqrt(3) |a_1| / a_00 of the map I(l, b) = 3 <I cos theta> / <I>, theta
  from the dipole direction: 0 for an isotropic sky, 1 for I ~ 1 + cos theta, up to 3 for a
  point source; the corona, bright towards the Galactic centre, has A ~ 1.5-1.8.
- contrast = (I_max - I_min) / (I_max + I_min) over the map's pixels (0 ... 1).
- chi^2 of a fixed model against data points: asymmetric errors (the side the model lies
  on), upper limits counted only when exceeded; dof = points (no free parameter), or points -
  1 for the [T] fits (one fitted normalisation); p = P(chi^2_dof >= chi^2).
"""
from __future__ import annotations

from dataclasses import dataclass

import h5py
import numpy as np
from scipy.special import gammaincc

from montecarlo.galactic_plane.fits import CASES

#: Title of the [T] cases (distribution x neutrino spectrum).
CASE_TITLES = {"uniform": "uniform disk", "snr_tibet": "SNR-like disk"}
ICECUBE_COMMENT = ("the corona is one faint component of the sky, not a fit to IceCube: its "
                   "chi^2 measures how far below the data it lies")


@dataclass(frozen=True)
class Row:
    group: str
    label: str
    unit: str
    key: str                 # summary key; key + "_total" is the column "+ extragalactic"
    n_key: str = ""          # chi^2 rows: the key of the degrees of freedom


NU = "Neutrinos (all flavours, nu + nubar; all-sky average)"
GAMMA = "Gamma rays (all-sky average, after pair production on the way to the Sun)"
ANISO = "Anisotropy (A = sqrt(3)|a1|/a00, 0 ... 3; contrast = (Imax - Imin)/(Imax + Imin))"
EG = "Extragalactic (coronae of all other galaxies, cascades included)"
PLANE = "Galactic plane ([T] cases fitted to Tibet ASgamma regions A and B)"
FIT = "Goodness of fit (chi^2 / dof, p-value)"
MC = "Monte Carlo check"
E2_UNIT = "GeV cm^-2 s^-1 sr^-1"

def _case_title(distribution: str, spectrum: str) -> str:
    return f"{CASE_TITLES.get(distribution, distribution)} x spectrum {spectrum}"


def _plane_rows() -> tuple:
    """Per [T] case: the all-sky neutrinos its fit implies (keys of
    montecarlo.pipeline.plane.plane_summary)."""
    return tuple(Row(PLANE, f"{_case_title(d, s)}: all-sky nu E^2 I at 100 TeV", E2_UNIT,
                     f"plane_{d}_{s}_nu_all_sky_E2_100TeV") for d, s in CASES)


def _plane_fit_rows() -> tuple:
    rows = []
    for d, s in CASES:
        tag = f"plane_{d}_{s}"
        rows.append(Row(FIT, f"[T] {_case_title(d, s)} vs Tibet (1 fitted norm.)", "chi^2",
                        f"{tag}_chi2_tibet", f"{tag}_dof_tibet"))
        rows += [Row(FIT, f"[T] {_case_title(d, s)} vs LHAASO {region}", "chi^2",
                     f"{tag}_chi2_lhaaso_{region}", f"{tag}_n_lhaaso_{region}")
                 for region in ("inner", "outer")]
    return tuple(rows)


#: Every row, in print order (rows whose key a run lacks are left out).
ROWS = (
    Row(NU, "corona / IceCube astrophysical flux at 100 TeV", "-", "nu_icecube_frac_100TeV"),
    *(Row(GAMMA, f"corona / Fermi-LAT IGRB at {E}", "-", f"gamma_igrb_frac_{E.replace(' ', '')}")
      for E in ("1 GeV", "10 GeV", "100 GeV")),
    *(Row(ANISO, f"{name}: {what} at {E}", "-", f"{key}_{p}_{E.replace(' ', '')}")
      for key, what in (("dipole", "dipole amplitude A"), ("contrast", "contrast"))
      for p, name in (("gamma", "gamma rays"), ("nu", "neutrinos")) for E in ("1 TeV", "1 PeV")),
    *(Row(EG, f"xi = corona (anticentre) / extragalactic, nu at {E}", "-",
          f"xi_{E.replace(' ', '')}") for E in ("1 TeV", "1 PeV")),
    *(Row(EG, f"xi self-consistent (before the extragalactic.xi override), nu at {E}", "-",
          f"xi_self_consistent_{E.replace(' ', '')}") for E in ("1 TeV", "1 PeV")),
    *_plane_rows(),
    Row(FIT, "IceCube binned points (no free parameter)", "chi^2", "chi2_icecube", "chi2_icecube_n"),
    Row(FIT, "Fermi-LAT IGRB points (no free parameter)", "chi^2", "chi2_igrb", "chi2_igrb_n"),
    *_plane_fit_rows(),
    *(Row(MC, f"Monte Carlo / line of sight, gamma all-sky at {E}", "-",
          f"mc_over_los_{E.replace(' ', '')}") for E in ("1 TeV", "1 PeV")),
)


def p_value(chi2: float, dof: int) -> float:
    """P(chi^2_dof >= chi2) (the regularised upper incomplete gamma function)."""
    return float(gammaincc(0.5 * dof, 0.5 * chi2)) if dof > 0 else float("nan")


def summary_rows(summary: dict) -> list[dict]:
    """One record per row present in ``summary``: group, quantity, unit, key, corona,
    with_extragalactic (NaN without that column), dof and p-values (NaN for non-chi^2 rows)."""
    out = []
    for row in ROWS:
        if row.key not in summary:
            continue
        value = float(summary[row.key])
        total = float(summary.get(f"{row.key}_total", np.nan))
        dof = p = p_total = np.nan
        if row.n_key:        # the [T] fits store their dof, the others the points (dof = points)
            dof = float(summary[row.n_key])
            p = p_value(value, int(dof))
            p_total = p_value(total, int(dof)) if np.isfinite(total) else np.nan
        out.append({"group": row.group, "quantity": row.label, "unit": row.unit, "key": row.key,
                    "corona": value, "with_extragalactic": total, "dof": dof,
                    "p_value_corona": p, "p_value_with_extragalactic": p_total})
    return out


def _cell(value, dof=np.nan, p=np.nan) -> str:
    if not np.isfinite(value):
        return ""
    if np.isfinite(dof):
        return f"{value:.4g} / {int(dof)}, p " + (f"= {p:.2g}" if p > 0 else "< 1e-300")
    return f"{value:.4g}"


def summary_table(summary: dict) -> str:
    """The printed summary: groups of rows; columns the value (the corona alone in the corona's
    rows) and, when the extragalactic stage ran, the corona + extragalactic value."""
    rows = summary_rows(summary)
    cells = [(r["quantity"], r["unit"], _cell(r["corona"], r["dof"], r["p_value_corona"]),
              _cell(r["with_extragalactic"], r["dof"], r["p_value_with_extragalactic"])) for r in rows]
    has_total = any(c[3] for c in cells)
    w = [max([len(c[k]) for c in cells] + [len(h)]) for k, h in
         enumerate(("quantity", "unit", "value", "+ extragalactic"))]
    head = (f"  {'quantity':<{w[0]}s}  {'unit':<{w[1]}s}  {'value':>{w[2]}s}"
            + (f"  {'+ extragalactic':>{w[3]}s}" if has_total else ""))
    lines = ["summary (definitions: docs/pipeline.md, \"The summary\")", head, "-" * len(head)]
    group = None
    for r, (label, unit, value, total) in zip(rows, cells):
        if r["group"] != group:
            group = r["group"]
            lines.append(group)
            if group == FIT and any(x["key"] == "chi2_icecube" for x in rows):
                lines.append(f"  ({ICECUBE_COMMENT})")
        line = f"  {label:<{w[0]}s}  {unit:<{w[1]}s}  {value:>{w[2]}s}"
        lines.append((line + (f"  {total:>{w[3]}s}" if has_total else "")).rstrip())
    lines.append("(unit -: dimensionless)")
    return "\n".join(lines)


def write_summary_table(group, summary: dict) -> None:
    """Dataset ``table`` in ``group``: the rows of :func:`summary_rows` (strings UTF-8)."""
    rows = summary_rows(summary)
    text = h5py.string_dtype("utf-8")
    names = ("group", "quantity", "unit", "key")
    numbers = ("corona", "with_extragalactic", "dof", "p_value_corona", "p_value_with_extragalactic")
    dtype = np.dtype([(n, text) for n in names] + [(n, "f8") for n in numbers])
    table = np.array([tuple(r[n] for n in names + numbers) for r in rows], dtype=dtype)
    ds = group.create_dataset("table", data=table)
    ds.attrs["description"] = ("the printed summary: one row per quantity; dof and p-values "
                               "for chi^2 rows (NaN otherwise); " + ICECUBE_COMMENT)
