"""A slow, literal RFC 6962 §2.1 Merkle tree, used only by tests to cross-check the fast code.

Each method is the RFC's recursive definition read word for word (MTH §2.1, PATH §2.1.1,
PROOF and SUBPROOF §2.1.2), over ranges ``D[lo:hi]`` of one fixed list of entries so that a
memo of MTH can make checking thousands of proofs affordable. It hashes with ``hashlib``
directly, independently of :mod:`battrace.ledger.hasher`. Never use it in production code.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

__all__ = ["ReferenceTree"]


def _largest_power_of_two_below(n: int) -> int:
    # "k is the largest power of two smaller than n (i.e., k < n <= 2k)"
    k = 1
    while k * 2 < n:
        k *= 2
    return k


class ReferenceTree:
    """The RFC 6962 Merkle tree over ``entries`` (raw entries, not leaf hashes)."""

    def __init__(self, entries: Sequence[bytes]) -> None:
        self._entries = tuple(entries)
        self._memo: dict[tuple[int, int], bytes] = {}

    def mth(self, lo: int, hi: int) -> bytes:
        """MTH(D[lo:hi]) exactly as RFC 6962 §2.1 defines it."""
        key = (lo, hi)
        if key in self._memo:
            return self._memo[key]
        n = hi - lo
        if n == 0:
            result = hashlib.sha256(b"").digest()
        elif n == 1:
            result = hashlib.sha256(b"\x00" + self._entries[lo]).digest()
        else:
            k = _largest_power_of_two_below(n)
            result = hashlib.sha256(b"\x01" + self.mth(lo, lo + k) + self.mth(lo + k, hi)).digest()
        self._memo[key] = result
        return result

    def root(self, size: int) -> bytes:
        """The root hash of the first ``size`` entries."""
        return self.mth(0, size)

    def path(self, m: int, lo: int, hi: int) -> list[bytes]:
        """PATH(m, D[lo:hi]) of RFC 6962 §2.1.1: the audit path of the m-th leaf of the range."""
        n = hi - lo
        if n == 1 and m == 0:
            return []
        k = _largest_power_of_two_below(n)
        if m < k:
            return [*self.path(m, lo, lo + k), self.mth(lo + k, hi)]
        return [*self.path(m - k, lo + k, hi), self.mth(lo, lo + k)]

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """PATH(index, D[0:size])."""
        return self.path(index, 0, size)

    def subproof(self, m: int, lo: int, hi: int, b: bool) -> list[bytes]:
        """SUBPROOF(m, D[lo:hi], b) of RFC 6962 §2.1.2."""
        n = hi - lo
        if m == n:
            return [] if b else [self.mth(lo, hi)]
        k = _largest_power_of_two_below(n)
        if m <= k:
            return [*self.subproof(m, lo, lo + k, b), self.mth(lo + k, hi)]
        return [*self.subproof(m - k, lo + k, hi, False), self.mth(lo, lo + k)]

    def consistency_proof(self, m: int, n: int) -> list[bytes]:
        """PROOF(m, D[0:n]) = SUBPROOF(m, D[0:n], true), for ``0 < m <= n``."""
        return self.subproof(m, 0, n, True)
