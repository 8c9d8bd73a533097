"""散會（12 時 30 分）, and whatever follows it (often an attached form): kept, warned once."""

from portal import rocdate

from .sections import SectionReader


class Adjourn(SectionReader):
    def __init__(self, reading):
        super().__init__(reading)
        self.trailing_warned = False

    def open(self, value, line):
        inner = value.strip("()（） ")
        if inner:
            try:
                self.r.adjourned_time = rocdate.parse_time(inner)
            except rocdate.ROCDateError:
                self.r.warn(line.number, f"無法辨識散會時間「{value}」。")
                self.r.keep("adjourn", value, line.number)
        self.trailing_warned = False

    def feed(self, line):
        # e.g. an attached survey form after 散會: kept verbatim (tabs included), warned once
        self.r.keep("adjourn", line.raw.strip() if "\t" in line.raw else line.text, line.number)
        if not self.trailing_warned:
            self.r.warn(
                line.number,
                "「散會」之後還有文字（可能是附件），已保留在散會段落之後，請確認是否另存為附件。",
            )
            self.trailing_warned = True
