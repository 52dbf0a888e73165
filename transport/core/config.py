"""Configuration: TOML files layered over the bundled default, validated against a schema.

Precedence, lowest first: ``inputs/default.toml`` < a user TOML file or mapping <
``overrides`` (what ``--set section.key=value`` produces). Each layer overrides only the
keys it names. Every problem raises one :class:`ConfigError` naming the key, the value
and what is allowed; misspelt keys get the nearest valid name suggested.

The schema (types, ranges, meaning, units) lives in :mod:`transport.core.schema`; the default
values live in ``inputs/default.toml``.
"""
from __future__ import annotations

import difflib
import hashlib
import json
import os
import sys
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from transport.core.errors import ConfigError

from transport.core.keys import check_value
from transport.core.safety import read_text
from transport.core.schema import SCHEMA, resolve_and_check
from transport.core.data import input_path

# --------------------------------------------------------------------------- config object
class Section(Mapping):
    """Read-only view of one config section; keys are also attributes (``cfg.source.alpha``)."""

    def __init__(self, name: str, values: dict):
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_values", values)

    def __getitem__(self, key):
        return self._values[key]

    def __getattr__(self, key):
        try:
            return self._values[key]
        except KeyError:
            raise AttributeError(f"config section [{self._name}] has no key '{key}'") from None

    def __setattr__(self, key, value):
        raise AttributeError("configs are read-only: use Config.with_overrides()")

    def __iter__(self):
        return iter(self._values)

    def __len__(self):
        return len(self._values)

    def __repr__(self):
        return f"Section({self._name!r}, {self._values!r})"


class Config(Mapping):
    """A validated, fully resolved configuration (read-only).

    ``cfg.source.alpha`` or ``cfg["source"]["alpha"]``. ``cfg.user`` holds only what the
    user set (so derived defaults such as ``grid.E_max_eV = "auto"`` follow later overrides).
    """

    def __init__(self, resolved: dict, user: dict):
        self._resolved = resolved
        self._sections = {name: Section(name, vals) for name, vals in resolved.items()}
        self.user = user

    def __getitem__(self, name):
        return self._sections[name]

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._sections[name]
        except KeyError:
            raise AttributeError(f"config has no section [{name}]") from None

    def __iter__(self):
        return iter(self._sections)

    def __len__(self):
        return len(self._sections)

    def __repr__(self):
        return f"Config({self.to_dict()!r})"

    def to_dict(self) -> dict:
        """Plain nested dict of the resolved values (a deep copy)."""
        return json.loads(json.dumps(self._resolved))

    def to_toml(self) -> str:
        """The resolved configuration as TOML text (loadable by :func:`load_config`)."""
        import tomli_w
        return tomli_w.dumps(self._resolved)

    def digest(self, sections: tuple[str, ...] | None = None) -> str:
        """SHA-256 of the resolved values (all sections or the named ones), for caching."""
        data = self._resolved if sections is None else {s: self._resolved[s] for s in sections}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()

    def with_overrides(self, overrides: Mapping) -> "Config":
        """A new Config with ``overrides`` (nested or dotted keys) applied on top of this one."""
        return load_config(self.user, overrides=overrides)


# --------------------------------------------------------------------------- loading
def _schema():
    return SCHEMA, resolve_and_check


def all_keys() -> list[str]:
    """Every valid ``section.key`` name."""
    schema, _ = _schema()
    return [f"{s}.{k}" for s, keys in schema.items() for k in keys]


def read_toml(path) -> dict:
    """Parse a TOML file; a missing, unreadable (permissions, symlink loop, directory), binary
    or non-UTF-8 file or a syntax error is a ConfigError naming the file."""
    path = os.fspath(path)
    try:
        exists = os.path.exists(path)
    except (OSError, ValueError):
        exists = False
    if not exists and not os.path.islink(path):
        raise ConfigError(f"config file '{path}' does not exist")
    if os.path.isdir(path):
        raise ConfigError(f"config file '{path}' is a directory, expected a TOML file")
    text = read_text(path, "config file", error=ConfigError)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file '{path}' is not valid TOML: {exc}") from None


def parse_assignment(text: str) -> tuple[str, Any]:
    """Parse ``section.key=value`` (the ``--set`` syntax). The value is read as a TOML value
    (numbers, booleans, quoted strings, lists); anything else is taken as a bare string."""
    if not isinstance(text, str) or "=" not in text:
        raise ConfigError(f"--set {text!r}: expected section.key=value, e.g. source.alpha=2.2")
    name, raw = (part.strip() for part in text.split("=", 1))
    if not name or not raw:
        raise ConfigError(f"--set {text!r}: expected section.key=value, e.g. source.alpha=2.2")
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return name, value


def default_config_path():
    return input_path("default.toml")


def _bundled_defaults() -> dict:
    """The parsed bundled default config (a fresh copy; parsed once per file version: a fit
    builds a config per parameter point)."""
    path = default_config_path()
    return json.loads(_parsed_toml(os.fspath(path), os.stat(path).st_mtime_ns))


