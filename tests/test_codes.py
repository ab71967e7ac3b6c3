"""Region-code prefixes as ranges (shuanglian/lib/codes.py)."""

import pytest

from households.models import Household
from shuanglian.lib.codes import prefix_bounds
from tests import factories as f


@pytest.mark.parametrize(
    "prefix, bounds",
    [
        ("620102001", ("620102001", "620102002")),
        ("620102009", ("620102009", "620102010")),  # carries, keeps the width
        ("6299", ("6299", "6300")),
        ("99", ("99", None)),  # nothing above: no upper bound
    ],
)
def test_a_prefix_is_a_half_open_range_of_codes(prefix, bounds):
    assert prefix_bounds(prefix) == bounds


def test_household_scope_keeps_the_townships_at_both_ends_of_its_range(world):
    # A village whose code is the township's prefix plus 999, and one of the next township: the range
    # beside the LIKE must keep the first and leave the second.
    township = world.users.town_a.region.code[:9]
    last = f.region(township + "999", "最后一个村", "village")
    neighbour = f.region(str(int(township) + 1) + "001", "邻乡的村", "village")
    inside = f.household(village=last)
    outside = f.household(village=neighbour)
    seen = set(Household.objects.visible_to(world.users.town_a).values_list("pk", flat=True))
    assert inside.pk in seen and outside.pk not in seen
