"""A version check for records that two people may edit at once (optimistic locking).

Every save of a `Versioned` row moves its `version` on by one. An edit form carries, in a
required hidden field, the version it was opened on; the save is refused when the row has moved
on since, so nobody overwrites a change they never saw.

The comparison on the form is only the early, friendly answer. What makes the check hold when
two saves arrive together is `claim_version`, run inside the saving transaction just before the
write: a conditional UPDATE (… WHERE pk = %s AND version = %s). On PostgreSQL it takes the row
lock, and a second save waiting on that lock re-reads the row once the first commits, finds
another version and matches nothing. SQLite has one writer at a time: the second UPDATE waits and
matches nothing, or, when its transaction had read first (the admin's), fails as "database is
locked". Either way at most one of two saves opened on the same version is written.
"""

from django import forms
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import models, transaction
from django.db.models import F
from django.utils.translation import gettext_lazy as _

STALE_MESSAGE = _("此记录已被他人修改，您的修改未保存，请刷新后重试。")
MISSING_MESSAGE = _("缺少版本号，无法确认此记录未被他人修改，您的修改未保存，请刷新后重试。")


class StaleVersion(ValidationError):
    """The row moved on since the form was opened (code "stale"), or the form sent no version ("missing")."""

    def __init__(self, message=STALE_MESSAGE, code="stale"):
        super().__init__(message, code=code)


class Versioned(models.Model):
    """A record edited on shared forms: every save moves `version` on by one."""

    version = models.PositiveIntegerField(_("版本"), default=0, editable=False)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        # Any save, not only the edit forms' (a service changing a cadre's status, an import), makes
        # the forms opened before it stale. Under claim_version the row is locked, so +1 is exact.
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            if not update_fields:  # Django's "save nothing"
                return super().save(*args, **kwargs)
            kwargs["update_fields"] = {*update_fields, "version"}
        self.version += 1
        try:
            super().save(*args, **kwargs)
        except Exception:
            self.version -= 1  # nothing was written: the object still holds the row's version
            raise


def claim_version(obj: Versioned, expected: int | None) -> None:
    """Refuse the coming save of `obj` unless its row is still at version `expected`, and hold the
    row until the transaction ends. Call inside transaction.atomic, before the write.

    Raises StaleVersion: "missing" when no version was sent (never taken for a fresh form),
    "stale" when someone saved since.
    """
    if expected is None:
        raise StaleVersion(MISSING_MESSAGE, code="missing")
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("claim_version must run inside transaction.atomic, with the write that follows it")
    # SET version = version: no change, but the row lock and the re-check on PostgreSQL come with it.
    claimed = type(obj)._base_manager.filter(pk=obj.pk, version=expected).update(version=F("version"))
    if not claimed:
        raise StaleVersion()
    obj.version = expected  # the save that follows writes expected + 1


class VersionField(forms.IntegerField):
    """The hidden version an edit form was opened on. A hidden field's own errors show nowhere on
    a page, so a missing or garbled value cleans to None and the form refuses it in a message of its own."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        super().__init__(required=False, min_value=0, **kwargs)

    def clean(self, value):
        try:
            return super().clean(value)
        except ValidationError:
            return None


class VersionedModelForm(forms.ModelForm):
    """A ModelForm of a Versioned model. Editing a row carries its version (required), and
    `save()` writes only if the row is still at that version (StaleVersion otherwise).

    The admin saves with commit=False and then the object: VersionedAdminMixin checks there.
    """

    version = VersionField()
    # A page form opts in: when the row moved on only to hold exactly what this form sends (the
    # first press of a double click saved it), the form is `replayed` and writes nothing, instead
    # of being refused as stale. Nothing is lost, since the row already holds every value sent.
    replays_land = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not issubclass(self._meta.model, Versioned):
            raise ImproperlyConfigured(f"{self._meta.model.__name__} is not Versioned")
        self.replayed = False
        self._stale = False
        if self.checks_version:
            self.initial.setdefault("version", self.instance.version)
            self._loaded = self._edited_values(self.instance)

    def _edited_values(self, obj) -> dict:
        """The values of the fields this form edits, as stored (a foreign key as its id)."""
        return {
            field.name: field.value_from_object(obj)
            for field in obj._meta.concrete_fields
            if field.name in self.fields and field.editable
        }

    @property
    def checks_version(self) -> bool:
        """Editing a saved row (a new one has no version to compare)."""
        return not self.instance._state.adding

    def clean(self):
        cleaned = super().clean()
        if self.checks_version:
            expected = cleaned.get("version")
            if expected is None:
                raise StaleVersion(MISSING_MESSAGE, code="missing")
            # Early, on the form, with the user's input kept; the save checks again, atomically.
            if expected != self.instance.version:
                if not self.replays_land:
                    raise StaleVersion()
                self._stale = True  # judged once the sent values are on the instance (_post_clean)
        return cleaned

    def _post_clean(self):
        super()._post_clean()  # puts the sent values on the instance
        if self._stale and not self.errors:
            if self._edited_values(self.instance) == self._loaded:
                self.replayed = True
            else:
                self.add_error(None, StaleVersion())

    def save(self, commit=True):
        if self.replayed:
            return self.instance
        if not (commit and self.checks_version):
            return super().save(commit)
        with transaction.atomic():
            try:
                claim_version(self.instance, self.cleaned_data.get("version"))
            except StaleVersion:
                # Both presses passed the form's check; the first has saved since. The same values?
                saved = type(self.instance)._base_manager.get(pk=self.instance.pk)
                if self.replays_land and self._edited_values(saved) == self._edited_values(self.instance):
                    self.replayed = True
                    return self.instance
                raise
            return super().save(commit)
