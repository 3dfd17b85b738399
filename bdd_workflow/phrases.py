"""服务禁忌语言 (R-6.3.2): text staff write to applicants must not contain these."""

from __future__ import annotations

import re

# (number in 6.3.2, the phrase as the 规范 writes it, a pattern that finds it in ordinary writing)
FORBIDDEN_PHRASES: list[tuple[int, str, str]] = [
    (1, "我不知道，你去问 xxx", r"不知道[，,。！!；;\s]*(你|您)?(自己)?再?去问"),
    (2, "不归我管，问别人去", r"不归我管"),
    (3, "你问我，我问谁", r"你问我.{0,2}我问谁"),
    (4, "不知道、不清楚、不行、不能办", r"(不知道|不清楚)[、，,。.！!；;\s]*(不清楚|不行|不能办)|不行[、，,。.！!；;\s]*不能办"),
    (5, "说你不合法，你就不合法", r"说你不合法.{0,3}你就不合法"),
    (6, "别废话，把资料和证件拿过来", r"别废话"),
    (7, "为人民服务不是为你服务", r"不是为你服务"),
    (8, "你怎么什么也不懂", r"你怎么什么(也|都)不懂"),
    (9, "××不在，没法找", r"不在.{0,2}没法找"),
    (10, "我问什么您就答什么", r"我问什么.{0,2}(您|你)就答什么"),
    (11, "有牌子，自己看清楚了再来", r"有牌子.{0,3}自己看"),
    (12, "怎么搞的，连这个都不会", r"怎么搞的|连这个都不会"),
    (13, "不懂？自己看说明去", r"自己看说明去"),
    (14, "你看不懂汉字吗", r"看不懂汉字"),
    (15, "不是给你说了吗？怎么还不清楚", r"不是给你说了吗"),
    (16, "有本事，你随便告。有意见投诉去", r"你随便告|有意见投诉去"),
    (17, "有意见，找领导去", r"有意见.{0,2}找领导去"),
    (18, "急什么，没看我正忙着吗", r"急什么.{0,3}没看(见)?我正忙"),
    (19, "我不是说过了吗", r"我不是说过了吗"),
    (20, "快点，我下班", r"快点.{0,2}我(要)?下班"),
    (21, "谁办的你找谁去", r"谁办的.{0,2}找谁去"),
    (22, "机器坏了，不办了", r"机器坏了.{0,2}不办了"),
    (23, "还想不想办了", r"还想不想办了"),
    (24, "我的态度就这样", r"我的态度就这样"),
    (25, "下班了/没时间，明天再来", r"(下班了|没时间).{0,3}明天再来"),
]
# Item 26 ("其他有损窗口形象的不文明用语") is a judgement, not a list: it stays with the chief officer.

_COMPILED = [(number, phrase, re.compile(pattern)) for number, phrase, pattern in FORBIDDEN_PHRASES]
_NOISE = re.compile(r"[\s\u3000]+")


def find_forbidden(text: str) -> tuple[int, str] | None:
    """The first forbidden phrase in ``text`` as (number, phrase), or None."""
    if not text:
        return None
    normalised = _NOISE.sub("", text)
    for number, phrase, pattern in _COMPILED:
        if pattern.search(normalised):
            return number, phrase
    return None
