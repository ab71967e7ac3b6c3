"""Adding to a tally row in one statement, whether or not the row exists yet (an upsert).

    INSERT INTO tally (key..., figures...) VALUES (...)
    ON CONFLICT (key...) DO UPDATE SET n = tally.n + EXCLUDED.n, last = GREATEST(tally.last, EXCLUDED.last)

PostgreSQL and SQLite (3.24 and later) both speak it. Django's bulk_create(update_conflicts=True)
can only overwrite a column, not add to it, hence this small piece of SQL. One statement serves
the first visit of a year or month as any other (no UPDATE, INSERT, UPDATE again), and it is
race-safe: two transactions adding to one row both count, the second waiting on the first's lock.
"""

from django.db import connection
from django.db.models.fields import AutoFieldMixin


class Sql:
    """A figure computed in the statement itself (a subquery): `sql` with its `params`."""

    def __init__(self, sql: str, params=()):
        self.sql, self.params = sql, list(params)


def _greatest(a: str, b: str) -> str:
    # PostgreSQL's GREATEST ignores a NULL; SQLite's two-argument MAX() is its GREATEST.
    return f"GREATEST({a}, {b})" if connection.vendor == "postgresql" else f"MAX({a}, {b})"


def add_to(model, key: dict, *, add: dict, latest: dict | None = None) -> None:
    """Adds `add` ({column attname: amount or Sql}) to the row of `model` named by `key` ({attname:
    value}, the columns of a unique constraint or the primary key), and moves each date of `latest`
    forward to it. A missing row is inserted with these amounts (other columns at their defaults)."""
    latest = latest or {}
    given = {**key, **{name: value for name, value in add.items() if not isinstance(value, Sql)}, **latest}
    row = model(**given)
    quote = connection.ops.quote_name
    columns, values, params = [], [], []
    for field in model._meta.concrete_fields:
        if isinstance(field, AutoFieldMixin):
            continue
        columns.append(quote(field.column))
        amount = add.get(field.attname)
        if isinstance(amount, Sql):
            values.append(f"({amount.sql})")
            params += amount.params
        else:
            values.append("%s")
            params.append(field.get_db_prep_save(getattr(row, field.attname), connection))
    table = quote(model._meta.db_table)
    column = {name: quote(model._meta.get_field(name).column) for name in (*key, *add, *latest)}
    changes = [f"{column[name]} = {table}.{column[name]} + EXCLUDED.{column[name]}" for name in add]
    changes += [
        f"{column[name]} = {_greatest(f'{table}.{column[name]}', f'EXCLUDED.{column[name]}')}"
        for name in latest
    ]
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(values)}) "
        f"ON CONFLICT ({', '.join(column[name] for name in key)}) DO UPDATE SET {', '.join(changes)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
