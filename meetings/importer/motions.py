"""提案討論 and 臨時動議: motions, each 案由 / 說明 / 決議 / 提案單位 (a field may run over
several lines)."""

import re

from .result import ParsedMotion
from .sections import SectionReader
from .text import Line, append

FIELDS = (
    (re.compile(r"^(?:案由|提案|案\s*由)\s*[一二三四五六七八九十\d]*\s*[:：]\s*"), "subject"),
    (re.compile(r"^說\s*明\s*[:：]\s*"), "explanation"),
    (re.compile(r"^(?:決\s*議|決\s*定)\s*[:：]\s*"), "resolution"),
    (re.compile(r"^(?:提案單位|提案人|提案學校)\s*[:：]\s*"), "proposer"),
)


class Motions(SectionReader):
    def __init__(self, reading, kind):
        super().__init__(reading)
        self.kind = kind  # "proposal" (提案討論) | "extempore" (臨時動議)
        self.motion = None
        self.field = None  # the field the last line went to

    def open(self, value, line):
        self.motion, self.field = None, None
        if value and value not in ("無", "略"):
            self.feed(Line(line.number, value, value))

    def feed(self, line):
        text = line.text
        for pattern, name in FIELDS:
            m = pattern.match(text)
            if not m:
                continue
            value = text[m.end() :].strip()
            if name == "subject" or self.motion is None or getattr(self.motion, name):
                if name != "subject":
                    self.r.warn(line.number, "「說明／決議」之前沒有案由，已另立一案，請核對。")
                self.motion = ParsedMotion(kind=self.kind, line=line.number)
                self.r.motions.append(self.motion)
            setattr(self.motion, name, value)
            self.field = name
            return
        if self.motion is not None:
            setattr(self.motion, self.field, append(getattr(self.motion, self.field), line.text))
            return
        self.reading.free(line)
