"""The block cache of decoded magnetic columns: LRU within a byte budget, dropped per file."""

from __future__ import annotations

from tsql.storage import cache
from tsql.storage.cache import MIN_CACHE_BYTES, BlockCache, default_cache_bytes


def test_least_recently_used_entries_go_first():
    c = BlockCache(300)
    c.put(("a", 0, "x"), "ax", 100)
    c.put(("a", 1, "x"), "a1", 100)
    c.put(("b", 0, "x"), "bx", 100)
    assert c.get(("a", 0, "x")) == "ax"  # now the most recent
    c.put(("b", 1, "x"), "b1", 100)
    assert c.get(("a", 1, "x")) is None  # the least recent went
    assert [c.get(k) for k in [("a", 0, "x"), ("b", 0, "x"), ("b", 1, "x")]] == ["ax", "bx", "b1"]
    assert c.size == 300


def test_an_entry_over_the_budget_is_not_kept_and_forget_drops_a_file():
    c = BlockCache(300)
    c.put(("a", 0, "x"), "big", 301)
    assert c.get(("a", 0, "x")) is None and c.size == 0
    c.put(("a", 0, "x"), "ax", 100)
    c.put(("b", 0, "x"), "bx", 100)
    c.forget("a")
    assert c.get(("a", 0, "x")) is None and c.get(("b", 0, "x")) == "bx" and c.size == 100


def test_default_size_is_a_quarter_of_ram_with_a_floor(monkeypatch):
    pages = {"SC_PAGE_SIZE": 4096, "SC_PHYS_PAGES": (64 << 30) // 4096}
    monkeypatch.setattr(cache.os, "sysconf", lambda name: pages[name], raising=False)
    assert default_cache_bytes() == 16 << 30
    pages["SC_PHYS_PAGES"] = (512 << 20) // 4096
    assert default_cache_bytes() == MIN_CACHE_BYTES

    def no_sysconf(name):
        raise ValueError(name)
    monkeypatch.setattr(cache.os, "sysconf", no_sysconf, raising=False)
    assert default_cache_bytes() == MIN_CACHE_BYTES
