"""What apps above households do when a household moves to another village (its county may change).

The pairing app keeps its cadres' loads per household county (pairing/tallies.py), and households
sits below it in the layers and must not import it. So every writer that changes a household's
village calls moved() in its own transaction, and the pairing app registers its recount in its
AppConfig.ready() (the pattern of visits/entry.py).
"""

from typing import Callable, Iterable

ON_MOVE: list[Callable[[list[int]], None]] = []


def register(callback: Callable[[list[int]], None]) -> None:
    if callback not in ON_MOVE:
        ON_MOVE.append(callback)


def moved(household_ids: Iterable[int]) -> None:
    """Households whose village was just changed, in the transaction that changed it."""
    household_ids = list(household_ids)
    if household_ids:
        for callback in ON_MOVE:
            callback(household_ids)
