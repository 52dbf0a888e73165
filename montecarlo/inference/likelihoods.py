"""Likelihoods of the fit: one per data set, each respecting what the measurement is
(docs/fit.md, "Likelihoods", gives the equations and the reasons).

The building blocks are pure functions of model values and data (tested against hand-computed
numbers); :data:`DATASETS` maps each data-set name of a fit file to its description and to the
function of a :class:`montecarlo.inference.forward.Prediction` that returns ln L.

- ``cr_protons``: the corona may not exceed the observed proton flux at the Sun. With the
  touching rule (normalization.mode = "observed_flux", [C]) the model touches it by
  construction and ln L = 0; with a free amplitude (mode "rate", Q0 a fit parameter) the
  reference flux is a one-sided bound at the energy where the model comes closest.
- ``fermi_igrb``: the Fermi-LAT isotropic background, foreground model A, with the
  foreground-model systematic band: one-sided by default (other sources contribute), or
  two-sided with the band's scale profiled.
- ``icecube``: the cascades 2020 power law (one-sided: the worst energy in its sensitive
  range; two-sided: its normalisation at 100 TeV and its index) or the combined binned fit.
- ``tibet``, ``lhaaso``: the Galactic-plane points with their asymmetric errors
  ([T] eq. 12), for the plane models' parameters.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from transport.cosmicrays.normalization import reference_flux

from montecarlo import observations as obs
from montecarlo.galactic_plane.fitting import chi2_asymmetric, fit_normalization
from montecarlo.galactic_plane.fits import tibet_points
from montecarlo.inference.priors import FitError
from montecarlo.pipeline.run import loglog_at

SIDES = ("one", "two")
ICECUBE_DATA = ("cascades_2020", "combined_binned")
#: Foreground-model systematic of the IGRB, fractions below / above model A: Ackermann et
#: al. (2015) quote +15 % / -30 % on the intensity above 100 MeV.
IGRB_FOREGROUND = (0.30, 0.15)


# --------------------------------------------------------------------------- building blocks
def one_sided(model, bound, sigma) -> float:
    """ln L = -1/2 sum_i (max(0, m_i - b_i) / sigma_i)^2: no penalty below the bounds."""
    excess = np.maximum(np.asarray(model, dtype=float) - np.asarray(bound, dtype=float), 0.0)
    return float(-0.5 * np.sum((excess / np.asarray(sigma, dtype=float)) ** 2))


def worst_excess(model, bound, sigma) -> float:
    """ln L = -1/2 (max_i max(0, m_i - b_i) / sigma_i)^2: a bound given as a curve (one
    measurement) counts once, at the point where the model exceeds it most."""
    pull = (np.asarray(model, dtype=float) - np.asarray(bound, dtype=float)) / np.asarray(sigma, dtype=float)
    return float(-0.5 * max(0.0, float(np.max(pull))) ** 2)


def asymmetric(model, data, err_lo, err_hi) -> float:
    """ln L = -chi^2 / 2 with the error on the side the model lies ([T] eq. 12)."""
    return -0.5 * chi2_asymmetric(model, data, err_lo, err_hi)


def igrb(model, data, err_lo, err_hi, band=IGRB_FOREGROUND, sided: str = "one") -> float:
    """ln L of model intensities at the IGRB points with the foreground band: the measured
    spectrum scales by s in [1 - band[0], 1 + band[1]] (errors with it),

        one-sided:  ln L = -1/2 sum_i (max(0, m_i - s+ I_i) / (s+ sigma+_i))^2,  s+ = 1 + band[1],
        two-sided:  ln L = -1/2 min_s sum_i ((m_i - s I_i) / (s sigma_i))^2,  sigma_i on the
                    side of the model;

    with N = 1/s the sum is convex and piecewise quadratic in N (:func:`fit_normalization`'s
    exact minimum, clipped to the band)."""
    m, I = np.asarray(model, dtype=float), np.asarray(data, dtype=float)
    lo, hi = np.asarray(err_lo, dtype=float), np.asarray(err_hi, dtype=float)
    s_hi = 1.0 + band[1]
    if sided == "one":
        return one_sided(m, s_hi * I, s_hi * hi)
    N = np.clip(fit_normalization(m, I, lo, hi).norm, 1.0 / s_hi, 1.0 / (1.0 - band[0]))
    return asymmetric(N * m, I, lo, hi)


def power_law_bound(E_eV, model, fit: obs.PowerLawFit) -> float:
    """One-sided ln L of a model spectrum against a power-law fit over its energy range: the
    worst excess (:func:`worst_excess`) with sigma+(E) = Phi(E) sqrt((dphi0+ / phi0)^2 +
    (dgamma ln(E / E0))^2), the fit's errors propagated (their correlation is not published)."""
    E, m = np.asarray(E_eV, dtype=float), np.asarray(model, dtype=float)
    inside = (E >= fit.E_range_eV[0]) & (E <= fit.E_range_eV[1])
    E, m = E[inside], m[inside]
    phi = fit(E)
    sigma = phi * np.hypot(fit.phi0_err_hi / fit.phi0, fit.gamma_err * np.log(E / fit.E0_eV))
    return worst_excess(m, phi, sigma)