@lru_cache(maxsize=4)
def _parsed_toml(path: str, mtime_ns: int) -> str:
    return json.dumps(read_toml(path))


def load_config(path_or_mapping=None, overrides=None) -> Config:
    """Load and validate a configuration.

    path_or_mapping: None (bundled default), a TOML file path, a mapping (nested
    ``{"source": {"alpha": 2.2}}`` or dotted ``{"source.alpha": 2.2}``), or a Config.
    overrides: a mapping or a list of ``"section.key=value"`` strings applied last.

    Returns a :class:`Config`; raises :class:`ConfigError` on any problem.
    """
    schema, resolve_and_check = _schema()
    if isinstance(path_or_mapping, Config):
        user_layers = [path_or_mapping.user]
    elif path_or_mapping is None:
        user_layers = []
    elif isinstance(path_or_mapping, Mapping):
        user_layers = [path_or_mapping]
    elif isinstance(path_or_mapping, (str, os.PathLike)):
        user_layers = [read_toml(path_or_mapping)]
    else:
        raise ConfigError(
            f"config = {path_or_mapping!r} is not allowed: expected a TOML path, a mapping or None")
    if overrides:
        if isinstance(overrides, Mapping):
            user_layers.append(overrides)
        elif isinstance(overrides, (list, tuple)):
            user_layers.append(dict(parse_assignment(item) for item in overrides))
        else:
            raise ConfigError(f"overrides = {overrides!r} is not allowed: expected a mapping "
                              "or a list of 'section.key=value' strings")

    user: dict = {}
    for layer in user_layers:
        for section, key, value in _flatten(layer, schema):
            user.setdefault(section, {})[key] = check_value(
                f"{section}.{key}", schema[section][key], value)

    defaults = _bundled_defaults()
    merged: dict = {}
    for section, keys in schema.items():
        merged[section] = {}
        for key, spec in keys.items():
            name = f"{section}.{key}"
            if key in user.get(section, {}):
                merged[section][key] = user[section][key]
            else:
                try:
                    raw = defaults[section][key]
                except KeyError:
                    raise ConfigError(f"bundled default config lacks {name}") from None
                merged[section][key] = check_value(name, spec, raw)
    resolve_and_check(merged)
    return Config(merged, user)


def _flatten(layer: Mapping, schema: dict):
    """Yield (section, key, value) from a nested or dotted mapping, rejecting unknown keys."""
    for top, value in layer.items():
        if not isinstance(top, str):
            raise ConfigError(f"config key {top!r} is not allowed: keys are strings")
        if "." in top:
            section, _, key = top.partition(".")
            _require_key(section, key, schema)
            yield section, key, value
        elif top in schema:
            if not isinstance(value, Mapping):
                raise ConfigError(
                    f"[{top}] = {value!r} is not allowed: expected a table of keys "
                    f"({', '.join(sorted(schema[top]))})")
            for key, v in value.items():
                if not isinstance(key, str):
                    raise ConfigError(f"config key {key!r} in [{top}] is not allowed: keys are strings")
                _require_key(top, key, schema)
                yield top, key, v
        else:
            _require_key(top, None, schema)


def _require_key(section: str, key: str | None, schema: dict) -> None:
    names = [f"{s}.{k}" for s, keys in schema.items() for k in keys]
    if section in schema and key in schema[section]:
        return
    if section in schema:
        given = f"{section}.{key}"
        candidates = difflib.get_close_matches(key, list(schema[section]), n=1, cutoff=0.5)
        suggestion = f"{section}.{candidates[0]}" if candidates else None
        if suggestion is None:   # maybe the key lives in another section
            same_key = [n for n in names if n.split(".", 1)[1] == key]
            suggestion = same_key[0] if same_key else None
        where = f"valid keys in [{section}]: {', '.join(schema[section])}"
    else:
        given = section if key is None else f"{section}.{key}"
        pool = list(schema) if key is None else names
        same_key = [n for n in names if n.split(".", 1)[1] == section] if key is None else []
        candidates = same_key[:1] or difflib.get_close_matches(given, pool, n=1, cutoff=0.5)
        suggestion = candidates[0] if candidates else None
        where = f"valid sections: {', '.join(schema)}"
    hint = f"; did you mean '{suggestion}'?" if suggestion else ""
    raise ConfigError(f"unknown config key '{given}'{hint} ({where})")


def describe_schema() -> str:
    """Markdown table of every key: name, default, allowed values and meaning (docs/configuration.md)."""
    schema, _ = _schema()
    defaults = read_toml(default_config_path())
    lines = []
    for section, keys in schema.items():
        lines += [f"\n### [{section}]\n", "| key | default | allowed | meaning |", "|---|---|---|---|"]
        for key, spec in keys.items():
            value = defaults.get(section, {}).get(key)
            shown = json.dumps(value) if isinstance(value, (str, list, bool)) else f"{value:g}"
            lines.append(f"| `{key}` | `{shown}` | {spec.allowed()} | {spec.doc} |")
    return "\n".join(lines) + "\n"

