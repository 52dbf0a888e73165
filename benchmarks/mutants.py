"""Mutation check: does the test suite catch a deliberate physics bug?

Each mutant changes ONE named physics function in a scratch copy of the repository (a temporary
directory; the worktree is never touched) and runs a chosen subset of the test suite there.
A mutant is *caught* when at least one test fails, *survived* when all pass; a mutant whose
run cannot start (import or collection error, timeout) is reported as *error*. Kinds:

- ``scale``:   ``module.function x factor`` - the function's return value is multiplied by
  ``factor`` (the original is renamed and a wrapper inserted right after it, so references
  taken later in the module, e.g. dispatch dictionaries, see the wrapper too);
- ``replace``: a literal piece of source text replaced by another (must occur exactly once):
  for constants, exponents, weights and formulas that are not a return value.

Besides this hand-picked list (``HAND_PICKED``, run by default or by name), ``--all`` and
``--package NAME`` run the *enumerated* mutants of ``_mutate.py``: every public function and
method of the physics sub-packages, its return value x1.1, each against only the tests that
execute it (a coverage map with per-test contexts, built once per source digest and cached).
Functions whose result is invariant to a constant factor by construction, or that return no
number, are listed with the reason in ``EXCLUDED``; nothing else is left out. The control is
the map's own run of the unmutated copy: a sub-package any of whose selected tests failed
there reports nothing. Each mutant runs ``pytest -x`` with ``--mutant-timeout`` seconds.

Usage (from the repository root, in the project's virtual environment)::

    python benchmarks/mutants.py --all               # enumerated mutants, all sub-packages
    python benchmarks/mutants.py --package cascade   # one sub-package (repeatable)
    python benchmarks/mutants.py --package cascade --only cascade.extragalactic
    python benchmarks/mutants.py --map-only          # build (or show) the function -> tests map

    python benchmarks/mutants.py                     # all default mutants, their own tests
    python benchmarks/mutants.py --list              # names of the default mutants
    python benchmarks/mutants.py pp_emissivity_x2 cmb_T0_plus_1pc
    python benchmarks/mutants.py --tests tests/test_yields.py pp_emissivity_x2
    python benchmarks/mutants.py --json runs/mutants.json --timeout 900

Every mutant lists the test files it is checked against (the files that test that physics;
``--tests`` overrides). pytest runs with ``-x`` (stop at the first failure), so a caught
mutant is cheap; a survivor costs one run of its files. Before the mutants, the unmutated
scratch copy runs the union of the selected files once: if that fails nothing is reported.
Rate tables built from mutated code are cached (keyed by the code digest, so they never mix
with the real ones) in ``--cache-dir`` (default ~/.cache/corona-mutants). Exit status: 0 when
every mutant was caught, 1 otherwise. The result is also written as JSON (``--json``).
"""
from __future__ import annotations

import argparse
import ast
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _mutate as M  # noqa: E402
from _report import write_json  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
COPY = ("transport", "montecarlo", "tests", "inputs", "docs", "runs", "setup.cfg", "pyproject.toml")


@dataclass
class Mutant:
    name: str
    path: str                  # file, relative to the repository root
    kind: str                  # "scale" or "replace"
    target: str                # function name (scale) or source text (replace)
    factor: float = 1.0        # scale
    new: str = ""              # replace
    tests: list = field(default_factory=list)
    why: str = ""


