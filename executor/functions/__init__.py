"""The function library: every family module registers into REGISTRY on import."""

from __future__ import annotations

from . import aggregates, array, bitwise, map, math, operators, regex, sketches, string, time, timeseries  # noqa: F401  (registration)
from .cast import cast
from .registry import REGISTRY

__all__ = ["REGISTRY", "cast"]
