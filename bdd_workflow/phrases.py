"""服务禁忌语言 (R-6.3.2): text staff write to applicants must not contain these.

The 25 concrete phrases of 6.3.2 each have a pattern for the way a tired clerk actually writes them (the
wording of the 规范 and its everyday variants) and a civil alternative in the words of 6.3.1 (请、您好、
谢谢、对不起). Item 26 ("其他有损窗口形象的不文明用语") is the centre's to fill: administrators and the
centre office add phrases in the registry (``ExtraPhrase``), as plain words, never patterns.

Where the line is drawn (the civil sentences in ``CIVIL_EXAMPLES`` must pass):
- A curt refusal or shrug (不行, 不能办, 办不了, 不知道, 不清楚 …) is forbidden when it is a whole clause:
  alone between punctuation, with at most a subject (我, 这个, 这事 …), an adverb (也, 真, 确实 …) and a
  particle (啊, 吧, 了 …). Written into a longer clause it is ordinary Chinese and passes: 不行使该权利,
  不知道您问的是哪一项, 有不清楚的地方, 暂不能受理的原因是…. A 不知道 followed by an offer to find out
  (我帮您问一下, 我去查) is the civil answer 6.3.1 asks for and passes.
- The other phrases are caught in their wording and the variants a clerk uses (跟你说过了吗, 少废话, 急什么,
  有意见你投诉去, 我下班了快点 …); a polite sentence that shares a word with them (如有意见，欢迎拨打监督
  电话; 为了让您快点拿到证照) passes.
- Text is compared with its white space removed (and, for clause boundaries, with white space read as a
  comma), so spacing hides nothing.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from typing import Any, Iterable

from sqlalchemy import case, func, select
from sqlalchemy.exc import SQLAlchemyError

from .db.models import ExtraPhrase

log = logging.getLogger(__name__)

# --- building blocks of the patterns --------------------------------------------------------------------

_PUNCT = r"，,。.！!？?；;：:、…~～/\\()（）“”\"'「」《》\[\]【】—\-"
_START = rf"(?:^|(?<=[{_PUNCT}]))"  # a clause begins
_END = rf"[啊呀吧了的哦嘛呢啦哈咯么]*(?=[{_PUNCT}]|$)"  # particles, then the clause ends
_GAP = rf"[{_PUNCT}]*"  # punctuation between two clauses of one phrase
_NEAR = r"[^\n]{0,4}"  # a few characters, across a full stop at most
_YOU = r"(?:你|您)"
_NOT_POLITE = r"(?<![请您烦驾])"  # 请您把材料递过来 is civil; 把材料拿过来 is an order
# A bare clause's subject and adverbs: 这个我也不清楚, 这事真办不了.
_SUBJECT = r"(?:这个事|这件事|这个|这事|那个|这|那|你这个|你这|今天|现在)?(?:我|我们)?"
_ADVERB = r"(?:也|真|真的|确实|实在|根本|就是|肯定|都|还是|暂时也)*"
_REFUSE = r"(?:不能办理?|办不了|办理不了|没法办理?|没办法(?:办理?)?|不给(?:你|您)?办理?|不办了|办不成|不行)"
_SHRUG = r"(?:不知道|不清楚|不晓得|不了解|不明白)"
# After a shrug: an offer to find out is the civil answer (我不知道，我帮您问一下).
_OFFER = (rf"(?!{_GAP}(?:我|我们)(?:这就|马上|现在|先|再|去|来|可以)*(?:帮|替|给|为)?{_YOU}?(?:去)?"
          r"(?:问|查|打听|了解|核实|咨询|联系|请示|确认))")


@dataclass(frozen=True)
class Phrase:
    number: int  # the item of 6.3.2 (26: one the centre added)
    phrase: str  # as the 规范 (or the registry) writes it
    pattern: str
    alternative: str  # what to write instead (6.3.1)


FORBIDDEN: list[Phrase] = [
    Phrase(1, "我不知道，你去问 xxx",
           rf"不(?:知道|清楚|晓得)(?:[{_PUNCT}]+{_YOU}?(?:自己|还是|就)?再?(?:去|到)?|{_YOU}(?:自己|还是|就)?再?(?:去|到))"
           r"(?:问|找)(?!我)",
           "请稍等，我帮您问一下，再给您答复。"),
    Phrase(2, "不归我管，问别人去",
           rf"不归我(?:们)?.{{0,4}}管|不是我(?:们)?.{{0,4}}管的|不关我(?:们)?的?事|我(?:们)?管不着|与我(?:们)?无关"
           rf"|{_START}(?:这个|这事|这)?我(?:们)?(?:可)?不管{_END}|我(?:们)?管不了|关我(?:们)?(?:什么|啥|屁)事|不是我(?:们)?的事(?![项务])"
           rf"|(?:{_START}|你|回去)找(?!(?:我们)?(?:领导|局长|主任|科长|上级|上面))[^{_PUNCT}]{{1,6}}去(?:吧)?{_END}"
           rf"|(?:问|找)(?:别人|别的人|其他人|别处|别的部门|其他部门)(?:去|吧)"
           rf"|{_YOU}(?:自己)?(?:去)?(?:问|找)(?:别人|别的人|其他人|别处)",
           "这个事项由相关部门负责，我帮您联系，请您稍等。"),
    Phrase(3, "你问我，我问谁",
           rf"我问谁|我(?:哪|哪儿|哪里)知道|{_START}我怎么(?:会)?知道{_END}",
           "请稍等，我帮您问清楚后再答复您。"),
    Phrase(4, "不知道、不清楚、不行、不能办",
           rf"{_START}{_SUBJECT}{_ADVERB}(?:{_SHRUG}|{_REFUSE}){_GAP}(?:{_SHRUG}|{_REFUSE})"
           rf"|{_START}{_SUBJECT}{_ADVERB}{_SHRUG}{_END}{_OFFER}"
           rf"|{_START}{_SUBJECT}{_ADVERB}{_REFUSE}{_END}",
           "请稍等，我帮您问一下；暂时不能办理的，请说明原因和需要补充的材料，例如“对不起，暂时不能办理，原因是……，请您……”。"),
    Phrase(5, "说你不合法，你就不合法",
           rf"说{_YOU}?不(?:合法|行|符合|能办){_NEAR}{_YOU}?就(?:是)?不(?:合法|行|符合|能办)|我说了算"
           rf"|{_START}不(?:合法|行|符合|能办)就是不(?:合法|行|符合|能办)",
           "对不起，根据有关规定，您的情况暂不符合条件，原因是……，我给您详细说明。"),
    Phrase(6, "别废话，把资料和证件拿过来",
           rf"(?:别|少|不要)(?:说)?(?:废话|啰嗦|罗嗦|啰唆|磨叽|墨迹|叨叨)|废什么话|哪来(?:那么|这么)多废话"
           rf"|{_NOT_POLITE}把(?:资料|材料|证件|身份证|户口本|东西){_NEAR}(?:拿|递|交|给我)(?:过来|来)",
           "您好，请您出示身份证件和申请材料，谢谢。"),
    Phrase(7, "为人民服务不是为你服务",
           rf"不是(?:专门)?(?:为|给|伺候|侍候){_YOU}(?:一个人)?(?:服务|办事)|不是(?:伺候|侍候){_YOU}"
           rf"|不是{_YOU}(?:家|的)(?:保姆|佣人|仆人)",
           "您好，请问有什么可以帮您？"),
    Phrase(8, "你怎么什么也不懂",
           rf"(?:什么|啥)(?:也|都)不(?:懂|会|知道)|(?:这|这个|这些|这点)(?:也|都)不懂|{_YOU}懂不懂|怎么这么笨|笨死了"
           rf"|说了{_YOU}?也不懂|(?:跟|和){_YOU}说不清",
           "没关系，我给您详细说一下。"),
    Phrase(9, "××不在，没法找",
           rf"不在(?:办公室|单位|岗|位置|座位)?(?:上)?{_GAP}(?:{_YOU}|我|我们)?(?:也|就)?(?:没法|没办法|找不到|找不着|办不了|没人办|没人管|等着吧)",
           "他暂时不在，我帮您联系，请您稍等。"),
    Phrase(10, "我问什么您就答什么",
           rf"我问什么{_GAP}{_YOU}?就?(?:答|回答|说)什么|问{_YOU}什么{_GAP}就?(?:答|回答|说)什么"
           rf"|(?:别|不要|少)(?:问|打听)(?:那么|这么)多|{_START}(?:别|不要|少)(?:多)?问了?{_END}",
           "请您说一下您的情况，我帮您看看。"),
    Phrase(11, "有牌子，自己看清楚了再来",
           rf"有牌子{_NEAR}(?:自己|{_YOU})|自己看(?:牌子|告示|公告|墙上)|看清楚(?:了)?再来|(?:墙上|牌子上)(?:都)?写着(?:呢|吗|嘛)",
           "请您看一下这边的指引，有不清楚的我给您讲解。"),
    Phrase(12, "怎么搞的，连这个都不会",
           rf"怎么搞的|搞什么(?:名堂|鬼)|连(?:这|这个|这些|这点|这么简单的?){_NEAR}(?:都|也)不会"
           rf"|(?:这|这个|这么简单)(?:的)?(?:都|也)不会",
           "没关系，我来教您填写。"),
    Phrase(13, "不懂？自己看说明去",
           rf"自己(?:去)?看(?:说明|说明书|指南|办事指南|须知)(?:去|吧)?{_END}|看(?:说明|说明书|指南)去|{_START}自己看去{_END}"
           rf"|自己(?:上网|去网上|到网上|网上)?查去|{_START}(?:你)?自己(?:上网)?查(?:吧)?{_END}",
           "我给您讲一下办理要求，有不清楚的请随时问我。"),
    Phrase(14, "你看不懂汉字吗",
           rf"看不懂(?:汉字|中文|字)(?:吗|啊|呀|么|嘛|[？?！!])|{_YOU}(?:是)?看不懂(?:汉字|中文|字)"
           rf"|{_YOU}(?:是)?(?:不|没)(?:识字|认字|认识字)|不(?:识字|认字)(?:吗|啊|呀|么|嘛)|{_YOU}(?:是)?文盲"
rf"|听不懂人话|你(?:是不是)?听不懂|{_START}听不懂(?:吗|啊|么|嘛)",
           "这里写的是……，我给您解释一下。"),
    Phrase(15, "不是给你说了吗？怎么还不清楚",
           rf"不是(?:给|跟|和|对|同|告诉)(?:过)?{_YOU}(?:说|讲)?(?:过)?了?(?:吗|么|嘛)|怎么(?:还|就)?(?:是)?不(?:清楚|明白|懂)"
           rf"|还(?:是)?不(?:明白|清楚|懂)(?:吗|啊|么|嘛)|(?:说|讲)了(?:多少|几|好几|八百)(?:遍|次)",
           "对不起，我再给您说一遍。"),
    Phrase(16, "有本事，你随便告。有意见投诉去",
           rf"(?<![如若])有意见{_GAP}{_YOU}?(?:就)?(?:去)?(?:投诉|告)(?:去|吧|啊|呗|好了)?|(?<!如)不服{_GAP}{_YOU}?(?:就)?(?:去)?(?:投诉|告)"
           rf"|随便(?:你|您)?(?:去)?(?:告|投诉)|爱(?:告|投诉)(?:不)?"
           rf"|{_YOU}(?:就)?(?:去)?投诉(?:去|吧|啊|呗|好了|我)|投诉去|{_YOU}(?:去)?告(?:我|去)|告去吧|有本事|有能耐"
rf"|(?:投诉|告)(?:我)?也没用|爱(?:去)?哪(?:儿|里)?(?:告|投诉)",
           "如有意见，欢迎您提出，我们认真改进；也可以拨打监督电话反映。"),
    Phrase(17, "有意见，找领导去",
           rf"(?<![如若])有意见{_GAP}{_YOU}?(?:就)?(?:去)?找|找(?:我们)?(?:领导|局长|主任|科长|上级|上面)(?:说)?(?:去|吧)",
           "您的意见我们会向领导反映，并尽快给您答复。"),
    Phrase(18, "急什么，没看我正忙着吗",
           rf"(?:急|着急|催|慌)(?:什么|啥)|没看(?:见|到)?我(?:正|在|正在)?忙|我(?:正|在|正在)?忙着(?:呢|哪|吗)"
           rf"|{_START}(?:别|不要)催(?:了|啊)?{_END}|等着吧|{_START}(?:你)?等着{_END}|(?:后面|到后面|自己)?排队去",
           "对不起，请您稍等，我马上为您办理。"),
    Phrase(19, "我不是说过了吗",
           rf"我不是(?:都)?(?:说|讲|告诉)(?:过)?(?:{_YOU})?了?(?:吗|么|嘛)?|我(?:都|已经|早就|早|刚才|刚刚)*(?:说|讲)过(?:了|多少遍)"
           rf"|(?:都|已经)(?:说|讲)(?:过)?了?(?:多少|几|好几)(?:遍|次)|不是(?:都)?(?:说|讲)(?:过)?了(?:吗|么|嘛)"
rf"|{_START}(?:都|已经|早就)?(?:说|讲)过(?:了|啦){_END}",
           "对不起，我再给您解释一遍。"),
    Phrase(20, "快点，我下班",
           rf"(?:快(?:点|些|一点)|赶紧)(?:儿|的)?{_NEAR}(?:我|我们)?(?:要|快|马上)?下班|下班了?{_NEAR}(?:快(?:点|些|一点)|赶紧)"
           rf"|{_START}(?:{_YOU})?(?:快点|快些|快一点)(?:儿)?{_END}|快点快点|赶紧的|麻利(?:点|些)|磨蹭(?:什么|啥)|(?:别|不要)磨蹭|磨磨蹭蹭",
           "请您不要着急，我会尽快为您办好。"),
    Phrase(21, "谁办的你找谁去",
           rf"谁(?:给{_YOU})?(?:办|受理|经手|接|收)的{_GAP}{_YOU}?(?:就)?(?:去)?找谁|不是我(?:办|经手|受理)的",
           "请稍等，我帮您联系经办的同事。"),
    Phrase(22, "机器坏了，不办了",
           rf"(?:机器|电脑|系统|网络|网|打印机|设备)(?:又)?(?:坏了|故障|断了|出问题了|瘫痪了?|崩了|卡了|坏啦){_NEAR}"
           rf"(?<!暂时)(?<!暂)(?:不办了|办不了|没法办|不能办|明天再来|改天再来|回去吧|没法打|打不了)",
           "对不起，设备出了故障，我们正在抢修，请您稍等；修好后我们第一时间通知您。"),
    Phrase(23, "还想不想办了",
           rf"想不想办|(?:还|到底)办不办|爱办不办|不想办(?:就|你)?(?:走|回去|算了)|不办(?:就)?(?:拉倒|算了|走人)"
rf"|(?:不懂|不会)就别(?:来)?办",
           "请问您还需要办理吗？我来帮您。"),
    Phrase(24, "我的态度就这样",
           rf"我(?:的)?态度就(?:是)?这(?:样|个样|样子)?|我就(?:是)?这(?:个|种)?态度|就这样{_NEAR}怎么(?:了|着)"
           rf"|{_YOU}能(?:把|拿)我怎么(?:样|着)|爱咋(?:咋|地|的)",
           "对不起，是我的态度不好，请您谅解。"),
    Phrase(25, "下班了/没时间，明天再来",
           rf"(?:下班了|下班啦|已下班|(?<![你您如若])没(?:时间|空)|忙不过来|今天不办了){_NEAR}(?:明天|改天|下次|过两天|回头)(?:再)?(?:来|办|说)"
           rf"|{_START}(?:我|我们)(?:要|快|马上|已经)?下班(?:了|啦){_END}|{_START}(?:要|快|马上)下班了{_END}"
rf"|{_START}{_YOU}?(?:明天|改天|下次|过两天|回头)再(?:来|说){_END}|{_START}(?:我|我们)?(?:现在|今天)?没(?:空|时间){_END}",
           "对不起，今天的办理时间已过，我们为您预约明天优先办理，您看可以吗？"),
]
FORBIDDEN_PHRASES: list[tuple[int, str, str]] = [(p.number, p.phrase, p.pattern) for p in FORBIDDEN]
OTHER_ITEM = 26
OTHER_ITEM_TEXT = "其他有损窗口形象的不文明用语"

# Sentences a courteous clerk writes: none may be refused. The tests read them, and the registry refuses an
# added phrase that would refuse one of them (a phrase like "办理" would stop every notice).
CIVIL_EXAMPLES: tuple[str, ...] = (
    "您好，请您携带身份证原件到窗口办理。",
    "材料齐全后即可办理。",
    "暂不能受理的原因是缺少收入证明，请补充后再来，我们为您预留了办理号。",
    "申请人不行使该权利的，视为放弃。",
    "您清楚了吗？有不明白的地方请随时问我。",
    "这个事项不归我们窗口受理，我们已为您转交民政局帮办员，他会在半小时内联系您。",
    "这个问题我不知道，我去问一下审批科，稍后给您回电话。",
    "我不知道，我帮您问一下。",
    "不清楚的话，我帮您查一下再答复您。",
    "不知道您问的是低保还是临时救助？",
    "表格里有不知道的，您问我，我帮您查。",
    "您的材料还缺少收入证明，请到所在村委会开具后再来，我们为您预留了办理号。",
    "如有意见，欢迎拨打监督电话7212345反映。",
    "如有意见投诉，请拨打监督电话。",
    "如对处理结果不满意，可向县政务服务中心投诉，电话7212345。",
    "请您核对一下，有不清楚的地方可以随时问我们。",
    "请您放心，您问什么我们都会一次性告知清楚。",
    "您好，为了让您快点拿到证照，我们已经为您加急办理。",
    "王科长不在办公室，我已电话联系他，请您稍等十分钟。",
    "您看这样行不行？不行的话我们再调整。",
    "如果这样填写不行，我们帮您改。",
    "系统故障，暂时不能办理，我们已为您登记，恢复后第一时间电话通知您。",
    "系统故障，我们已报修，预计半小时恢复，请您稍候。",
    "请您把身份证递过来，谢谢。",
    "对不识字的群众，我们提供代填服务。",
    "您没时间的话，我们可以上门为您办理。",
    "我们下午五点下班，请您明天上午九点后再来，我们为您优先办理。",
    "您别着急，我们马上为您办理。",
    "您是否还想继续办理？",
    "如需进一步协调，首席服务专员会与您联系。",
    "您可以找科长反映情况，他的电话是7212345。",
    "请您仔细阅读办事指南，有不明白的我给您讲解。",
    "对不起，我再给您说一遍：需要带户口本原件。",
    "我们的服务态度就是让您少跑腿。",
    "您的申请不符合条件，原因是年龄未满60周岁，依据是《办法》第三条。",
    "我们会尽快核实，给您一个明确的答复。",
    "请您在申请表上签字，不清楚的栏目我帮您填写。",
    "感谢您的耐心等待，您的材料已经审核通过。",
    "该事项暂时不能网上办理，请您到窗口办理，我们为您预约。",
    "我们已经帮您问清楚了：需要提供近六个月的银行流水。",
    "",
)


# --- finding ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Hit:
    number: int
    phrase: str
    alternative: str

    def message(self) -> str:
        """The field error shown to the clerk: the rule and what to write instead."""
        rule = (f"6.3.2 服务禁忌语言第{self.number}条" if self.number != OTHER_ITEM
                else f"6.3.2 服务禁忌语言第{OTHER_ITEM}条“{OTHER_ITEM_TEXT}”，服务中心登记")
        text = f"不能使用服务禁忌用语“{self.phrase}”（{rule}）。"
        return text + (f"请改用文明用语，例如：“{self.alternative}”" if self.alternative else "请改用文明规范用语。")


_WHITE = re.compile(r"[\s\u3000]+")
_ALL_PUNCT = re.compile(rf"[{_PUNCT}\s\u3000]+")
_COMPILED = [(p, re.compile(p.pattern)) for p in FORBIDDEN]
MAX_TEXT = 20000  # longer text is checked in its first MAX_TEXT characters (the forms allow far less)


def _readings(text: str) -> tuple[str, str]:
    """The text with white space removed, and with white space read as a clause boundary."""
    text = text[:MAX_TEXT]
    return _WHITE.sub("", text), _WHITE.sub("，", text.strip())


def plain(text: str) -> str:
    """What an added phrase and a text are compared as: no white space, no punctuation."""
    return _ALL_PUNCT.sub("", text or "")


def _builtin(text: str) -> Hit | None:
    best: tuple[int, int, Phrase] | None = None
    for reading in _readings(text):
        for phrase, pattern in _COMPILED:
            for found in pattern.finditer(reading):
                length = found.end() - found.start()
                # The longest match names the item (机器坏了，不办了 is item 22, not item 4's 不办了).
                if best is None or length > best[0] or (length == best[0] and phrase.number < best[2].number):
                    best = (length, phrase.number, phrase)
    return None if best is None else Hit(best[2].number, best[2].phrase, best[2].alternative)


def find_forbidden(text: str) -> tuple[int, str] | None:
    """The forbidden phrase of 6.3.2 in ``text`` as (number, phrase), or None (the 25 items only)."""
    hit = _builtin(text) if text else None
    return None if hit is None else (hit.number, hit.phrase)


@dataclass(frozen=True)
class Extra:
    """A phrase the centre added (item 26): plain words, each compared without spaces and punctuation."""

    phrase: str
    words: tuple[str, ...]
    alternative: str


class PhraseBook:
    """The 25 items plus the phrases added in the registry. Every check asks the database for one
    aggregate (count, newest id, active count) of the added phrases and re-reads them when it changed,
    so a phrase added in one worker refuses the next submission in every other, without a restart."""

    def __init__(self, db=None) -> None:
        self.db = db
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self.extras: list[Extra] = []

    def _fresh(self) -> list[Extra]:
        if self.db is None:
            return self.extras
        table = ExtraPhrase.__table__
        try:
            with self.db.engine.connect() as conn:
                stamp = tuple(v or 0 for v in conn.execute(select(
                    func.count(table.c.id), func.max(table.c.id),
                    func.sum(case((table.c.active, 1), else_=0)))).one())
                if stamp == self._stamp:
                    return self.extras
                rows = conn.execute(select(table.c.phrase, table.c.variants, table.c.alternative)
                                    .where(table.c.active).order_by(table.c.id)).all()
        except SQLAlchemyError as exc:  # no table yet (bdd check before bdd init): the 25 items hold
            if self._stamp is not None:
                log.warning("added forbidden phrases could not be re-read, keeping the last ones: %s", exc)
            return self.extras
        extras = [Extra(r.phrase, tuple(w for w in (plain(x) for x in [r.phrase, *(r.variants or [])]) if w),
                        r.alternative or "") for r in rows]
        with self._lock:
            self.extras, self._stamp = extras, stamp
        return extras

    def find(self, text: str) -> Hit | None:
        """The forbidden phrase in ``text`` (the 25 items first, then the added ones), or None."""
        if not text or not text.strip():
            return None
        hit = _builtin(text)
        if hit is not None:
            return hit
        flat = plain(text[:MAX_TEXT])
        for extra in self._fresh():
            if any(word in flat for word in extra.words):
                return Hit(OTHER_ITEM, extra.phrase, extra.alternative)
        return None

    def errors(self, fields: Iterable[tuple[str, Any]]) -> dict[str, list[str]]:
        """{field: [message]} for each (field, text) that holds a forbidden phrase."""
        out: dict[str, list[str]] = {}
        for field, value in fields:
            hit = self.find(value) if isinstance(value, str) else None
            if hit is not None:
                out[field] = [hit.message()]
        return out


BUILTIN_BOOK = PhraseBook()  # the 25 items alone, for code that has no database
