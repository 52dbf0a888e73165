"""A user-supplied isotropic photon field read from a table (field name "tabulated").

Format (whitespace-separated, '#' comments; see inputs/fields/README.md): the first data row
holds a placeholder followed by the redshifts z_1 < ... < z_m; every further row holds a
target-photon energy eps [eV] (ascending) followed by the proper number density per unit
energy dn/d eps [cm^-3 eV^-1] (all directions together) at each redshift. A table with a
single redshift column describes a field at that redshift only (e.g. a local Galactic field
at z = 0). Between the tabulated energies the density is interpolated log-log, outside them
it is zero; between redshifts it is interpolated linearly.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from transport.core.data import input_path
from transport.core.errors import ArgumentError, DataFileError
from transport.core.grid import log_grid
from transport.core.safety import read_numeric_table
from transport import load_config
from transport.core.data import inputs_dir
from transport.core.output import code_version
from montecarlo.fields.dust import DustModel, angle_integrated_density


@dataclass
class TabulatedField:
    path: Path
    eps_eV: np.ndarray         # (n_eps,) ascending
    z: np.ndarray              # (n_z,) ascending
    dn: np.ndarray             # (n_eps, n_z) [cm^-3 eV^-1]

    def dn_deps(self, eps_eV, z):
        """Proper density [cm^-3 eV^-1] at energies eps and one redshift z."""
        eps = np.asarray(eps_eV, dtype=float)
        if self.z.size == 1:
            if z != self.z[0]:
                raise ArgumentError(f"z = {z!r}: the tabulated field {self.path.name} is given "
                                    f"only at z = {self.z[0]:g}")
            col = self.dn[:, 0]
        else:
            if not self.z[0] <= z <= self.z[-1]:
                raise ArgumentError(f"z = {z!r} is outside the tabulated field "
                                    f"{self.path.name}: allowed {self.z[0]:g} <= z <= {self.z[-1]:g}")
            iz = min(np.searchsorted(self.z, z, side="right") - 1, self.z.size - 2)
            w = (z - self.z[iz]) / (self.z[iz + 1] - self.z[iz])
            col = (1.0 - w) * self.dn[:, iz] + w * self.dn[:, iz + 1]
        out = np.zeros_like(eps)
        inside = (eps >= self.eps_eV[0]) & (eps <= self.eps_eV[-1]) & np.isfinite(eps)
        positive = col > 0.0
        ln_col = np.where(positive, np.log(np.where(positive, col, 1.0)), -700.0)
        out[inside] = np.exp(np.interp(np.log(eps[inside]), np.log(self.eps_eV), ln_col))
        return out

    def fine_energy_grid(self, per_decade: int = 48):
        """Log-spaced energies spanning the table, for the rate integral."""
        lo, hi = self.eps_eV[0], self.eps_eV[-1]
        return log_grid(lo, hi, per_decade)


def resolve(name: str) -> Path:
    """The file named by fields.tabulated_file: an absolute path, or relative to inputs/."""
    if not name:
        raise ArgumentError('fields = (..., "tabulated", ...) needs a table: set '
                            "fields.tabulated_file (a file in inputs/ or an absolute path)")
    path = Path(name).expanduser()
    if path.is_absolute():
        if not path.is_file():
            raise DataFileError(f"fields.tabulated_file = '{name}' does not exist")
        return path
    return input_path(name)


def load(name: str) -> TabulatedField:
    """Read and check a tabulated field (format in the module docstring)."""
    path = resolve(name)
    data = read_numeric_table(path, "fields.tabulated_file")
    if data.shape[0] < 3 or data.shape[1] < 2:
        raise DataFileError(f"tabulated field '{path}': expected a row of redshifts and at "
                            "least two rows of energy and densities")
    z = data[0, 1:]
    eps = data[1:, 0]
    dn = data[1:, 1:]
    if np.any(np.diff(eps) <= 0) or eps[0] <= 0:
        raise DataFileError(f"tabulated field '{path}': energies must be positive and ascending")
    if z.size > 1 and np.any(np.diff(z) <= 0):
        raise DataFileError(f"tabulated field '{path}': redshifts must be ascending")
    if np.any(dn < 0) or not np.all(np.isfinite(dn)):
        raise DataFileError(f"tabulated field '{path}': densities must be finite and >= 0")
    return TabulatedField(path, eps, z, dn)


def write(path, eps_eV, z, dn_deps, header: str):
    """Write a table in the format above (header lines are prefixed with '# ')."""
    eps = np.asarray(eps_eV, dtype=float)
    z = np.atleast_1d(np.asarray(z, dtype=float))
    dn = np.asarray(dn_deps, dtype=float).reshape(eps.size, z.size)
    rows = [np.concatenate([[0.0], z])] + [np.concatenate([[e], d]) for e, d in zip(eps, dn)]
    body = "\n".join(" ".join(f"{v:.6e}" for v in row) for row in rows)
    text = "\n".join("# " + line for line in header.strip().splitlines()) + "\n" + body + "\n"
    Path(path).write_text(text)


EXAMPLE_FILE = "fields/local_dust_isotropic.txt"


def write_local_dust_example(path=None, config=None):
    """Write the shipped example table: the dust photon density at the Sun summed over all
    directions (default dust model), a field at z = 0 only. Regenerate with
    ``python -m montecarlo.fields.tabulated``."""


    cfg = load_config(config)
    model = DustModel.from_config(cfg)
    eps = np.geomspace(1.25e-4, 1.0, 94)
    dn = angle_integrated_density(model, eps, model.r_sun_kpc, 0.0, n_mu=128, n_phi=96,
                                  n_steps=2000)
    header = f"""Example isotropic photon field for fields.tabulated_file (format: inputs/fields/README.md).
Galactic dust infrared photons at the Sun (R = {model.r_sun_kpc:g} kpc, z = 0) summed over all
directions: dn/d eps [cm^-3 eV^-1] versus eps [eV], one redshift column (z = 0).
Source: computed by corona {code_version()} from its default dust model ([T] App. A:
Misiriotis et al. 2006 densities, Draine 2003 kappa, temperatures as in docs/opacity.md)
by direct line-of-sight integration (montecarlo.fields.dust.angle_integrated_density).
Regenerate: python -m montecarlo.fields.tabulated
First row: placeholder, then the redshifts; next rows: eps [eV], dn/d eps [cm^-3 eV^-1]."""
    out = inputs_dir() / EXAMPLE_FILE if path is None else Path(path)
    write(out, eps, [0.0], dn, header)
    return out


if __name__ == "__main__":
    print(write_local_dust_example())
