from django import forms
from django.utils.translation import gettext_lazy as _

from shuanglian.lib.forms import AppForm

from .models import ImportBatch
from .reader import MAX_FILE_BYTES


class UploadForm(AppForm):
    kind = forms.ChoiceField(
        label=_("导入内容"), choices=ImportBatch.Kind.choices, initial=ImportBatch.Kind.HOUSEHOLDS
    )
    file = forms.FileField(label=_("花名册文件（.xlsx、.xls 或 .csv）"))

    def __init__(self, *args, kinds, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k, label) for k, label in ImportBatch.Kind.choices if k in kinds]
        self.fields["kind"].initial = kinds[0] if kinds else None

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(
                _("文件大小 %(mb)d MB，超过 %(limit)d MB 的上限")
                % {"mb": upload.size // 2**20, "limit": MAX_FILE_BYTES // 2**20}
            )
        if upload.size == 0:
            raise forms.ValidationError(_("文件是空的"))
        return upload
