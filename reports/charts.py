"""Chart specs for static/js/charts.js (Apache ECharts, vendored under static/vendor/echarts/).

A view builds a `Chart`; the template places `spec` with json_script (the CSP allows no inline
script) and prints `table` beside it, so every figure a chart draws is also in a table: for a
screen reader, on paper and without JavaScript.
"""

from dataclasses import dataclass
from decimal import Decimal


def _number(value):
    if value is None:
        return None
    return float(value) if isinstance(value, Decimal) else value


@dataclass
class Chart:
    id: str
    title: str
    categories: list[str]
    series: list[tuple[str, list]]  # (name, one value per category)
    kind: str = "line"
    unit: str = ""

    @property
    def spec(self) -> dict:
        return {
            "type": self.kind,
            "categories": self.categories,
            "series": [{"name": name, "data": [_number(v) for v in data]} for name, data in self.series],
            "unit": self.unit,
            "integer": self.unit in ("次", "户", "件"),
        }

    @property
    def head(self) -> list[str]:
        return [name for name, _data in self.series]

    @property
    def table(self) -> list[tuple[str, list]]:
        """One row per category (a month): narrow enough for a phone, whatever the number of months."""
        return [
            (category, [data[i] for _name, data in self.series]) for i, category in enumerate(self.categories)
        ]