HAND_PICKED = [
    # ---- the first mutants
    Mutant("pp_emissivity_x2", "transport/hadronic/secondaries.py", "scale", "pp_emissivity",
           factor=2.0, tests=["tests/test_yields.py", "tests/test_emission.py"],
           why="pp emissivity [C, eq. 6] twice too large"),
    Mutant("h3a_nucleon_flux_x1.1", "transport/cosmicrays/normalization.py", "scale",
           "h3a_nucleon_flux", factor=1.1,
           tests=["tests/test_corona_physics.py", "tests/test_emission.py"],
           why="H3a nucleon flux (normalisation reference) 10 % high"),
    Mutant("T_eq1_sixth_to_third", "transport/emission/disk.py", "replace",
           "E_gamma_eV, dtype=float) / 2.0) / 6.0", new="E_gamma_eV, dtype=float) / 2.0) / 3.0",
           tests=["tests/test_plane_models.py", "tests/test_galactic_plane.py"],
           why="[T] eq. 1 factor 1/6 -> 1/3 in photons_from_neutrinos"),
    Mutant("gauss_legendre_weights_off_by_one", "montecarlo/lineofsight/integrator.py",
           "replace", "x, w = np.polynomial.legendre.leggauss(order)\n",
           new="x, w = np.polynomial.legendre.leggauss(order)\n    w = np.roll(w, 1)\n",
           tests=["tests/test_lineofsight.py"],
           why="line-of-sight Gauss-Legendre weights shifted by one node"),
    # ---- transport
    Mutant("sigma_inel_x1.1", "transport/hadronic/cross_section.py", "scale",
           "sigma_inel_kafexhiu2014_mb", factor=1.1,
           tests=["tests/test_yields.py", "tests/test_corona_physics.py"],
           why="Kafexhiu 2014 eq. 1 inelastic cross-section 10 % high"),
    Mutant("beta_profile_exponent", "transport/cosmicrays/gas.py", "replace",
           "** (-1.5 * beta)", new="** (-1.4 * beta)",
           tests=["tests/test_corona_physics.py"],
           why="[C] eq. 1 exponent -3 beta/2 -> -1.4 beta"),
    Mutant("diffusion_index", "transport/cosmicrays/diffusion.py", "replace",
           "/ GEV_EV) ** delta", new="/ GEV_EV) ** (1.1 * delta)",
           tests=["tests/test_corona_physics.py", "tests/test_solver_analytic.py"],
           why="[C] eq. 4 energy index delta 10 % too steep"),
    Mutant("kelner_F_gamma_x1.1", "transport/hadronic/kelner2006.py", "scale", "F_gamma",
           factor=1.1, tests=["tests/test_yields.py"],
           why="Kelner et al. 2006 eq. 58 photon spectrum 10 % high"),
    Mutant("kafexhiu_photons_x1.1", "transport/hadronic/yields.py", "scale",
           "kafexhiu2014_dsigma_dE_mb_gev", factor=1.1, tests=["tests/test_yields.py"],
           why="Kafexhiu 2014 photon cross-section 10 % high"),
    Mutant("aafrag_x1.1", "transport/hadronic/yields.py", "scale",
           "aafrag_dsigma_dE_mb_gev", factor=1.1, tests=["tests/test_yields.py"],
           why="AAfrag secondary cross-sections 10 % high"),
    Mutant("kamae_x1.1", "transport/hadronic/yields.py", "scale",
           "kamae2006_dsigma_dE_mb_gev", factor=1.1, tests=["tests/test_yields.py"],
           why="Kamae 2006 secondary cross-sections 10 % high"),
    # ---- opacity
    Mutant("cmb_T0_plus_1pc", "inputs/default.toml", "replace", "cmb_T0_K = 2.7255",
           new="cmb_T0_K = 2.752755", tests=["tests/test_pairproduction.py"],
           why="CMB temperature +1 % (default config)"),
    Mutant("breit_wheeler_x1.05", "montecarlo/opacity/breit_wheeler.py", "scale", "sigma_hat",
           factor=1.05, tests=["tests/test_pairproduction.py"],
           why="Breit-Wheeler cross-section 5 % high"),
    Mutant("dust_density_x1.1", "montecarlo/fields/dust.py", "replace",
           "[[c.rho0_g_cm3, c.r_kpc", new="[[1.1 * c.rho0_g_cm3, c.r_kpc",
           tests=["tests/test_dust.py"],
           why="dust mass density [T, eq. A5] 10 % high in the kernels"),
    Mutant("breit_wheeler_sigma_gg_x1.05", "montecarlo/opacity/breit_wheeler.py", "scale",
           "sigma_gg_cm2", factor=1.05, tests=["tests/test_pairproduction.py"],
           why="Breit-Wheeler cross-section in cm^2 (dust kernels, beams) 5 % high"),
    Mutant("cmb_density_x1.03", "montecarlo/fields/cmb.py", "scale", "dn_deps", factor=1.03,
           tests=["tests/test_pairproduction.py"],
           why="black-body photon density 3 % high (the effect of T +1 % on n)"),
    Mutant("dust_photons_x1.1", "montecarlo/fields/dust.py", "scale",
           "photon_density_per_column", factor=1.1, tests=["tests/test_dust.py"],
           why="dust photons per column (kappa x Planck) 10 % high"),
    Mutant("ebl_density_x1.1", "montecarlo/fields/ebl.py", "scale", "EBLDensity.dn_deps",
           factor=1.1, tests=["tests/test_ebl.py"],
           why="EBL photon density 10 % high"),
    Mutant("T_eq7_three_halves", "montecarlo/galactic_plane/fits.py", "replace",
           "return 1.5 * np.asarray(E2_gamma_at_2E", new="return 1.0 * np.asarray(E2_gamma_at_2E",
           tests=["tests/test_galactic_plane.py"],
           why="[T] eq. 7 factor 3/2 dropped"),
    Mutant("cocoon_grammage_x1.1", "transport/emission/cocoons.py", "scale", "grammage_g_cm2",
           factor=1.1, tests=["tests/test_plane_models.py"],
           why="cocoon source grammage [K, eq. 1] 10 % high"),
    # ---- line of sight and sky
    Mutant("los_intensity_x1.1", "montecarlo/lineofsight/integrator.py", "scale", "intensity",
           factor=1.1, tests=["tests/test_lineofsight.py"],
           why="line-of-sight intensity 10 % high"),
    Mutant("dipole_amplitude_factor", "montecarlo/sky/analysis.py", "replace",
           "3.0 * (sky_map @ n) / sky_map.shape[-1]", new="2.0 * (sky_map @ n) / sky_map.shape[-1]",
           tests=["tests/test_sky.py", "tests/test_skymaps.py"],
           why="dipole vector d = (3/4pi) sum I n dOmega with 2 instead of 3"),
    Mutant("region_solid_angle_x1.05", "montecarlo/sky/analysis.py", "replace",
           "return np.radians(self.l_width_deg) * (",
           new="return 1.05 * np.radians(self.l_width_deg) * (",
           tests=["tests/test_sky.py", "tests/test_galactic_plane.py"],
           why="region solid angle 5 % large"),
    Mutant("flavour_weights_x1.05", "transport/hadronic/neutrino_mixing.py", "scale",
           "flavour_weights_at_earth", factor=1.05,
           tests=["tests/test_neutrinos.py"],
           why="flavour weights at Earth 5 % high (no longer sum to the source total)"),
]


