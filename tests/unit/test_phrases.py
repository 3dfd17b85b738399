"""R-6.3.2 服务禁忌语言: the 25 concrete phrases of 6.3.2 and their everyday variants are found, each as its item,
with a civil alternative (6.3.1); what a courteous clerk writes is not (the line is drawn in bdd_workflow/phrases.py)."""

from __future__ import annotations

import re

import pytest

from bdd_workflow.phrases import BUILTIN_BOOK, CIVIL_EXAMPLES, FORBIDDEN, FORBIDDEN_PHRASES, find_forbidden

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


# How a tired clerk actually writes each item: every one is refused, as its own item.
EVERYDAY = {
    1: ["我不知道，你去问问王科长。", "不知道，你问窗口去", "我也不知道 你自己去问审批科吧", "不清楚，你去找民政局",
        "不晓得，你再去问问村里"],
    2: ["关我什么事", "这不是我的事", "找你们村里去", "回去找村委会去", "我们管不了", "这个事不归我管，问别人去", "不归我们科管", "这不是我们管的事", "不关我的事", "这个我管不着", "你问别人去吧",
        "找别的部门去", "这个我不管。"],
    3: ["你问我我问谁啊", "问我？我问谁去", "我哪知道", "我哪儿知道啊！", "我怎么知道？"],
    4: ["这个没办法。", "这个办不了，回去吧", "不能办", "不能办。", "这个不能办！", "不行", "不行！", "这个真不行", "不知道", "我不知道。", "不清楚",
        "这个我也不清楚。", "办不了", "这事办不了啊", "没法办", "不给办", "不办了。", "不行，不能办！", "不知道，不清楚。",
        "我确实不知道啊", "不行，不行！", "材料不全，不能办。", "不晓得"],
    5: ["不行就是不行", "我说你不合法你就不合法", "说你不行就不行", "说不符合就是不符合", "我说了算"],
    6: ["别废话，把资料和证件拿过来", "少废话", "别啰嗦了，材料拿来", "把身份证拿过来", "废什么话", "少啰嗦",
        "把材料给我拿过来"],
    7: ["为人民服务不是为你服务", "我又不是专门为你一个人服务的", "我不是伺候你的", "我不是你家保姆", "不是给你一个人办事的"],
    8: ["说了你也不懂", "跟你说不清楚", "你怎么什么都不懂", "啥也不懂", "这都不懂？", "你懂不懂啊", "怎么这么笨"],
    9: ["他不在，我也没办法", "他不在，没法找", "科长不在，找不到", "人不在，没办法", "负责的不在 办不了", "王主任不在办公室，你等着吧"],
    10: ["我问什么你就答什么", "问你什么就答什么", "别问那么多", "别问了！", "少打听那么多"],
    11: ["有牌子，自己看清楚了再来", "墙上有牌子你自己看", "自己看牌子", "看清楚了再来！", "墙上写着呢"],
    12: ["怎么搞的，连这个都不会", "怎么搞的你", "这都不会？", "连这么简单的表都不会填", "这个也不会"],
    13: ["自己上网查去", "网上都有，自己查", "不懂？自己看说明去！", "自己看说明书去", "看说明去", "自己看办事指南吧", "自己看去！"],
    14: ["你听不懂吗", "听不懂人话吗", "你是不是听不懂", "你看不懂汉字吗！", "看不懂字吗？", "你不识字吗", "你是文盲啊", "不认字啊"],
    15: ["不是给你说了吗？怎么还不清楚！", "不是跟你说了吗", "不是告诉过你了吗", "怎么还不明白", "说了多少遍了",
         "还不明白吗"],
    16: ["投诉我也没用", "你爱去哪告去哪告", "有能耐你去告", "有本事，你随便告。有意见投诉去。", "有意见你投诉去", "有意见就去投诉", "你去投诉吧", "投诉去吧", "随便你告",
         "你投诉我啊", "不服你就去告", "有本事你去告"],
    17: ["有意见，找领导去", "找领导去", "你找我们领导去吧", "有意见你找局长", "找上面去"],
    18: ["等着！", "后面排队去", "急什么，没看我正忙着吗！", "急什么急", "着急什么", "催什么催", "没看见我在忙吗", "我正忙着呢", "别催！", "等着吧"],
    19: ["不是说了吗", "说过了！", "我不是说过了吗？", "我不是说了吗", "我都说过了", "我已经说过了", "都说了好几遍"],
    20: ["快下班了，赶紧", "赶紧的，我要下班了", "快点，我下班。", "我下班了，快点", "快点快点，我要下班了", "快点！", "你快点儿", "赶紧的", "麻利点", "磨蹭什么",
         "要下班了，快点儿"],
    21: ["谁办的你找谁去", "谁办的找谁", "谁给你办的你找谁去", "谁受理的找谁去", "不是我办的"],
    22: ["机器坏了，不办了！", "电脑坏了办不了", "系统坏了，明天再来", "网断了，办不了", "打印机坏了，没法打"],
    23: ["不懂就别来办", "还想不想办了？", "你到底想不想办", "还办不办了", "爱办不办", "不办拉倒"],
    24: ["我的态度就这样", "我就这态度", "我态度就这样，怎么了", "你能把我怎么样", "爱咋咋地"],
    25: ["明天再来吧", "改天再来", "现在没空", "没空！", "下班了，明天再来。", "没时间，明天再来！", "我下班了", "我们要下班了。", "没空，改天再来", "已下班，明天再来",
         "今天不办了，明天再来"],
}


