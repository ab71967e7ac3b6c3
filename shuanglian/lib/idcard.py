"""Chinese resident identity numbers (GB 11643-1999).

Input arrives from hand-typed forms and decades-old spreadsheets, so it is
normalised before it is judged: NFKC folds full-width digits and the
ideographic space, invisible characters are dropped, a lowercase x is
upper-cased and a 15-digit first-generation number is upgraded to 18 digits.
The checksum (ISO 7064 MOD 11-2) is one base-13 int() and the date comes from
the standard library, memoised: a county roster checks 200,000 IDs, and this
is several times faster than python-stdnum's cn.ric, which the tests use as the
oracle that both agree on every number.
"""

import datetime
import functools
import re
import unicodedata
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

# Zero-width and BOM characters survive NFKC and copy-paste from web pages.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_WHITESPACE = re.compile(r"\s+")
# GB 11643: digit i (from the left, 0-based) weighs 2^(17-i) mod 11; the weighted sum mod 11 picks the
# check character.
_CHECK_CHARACTERS = "10X98765432"
# Since 13 ≡ 2 (mod 11), reading the 17 digits as one base-13 number gives sum(d_i * 13^(16-i)),
# which is ≡ sum(d_i * 2^(16-i)): half the weighted sum, mod 11. One int() call in C instead of
# seventeen lookups.
_BASE = 13


class ResidentId(NamedTuple):  # immutable, and a third of a frozen dataclass's cost to create
    number: str
    birth_date: datetime.date
    sex: str  # "M" or "F"


def normalize(raw: str) -> str:
    text = str(raw)
    if text.isascii() and text.isalnum():
        return text.upper()  # the usual case: NFKC leaves ASCII letters and digits alone, nothing to drop
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text)
    text = _WHITESPACE.sub("", text)
    return text.upper()


def upgrade_15(number: str) -> str:
    """First-generation IDs omit the century (always 19) and the check digit."""
    body = number[:6] + "19" + number[6:]
    return body + _check_digit(body)


def _check_digit(body17: str) -> str:
    """The check character for 17 decimal digits (int() reads any Unicode decimal digit)."""
    return _CHECK_CHARACTERS[2 * int(body17, _BASE) % 11]


@functools.lru_cache(maxsize=65536)  # a roster's 200,000 people share some 30,000 birthdays
def _birth_date(digits: str) -> datetime.date:
    """YYYYMMDD → date; ValueError if there is no such day."""
    return datetime.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))


def parse(raw: str, *, today: datetime.date | None = None) -> ResidentId:
    """Return the normalised ID with its birth date and sex, or raise ValidationError."""
    number = normalize(raw)
    if not number:
        raise ValidationError(_("身份证号码不能为空"), code="required")
    if len(number) == 15 and number.isdigit():
        number = upgrade_15(number)
    if len(number) != 18:
        raise ValidationError(
            _("身份证号码“%(value)s”应为18位（现为%(length)d位）"),
            code="length",
            params={"value": number, "length": len(number)},
        )
    if not (number[:17].isdigit() and (number[17].isdigit() or number[17] == "X")):
        raise ValidationError(
            _("身份证号码“%(value)s”只能由数字组成，最后一位可以是X"),
            code="characters",
            params={"value": number},
        )
    if number[17] != _check_digit(number[:17]):
        raise ValidationError(
            _("身份证号码“%(value)s”校验位错误，请核对"), code="checksum", params={"value": number}
        )
    # The area code is not checked against the year (as stdnum's validate() does):
    # IDs carry the code of the place of registration, which is often years later
    # (通渭 was 622424 until 2003, 621121 after), so that check would refuse real
    # people. The date and the checksum are what we enforce.
    try:
        birth_date = _birth_date(number[6:14])
    except ValueError:
        raise ValidationError(
            _("身份证号码“%(value)s”中的出生日期无效"), code="birth_date", params={"value": number}
        ) from None
    if birth_date > (today or timezone.localdate()):
        raise ValidationError(
            _("身份证号码“%(value)s”中的出生日期在未来"), code="future", params={"value": number}
        )
    sex = "M" if int(number[16]) % 2 else "F"
    return ResidentId(number=number, birth_date=birth_date, sex=sex)


def make(area_code: str, birth_date: datetime.date, sequence: int) -> str:
    """Build a valid 18-digit ID; the sequence's parity carries the sex (odd = male)."""
    body = f"{area_code}{birth_date:%Y%m%d}{sequence:03d}"
    return body + _check_digit(body)


def mask(number: str) -> str:
    """6212**********1234: enough to tell people apart in a list, not to misuse."""
    if len(number) < 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]