def power_law_measurement(E_eV, model, fit: obs.PowerLawFit) -> float:
    """Two-sided ln L: the model's intensity at E0 against phi0 (asymmetric errors) and its
    index, a least-squares power law through the model in the fit's energy range, against
    gamma."""
    E, m = np.asarray(E_eV, dtype=float), np.asarray(model, dtype=float)
    inside = (E >= fit.E_range_eV[0]) & (E <= fit.E_range_eV[1]) & (m > 0)
    index = -np.polyfit(np.log(E[inside]), np.log(m[inside]), 1)[0]
    at_E0 = loglog_at(E, m, fit.E0_eV)
    return asymmetric([at_E0], [fit.phi0], [fit.phi0_err_lo], [fit.phi0_err_hi]) \
        - 0.5 * ((index - fit.gamma) / fit.gamma_err) ** 2


def binned(model, points: obs.SpectralPoints, sided: str = "one") -> float:
    """ln L against binned points (model at the bin centres): measured bins with their
    asymmetric errors (one-sided: only an excess counts), upper-limit bins one-sided with the
    limit as a 1-sigma excess over zero (the summary's chi^2, docs/fit.md)."""
    m = np.asarray(model, dtype=float)
    limit = points.upper_limit
    measured = ~limit
    out = one_sided(m[limit], 0.0, points.intensity[limit])
    if sided == "one":
        return out + one_sided(m[measured], points.intensity[measured], points.err_hi[measured])
    return out + asymmetric(m[measured], points.intensity[measured], points.err_lo[measured],
                            points.err_hi[measured])


def flux_bound(flux, reference, relative_error: float) -> float:
    """ln L = -1/2 (max(0, r - 1) / f)^2 with r = max_E F(E) / F_obs(E): the model proton flux
    may exceed the observed one by no more than its relative uncertainty f (a curve: counted
    once, at the touching energy; r = Q0 / Q0_touch of the touching rule)."""
    ratio = np.max(np.asarray(flux, dtype=float) / np.asarray(reference, dtype=float))
    return float(-0.5 * (max(0.0, ratio - 1.0) / relative_error) ** 2)


def lognormal(model, data, relative_error: float) -> float:
    """Mock data: ln d_i = ln m_i(truth) + relative_error x N(0, 1), so
    ln L = -1/2 sum_i ((ln m_i - ln d_i) / relative_error)^2 (a model value <= 0 where data
    exist gives ln L = -inf)."""
    m = np.asarray(model, dtype=float)
    if np.any(m <= 0):
        return -np.inf
    return float(-0.5 * np.sum(((np.log(m) - np.log(data)) / relative_error) ** 2))


