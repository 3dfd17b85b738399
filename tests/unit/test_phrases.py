"""R-6.3.2 服务禁忌语言: the 25 concrete phrases of 6.3.2 are found; what a courteous consultant writes is not."""

from __future__ import annotations

import re

import pytest

from bdd_workflow.phrases import FORBIDDEN_PHRASES, find_forbidden

from .support import SHARED_SPEC

# As printed in 6.3.2 of the 规范 (ASCII punctuation, as in the seed text).
SECTION_6_3_2 = {
    1: "我不知道,你去问 xxx。",
    2: "不归我管,问别人去。",
    3: "你问我,我问谁!",
    4: "不知道、不清楚、不行、不能办。",
    5: "说你不合法,你就不合法。",
    6: "别废话,把资料和证件拿过来。",
    7: "为人民服务不是为你服务。",
    8: "你怎么什么也不懂。",
    9: "××不在,没法找。",
    10: "我问什么您就答什么!",
    11: "有牌子,自己看清楚了再来。",
    12: "怎么搞的,连这个都不会。",
    13: "不懂?自己看说明去!",
    14: "你看不懂汉字吗!",
    15: "不是给你说了吗?怎么还不清楚!",
    16: "有本事,你随便告。有意见投诉去。",
    17: "有意见,找领导去。",
    18: "急什么,没看我正忙着吗!",
    19: "我不是说过了吗?",
    20: "快点,我下班。",
    21: "谁办的你找谁去。",
    22: "机器坏了,不办了!",
    23: "还想不想办了?",
    24: "我的态度就这样。",
    25: "下班了/没时间,明天再来。",
}

_PUNCT = re.compile(r"[,，!！?？。、/]")

VARIANTS = {
    "as_printed": lambda text: text,
    "full_width": lambda text: text.translate(str.maketrans({",": "，", "!": "！", "?": "？"})),
    "spaces": lambda text: _PUNCT.sub(" ", text),
    "no_punctuation": lambda text: _PUNCT.sub("", text),
    "full_stops": lambda text: _PUNCT.sub("。", text),
    "exclamations": lambda text: _PUNCT.sub("！", text),
}

CASES = [(number, variant) for number in SECTION_6_3_2 for variant in VARIANTS]


def test_the_list_has_the_25_phrases_of_6_3_2():
    assert [number for number, _, _ in FORBIDDEN_PHRASES] == list(range(1, 26))


def test_the_phrases_here_are_those_of_the_seed_text():
    seed = SHARED_SPEC / "seed-chengan-bangban-daiban-shangmenban.txt"
    if not seed.exists():
        pytest.skip(f"{seed} is not available on this machine")
    text = seed.read_text(encoding="utf-8")
    section = text[text.index("6.3.2"):text.index("6.3.3")]
    for number, phrase in SECTION_6_3_2.items():
        assert phrase in section, f"{number}) {phrase} is not written so in 6.3.2"


@pytest.mark.parametrize(("number", "variant"), CASES, ids=[f"{n}-{v}" for n, v in CASES])
def test_forbidden_phrase_is_found_with_its_number(number, variant):
    text = VARIANTS[variant](SECTION_6_3_2[number])
    hit = find_forbidden(text)
    assert hit is not None, f"{number}) {text!r} was not found"
    assert hit[0] == number, f"{text!r} was reported as phrase {hit}"


EMBEDDED = [
    ("我不知道，你去问问王科长。", 1),
    ("这个真不归我管，你问别人去吧", 2),
    ("张科长不在，没法找。", 9),
    ("你怎么什么都不懂？", 8),
    ("我问什么你就答什么！", 10),
    ("急什么？没看见我正忙着吗！", 18),
    ("快点快点，我要下班了。", 20),
    ("下班了，明天再来。", 25),
    ("没时间，明天再来！", 25),
    ("不知道，不清楚。", 4),
    ("不行，不能办！", 4),
]


@pytest.mark.parametrize(("text", "number"), EMBEDDED, ids=[f"phrase{n}-{i}" for i, (_, n) in enumerate(EMBEDDED, 1)])
def test_phrase_embedded_in_ordinary_writing_is_found(text, number):
    hit = find_forbidden(f"同志，{text}")
    assert hit is not None and hit[0] == number, (text, hit)


COURTEOUS = [
    "您好，请您携带身份证原件到窗口办理。",
    "这个事项不归我们窗口受理，我们已为您转交民政局帮办员，他会在半小时内联系您。",
    "这个问题我不知道，我去问一下审批科，稍后给您回电话。",
    "不知道您问的是低保还是临时救助？",
    "表格里有不知道的，您问我，我帮您查。",
    "您的材料还缺少收入证明，请到所在村委会开具后再来，我们为您预留了办理号。",
    "如有意见，欢迎拨打监督电话7212345反映。",
    "请您核对一下，有不清楚的地方可以随时问我们。",
    "请您放心，您问什么我们都会一次性告知清楚。",
    "您好，为了让您快点拿到证照，我们已经为您加急办理。",
    "",
]


@pytest.mark.parametrize("text", COURTEOUS, ids=[f"courteous-{i}" for i in range(1, len(COURTEOUS) + 1)])
def test_courteous_sentences_are_not_flagged(text):
    assert find_forbidden(text) is None


def test_whitespace_and_ideographic_spaces_do_not_hide_a_phrase():
    assert find_forbidden("不 归\u3000我 管")[0] == 2
