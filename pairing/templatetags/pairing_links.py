"""Which cadres a list of pairings may link to.

A household's history names every cadre who helped it, but a cadre who has left, or whose unit
lies outside the viewer's scope, answers 404 to that viewer: such a cadre is shown by name only.
"""

from django import template

from pairing.models import Cadre

register = template.Library()


@register.simple_tag
def openable_cadres(pairings, user) -> set[int]:
    """The ids of these pairings' cadres that `user` may open (one query)."""
    ids = {pairing.cadre_id for pairing in pairings}
    return set(Cadre.objects.visible_to(user).filter(pk__in=ids).values_list("pk", flat=True))