EVERYDAY_CASES = [(number, text) for number, texts in EVERYDAY.items() for text in texts]


def test_every_item_has_everyday_variants():
    assert sorted(EVERYDAY) == list(range(1, 26))
    assert all(len(texts) >= 4 for texts in EVERYDAY.values())


@pytest.mark.parametrize(("number", "text"), EVERYDAY_CASES, ids=[f"item{n}-{i}" for i, (n, _) in enumerate(EVERYDAY_CASES, 1)])
def test_r_6_3_2_everyday_variant_is_refused_as_its_item(number, text):
    """R-6.3.2: the variants, alone, embedded in a sentence, and spaced out, each name their item."""
    for written in (text, f"同志，{text}", " ".join(text)):
        hit = BUILTIN_BOOK.find(written)
        assert hit is not None and hit.number == number, (written, hit)


# Sentences a courteous clerk writes to an applicant: the registry's guard list, and more of the same.
CIVIL = [*CIVIL_EXAMPLES,
         "您好，您的申请已受理，承诺5个工作日内办结。",
         "请您补充户口本复印件一份，可在村委会开具证明代替。",
         "对不起，让您久等了，我们马上为您办理。",
         "您的材料不齐全，暂不能受理，原因是缺少近三个月的收入证明；请您补充后联系我们，我们为您预约办理。",
         "如您不清楚如何填写，可以拨打7212345，我们帮您代填。",
         "您问的事项归县医保局办理，我已帮您联系医保局帮办员，他会在半小时内给您打电话。",
         "如果您不知道需要准备什么材料，请查看一次性告知单，或随时问我。",
         "请您看清楚告知单上的每一项，有不清楚的随时问我。",
         "为方便您办理，我们可以上门服务，不需要您跑腿。",
         "您提交的申请表有一处不清楚，麻烦您重新填写第三栏，谢谢。",
         "您好，这项业务不能代替本人签字，请您本人到场签字，谢谢配合。",
         "请您稍等，我去问一下负责的同事，马上回来答复您。",
         "感谢您的理解与支持，再见。",
         "办理结果会以短信通知您，请留意查收。",
         "依法不予受理的，我们会出具不予受理通知书并说明理由。",
         "您的诉求我们已经记录，三个工作日内给您答复。",
         "您好，今天窗口人员较多，请您先取号，我们会尽快为您办理。",
         "我们会把您的意见转给领导，并在两个工作日内回复您。",
         "您放心，这件事我们一定帮您办好。",
         "需要您本人签字确认，您看现在方便吗？",
         "这不是我们的事项范围，我帮您联系县医保局。",
         "请您明天上午再来，我们为您优先办理。",
         "我帮您找王科长去。",
         "您可以自己上网查询办理进度。",
         "请您抓紧时间，我们下午五点下班。",
         "如果您听不懂普通话，我们可以请会说方言的同事为您讲解。",
         "没办法到窗口的话，我们可以上门为您办理。",
         "请您到后面排队，谢谢配合。",
         "请您明天再来取件，谢谢。"]


@pytest.mark.parametrize("text", CIVIL, ids=[f"civil-{i}" for i in range(1, len(CIVIL) + 1)])
def test_r_6_3_2_civil_sentences_pass(text):
    """R-6.3.2: the honest line of phrases.py: words shared with a forbidden phrase are not a hit by themselves."""
    assert BUILTIN_BOOK.find(text) is None, (text, BUILTIN_BOOK.find(text))
    assert find_forbidden(text) is None


def test_whitespace_and_ideographic_spaces_do_not_hide_a_phrase():
    assert find_forbidden("不 归\u3000我 管")[0] == 2


def test_a_hit_names_the_rule_and_offers_a_civil_alternative():
    """R-6.3.2 with 6.3.1: the refusal says which item of 6.3.2 and what to write instead."""
    message = BUILTIN_BOOK.find("不知道").message()
    assert "6.3.2 服务禁忌语言第4条" in message and "不知道、不清楚、不行、不能办" in message
    assert "请稍等，我帮您问一下" in message
    for phrase in FORBIDDEN:
        assert phrase.alternative and BUILTIN_BOOK.find(phrase.alternative) is None, phrase


def test_a_long_text_is_checked_quickly():
    """No pattern backtracks badly: a long run of near-misses is checked in well under a second."""
    import time

    text = ("不行使" * 2000) + ("你" * 5000) + "，".join(["不知道您"] * 1000)
    began = time.perf_counter()
    assert BUILTIN_BOOK.find(text) is None
    assert time.perf_counter() - began < 1.0
