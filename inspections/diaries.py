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
import unicodedata
from functools import lru_cache

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


def normalize(text: str) -> str:
    """Letters and digits only (full-width forms folded): punctuation and spacing do not disguise a copy."""
    text = unicodedata.normalize("NFKC", text or "")
    return "".join(ch for ch in text if ch.isalnum())


def shingles(text: str) -> set[str]:
    text = normalize(text)
    if len(text) < SHINGLE:
        return {text} if text else set()
    return {text[i : i + SHINGLE] for i in range(len(text) - SHINGLE + 1)}


def jaccard(a: set, b: set) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


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
    permutations, scheme, ranges = _layout()
    sketch = MinHash(num_perm=NUM_PERM, seed=SEED, permutations=permutations, scheme=scheme)
    sketch.update_batch([s.encode("utf-8") for s in shingles(text)])
    values = sketch.hashvalues
    keys = []
    for index, (start, end) in enumerate(ranges):
        digest = hashlib.blake2b(values[start:end].tobytes(), digest_size=8, person=bytes([index]) * 8)
        keys.append(int.from_bytes(digest.digest(), "big", signed=True))
    return keys
