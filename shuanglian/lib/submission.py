"""Submission keys: a form carries a random key from the moment it is opened, saved with the
row it creates (a unique column), so a second press of the same form is recognised as a replay.

A replay writes nothing and lands on what the first press saved; the same key with other
content (Back, another household, save) is refused, since success is never claimed for what
was not written. The services decide both in the step that inserts (see visits.services.submit_visit).
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def earlier_submission(model, key):
    """The row already saved under a submission key, if any.

    A function of its own so that a test can hold a press right after its look at the key."""
    return model.objects.filter(submission_key=key).first()


def refuse_reused_key(what: str, saved) -> None:
    """Refuse a key that saved `saved` (a `what`) and now comes back asking for something else."""
    raise ValidationError(
        _(
            "本页已保存过一份%(what)s（%(saved)s），这次提交的内容与之不同，未保存。"
            "请核对后再次点击保存，将作为新的记录保存。"
        )
        % {"what": what, "saved": saved},
        code="key_reused",
    )
