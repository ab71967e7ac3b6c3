import datetime

import pytest
from django.core.exceptions import ValidationError

from shuanglian.lib import idcard, phone

VALID = "11010519491231002X"


@pytest.mark.parametrize(
    "raw",
    [
        VALID,
        "11010519491231002x",  # lowercase x
        "１１０１０５１９４９１２３１００２Ｘ",  # full-width
        " 110105 19491231 002X\u3000",  # spaces, ideographic space
        "\u200b110105194912\u200d31002X\ufeff",  # zero-width characters
        "110105491231002",  # 15-digit legacy ID
    ],
)
def test_normalises_harmless_variants(raw):
    parsed = idcard.parse(raw)
    assert parsed.number == VALID
    assert parsed.birth_date == datetime.date(1949, 12, 31)
    assert parsed.sex == "F"


@pytest.mark.parametrize(
    ("raw", "code", "fragment"),
    [
        ("110105194912310021", "checksum", "校验位"),
        ("1101051949", "length", "应为18位"),
        ("6.21121198e+17", "length", "应为18位"),
        ("1101051949123100A1", "characters", "只能由数字组成"),
        ("", "required", "不能为空"),
    ],
)
def test_refuses_bad_ids_with_a_chinese_message(raw, code, fragment):
    with pytest.raises(ValidationError) as caught:
        idcard.parse(raw)
    assert caught.value.code == code
    assert fragment in caught.value.messages[0]


def test_refuses_an_impossible_date():
    number = idcard.make("621121", datetime.date(1980, 2, 1), 11).replace("19800201", "19800231")
    body = number[:17]
    fixed = body + idcard._check_digit(body)
    with pytest.raises(ValidationError) as caught:
        idcard.parse(fixed)
    assert caught.value.code == "birth_date"


def test_refuses_a_birth_date_in_the_future():
    number = idcard.make("621121", datetime.date(2030, 1, 1), 11)
    with pytest.raises(ValidationError) as caught:
        idcard.parse(number, today=datetime.date(2026, 11, 23))
    assert caught.value.code == "future"


def test_made_ids_carry_sex_in_the_sequence_parity():
    assert idcard.parse(idcard.make("622926", datetime.date(1990, 6, 1), 13)).sex == "M"
    assert idcard.parse(idcard.make("622926", datetime.date(1990, 6, 1), 14)).sex == "F"


def test_an_id_registered_before_the_area_code_changed_is_accepted():
    # 通渭县 was 622424 before 定西 became a city in 2003; such IDs stay valid.
    assert idcard.parse(idcard.make("622424", datetime.date(1965, 3, 8), 21)).number.startswith("622424")


def test_masks():
    assert idcard.mask("621121198001020370") == "6211**********0370"
    assert phone.mask("13809315678") == "138****5678"
    assert phone.mask("0932-1234567") == "********4567"


def test_checksum_and_birth_date_agree_with_python_stdnum():
    """The weight table and the date parsing replace stdnum.cn.ric for speed; they must judge alike."""
    import random

    from stdnum import exceptions as stdnum_errors
    from stdnum.cn import ric

    rng = random.Random(11643)
    for _ in range(3000):
        body = (
            f"{rng.randrange(10**6):06d}{rng.randrange(1900, 2030)}"
            f"{rng.randrange(0, 14):02d}{rng.randrange(0, 33):02d}{rng.randrange(1000):03d}"
        )
        assert idcard._check_digit(body) == ric.calc_check_digit(body + "0")
        number = body + idcard._check_digit(body)
        try:
            expected = ric.get_birth_date(number)
        except stdnum_errors.ValidationError:
            expected = None
        try:
            got = idcard.parse(number, today=datetime.date(2100, 1, 1)).birth_date
        except ValidationError as error:
            assert error.code == "birth_date"
            got = None
        assert got == expected
