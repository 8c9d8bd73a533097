"""The one table of decisions a meeting may take on a tracked item, and how to read them from the
決議 text of the minutes. Pure Python: no database.

| 決議     | from   | to     | needs         |
|----------|--------|--------|---------------|
| 繼續列管 | open   | open   |               |
| 本案解列 | open   | closed |               |
| 併案     | open   | merged | 併入的案號     |

Anything else is refused with a `TransitionError` whose message is in Chinese.
"""

import re
from dataclasses import dataclass

OPEN, CLOSED, MERGED = "open", "closed", "merged"


class TransitionError(ValueError):
    """A decision that the table does not allow; str() is a message for people."""


@dataclass(frozen=True)
class Decision:
    code: str
    label: str
    from_states: frozenset
    to_state: str
    needs_target: bool = False

    def default_resolution(self, target_case_no=None):
        if self.needs_target:
            return f"本案併入 {target_case_no} 案。"
        return f"{self.label}。"


DECISIONS = {
    d.code: d
    for d in (
        Decision("continue", "繼續列管", frozenset({OPEN}), OPEN),
        Decision("close", "本案解列", frozenset({OPEN}), CLOSED),
        Decision("merge", "併案", frozenset({OPEN}), MERGED, needs_target=True),
    )
}
STATE_LABELS = {OPEN: "列管中", CLOSED: "已解列", MERGED: "已併案"}
CHOICES = [(d.code, d.label) for d in DECISIONS.values()]
ALLOWED_LABELS = "、".join(d.label for d in DECISIONS.values())

CASE_NO_RE = re.compile(r"\d{2,3}-\d{2}-[A-Z]?\d{2,3}")
# A motion's 決議 that asks for the matter to be tracked, e.g. 本案列為下次會議列管事項。
_TRACK_RE = re.compile(r"(列為|列入)(下次會議)?(追蹤)?列管")


def decision(code):
    try:
        return DECISIONS[code]
    except KeyError:
        raise TransitionError(f"「{code}」不是可用的決議；只能選擇：{ALLOWED_LABELS}。") from None


def check(code, from_state, target=None, target_state=None, item_case_no=None):
    """The Decision for `code` applied to an item in `from_state`, or TransitionError."""
    d = decision(code)
    if from_state not in d.from_states:
        raise TransitionError(
            f"本案目前為「{STATE_LABELS.get(from_state, from_state)}」，不能再決議「{d.label}」。"
        )
    if d.needs_target:
        if not target:
            raise TransitionError("併案須指明併入哪一個案號。")
        if target == item_case_no:
            raise TransitionError("不能併入本案自己。")
        if target_state is not None and target_state != OPEN:
            raise TransitionError(f"案號 {target} 已不在列管中，不能併入。")
    return d


def parse_resolution(text):
    """Read a 決議 text of the minutes: (code, merge target case number or None).

    Empty text means the meeting has not decided yet: (None, None). Text that maps to no row of
    the table raises TransitionError."""
    text = (text or "").strip()
    if not text:
        return None, None
    if "解列" in text:
        return "close", None
    if "併案" in text or "併入" in text:
        match = CASE_NO_RE.search(text)
        return "merge", match.group(0) if match else None
    if "繼續列管" in text or "持續列管" in text or "續列管" in text:
        return "continue", None
    raise TransitionError(f"決議「{text[:40]}」不是可用的決議；只能是：{ALLOWED_LABELS}。")


def asks_tracking(resolution):
    """Does a motion's 決議 ask for the matter to be tracked at the next meetings?"""
    text = resolution or ""
    return bool(_TRACK_RE.search(text)) and "不列管" not in text
