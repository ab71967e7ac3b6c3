"""The admin's change forms keep the version check of the pages (shuanglian/lib/versions.py).

An admin edit opened before a page edit (or another admin edit) is refused, not saved over it.
"""

from django.contrib import messages
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponseRedirect

from .lib.versions import StaleVersion, VersionedModelForm, claim_version


def _require_versioned_form(admin, form):
    if not issubclass(form, VersionedModelForm):
        raise ImproperlyConfigured(f"{type(admin).__name__}.form is not a VersionedModelForm")
    return form


class _VersionFromTheForm:
    def get_exclude(self, request, obj=None):
        # The form declares its own hidden `version`, which rides in the fieldsets; the model's
        # field (not editable) must not be asked of the form factory, which would refuse it.
        return [*(super().get_exclude(request, obj) or ()), "version"]


class VersionedAdminMixin(_VersionFromTheForm):
    """For a ModelAdmin of a Versioned model: its form must be a VersionedModelForm (and so must
    its inlines', see VersionedInlineMixin); a change is saved only at the version it was opened on."""

    form = VersionedModelForm

    def get_form(self, request, obj=None, **kwargs):
        return _require_versioned_form(self, super().get_form(request, obj, **kwargs))

    def save_model(self, request, obj, form, change):
        # The admin runs the whole change page in one transaction: the claim holds the row until
        # the inlines are saved too, and a refusal here rolls all of it back.
        if change:
            claim_version(obj, form.cleaned_data.get("version"))
        super().save_model(request, obj, form, change)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except StaleVersion as refusal:
            # Someone saved between this form's check and its write (the form's own check
            # answers the ordinary case with the input kept): nothing was written.
            self.message_user(request, refusal.messages[0], messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class VersionedInlineMixin(_VersionFromTheForm):
    """For an inline of a Versioned model: each row carries its own version, checked when it is saved
    (VersionedModelForm.save, inside the change page's transaction). Name "version" in `fields`."""

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        _require_versioned_form(self, formset.form)
        return formset
