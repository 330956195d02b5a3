"""The function library: every family module registers into REGISTRY on import."""

from __future__ import annotations

from . import (  # noqa: F401  (registration)
    aggregates, array, bitwise, datetime_format, map, math, operators, regex, sketches, string, time, timeseries,
)
from .cast import cast
from .registry import REGISTRY

__all__ = ["REGISTRY", "cast"]
