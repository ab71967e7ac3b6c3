"""Copied diaries (雷同日记): MinHash LSH over character shingles, candidates verified by Jaccard.

Chinese text has no spaces, so a diary is cut into overlapping character n-grams after dropping
whitespace and punctuation. datasketch computes each diary's MinHash; its MinHashLSH chooses the
banding (b bands of r rows) for the threshold, and each band is stored as one 64-bit number in
DiaryBand. Two diaries sharing a band are candidates; a candidate counts only when the Jaccard
similarity of the two shingle sets reaches the threshold. Nothing compares all pairs, and no pair
needs to match exactly.

Short diaries (「电话联系，了解近况」) are boilerplate every cadre writes: they are not fingerprinted.
The band keys depend on the threshold (it sets the banding): after changing
SHUANGLIAN_INSPECTION_COPY_PERCENT, empty the DiaryBand table and run flag_records once in full.
"""

import hashlib
import re
import unicodedata
from functools import lru_cache

import numpy as np
from datasketch import MinHash, MinHashLSH
from django.conf import settings

SHINGLE = 3
NUM_PERM = 64
SEED = 20161
# A band shared by more diaries than this is a template pasted very widely: its candidates are the
# earliest few (enough to flag every copy against an original), not all of them.
HOT_BAND = 200
HOT_BAND_SAMPLE = 5


def threshold() -> float:
    return settings.INSPECTION_COPY_THRESHOLD


def min_chars() -> int:
    return settings.INSPECTION_COPY_MIN_CHARS


_NOT_ALNUM = re.compile(r"[\W_]+")


def normalize(text: str) -> str:
    """Letters and digits only (full-width forms folded): punctuation and spacing do not disguise a copy."""
    # [\W_] is exactly "not str.isalnum()": re's word class is isalnum() or the underscore.
    return _NOT_ALNUM.sub("", unicodedata.normalize("NFKC", text or ""))


def shingles(text: str) -> set[str]:
    return _grams(normalize(text))


def _grams(text: str) -> set[str]:
    """The shingles of a normalized text."""
    if len(text) < SHINGLE:
        return {text} if text else set()
    return {text[i : i + SHINGLE] for i in range(len(text) - SHINGLE + 1)}


def jaccard(a: set, b: set) -> float:
    if not a or not b:
        return 0.0
    both = len(a & b)
    return both / (len(a) + len(b) - both)  # the union's size, without building it


@lru_cache(maxsize=1)
def _layout():
    """(permutations, scheme, band ranges) shared by every MinHash: computing them per diary would
    cost more than the hashing."""
    lsh = MinHashLSH(threshold=threshold(), num_perm=NUM_PERM)
    base = MinHash(num_perm=NUM_PERM, seed=SEED)
    return base.permutations, base.scheme, lsh.hashranges


def fingerprintable(text: str) -> bool:
    return len(normalize(text)) >= min_chars()


def bands(text: str) -> list[int]:
    """The LSH band keys of a diary, as signed 64-bit numbers (a BigIntegerField holds them)."""
    return Signer().bands([text])[0]


def _band_keys(values: np.ndarray) -> list[int]:
    """One key per band of a signature: its hash values' bytes, BLAKE2b'd per band index."""
    raw, keys = values.tobytes(), []
    for start, end, base in _band_hashers():
        digest = base.copy()
        digest.update(raw[start:end])
        keys.append(int.from_bytes(digest.digest(), "big", signed=True))
    return keys


@lru_cache(maxsize=1)
def _band_hashers():
    """(first byte, end byte, BLAKE2b personalised with the band's index) for each band."""
    size = np.dtype(_one(b"", *_layout()[:2]).dtype).itemsize
    return [
        (start * size, end * size, hashlib.blake2b(digest_size=8, person=bytes([index]) * 8))
        for index, (start, end) in enumerate(_layout()[2])
    ]


class Signer:
    """Band keys for many diaries at a time, equal to datasketch's MinHash of each (a test holds them
    to it) at a fraction of the cost.

    A MinHash is the column-wise minimum of its shingles' permuted hashes, and the same 3-grams recur
    in diary after diary: each shingle's 64 hashes are computed once by datasketch itself (a MinHash of
    that one shingle) and kept in a matrix, and a diary's signature is the minimum over its rows. A
    first run signs millions of diaries; one MinHash per diary cost about 115 µs, this about 30.
    The matrix holds at most VOCABULARY shingles (64 MB) and starts again when full.
    """

    VOCABULARY = 250_000

    def __init__(self):
        permutations, scheme, _ranges = _layout()
        self._single = lambda shingle: _one(shingle, permutations, scheme)
        self._rows: dict[str, int] = {}
        self._matrix = np.empty((1024, NUM_PERM), dtype=_one(b"", permutations, scheme).dtype)

    def _row(self, shingle: str) -> int:
        row = self._rows.get(shingle)
        if row is None:
            row = len(self._rows)
            if row >= len(self._matrix):
                size = max(row + 1, min(2 * len(self._matrix), self.VOCABULARY))
                grown = np.empty((size, NUM_PERM), self._matrix.dtype)
                grown[:row] = self._matrix[:row]
                self._matrix = grown
            self._matrix[row] = self._single(shingle.encode("utf-8"))
            self._rows[shingle] = row
        return row

    def bands(self, texts: list[str]) -> list[list[int]]:
        """The band keys of each text (a text without shingles gets none)."""
        return [self._sign(normalize(text)) for text in texts]

    def fingerprint(self, text: str) -> list[int]:
        """The band keys of a diary long enough to be compared (fingerprintable), else none."""
        text = normalize(text)
        return self._sign(text) if len(text) >= min_chars() else []

    def _sign(self, text: str) -> list[int]:
        grams = _grams(text)
        known = self._rows.get
        found = [known(shingle) for shingle in grams]
        if None in found:
            if len(self._rows) + len(grams) > self.VOCABULARY:
                self._rows.clear()  # before this diary: its own rows must all stay
            found = [self._row(shingle) for shingle in grams]
        return _band_keys(self._matrix[found].min(axis=0)) if found else []


def _one(shingle: bytes, permutations, scheme) -> np.ndarray:
    sketch = MinHash(num_perm=NUM_PERM, seed=SEED, permutations=permutations, scheme=scheme)
    if shingle:
        sketch.update(shingle)
    return sketch.hashvalues
