"""The household list's export link, registered with households.sections (households may not
import imports): the list as filtered, as a roster that imports back unchanged."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from households.sections import Link
from shuanglian.access import may_export_roster

EXPORT = Link(
    order=10,
    label=_("导出 Excel（可再导入）"),
    url=lambda query: reverse("imports:export_households") + (f"?{query}" if query else ""),
    shown=lambda user, query: may_export_roster(user),
)
