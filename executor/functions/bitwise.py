"""Bitwise functions on bigint (two's complement): bit_count, bitwise_and, bitwise_or,
bitwise_xor, bitwise_not. The aggregates bitwise_and_agg/bitwise_or_agg are in
aggregates.py."""

from __future__ import annotations

import numpy as np

from .registry import REGISTRY, fail


def popcount(x: np.ndarray) -> np.ndarray:
    """Set bits of each int64 (as unsigned), without a loop over rows."""
    u = x.astype(np.int64).view(np.uint64)
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(u).astype(np.int64)
    u = u - ((u >> np.uint64(1)) & np.uint64(0x5555555555555555))
    u = (u & np.uint64(0x3333333333333333)) + ((u >> np.uint64(2)) & np.uint64(0x3333333333333333))
    u = (u + (u >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return ((u * np.uint64(0x0101010101010101)) >> np.uint64(56)).astype(np.int64)


@REGISTRY.elementwise("bit_count(bigint, bigint) -> bigint", nulls=True)
def bit_count(x, bits, nulls=None):
    n = max(len(x), len(bits))
    x, bits = np.broadcast_to(x, (n,)), np.broadcast_to(bits, (n,))
    live = ~np.broadcast_to(nulls, (n,)) if nulls is not None else np.ones(n, dtype=bool)
    bad_bits = live & ((bits < 2) | (bits > 64))
    if bad_bits.any():
        fail(f"Bits specified in bit_count must be between 2 and 64, got {bits[np.flatnonzero(bad_bits)[0]]}")
    small = np.clip(bits, 2, 64) < 64
    shift = np.clip(bits, 2, 63) - 1
    low, high = -(np.int64(1) << shift), (np.int64(1) << shift) - 1
    unrepresentable = live & small & ((x < low) | (x > high))
    if unrepresentable.any():
        i = np.flatnonzero(unrepresentable)[0]
        fail(f"Number must be representable with the bits specified. {x[i]} can not be represented with {bits[i]} bits")
    mask = np.where(small, (np.int64(1) << np.clip(bits, 2, 63)) - 1, np.int64(-1))
    return popcount(x & mask)


@REGISTRY.elementwise("bitwise_and(bigint, bigint) -> bigint")
def bitwise_and(a, b):
    return np.bitwise_and(a, b)


@REGISTRY.elementwise("bitwise_or(bigint, bigint) -> bigint")
def bitwise_or(a, b):
    return np.bitwise_or(a, b)


@REGISTRY.elementwise("bitwise_xor(bigint, bigint) -> bigint")
def bitwise_xor(a, b):
    return np.bitwise_xor(a, b)


@REGISTRY.elementwise("bitwise_not(bigint) -> bigint")
def bitwise_not(a):
    return np.invert(a)
