"""Configuration key types: what a schema entry allows (type, range, choices) and the check
that turns a raw TOML value into a validated one, or one :class:`ConfigError` naming the key,
the value and the allowed range. The schema itself is in :mod:`transport.core.schema`."""
from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import Any

from transport.core.errors import ConfigError

AUTO = "auto"


# --------------------------------------------------------------------------- key specs
@dataclass(frozen=True)
class Key:
    """Specification of one configuration key.

    kind: "real", "int", "bool", "choice", "text", "reals" (list of reals), "choices" (a
    non-empty list of distinct names, each one of ``choices``).
    lo/hi: bounds for numbers (and list items); lo_open/hi_open make them strict.
    auto: the value may also be the string ``auto_word`` ("auto" unless the key names another
    word): resolved by the schema's resolver, or kept and read by the code as "not set".
    """
    kind: str
    doc: str
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False
    choices: tuple[str, ...] = ()
    auto: bool = False
    auto_word: str = AUTO

    def allowed(self) -> str:
        """Human-readable statement of the allowed values."""
        if self.kind == "choice":
            text = "one of " + ", ".join(f'"{c}"' for c in self.choices)
        elif self.kind == "choices":
            text = "a non-empty list of distinct names from " + ", ".join(f'"{c}"' for c in self.choices)
        elif self.kind == "bool":
            text = "true or false"
        elif self.kind == "text":
            text = "a string"
        else:
            noun = {"real": "a number", "int": "an integer",
                    "reals": "a list of numbers"}[self.kind]
            text = noun + self._range_text()
        if self.auto:
            text += f' or "{self.auto_word}"'
        return text

    def _range_text(self) -> str:
        parts = []
        if self.lo is not None:
            parts.append(f"{'>' if self.lo_open else '>='} {self.lo:g}")
        if self.hi is not None:
            parts.append(f"{'<' if self.hi_open else '<='} {self.hi:g}")
        return (" " + " and ".join(parts)) if parts else ""


def Real(doc, lo=None, hi=None, lo_open=False, hi_open=False, auto=False, auto_word=AUTO) -> Key:
    return Key("real", doc, lo, hi, lo_open, hi_open, auto=auto, auto_word=auto_word)


def Int(doc, lo=None, hi=None) -> Key:
    return Key("int", doc, lo, hi)


def Choice(doc, *choices) -> Key:
    return Key("choice", doc, choices=tuple(choices))


def Choices(doc, *choices) -> Key:
    return Key("choices", doc, choices=tuple(choices))


def Flag(doc) -> Key:
    return Key("bool", doc)


def Text(doc) -> Key:
    return Key("text", doc)


def Reals(doc, lo=None, hi=None, lo_open=False, hi_open=False) -> Key:
    return Key("reals", doc, lo, hi, lo_open, hi_open)


def check_value(name: str, spec: Key, value: Any) -> Any:
    """Return ``value`` converted to the key's type, or raise ConfigError naming the key."""
    def fail(reason=""):
        raise ConfigError(f"{name} = {value!r} is not allowed{reason}: expected {spec.allowed()}")

    if spec.auto and value == spec.auto_word:
        return value
    if spec.kind == "bool":
        if not isinstance(value, bool):
            fail()
        return value
    if spec.kind in ("text", "choice"):
        if not isinstance(value, str):
            fail()
        if spec.kind == "choice" and value not in spec.choices:
            close = difflib.get_close_matches(value, spec.choices, n=1)
            fail(f" (did you mean \"{close[0]}\"?)" if close else "")
        return value
    if spec.kind == "choices":
        if not isinstance(value, (list, tuple)) or not value or len(set(map(repr, value))) != len(value):
            fail()
        for item in value:
            if not isinstance(item, str) or item not in spec.choices:
                close = difflib.get_close_matches(item, spec.choices, n=1) if isinstance(item, str) else []
                fail(f" ({item!r} is not one of them" + (f'; did you mean "{close[0]}"?)' if close else ")"))
        return list(value)
    if spec.kind == "reals":
        if not isinstance(value, (list, tuple)):
            fail()
        return [_check_number(name, spec, v, value, integer=False) for v in value]
    return _check_number(name, spec, value, value, integer=spec.kind == "int")


def _check_number(name, spec, v, shown, integer):
    bad = isinstance(v, bool) or not isinstance(v, (int, float))
    if not bad and integer and not isinstance(v, int):
        bad = not (isinstance(v, float) and math.isfinite(v) and v.is_integer())
    if not bad:
        try:
            bad = not math.isfinite(v)          # ints beyond float range overflow here
        except OverflowError:
            bad = True
    if bad:
        raise ConfigError(f"{name} = {shown!r} is not allowed: expected {spec.allowed()}")
    v = int(v) if integer else float(v)
    lo_bad = spec.lo is not None and (v <= spec.lo if spec.lo_open else v < spec.lo)
    hi_bad = spec.hi is not None and (v >= spec.hi if spec.hi_open else v > spec.hi)
    if lo_bad or hi_bad:
        raise ConfigError(f"{name} = {shown!r} is out of range: expected {spec.allowed()}")
    return v
