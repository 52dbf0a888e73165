"""Target photon fields for pair production (docs/physics.md, section 4).

- ``cmb``: the cosmic microwave background (isotropic, uniform, scales with redshift).
- ``ebl``: extragalactic background light from the ebltable models (isotropic, redshift).
- ``dust``: Galactic dust infrared emission (anisotropic, position dependent).
- ``tabulated``: an isotropic field from a user table (fields.tabulated_file).

A calculation names the fields it includes with a ``fields=`` tuple; ``fields=()`` means no
attenuation, and leaving a name out switches that field off.
"""
#: Fields described by a density independent of direction and position (redshift only).
ISOTROPIC_FIELDS = ("cmb", "ebl", "tabulated")
#: Every field name.
FIELD_NAMES = ("cmb", "ebl", "dust", "tabulated")
