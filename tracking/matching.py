"""Matching rows of an imported minutes table to motions and items by their wording. Pure Python.

The minutes rephrase: 柒、新追蹤列管事項 row 1 says 「為防範學生資料外洩，建議…需有校內簽核流程」
while 臨時動議四's 案由 is about 補習班招生電話 and only its 決議 mentions 簽核流程. So a row is
compared with both the 案由 and the 決議 of each candidate, and the best pairs are taken first.
"""

import re
from difflib import SequenceMatcher

_NOISE = re.compile(r"[\s，。、；：:;,.!！?？（）()「」『』\"'／/\-—…]+")
_FILLERS = ("提請討論", "有關", "建議", "是否", "本案")
THRESHOLD = 0.35


def normalise(text):
    text = _NOISE.sub("", text or "")
    for filler in _FILLERS:
        text = text.replace(filler, "")
    return text


def similarity(a, b):
    a, b = normalise(a), normalise(b)
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    if a in b or b in a:
        return 0.95
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def pair(rows, candidates, texts_of, *, in_order_fallback=True):
    """Pair row indexes with candidate indexes: best similarity first (at least THRESHOLD); when
    the rows and candidates left over are equally many, pair the rest in their order (the minutes
    list new items in the order of the motions that opened them).

    rows: list of strings; candidates: list of objects; texts_of(candidate) -> list of strings.
    Returns {row_index: candidate_index}."""
    scores = []
    for i, row in enumerate(rows):
        for j, cand in enumerate(candidates):
            score = max((similarity(row, t) for t in texts_of(cand)), default=0.0)
            scores.append((score, -i, -j, i, j))
    scores.sort(reverse=True)
    result, used = {}, set()
    for score, _, _, i, j in scores:
        if score < THRESHOLD:
            break
        if i in result or j in used:
            continue
        result[i] = j
        used.add(j)
    left_rows = [i for i in range(len(rows)) if i not in result]
    left_cands = [j for j in range(len(candidates)) if j not in used]
    if in_order_fallback and left_rows and len(left_rows) == len(left_cands):
        result.update(zip(left_rows, left_cands, strict=True))
    return result
