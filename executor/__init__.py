"""The executor: runs logical plans over columnar batches with numpy kernels.

It never parses SQL; it reads storage only through table snapshots.
"""

from __future__ import annotations

from .column import Batch
from .context import ExecContext
from .functions import REGISTRY
from .run import execute

__all__ = ["Batch", "ExecContext", "REGISTRY", "execute"]
