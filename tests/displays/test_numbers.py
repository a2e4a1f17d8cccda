"""Vietnamese number reading: hand-checked cases, then the rules as properties (hypothesis)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from displays.numbers import DIGITS, LETTERS, Style, read_digits, read_letter, read_number, read_ticket

SOUTH = Style(four="bốn", linh="lẻ", thousand="ngàn", billion="tỉ")

# checked by hand against the usage of Vietnamese press, school books and bank cheques
CASES = [
    (0, "không"), (1, "một"), (4, "bốn"), (5, "năm"), (10, "mười"), (11, "mười một"), (14, "mười bốn"),
    (15, "mười lăm"), (20, "hai mươi"), (21, "hai mươi mốt"), (24, "hai mươi tư"), (25, "hai mươi lăm"),
    (31, "ba mươi mốt"), (55, "năm mươi lăm"), (94, "chín mươi tư"), (99, "chín mươi chín"),
    (100, "một trăm"), (101, "một trăm linh một"), (104, "một trăm linh tư"), (105, "một trăm linh năm"),
    (110, "một trăm mười"), (111, "một trăm mười một"), (115, "một trăm mười lăm"), (121, "một trăm hai mươi mốt"),
    (200, "hai trăm"), (1000, "một nghìn"), (1005, "một nghìn không trăm linh năm"),
    (1010, "một nghìn không trăm mười"), (1023, "một nghìn không trăm hai mươi ba"),
    (1100, "một nghìn một trăm"), (2024, "hai nghìn không trăm hai mươi tư"), (10000, "mười nghìn"),
    (15000, "mười lăm nghìn"), (21000, "hai mươi mốt nghìn"), (104000, "một trăm linh tư nghìn"),
    (1000000, "một triệu"), (1000005, "một triệu không trăm linh năm"),
    (1001000, "một triệu không trăm linh một nghìn"), (2500000, "hai triệu năm trăm nghìn"),
    (1000000000, "một tỷ"), (1000000000000, "một nghìn tỷ"),
    (999999, "chín trăm chín mươi chín nghìn chín trăm chín mươi chín"),
]


@pytest.mark.parametrize(("n", "words"), CASES)
def test_hand_checked(n: int, words: str) -> None:
    assert read_number(n) == words


def test_regional_style() -> None:
    assert read_number(104, SOUTH) == "một trăm lẻ bốn"
    assert read_number(24, SOUTH) == "hai mươi bốn"
    assert read_number(14, SOUTH) == "mười bốn"
    assert read_number(1005, SOUTH) == "một ngàn không trăm lẻ năm"
    assert read_number(3_000_000_000, SOUTH) == "ba tỉ"


def test_digits_tickets_and_letters() -> None:
    assert read_digits("1023") == "một, không, hai, ba"
    assert read_digits(1023, sep=" ") == "một không hai ba"
    assert read_digits("007", sep=" - ") == "không - không - bảy"
    assert read_ticket("A023") == "a hai mươi ba"
    assert read_ticket("A023", digits=True) == "a không hai ba"
    assert read_ticket("B104") == "bê một trăm linh tư"
    assert read_ticket("1023") == "một nghìn không trăm hai mươi ba"
    assert read_ticket("W015") == "vê kép mười lăm"
    assert read_ticket("AB12") == "a bê mười hai"
    assert read_ticket("a001") == "a một"  # lower case is read the same
    assert [read_letter(c) for c in "LMNRSXYZ"] == ["e-lờ", "em-mờ", "en-nờ", "e-rờ", "ét-xì", "ích-xì", "i dài", "dét"]
    assert read_letter("Đ") == "đê"
    for bad in (-1, 1.5, True, "12"):
        with pytest.raises(ValueError):
            read_number(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        read_digits("12a")
    with pytest.raises(ValueError):
        read_ticket("A-1")


# -- an independent inverse: words -> number -----------------------------------------------------
UNIT = {"không": 0, "một": 1, "mốt": 1, "hai": 2, "ba": 3, "bốn": 4, "tư": 4, "năm": 5, "lăm": 5, "sáu": 6,
        "bảy": 7, "tám": 8, "chín": 9}
SCALE = {"nghìn": 1000, "ngàn": 1000, "triệu": 1_000_000}


def parse(text: str) -> int:
    total = section = small = 0
    pending: int | None = None
    for w in text.split():
        if w in UNIT:
            assert pending is None, text
            pending = UNIT[w]
        elif w == "trăm":
            small, pending = small + pending * 100, None
        elif w == "mươi":
            small, pending = small + pending * 10, None
        elif w == "mười":
            small += 10
        elif w in ("linh", "lẻ"):
            assert small % 100 == 0 and pending is None, text
        elif w in SCALE:
            section += (small + (pending or 0)) * SCALE[w]
            small, pending = 0, None
        elif w in ("tỷ", "tỉ"):
            total = (total + section + small + (pending or 0)) * 1_000_000_000
            section = small = 0
            pending = None
        else:
            raise AssertionError(f"unknown word {w!r} in {text!r}")
    return total + section + small + (pending or 0)


numbers = st.integers(0, 10**15)
styles = st.sampled_from([Style(), SOUTH, Style(four="bốn"), Style(linh="lẻ")])


@given(numbers, styles)
def test_reads_back_to_the_same_number(n: int, style: Style) -> None:
    text = read_number(n, style)
    assert parse(text) == n
    assert text == unicodedata.normalize("NFC", text) and "  " not in text and text == text.strip()


@given(numbers, styles)
def test_unit_words_after_tens(n: int, style: Style) -> None:
    """mốt after mươi, lăm after mười/mươi, tư (or bốn) after mươi, never after mười."""
    t, u = n // 10 % 10, n % 10
    text = read_number(n, style)
    if t >= 2 and u == 1:
        assert text.endswith(f"{DIGITS[t]} mươi mốt")
    if t >= 1 and u == 5:
        assert text.endswith("mười lăm" if t == 1 else f"{DIGITS[t]} mươi lăm")
    if t >= 2 and u == 4:
        assert text.endswith(f"mươi {style.four}")
    if t == 1:
        assert text.endswith("mười" if u == 0 else f"mười {'bốn' if u == 4 else 'lăm' if u == 5 else DIGITS[u]}")
    if t >= 2 and u == 0:
        assert text.endswith(f"{DIGITS[t]} mươi")


@given(numbers, styles)
def test_linh_for_an_empty_tens_digit(n: int, style: Style) -> None:
    t, u = n // 10 % 10, n % 10
    text = read_number(n, style)
    if n >= 100 and t == 0 and u:
        assert text.endswith(f"trăm {style.linh} {style.four if u == 4 else DIGITS[u]}")
    if n < 10:
        assert text == DIGITS[n]


@given(numbers, styles)
def test_inner_empty_hundreds_are_said(n: int, style: Style) -> None:
    """A group after the first says its hundreds, "không trăm" included; an all-zero group is silent."""
    group = n % 1000
    text = read_number(n, style)
    if n >= 1000 and 0 < group < 100:
        tail = read_number(100 + group, style).removeprefix(f"{DIGITS[1]} trăm ")
        assert text.endswith(f" không trăm {tail}")
    if n >= 1000 and group == 0:
        assert not text.endswith(("không", "không trăm"))
    if n < 1000:
        assert "không" not in text or n == 0


@given(numbers, styles)
def test_word_order(n: int, style: Style) -> None:
    """mươi only after 2..9, mười never after a digit, mốt/lăm/tư only after tens, linh after trăm."""
    words = read_number(n, style).split()
    for prev, word in zip(["^"] + words, words, strict=False):
        if word == "mươi":
            assert prev in DIGITS[2:]
        if word == "mười":
            assert prev not in DIGITS
        if word == "mốt":
            assert prev == "mươi"
        if word == "lăm":
            assert prev in ("mười", "mươi")
        if word == "tư":
            assert prev in ("mươi", "linh", "lẻ")
        if word == style.linh:
            assert prev == "trăm"


@given(st.text(alphabet="0123456789", min_size=1, max_size=20), st.sampled_from([", ", " ", "-"]))
def test_digit_by_digit(digits: str, sep: str) -> None:
    text = read_digits(digits, sep)
    assert text.split(sep) == [DIGITS[int(d)] for d in digits]


@given(st.sampled_from(sorted(c for c in LETTERS if "A" <= c <= "Z")), st.integers(0, 9999), st.booleans())
def test_tickets(letter: str, k: int, digits: bool) -> None:
    number = f"{letter}{k:03d}"
    expected = read_digits(f"{k:03d}", " ") if digits else read_number(k)
    assert read_ticket(number, digits=digits) == f"{LETTERS[letter]} {expected}"