# --------------------------------------------------------------------------- applying a mutant
def scale_function(source: str, name: str, factor: float) -> str:
    """Rename ``def name`` (top level, or ``Class.method``) to ``_mutant_name`` and insert,
    right after it, a wrapper ``name`` that multiplies its return value by ``factor``."""
    tree = ast.parse(source)
    body, indent = tree.body, ""
    if "." in name:
        cls, name = name.split(".", 1)
        classes = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls]
        if len(classes) != 1:
            raise SystemExit(f"mutant: no single top-level class {cls!r} in the file")
        body, indent = classes[0].body, " " * (classes[0].body[0].col_offset)
    hits = [n for n in body if isinstance(n, ast.FunctionDef) and n.name == name]
    if len(hits) != 1:
        raise SystemExit(f"mutant: no single function {name!r} in the file")
    node = hits[0]
    if any(not (isinstance(d, ast.Name) and d.id == "staticmethod") for d in node.decorator_list):
        raise SystemExit(f"mutant: {name!r} is decorated (numba? property?); use 'replace'")
    lines = source.splitlines(keepends=True)
    line = lines[node.lineno - 1]
    lines[node.lineno - 1] = line.replace(f"def {name}(", f"def _mutant_{name}(", 1)
    call = f"self._mutant_{name}" if indent and not node.decorator_list else f"_mutant_{name}"
    params = "self, *args, **kwargs" if indent and not node.decorator_list else "*args, **kwargs"
    wrapper = (f"\n{indent}def {name}({params}):\n"
               f"{indent}    return {call}(*args, **kwargs) * {factor!r}\n")
    lines.insert(node.end_lineno, wrapper)
    return "".join(lines)


def apply(mutant: Mutant, root: Path) -> None:
    """Apply ``mutant`` to the copy at ``root`` (raises if its target is not found)."""
    path = root / mutant.path
    source = path.read_text()
    if mutant.kind == "scale":
        new = scale_function(source, mutant.target, mutant.factor)
    elif mutant.kind == "replace":
        count = source.count(mutant.target)
        if count != 1:
            raise SystemExit(f"mutant {mutant.name}: {mutant.target!r} occurs {count} times "
                             f"in {mutant.path} (need exactly 1)")
        new = source.replace(mutant.target, mutant.new)
    else:
        raise SystemExit(f"mutant {mutant.name}: unknown kind {mutant.kind!r}")
    path.write_text(new)
    if mutant.path == "inputs/default.toml":              # the copy installed as corona_inputs
        (root / "corona_inputs" / "default.toml").write_text(new)


