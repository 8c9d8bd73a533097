"""提案討論 and 臨時動議: motions, each 案由 / 說明 / 決議 / 提案單位 (a field may run over
several lines).

Motions come in several shapes, each read as a class:
- labelled fields: 案由 (案由一, 案 由, 提案一, 第一案, 議題 1., 動議 1.), 說明 (理由; a 辦法
  after it stays in the explanation on its own line, `辦法：…`),
  決議 (決定, 大會決議, 表決, 結論; 附帶決議 is kept as part of it), 提案單位 (動議人, 提案人);
- a record that starts with its 動議人 / 提案人 line, the 案由 following;
- numbered items with no labels (一、宿舍裝設新監視器案): the item's line is the subject (with
  the lines that continue it); what follows under lower numbering (1. 甲、 (一)) is the
  resolution; `1. 關於社團定位：小狼團…` is a subject and its resolution on one line.
"""

import re

from .result import ParsedMotion
from .sections import SectionReader
from .text import TERMINAL, Line, append, key_of

_N = r"[一二三四五六七八九十百\d]+"
# (pattern on the line's key: NFKC, no spaces) → field; the match's end is where the value starts
FIELDS = (
    (re.compile(rf"^(?:案由(?:{_N})?|案名|提案{_N}|第{_N}案|案{_N})[:：、.]?(?=.)"), "subject"),
    (re.compile(rf"^(?:議題|動議|提案|討論案|議案)(?:{_N})[.、:：]"), "subject"),
    (re.compile(r"^(?:辦法|建議辦法)[:：]"), "method"),
    (re.compile(r"^(?:提案說明|說明|理由)[:：]"), "explanation"),
    (re.compile(r"^附帶決議[:：]"), "rider"),
    (re.compile(r"^(?:大會決議|決議事項|決議|決定|表決結果|表決|結論)[:：]"), "resolution"),
    (re.compile(r"^(?:動議人|提案人|提案單位|提案學校|提案者)[:：]"), "proposer"),
    (re.compile(r"^(?:附議人|連署人|附議)[:：]"), "seconder"),
    (re.compile(r"^(?:編號|案號)[:：]"), "record"),  # a council record: 編號 / 類別 / 案由 / 決議
    (re.compile(r"^類別[:：]"), "seconder"),
)
_EMPTY = ("無", "略", "無。", "略。", "(無)", "（無）")

# numbering styles, as in 業務報告: the first one met in a section is its motions' level
MARKERS = (
    re.compile(r"^([一二三四五六七八九十]+)\s*[、.．﹑]\s*"),
    re.compile(r"^[(（]\s*([一二三四五六七八九十]+)\s*[)）]\s*[、.]?\s*"),
    re.compile(r"^(\d+)\s*[、.．](?!\d)\s*"),
    re.compile(r"^[(（]\s*(\d+)\s*[)）]\s*"),
    re.compile(r"^([甲乙丙丁戊己庚辛壬癸])\s*[、.．]\s*"),
    re.compile(r"^[(（]\s*([a-zA-Z])\s*[)）]\s*"),
)
_TOPIC_COLON = re.compile(r"^([^:：。，,]{2,15})[:：]\s*(.+)$")
# 許一成顧問：校服再利用… – a speaker, not a topic
_SPEAKER = re.compile(
    r"(?:顧問|校長|主任|老師|教師|會長|委員|議員|組長|家長|代表|主席|先生|女士|小姐|同學|董事|理事|幹事)$"
)
_ENDS_SENTENCE = ("。", "？", "?", "！", "!")


def _value_after(text, key_end):
    """The text of `text` after the first `key_end` non-space characters (its label)."""
    seen, i = 0, 0
    while i < len(text) and seen < key_end:
        if not text[i].isspace():
            seen += 1
        i += 1
    return text[i:].strip()


def _marker_of(text):
    for style, pattern in enumerate(MARKERS):
        m = pattern.match(text)
        if m:
            return style, m
    return None, None