# --------------------------------------------------------------------------- options and data sets
@dataclass(frozen=True)
class Options:
    """The [fit.likelihood] table of a fit file (docs/fit.md)."""
    igrb_sided: str = "one"
    igrb_foreground: tuple = IGRB_FOREGROUND
    icecube: str = "cascades_2020"
    icecube_sided: str = "one"
    cr_relative_error: float = 0.1
    plane_models: tuple = ("disk",)


def parse_options(raw) -> Options:
    """Options from the [fit.likelihood] table (FitError naming the key on any problem)."""
    if raw is None:
        return Options()
    if not isinstance(raw, dict):
        raise FitError(f"[fit.likelihood] = {raw!r} is not allowed: expected a table")
    fields = Options.__dataclass_fields__
    extra = set(raw) - set(fields)
    if extra:
        raise FitError(f"fit.likelihood: unknown key(s) {', '.join(sorted(extra))}; allowed: "
                       + ", ".join(fields))
    for key, choices in (("igrb_sided", SIDES), ("icecube_sided", SIDES), ("icecube", ICECUBE_DATA)):
        if key in raw and raw[key] not in choices:
            raise FitError(f"fit.likelihood.{key} = {raw[key]!r} is not allowed: expected one of "
                           + ", ".join(f'"{c}"' for c in choices))
    band = raw.get("igrb_foreground", list(IGRB_FOREGROUND))
    if (not isinstance(band, list) or len(band) != 2
            or not all(isinstance(b, (int, float)) and not isinstance(b, bool) and 0 <= b < 1 for b in band)):
        raise FitError(f"fit.likelihood.igrb_foreground = {band!r} is not allowed: expected "
                       "[lower, upper] fractions, each 0 <= f < 1 (default [0.30, 0.15])")
    f = raw.get("cr_relative_error", 0.1)
    if isinstance(f, bool) or not isinstance(f, (int, float)) or not 0 < f <= 10:
        raise FitError(f"fit.likelihood.cr_relative_error = {f!r} is not allowed: expected 0 < f <= 10")
    models = raw.get("plane_models", ["disk"])
    allowed = ("disk", "cocoons", "extra1", "extra2")
    if not isinstance(models, list) or not models or any(m not in allowed for m in models):
        raise FitError(f"fit.likelihood.plane_models = {models!r} is not allowed: expected a "
                       "non-empty list of " + ", ".join(f'"{m}"' for m in allowed))
    return Options(raw.get("igrb_sided", "one"), tuple(float(b) for b in band),
                   raw.get("icecube", "cascades_2020"), raw.get("icecube_sided", "one"),
                   float(f), tuple(models))


@lru_cache(maxsize=None)
def _igrb():
    return obs.fermi_igrb()


@lru_cache(maxsize=None)
def _plane_points(which: str, last_bin_fraction: float) -> tuple:
    """((region, SpectralPoints), ...) of the Tibet ([T] eq. 12 last bin) or LHAASO data."""
    if which == "tibet":
        return tuple((pts.region, pts) for pts in tibet_points(last_bin_fraction).values())
    return tuple((pts.region, pts) for pts in (obs.lhaaso_km2a("inner"), obs.lhaaso_km2a("outer")))


def plane_points(which: str, cfg) -> tuple:
    return _plane_points(which, float(cfg.galactic_plane.last_bin_fraction))


def _inside(E, points):
    return (points.E_eV >= E[0]) & (points.E_eV <= E[-1])


def ln_cr_protons(p, o: Options) -> float:
    norm = p.config.normalization
    if norm.mode != "rate":
        return 0.0                                  # the touching rule holds by construction
    E_min = 0.0 if norm.E_min_eV == "auto" else norm.E_min_eV
    use = (p.cr_E_eV >= E_min) & (p.cr_flux > 0)
    return flux_bound(p.cr_flux[use], reference_flux(p.cr_E_eV[use], norm.reference),
                      o.cr_relative_error)