# --------------------------------------------------------------------------- scratch copy
def make_copy(dest: Path) -> None:
    """Copy the repository's sources (with __pycache__, so numba's on-disk cache of the
    unmutated kernels is reused) to dest; inputs/ also as the package corona_inputs."""
    for name in COPY:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns(".pytest_cache"))
        elif src.exists():
            shutil.copy2(src, dest / name)
    shutil.copytree(ROOT / "inputs", dest / "corona_inputs")


def run_tests(root: Path, tests, timeout: float, cache_dir: str, env_extra=None):
    """Run pytest on ``tests`` in the copy; returns (status, seconds, last line)."""
    env = dict(os.environ, PYTHONPATH=str(root), CORONA_CACHE_DIR=cache_dir,
               PYTHONDONTWRITEBYTECODE="1", **(env_extra or {}))
    if "NUMBA_CACHE_DIR" not in (env_extra or {}):
        env.pop("NUMBA_CACHE_DIR", None)    # numba's cache: <CORONA_CACHE_DIR>/numba
    check = ("import transport, montecarlo, corona_inputs, sys, pathlib; "
             "r = pathlib.Path(sys.argv[1]).resolve(); "
             "assert all(r in pathlib.Path(m.__file__).resolve().parents "
             "for m in (transport, montecarlo)), 'scratch copy not imported'; "
             "assert r in pathlib.Path(list(corona_inputs.__path__)[0]).resolve().parents")
    subprocess.run([sys.executable, "-c", check, str(root)], cwd=root, env=env, check=True)
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                               "--no-header", *tests], cwd=root, env=env, capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "error", time.perf_counter() - t0, f"timeout after {timeout:g} s"
    seconds = time.perf_counter() - t0
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    last = lines[-1] if lines else proc.stderr.strip()[-200:]
    status = {0: "survived", 1: "caught"}.get(proc.returncode, "error")
    if status == "caught":
        failed = [ln for ln in lines if ln.startswith("FAILED")]
        last = failed[0] if failed else last
    return status, seconds, last


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="mutants to run (default: all)")
    parser.add_argument("--list", action="store_true", help="print the default mutants and exit")
    parser.add_argument("--tests", nargs="+", help="test files/node ids instead of each mutant's own")
    parser.add_argument("--timeout", type=float, default=1200.0, help="seconds per pytest run")
    parser.add_argument("--cache-dir", default=str(Path("~/.cache/corona-mutants").expanduser()))
    parser.add_argument("--json", default=str(ROOT / "runs" / "benchmarks" / "mutants.json"))
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip the unmutated run (when it is known to pass)")
    parser.add_argument("--all", action="store_true", help="every enumerated mutant")
    parser.add_argument("--package", action="append", choices=list(M.PACKAGES),
                        help="enumerated mutants of one sub-package (repeatable)")
    parser.add_argument("--map-only", action="store_true", help="build the test map and stop")
    parser.add_argument("--only", action="append",
                        help="enumerated mutants whose qualified name contains this text "
                             "(repeatable; e.g. cascade.extragalactic)")
    parser.add_argument("--mutant-timeout", type=float, default=240.0,
                        help="seconds per enumerated mutant's pytest run")
    parser.add_argument("--max-tests", type=int, default=60,
                        help="at most this many selected tests per mutant (fastest first)")
    args = parser.parse_args(argv)
    if args.all or args.package or args.map_only:
        return run_enumerated(args)
    MUTANTS = HAND_PICKED
    by_name = {m.name: m for m in MUTANTS}
    if args.list:
        for m in MUTANTS:
            print(f"{m.name:36s} {m.path}: {m.why}")
        return 0
    unknown = [n for n in args.names if n not in by_name]
    if unknown:
        parser.error(f"unknown mutant(s) {unknown}; --list shows the names")
    chosen = [by_name[n] for n in args.names] or MUTANTS
    results = []
    with tempfile.TemporaryDirectory(prefix="corona-mutants-") as tmp:
        pristine = Path(tmp) / "pristine"
        make_copy(pristine)
        if not args.no_baseline:
            union = args.tests or sorted({t for m in chosen for t in m.tests})
            status, sec, last = run_tests(pristine, union, args.timeout, args.cache_dir)
            print(f"{'(unmutated)':36s} {'pass' if status == 'survived' else status:8s} "
                  f"{sec:6.0f} s  {last}", flush=True)
            if status != "survived":
                print("the unmutated copy does not pass its tests: no mutant reported")
                return 2
        for m in chosen:
            work = Path(tmp) / m.name
            shutil.copytree(pristine, work)
            apply(m, work)
            status, sec, last = run_tests(work, args.tests or m.tests, args.timeout,
                                          args.cache_dir)
            results.append({"name": m.name, "file": m.path, "why": m.why, "status": status,
                            "seconds": round(sec, 1), "detail": last})
            print(f"{m.name:36s} {status:8s} {sec:6.0f} s  {last}", flush=True)
            shutil.rmtree(work, ignore_errors=True)
    caught = sum(r["status"] == "caught" for r in results)
    print(f"caught {caught} / {len(results)}")
    write_json({"caught": caught, "total": len(results), "mutants": results}, args.json)
    return 0 if caught == len(results) else 1