class Motions(SectionReader):
    def __init__(self, reading, kind):
        super().__init__(reading)
        self.kind = kind  # "proposal" (提案討論) | "extempore" (臨時動議)
        self.reset()

    def reset(self):
        self.motion = None
        self.field = None  # the field the last line went to
        self.level = None  # the numbering style of this section's motions
        self.labelled = False  # the section writes 案由 / 決議 labels
        self.suspended = False  # under a heading of no known section: text, not motions

    def open(self, value, line):
        self.reset()
        if not value:
            return
        if value in _EMPTY:
            self.suspended = True  # 臨時動議：無 – what follows is not a motion
            return
        structured = any(p.match(key_of(value)) for p, _n in FIELDS) or _marker_of(value)[0]
        if structured is not None and structured is not False:
            self.feed(Line(line.number, value, value))
        else:
            # 提案：針對既有的投稿… – the heading's label is the motion's 案由
            self._field("subject", value, line)

    def _new(self, line):
        self.motion = ParsedMotion(kind=self.kind, line=line.number)
        self.r.motions.append(self.motion)
        return self.motion

    def feed(self, line):
        text = line.text
        key = key_of(text)
        for pattern, name in FIELDS:
            m = pattern.match(key)
            if m:
                self.suspended = False
                self._field(name, _value_after(text, m.end()), line)
                return
        if line.heading:
            # 肆、自由發言 or ### 審稿: a part of its own; its text is kept, not read as motions
            self.motion, self.suspended = None, True
            self.reading.free(line)
            return
        if self.suspended:
            self.reading.free(line)
            return
        style, m = _marker_of(text)
        if style is None and line.bullet:
            style, m = ("bullet", line.indent), None
        if style is not None and self._starts_motion(style):
            self._numbered(text[m.end() :].strip() if m else text, line, bullet=m is None)
            return
        if self.motion is not None:
            self._continue(line, sub=style is not None)
            return
        self.reading.free(line)

    def _field(self, name, value, line):
        motion = self.motion
        if name == "subject":
            self.labelled = True
            reuse = (
                motion is not None
                and not motion.resolution
                and (not motion.subject or (motion.numbered and not motion.explanation))
            )
            if not reuse:
                motion = self._new(line)
            motion.subject, motion.numbered = value, False
        elif name == "record":
            if motion is None or motion.resolution:
                motion = self._new(line)
            name = "seconder"
        elif name in ("proposer", "seconder"):
            if name == "proposer" and (motion is None or motion.resolution or motion.proposer):
                motion = self._new(line)
            if motion is None:
                motion = self._new(line)
            if name == "proposer":
                motion.proposer = value
        elif name == "rider":
            if motion is None:
                motion = self._new(line)
            motion.resolution = append(motion.resolution, "附帶決議：" + value)
            name = "resolution"
        elif name == "method" and motion is not None:
            # 說明 then 辦法 (a proposal's two parts): one explanation, 辦法 on its own line
            if motion.explanation:
                motion.explanation += "\n辦法：" + value
            else:
                motion.explanation = value
            name = "explanation"
        elif name == "resolution" and motion is not None and motion.resolution:
            # a second 決議 line of the same motion (its points written as bullets)
            motion.resolution = motion.resolution + "\n" + value
            self.r.warn(line.number, "同一案有第二個「決議」，已併入前一個決議，請核對。")
        else:
            name = "explanation" if name == "method" else name
            if motion is None or getattr(motion, name):
                self.r.warn(line.number, "「說明／決議」之前沒有案由，已另立一案，請核對。")
                motion = self._new(line)
            setattr(motion, name, value)
            if name == "resolution":
                self.labelled = True
        self.field = name

    def _starts_motion(self, style):
        if self.level is None:
            if self.motion is not None and self.labelled and not self.motion.resolution:
                return False  # numbered points inside a 案由 or 說明
            self.level = style
            return True
        return style == self.level

    def _numbered(self, text, line, *, bullet=False):
        motion = self._new(line)
        motion.numbered, motion.bullet = True, bullet
        m = _TOPIC_COLON.match(text)
        if m and _SPEAKER.search(m[1].strip()):
            motion.proposer, text = m[1].strip(), m[2].strip()  # 許一成顧問：校服再利用…
        elif m and not bullet:
            motion.subject, motion.resolution = m[1].strip(), m[2].strip()
            self.field = "resolution"
            return
        motion.subject = text.rstrip(":：")
        motion.open_colon = text.endswith((":", "："))
        self.field = "subject"

    def _continue(self, line, *, sub):
        motion = self.motion
        if self.field == "subject" and (motion.bullet or not motion.numbered):
            if motion.bullet or motion.subject.endswith(_ENDS_SENTENCE):
                self.field = "explanation"  # the subject is whole; what follows explains it
        elif self.field == "subject" and motion.numbered and motion.open_colon and not sub:
            # 請審議市政府提案第 33 號案：「…」 – the subject goes on after its colon
            motion.subject += "：" + line.text
            motion.open_colon = False
            return
        elif self.field == "subject" and motion.numbered:
            if sub or motion.subject.endswith(("案", "問題")) and not motion.resolution:
                self.field = "resolution"  # the points under a numbered item
            elif motion.subject.endswith(TERMINAL[:2]) and not sub:
                self.field = "resolution"
        if self.field in ("proposer", "seconder"):
            if self.field == "proposer":
                motion.proposer = append(motion.proposer, line.text)
            return
        value = getattr(motion, self.field)
        if self.field == "resolution" and value and sub:
            setattr(motion, self.field, value + "\n" + line.text)
        else:
            setattr(motion, self.field, append(value, line.text))