def ln_fermi_igrb(p, o: Options) -> float:
    pts = _igrb()
    sel = _inside(p.E_eV, pts)
    all_sky = p.row("gamma", "all_sky")
    model = [loglog_at(p.E_eV, all_sky, e) for e in pts.E_eV[sel]]
    return igrb(model, pts.intensity[sel], pts.err_lo[sel], pts.err_hi[sel], o.igrb_foreground,
                o.igrb_sided)


def ln_icecube(p, o: Options) -> float:
    nu = p.row("nu", "all_sky")
    if o.icecube == "cascades_2020":
        fit = obs.icecube_cascades_2020()
        return (power_law_bound if o.icecube_sided == "one" else power_law_measurement)(p.E_eV, nu, fit)
    pts = obs.icecube_binned()
    sel = _inside(p.E_eV, pts)
    points = obs.SpectralPoints(pts.label, pts.particle, pts.region, pts.E_eV[sel],
                                pts.intensity[sel], pts.err_lo[sel], pts.err_hi[sel],
                                pts.E_lo_eV[sel], pts.E_hi_eV[sel], pts.upper_limit[sel])
    return binned([loglog_at(p.E_eV, nu, e) for e in points.E_eV], points, o.icecube_sided)


def _ln_plane(which):
    def ln_like(p, o: Options) -> float:
        total = 0.0
        for region, pts in plane_points(which, p.config):
            total += asymmetric(p.region_gamma(region, pts.E_eV), pts.intensity, pts.err_lo, pts.err_hi)
        return total
    return ln_like


@dataclass(frozen=True)
class DataSet:
    """A data set of a fit file: what it is, and ln L of a prediction."""
    name: str
    description: str
    ln_likelihood: callable
    plane: bool = False


DATASETS = {d.name: d for d in (
    DataSet("cr_protons", "proton flux at the Sun (normalization.reference, H3a protons by "
            "default): the touching rule, or a one-sided bound on a free Q0 "
            "(likelihood option cr_relative_error)", ln_cr_protons),
    DataSet("fermi_igrb", "Fermi-LAT isotropic background, Ackermann et al. 2015 foreground "
            "model A, with the foreground band (options igrb_sided, igrb_foreground)", ln_fermi_igrb),
    DataSet("icecube", "IceCube astrophysical neutrinos: cascades 2020 power law or the "
            "combined binned fit (options icecube, icecube_sided)", ln_icecube),
    DataSet("tibet", "Tibet ASgamma 2021 regions A and B, the last bin at "
            "galactic_plane.last_bin_fraction ([T] eq. 12); plane models of option plane_models",
            _ln_plane("tibet"), plane=True),
    DataSet("lhaaso", "LHAASO-KM2A 2023 inner and outer Galactic plane (statistical and "
            "systematic errors); plane models of option plane_models", _ln_plane("lhaaso"),
            plane=True),
)}


def describe_datasets() -> str:
    """The text of `corona fit --list-data`."""
    width = max(len(n) for n in DATASETS)
    return "\n".join(f"{name:<{width}}  {d.description}" for name, d in DATASETS.items())


# --------------------------------------------------------------------------- mock data
def mock_data(prediction, quantities, relative_error: float, seed: int) -> dict:
    """Injection data ([fit.mock]): every listed quantity of the model at the truth, at the sky
    energies, times exp(relative_error x N(0, 1)) drawn from numpy's generator seeded with
    ``seed`` (quantities in the listed order); NaN where the truth is not positive."""
    rng = np.random.default_rng(seed)
    out = {}
    for name in quantities:
        truth = np.asarray(prediction.quantity(name), dtype=float)
        noise = rng.standard_normal(truth.size)
        good = np.isfinite(truth) & (truth > 0)
        out[name] = np.where(good, np.where(good, truth, 1.0) * np.exp(relative_error * noise), np.nan)
    return out


def ln_mock(prediction, data: dict, relative_error: float) -> float:
    """:func:`lognormal` summed over the mock quantities (where the data exist)."""
    total = 0.0
    for name, values in data.items():
        use = np.isfinite(values)
        total += lognormal(prediction.quantity(name)[use], values[use], relative_error)
    return total