# --------------------------------------------------------------------------- enumerated sweep
# qualified name -> why a x1.1 of its return value is not a physics bug any test could see
EXCLUDED: dict = {
    'montecarlo.galactic_plane.ambrosone2025.model_config':
        'returns configuration or input data (names, settings), not a computed quantity',
    'montecarlo.galactic_plane.grasso2025.model_config':
        'returns configuration or input data (names, settings), not a computed quantity',
    'montecarlo.galactic_plane.grasso2025.datasets':
        'returns configuration or input data (names, settings), not a computed quantity: the measured points',
    'montecarlo.galactic_plane.shao2023.datasets':
        'returns configuration or input data (names, settings), not a computed quantity: the measured points',
    'montecarlo.galactic_plane.grasso2025.regions_needed':
        'returns configuration or input data (names, settings), not a computed quantity: region names',
    'montecarlo.galactic_plane.shao2023.regions_needed':
        'returns configuration or input data (names, settings), not a computed quantity: region names',
    'montecarlo.galactic_plane.fits.column_integral':
        'enters only as the ratio of two column integrals ([T] eq. 10, fit_case): a constant '
        'factor cancels by construction',
    'montecarlo.galactic_plane.fits.tibet_points':
        'returns configuration or input data (names, settings), not a computed quantity: the measured points',
    'montecarlo.cascade.extragalactic.EmissionRate.from_emission':
        'equivalent mutant: the returned EmissionRate evaluates through ln L cached at '
        'construction, so scaling its attribute L changes no output (the constructor and '
        'from_emission are checked in tests/test_guards_extragalactic.py)',
    'montecarlo.cascade.kernels.run_cascades':
        'returns a status code (0, or -1 on stack overflow); the cascade is written into '
        'its argument arrays',
    'montecarlo.pipeline.response.kernel_spec':
        'returns the cache key of the kernels (a JSON description of their inputs), not a '
        'computed quantity',
    'montecarlo.cascade.interactions.code_digest':
        'returns a str/path/key (no number to scale)',
    'montecarlo.cascade.montecarlo.fingerprint':
        'returns a str/path/key (no number to scale)',
    'montecarlo.cascade.response.ResponseSpec.key':
        'returns a str/path/key (no number to scale)',
    'montecarlo.cascade.response.ResponseSpec.claims':
        'returns configuration or input data (names, settings), not a computed quantity: the settings a table claims',
    'montecarlo.cascade.response.bundled_path':
        'returns a str/path/key (no number to scale)',
    'montecarlo.cascade.cosmology.cosmology':
        'returns configuration or input data (names, settings), not a computed quantity: the cosmological parameters',
    'transport.cosmicrays.solver.unit_response_key':
        'returns a str/path/key (no number to scale)',
    'transport.cosmicrays.solver.UnitResponse.serves':
        'returns a boolean or boolean mask',
    'transport.cosmicrays.galactic_diffusion.HaloGrid.shape':
        'returns integers (counts, indices, HEALPix resolution)',
    'transport.cosmicrays.solver.schedule':
        'returns configuration or input data (names, settings), not a computed quantity: the list of time segments',
    'transport.hadronic.secondaries.check_particle':
        'returns a str/path/key (no number to scale)',
    'transport.hadronic.secondaries.check_model_particle':
        'returns configuration or input data (names, settings), not a computed quantity: the validated model',
    'transport.hadronic.neutrino_mixing.pmns_matrix':
        'unitary matrix: only |U|^2 enters, normalised by construction (rows and columns sum to 1)',
    'transport.hadronic.neutrino_mixing.averaged_transition_matrix':
        'transition probabilities, rows sum to 1 by construction',
    'transport.hadronic.yields.aafrag_table_range':
        'returns configuration or input data (names, settings), not a computed quantity: the energy range of a table',
    'montecarlo.fields.ebl.check_model':
        'returns a str/path/key (no number to scale)',
    'montecarlo.fields.tabulated.resolve':
        'returns a str/path/key (no number to scale)',
    'montecarlo.fields.dust.direction_grid':
        'returns unit direction vectors or sky coordinates (a direction has no scale)',
    'montecarlo.fields.dust.direction_grid_mu':
        'returns unit direction vectors or sky coordinates (a direction has no scale)',
    'montecarlo.fields.dust.DustModel.from_config':
        'returns configuration or input data (names, settings), not a computed quantity',
    'montecarlo.opacity.api.check_fields':
        'returns configuration or input data (names, settings), not a computed quantity: field names',
    'montecarlo.opacity.ratetables.cache_directory':
        'returns a str/path/key (no number to scale)',
    'montecarlo.opacity.ratetables.code_digest':
        'returns a str/path/key (no number to scale)',
    'montecarlo.opacity.ratetables.table_key':
        'returns a str/path/key (no number to scale)',
    'montecarlo.opacity.ratetables.table_problem':
        'returns a str/path/key (no number to scale)',
    'montecarlo.opacity.ratetables.photon_directions':
        'returns unit direction vectors or sky coordinates (a direction has no scale)',
    'montecarlo.opacity.ratetables.gamma_directions':
        'returns unit direction vectors or sky coordinates (a direction has no scale)',
    'montecarlo.opacity.ratetables.dust_spec':
        'returns configuration or input data (names, settings), not a computed quantity: the settings of a dust table',
    'montecarlo.propagation.api.check_nside':
        'returns integers (counts, indices, HEALPix resolution)',
    'montecarlo.propagation.api.Problem.n_pix':
        'returns integers (counts, indices, HEALPix resolution)',
    'montecarlo.propagation.api.Problem.n_batches':
        'returns integers (counts, indices, HEALPix resolution)',
    'montecarlo.propagation.api.Problem.n_cols':
        'returns integers (counts, indices, HEALPix resolution)',
    'montecarlo.propagation.kernels.ang2pix_ring':
        'returns integers (counts, indices, HEALPix resolution)',
    'montecarlo.propagation.kernels.locate':
        'returns integers (counts, indices, HEALPix resolution) (a bin index)',
    'montecarlo.propagation.kernels.sample_bin':
        'returns integers (counts, indices, HEALPix resolution) (a sampled bin)',
    'transport.emission.table_kernels.locate':
        'returns integers (counts, indices, HEALPix resolution) (a bin index)',
    'montecarlo.sky.analysis.SkyRegion.contains':
        'returns a boolean or boolean mask',
    'montecarlo.sky.masks.in_mask':
        'returns a boolean or boolean mask',
    'montecarlo.sky.analysis.pixel_directions':
        'returns unit direction vectors or sky coordinates (a direction has no scale)',
    'montecarlo.sky.analysis.pixel_vectors':
        'returns unit direction vectors or sky coordinates (a direction has no scale)',
    'montecarlo.sky.analysis.to_equatorial':
        'returns unit direction vectors or sky coordinates (a direction has no scale)',
    'montecarlo.sky.analysis.get_region':
        "returns configuration or input data (names, settings), not a computed quantity: a region's boundaries",
    'montecarlo.sky.masks.get_mask_recipe':
        'returns configuration or input data (names, settings), not a computed quantity',
    'montecarlo.sky.masks.mask_key':
        'returns a str/path/key (no number to scale)',
    'montecarlo.sky.masks.subsample_level':
        'returns integers (counts, indices, HEALPix resolution)',
    'montecarlo.sky.masks.load_sources':
        'returns configuration or input data (names, settings), not a computed quantity: the source catalogue',
    'montecarlo.sky.maps.sky_regions':
        'returns configuration or input data (names, settings), not a computed quantity: region definitions',
    'transport.cosmicrays.corona_source.history_kinks_gyr':
        'the times the time steps land on (the kinks of h(t); h itself is history(), killed); '
        'kinks moved by 10 % fall inside steps of <= time.dt_max_gyr = 0.05 Gyr, where the '
        'trapezoidal source term of a step with a kink is off by <= |slope jump| dt^2 / 8, '
        '~3e-4 Gyr against ~10 Gyr of injection: unobservable; () for the other histories',
    'montecarlo.opacity.api.Opacity.cosmology':
        'returns the astropy cosmology built from the configuration (cosmology.H0_km_s_Mpc, '
        'Omega_m), read only through efunc(z) = H(z) / H0, a ratio (dl_dz_kpc takes H0 from the '
        'configuration; dl_dz_kpc is mutated on its own); the generic x1.1 lands on its H0, '
        'which nothing reads',
    'montecarlo.opacity.ratetables.DustRateTable.max_rate_per_kpc':
        'an upper bound: the majorant of the dust rate for delta/ratio tracking in '
        'montecarlo.propagation (already times a safety factor there; the score 1 - rate / '
        'majorant is unbiased for any majorant >= the rate) and a negligibility cut in '
        'Opacity.rate_per_kpc; a 10 % larger bound changes only the variance',
    'montecarlo.opacity.api.opacity_for':
        'returns a handle (Opacity, cached per configuration) whose rate tables are built on '
        'first use: it holds no number when returned; what it computes is its methods\' '
        '(rate_isotropic_per_cm, rate_per_kpc, optical_depth_*, survival_probability, cmb, ebl, '
        'dust), each mutated on its own',
    'montecarlo.cascade.interactions.pair_dsigma_dy':
        'the shape of a distribution, unnormalised by definition (Lee 1998 eq. 2): it enters '
        'only through the quantile table of secondary_tables, whose cumulative is divided by '
        'its total, so a constant factor cancels by construction',
    'montecarlo.cascade.interactions.ic_dsigma_dy':
        'the shape of a distribution, unnormalised by definition (Lee 1998 eq. 3): it enters '
        'only through the quantile table of secondary_tables, whose cumulative is divided by '
        'its total, so a constant factor cancels by construction',
    'montecarlo.propagation.sources.distance_tables':
        'the importance-sampling density of the distance (its bin edges come first): the '
        'Monte Carlo weight is width / p_bin of the same edges, so the estimate is unbiased for '
        'any density that covers [0, S]; edges x1.1 still start at 0 and cover S, changing '
        'only the variance, which no test can tell from statistics',
    'montecarlo.fields.ebl.density':
        'returns a model handle (EBLDensity) whose one number-valued output, dn_deps, is '
        'mutated on its own (EBLDensity.dn_deps); the generic scaling reaches only an ebltable '
        'array read once at construction (the spline is built then), an equivalent mutant',
    'montecarlo.fields.tabulated.write_local_dust_example':
        'returns the path of the example file it writes (no number to scale)',
    'montecarlo.sky.analysis.region_pixels':
        'returns a boolean or boolean mask',
    'montecarlo.sky.analysis.load_mask':
        'returns a boolean or boolean mask',
    'montecarlo.sky.maps.write_fits_maps':
        'returns a str/path/key (no number to scale): the paths of the files it writes',
    'montecarlo.lineofsight.kernels.count_panels':
        'returns integers (counts, indices, HEALPix resolution): panels per ray (the compiled '
        'x1.1 fails to type, which is no physics test)',
}
NO_RETURN = "returns nothing (fills arrays in place, writes a file, or checks and raises)"


