"""Shared numpy helpers: gathering row ranges, looking values up in sorted keys."""

from __future__ import annotations

import numpy as np
import pytest

from tsql.arrays import RangeGather, ranges_to_index, sorted_lookup


@pytest.mark.parametrize("starts, ends", [
    ([0, 300, 600], [300, 600, 1000]),  # ranges that join up: one slice, no copy
    ([0, 400], [300, 1000]),  # long ranges with a gap: slices
    ([5, 9, 20, 21], [7, 12, 21, 30]),  # short ranges: an index, two of them joined
    ([10], [10]),  # nothing
])
def test_gather_equals_the_index_of_the_ranges(starts, ends):
    values = np.arange(1000) * 3
    gather = RangeGather(np.array(starts), np.array(ends))
    expected = values[ranges_to_index(np.array(starts), np.array(ends))]
    assert gather.total == len(expected)
    assert gather(values).tolist() == expected.tolist()


def test_joined_ranges_are_one():
    gather = RangeGather(np.array([0, 300, 600]), np.array([300, 600, 1000]))
    assert gather.starts.tolist() == [0] and gather.ends.tolist() == [1000]
    values = np.arange(1000)
    assert np.shares_memory(gather(values), values)  # a view: the scan copies nothing


def test_sorted_lookup_finds_present_values_and_clamps_absent_ones():
    keys = np.array([2, 5, 9])
    pos, found = sorted_lookup(keys, np.array([5, 1, 9, 10, 2, 6]))
    assert pos.tolist() == [1, 0, 2, 2, 0, 2]
    assert found.tolist() == [True, False, True, False, True, False]
    pos, found = sorted_lookup(np.array([], dtype=np.int64), np.array([3, 4]))
    assert pos.tolist() == [0, 0] and found.tolist() == [False, False]
