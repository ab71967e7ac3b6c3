"""Time the household list filtered by 「有底线预警」 at province scale (server side, test client).

generate_province makes households without members, so this script first adds
three synthetic members to every household in one INSERT ... SELECT (bench data
only: their ID numbers are not valid IDs), with some children out of school, some
seriously ill without 新农合, and incomes from the generator. Run through
bench/floors.sh, which starts a throwaway PostgreSQL cluster.
"""

import sys

import _pages  # first: sets Django up
from django.db import connection

MEMBERS_SQL = """
INSERT INTO households_member
  (household_id, name, id_number, relation, sex, birth_date, ethnicity, education, schooling, health,
   disability, labour, has_medical_insurance, has_pension_insurance, version)
SELECT h.id, '成员', lpad((h.id * 3 + k)::text, 17, '0') || 'B',
       CASE WHEN k = 0 THEN '户主' ELSE '之子' END, 'M',
       CASE WHEN k = 0 THEN date '1975-05-04' - (h.id % 3000)::int
            ELSE date '2012-01-01' + ((h.id * 7 + k * 311) % 3650)::int END,
       '汉族', '', CASE WHEN k > 0 AND (h.id + k) % 13 = 0 THEN '非在校生' ELSE '小学' END,
       CASE WHEN (h.id + k) % 17 = 0 THEN '患有大病' ELSE '健康' END, '', '', h.id % 29 <> 0, false, 0
FROM households_household h CROSS JOIN generate_series(0, 2) AS k
"""


def main(scale: float):
    _pages.prepare_database()
    from households.models import Household, Member

    _pages.generate_province_if_empty(scale)
    if not Member.objects.exists():
        with _pages.timed("added members"), connection.cursor() as cursor:
            cursor.execute(MEMBERS_SQL)
    _pages.analyze()

    users = _pages.bench_users(_pages.pick_scopes())
    print(
        f"\n{connection.vendor}, scale {scale}: {Household.objects.count():,} households, "
        f"{Member.objects.count():,} members"
    )
    print(_pages.table_heading("page", 40) + f"{'rows':>9}")
    for role in ("province", "county", "township"):
        for label, url in (
            (f"{role} household list", "/households/"),
            (f"{role} list, 有底线预警", "/households/?floor_alert=on"),
        ):
            page = _pages.time_page(users[role], url)
            rows = page.response.context["page"].paginator.count
            print(page.row(label, 40) + f"{rows:>9,}")
            _pages.page_figure(_pages.slug(label.replace("有底线预警", "floor alert")), page)
            if "floor_alert" in url and _pages.explain_wanted():
                print(_pages.heaviest_heading(page.heaviest_query))
                _pages.print_plan(page.heaviest_query["sql"], first_lines=10)


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0)