def run_enumerated(args) -> int:
    """The sweep of ``--all`` / ``--package``: map, control, mutants; JSON + table."""
    cache_dir = Path(args.cache_dir)
    digest = M.source_digest(ROOT)
    pristine = cache_dir / f"pristine-{digest}"
    if not pristine.exists():
        tmp = cache_dir / f"pristine-{digest}.part"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        make_copy(tmp)
        tmp.rename(pristine)
    for name in ("tests", "docs", "runs"):   # these may change without a new code digest
        shutil.copytree(ROOT / name, pristine / name, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns(".pytest_cache", "__pycache__"))
    unknown = sorted(set(EXCLUDED) - {m.key for m in M.enumerate_mutants(pristine)})
    if unknown:
        raise SystemExit(f"EXCLUDED names no enumerated function: {unknown}")
    t_start = time.perf_counter()
    tmap = M.build_map(pristine, cache_dir, 3 * 3600, M.map_tests(pristine),
                       env_extra={"CORONA_CACHE_DIR": args.cache_dir})
    print(f"test map: {tmap['summary']} (digest {digest})", flush=True)
    if args.map_only:
        return 0
    packages = list(M.PACKAGES) if args.all else args.package
    mutants = M.enumerate_mutants(pristine, packages)
    graph = M.callers_index(M.all_functions(pristine))
    named = M.tests_naming(pristine, tmap)
    failed = set(tmap["failed"])
    # one fixed working copy: numba keys its on-disk cache by the source path and stamp, so
    # the unmutated kernels compiled there once are reused by every later mutant; each mutant
    # rewrites one file and puts the original (bytes and mtime) back afterwards
    work = cache_dir / "work"
    if not work.exists():
        shutil.copytree(pristine, work, ignore=shutil.ignore_patterns(
            ".coverage*", "junit-map.xml", ".hypothesis"))
    for f in pristine.rglob("*"):
        if f.is_file() and f.suffix in (".py", ".toml", ".cfg") and ".hypothesis" not in f.parts:
            g = work / f.relative_to(pristine)
            if not g.exists() or g.read_bytes() != f.read_bytes():
                g.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(f, g)
    results, per = [], {}
    for pkg in packages:
        chosen = [m for m in mutants if m.package == pkg
                  and (not args.only or any(o in m.key for o in args.only))]
        selected = {m.key: M.tests_for(m, tmap, graph, named) for m in chosen}
        bad = sorted({t for ids in selected.values() for t in ids
                      if M.nodeid_key(t) in failed})
        count = {"killed": 0, "survived": 0, "excluded": 0, "unscalable": 0, "error": 0}
        per[pkg] = count
        if bad:
            print(f"{pkg}: control FAILED (unmutated copy fails {bad[:3]}...): nothing reported")
            count["control_failed"] = bad
            continue
        for m in chosen:
            rec = {"package": pkg, "function": m.key, "file": m.path}
            reason = EXCLUDED.get(m.key) or (None if m.returns_value else NO_RETURN)
            ids = selected[m.key]
            if reason:
                rec.update(status="excluded", reason=reason)
            elif not ids:
                rec.update(status="survived", detail="no test executes it", tests=0)
            else:
                first = set(named.get(m.qualname.split(".")[-1], ())) if m.compiled else set()
                ids = sorted(ids, key=lambda t: (t not in first,       # tests naming it, then
                                                 tmap["durations"].get(M.nodeid_key(t), 0.0)))
                ids = ids[:args.max_tests]                             # the fastest
                src = work / m.path
                src.write_text(M.apply_scale((pristine / m.path).read_text(), m))
                mark = work / "mutant-mark.txt"
                mark.unlink(missing_ok=True)
                extra = {"CORONA_MUTANT_MARK": str(mark)}
                fresh = cache_dir / "numba-fresh"
                if m.compiled:    # callers in other files must not load their cached copy
                    shutil.rmtree(fresh, ignore_errors=True)
                    extra["NUMBA_CACHE_DIR"] = str(fresh)
                try:
                    status, sec, last = run_tests(work, ids, args.mutant_timeout,
                                                  args.cache_dir, env_extra=extra)
                finally:
                    shutil.copy2(pristine / m.path, src)     # same bytes and mtime again
                status = {"caught": "killed"}.get(status, status)
                if status == "survived" and mark.exists():
                    status, last = "unscalable", mark.read_text().splitlines()[0]
                rec.update(status=status, seconds=round(sec, 1), detail=last, tests=len(ids))
            count[rec["status"]] += 1
            results.append(rec)
            print(f"{m.key:70s} {rec['status']:10s} {rec.get('seconds', 0):6.0f} s "
                  f"{rec.get('tests', '')!s:>3s}  {rec.get('detail', rec.get('reason', ''))[:90]}",
                  flush=True)
    wall = time.perf_counter() - t_start
    print(f"\n{'sub-package':16s} {'killed':>7s} {'survived':>9s} {'excluded':>9s} "
          f"{'unscalable':>11s} {'error':>6s} {'score':>7s}")
    tot = {"killed": 0, "survived": 0, "excluded": 0, "unscalable": 0, "error": 0}
    for pkg, c in per.items():
        for k in tot:
            tot[k] += c[k]
        live = c["killed"] + c["survived"] + c["unscalable"] + c["error"]
        c["score"] = round(100.0 * c["killed"] / live, 1) if live else None
        print(f"{pkg:16s} {c['killed']:7d} {c['survived']:9d} {c['excluded']:9d} "
              f"{c['unscalable']:11d} {c['error']:6d} {c['score'] if live else '-':>7}")
    live = tot["killed"] + tot["survived"] + tot["unscalable"] + tot["error"]
    score = round(100.0 * tot["killed"] / live, 1) if live else None
    print(f"{'total':16s} {tot['killed']:7d} {tot['survived']:9d} {tot['excluded']:9d} "
          f"{tot['unscalable']:11d} {tot['error']:6d} {score!s:>7s}   wall {wall:.0f} s")
    out = args.json if args.json != str(ROOT / "runs" / "benchmarks" / "mutants.json") else \
        str(ROOT / "runs" / "benchmarks" / "mutants_enumerated.json")
    write_json({"digest": digest, "factor": M.FACTOR, "packages": per, "total": tot,
                "score_percent": score, "wall_s": round(wall), "mutants": results}, out)
    return 0 if tot["survived"] + tot["unscalable"] + tot["error"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
