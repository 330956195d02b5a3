"""Per-series values spread over a scan's rows: by runs or by gathering, the same."""

from __future__ import annotations

import numpy as np
import pytest

from tsql.executor.operators.scan import _series_values


@pytest.mark.parametrize("sid", [
    np.repeat(np.array([3, 1, 2, 1], dtype=np.int32), [50, 20, 1, 30]),  # long runs, a series twice
    np.array([0, 1, 0, 1, 2, 2], dtype=np.int32),  # short runs
    np.array([2], dtype=np.int32),
    np.array([], dtype=np.int32),
])
def test_runs_and_gathers_agree(sid):
    table = np.array([10, 11, 12, 13], dtype=np.int32)
    got = _series_values(sid)(table)
    assert got.dtype == table.dtype
    assert got.tolist() == table[sid].tolist()
