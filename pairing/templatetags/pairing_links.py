"""Which cadres a list of pairings may link to.

A household's history names every cadre who helped it, but a cadre who has left, or whose unit
lies outside the viewer's scope, answers 404 to that viewer: such a cadre is shown by name only.
"""

from django import template

from pairing import selectors

register = template.Library()


@register.simple_tag
def openable_cadres(pairings, user) -> set[int]:
    """The ids of these pairings' cadres that `user` may open (one query)."""
    return selectors.openable_cadre_ids(user, {pairing.cadre_id for pairing in pairings})
