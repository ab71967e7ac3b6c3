"""The history of every change (操作记录), kept by django-simple-history.

Each tracked model declares `history = Tracked()`: every save and delete through the ORM writes
a whole copy of the row with who (`history_user`), when and how (+ created, ~ changed, - deleted).
Who comes, in this order, from the instance's `_history_user`, from `acting(user)` around a
service call (services take the actor as `by=`), or from the request
(simple_history.middleware.HistoryRequestMiddleware).

Bulk writes (bulk_create, bulk_update, QuerySet.update, COPY) send no signals: a service that
writes shared records that way records them itself with `record_bulk`; imports are recorded by
their batch (imports.ImportBatch: file hash, who uploaded and confirmed, the counts). README,
"操作记录".
"""

import functools
import threading
from contextlib import contextmanager
from dataclasses import dataclass

from django.db.models import OuterRef, Subquery
from django.utils.text import format_lazy
from simple_history.models import HistoricalRecords

from shuanglian.lib import idcard, phone

_actor = threading.local()

# Fields whose change alone is no event worth a row: a login stamps last_login on every sign-in.
_NOT_ALONE = {"last_login"}
# Bookkeeping columns left out of the differences shown.
_UNSHOWN = {"version", "updated_at", "created_at", "password", "last_login"}
_MASKED_IDS = {"id_number", "head_id_number"}
_MASKED_PHONES = {"phone"}


@contextmanager
def acting(user):
    """Record `user` as who made the changes saved inside the block (a service's `by=`).

    `None` (a system write: a command, the demo loader) leaves the request's user, if any."""
    previous = getattr(_actor, "user", None)
    _actor.user = user if user is not None else previous
    try:
        yield
    finally:
        _actor.user = previous


def current_actor():
    """Who the writes now under way are recorded as: the acting user, else the request's, else None."""
    user = getattr(_actor, "user", None)
    if user is not None:
        return user
    request = getattr(HistoricalRecords.context, "request", None)
    request_user = getattr(request, "user", None)
    return request_user if getattr(request_user, "is_authenticated", False) else None


class Tracked(HistoricalRecords):
    """HistoricalRecords that knows the acting user of a service and skips a login's last_login stamp."""

    def __init__(self, **kwargs):
        kwargs.setdefault("user_related_name", "+")
        kwargs.setdefault("cascade_delete_history", False)
        super().__init__(**kwargs)

    def get_meta_options(self, model):
        options = super().get_meta_options(model)
        options["verbose_name"] = options["verbose_name_plural"] = format_lazy(
            "{}操作记录", model._meta.verbose_name
        )
        return options

    def get_history_user(self, instance):
        try:
            return instance._history_user
        except AttributeError:
            return current_actor()

    def post_save(self, instance, created, using=None, **kwargs):
        update_fields = kwargs.get("update_fields")
        if update_fields and set(update_fields) <= _NOT_ALONE:
            return
        super().post_save(instance, created, using=using, **kwargs)


def record_bulk(model, objs, *, by=None, created=False):
    """History rows for objects written in bulk (bulk_create, bulk_update, QuerySet.update):
    one INSERT for all of them. `objs` must hold the values now in the database."""
    objs = list(objs)
    if objs:
        model.history.bulk_history_create(objs, update=not created, default_user=by or current_actor())


@dataclass
class Change:
    field: str
    old: str
    new: str


KINDS = {"+": "新建", "~": "修改", "-": "删除"}


@dataclass
class Entry:
    """One history row as shown: who, when, what kind, of what, and the fields changed (old → new)."""

    record: object
    model: type
    changes: list

    @property
    def who(self) -> str:
        user = self.record.history_user
        return user.acting_as if user else "系统"

    @property
    def when(self):
        return self.record.history_date

    @property
    def kind(self) -> str:
        return KINDS.get(self.record.history_type, self.record.history_type)

    @property
    def subject(self) -> str:
        """The object's kind and name as the row had it (no query: a deleted object is named too)."""
        record = self.record
        name = (
            getattr(record, "head_name", None)
            or getattr(record, "name", None)
            or getattr(record, "username", None)
        )
        if name and self.model._meta.model_name == "household":
            name = f"{name}户"
        return f"{self.model._meta.verbose_name} {name or '#%s' % record.id}"


def _shown(field, value) -> str:
    if value is None or value == "" or value == []:
        return "（空）"
    if field.attname in _MASKED_IDS:
        return idcard.mask(str(value))
    if field.attname in _MASKED_PHONES:
        return phone.mask(str(value))
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return str(value)


def _differences(model, record, before) -> list:
    changes = []
    for field in model._meta.concrete_fields:
        if field.primary_key or field.attname in _UNSHOWN:
            continue
        new = getattr(record, field.attname, None)
        if before is None:
            if new not in (None, "", []):  # a first row lists what it was created with
                changes.append(Change(str(field.verbose_name), "", _shown(field, new)))
            continue
        old = getattr(before, field.attname, None)
        if old != new:
            changes.append(Change(str(field.verbose_name), _shown(field, old), _shown(field, new)))
    return changes


def with_previous(records) -> list:
    """(record, the same object's row before it or None) for history rows already fetched, in one
    more query at most: each row must carry `previous_id` (see `annotate_previous`)."""
    records = list(records)
    # Asked even when no row has one before it ([0] matches nothing): the page's query count then
    # does not depend on the data (tests pin it).
    wanted = [record.previous_id for record in records if record.previous_id] or [0]
    befores = type(records[0])._default_manager.in_bulk(wanted)
    return [(record, befores.get(record.previous_id)) for record in records]


def annotate_previous(history):
    """A history queryset whose rows carry `previous_id`: the history_id of the row before, for
    the same object (history ids grow with time)."""
    earlier = history.model._default_manager.filter(id=OuterRef("id"), history_id__lt=OuterRef("history_id"))
    return history.annotate(previous_id=Subquery(earlier.order_by("-history_id").values("history_id")[:1]))


def entries(pairs, model) -> list:
    return [Entry(record, model, _differences(model, record, before)) for record, before in pairs]


def newest(history):
    """The history rows newest first, with the acting user and the office it acts for."""
    return history.select_related("history_user__region", "history_user__unit").order_by(
        "-history_date", "-history_id"
    )


def recent(*histories, limit: int = 10) -> list:
    """The last `limit` changes among the given history querysets (one object's, or its members'),
    newest first, each with its fields' old → new: two queries per queryset, whatever the history."""
    found = []
    for history in histories:
        model = history.model.instance_type
        records = list(newest(annotate_previous(history))[:limit])
        if records:
            found += entries(with_previous(records), model)
    found.sort(key=lambda entry: (entry.when, entry.record.history_id), reverse=True)
    return found[:limit]


def recorded(service):
    """Decorate a service taking the actor as `by=`: what it saves is recorded as that user's."""

    @functools.wraps(service)
    def wrapped(*args, **kwargs):
        with acting(kwargs.get("by")):
            return service(*args, **kwargs)

    wrapped.records_actor = True  # tests/test_history.py checks every service taking `by=` has it
    return wrapped
