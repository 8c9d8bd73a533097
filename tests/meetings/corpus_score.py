"""Score the minutes importer against a corpus of real minutes read by hand.

Each document in `tests/meetings/corpus/` is a `<slug>.txt` kept exactly as it was found and a
`<slug>.json` with where it came from and the facts a careful clerk reads from it
(`expected`). The seed's facts are in `corpus/seed.expected.json`.

What counts as one fact:
- each header field: held_on, start_time, place, chair, recorder (a field the document does not
  have is expected as null, and the importer must leave it empty);
- each expected motion: its kind, its subject, its resolution (three facts);
- each expected tracked item (上次會議追蹤列管事項 and tables under other titles): its subject and,
  where the clerk wrote one, its resolution; each expected new tracked item: its subject.

Motions (and tracked items) are paired in document order: the pairing keeps both sequences in
order and maximises the similarity of the paired subjects+resolutions, and a pair needs at
least PAIRING_FLOOR similarity, so a motion the importer lost is missed rather than matched
with a neighbour. Every motion the importer produced that pairs with nothing is invented: it
adds its three facts to the total, all wrong (precision); a missed motion loses its three
(recall). Tracked items likewise.

When two texts match: both are normalised (Unicode NFKC, so full-width and half-width letters,
digits and punctuation fold together, then every whitespace character removed); they match when
equal, or when one contains the other and the shorter has at least CONTAINMENT_SHARE of the
longer's characters. So a long subject that kept its "1." numbering or lost a closing "。" still
matches, and one that swallowed the next paragraph does not; on a short text even leftover
numbering such as "(二)、" is a miss. Dates compare as ISO strings, times as HH:MM. A document
the importer refuses or crashes on scores none of its facts.

`python -m tests.meetings.corpus_score` prints the table; `--misses` lists every wrong fact.
"""

import difflib
import json
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).resolve().parent / "corpus"
SEED_EXPECTED = CORPUS / "seed.expected.json"

HEADER_FIELDS = ("held_on", "start_time", "place", "chair", "recorder")
MOTION_FACTS = ("kind", "subject", "resolution")
CONTAINMENT_SHARE = 0.9
PAIRING_FLOOR = 0.35
LIMIT = 0.90


# NFKC folds full-width forms (，：；（） and letters, digits); the ideographic full stop has no
# compatibility mapping, so it is folded by hand.
_PUNCTUATION = str.maketrans({"。": "."})


def normalise(text):
    """The text with width and whitespace differences folded away ("" for None)."""
    if text is None:
        return ""
    folded = unicodedata.normalize("NFKC", str(text)).translate(_PUNCTUATION)
    return "".join(ch for ch in folded if not ch.isspace())


def texts_match(expected, got):
    a, b = normalise(expected), normalise(got)
    if a == b:
        return True
    if not a or not b:
        return False
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    return short in long_ and len(short) >= CONTAINMENT_SHARE * len(long_)


def similarity(expected, got, keys):
    a = "".join(normalise(expected.get(k)) for k in keys)
    b = "".join(normalise(got.get(k)) for k in keys)
    if not a and not b:
        return 1.0
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def pair_in_order(expected, got, keys):
    """[(i, j)] pairing expected[i] with got[j], order kept on both sides, total similarity
    maximised, no pair below PAIRING_FLOOR."""
    n, m = len(expected), len(got)
    sim = [[similarity(e, g, keys) for g in got] for e in expected]
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            take = sim[i][j] + best[i + 1][j + 1] if sim[i][j] >= PAIRING_FLOOR else -1.0
            best[i][j] = max(take, best[i + 1][j], best[i][j + 1])
    pairs, i, j = [], 0, 0
    while i < n and j < m:
        if sim[i][j] >= PAIRING_FLOOR and best[i][j] == sim[i][j] + best[i + 1][j + 1]:
            pairs.append((i, j))
            i, j = i + 1, j + 1
        elif best[i][j] == best[i + 1][j]:
            i += 1
        else:
            j += 1
    return pairs


@dataclass
class Miss:
    fact: str
    expected: object
    got: object


@dataclass
class Score:
    slug: str
    right: int = 0
    total: int = 0
    invented: int = 0  # motions and tracked items the importer made up
    misses: list = field(default_factory=list)
    error: str | None = None

    @property
    def share(self):
        return self.right / self.total if self.total else 1.0

    def fact(self, name, ok, expected, got):
        self.total += 1
        if ok:
            self.right += 1
        else:
            self.misses.append(Miss(name, expected, got))


def _header_ok(name, expected, got):
    if name in ("held_on", "start_time"):
        return (expected or None) == (got or None)
    return texts_match(expected, got)


def _score_list(score, label, expected, got, keys):
    pairs = dict(pair_in_order(expected, got, keys))
    used = set(pairs.values())
    for i, item in enumerate(expected):
        j = pairs.get(i)
        mine = got[j] if j is not None else None
        for key in keys:
            if key not in item:
                continue
            want = item[key]
            have = mine.get(key) if mine else "(missing)"
            ok = mine is not None and (want == have if key == "kind" else texts_match(want, have))
            score.fact(f"{label}[{i + 1}].{key}", ok, want, have)
    for j, item in enumerate(got):
        if j in used:
            continue
        score.invented += 1
        for key in keys:
            score.fact(f"{label} invented #{j + 1}.{key}", False, None, item.get(key))


def score_result(slug, expected, result):
    """Compare the importer's JSON (`ParseResult.as_json()`) with the clerk's facts."""
    score = Score(slug)
    for name in HEADER_FIELDS:
        score.fact(
            name,
            _header_ok(name, expected.get(name), result.get(name)),
            expected.get(name),
            result.get(name),
        )
    _score_list(
        score, "motion", expected.get("motions", []), result.get("motions", []), MOTION_FACTS
    )
    _score_list(
        score,
        "tracked",
        expected.get("tracked_items", []),
        result.get("tracked_items", []),
        ("subject", "resolution"),
    )
    if "new_tracked_items" in expected or result.get("new_tracked_items"):
        _score_list(
            score,
            "new_tracked",
            expected.get("new_tracked_items", []),
            result.get("new_tracked_items", []),
            ("subject",),
        )
    return score


def _failed(slug, expected, error):
    """A document the importer refused or crashed on scores nothing, out of all its facts."""
    score = score_result(slug, expected, {})
    score.right = 0
    score.error = error
    return score


def import_document(path):
    from meetings import importer

    text = importer.text_from_upload(path.read_bytes(), path.name)
    return importer.parse(text).as_json()


def score_document(slug, text_path, expected):
    try:
        result = import_document(text_path)
    except Exception as exc:  # a refusal or a crash is scored, not raised: it is a finding
        return _failed(slug, expected, f"{type(exc).__name__}: {exc}")
    return score_result(slug, expected, result)


def corpus_documents(corpus=CORPUS):
    """[(slug, text path, metadata)] for every <slug>.txt with its <slug>.json, by name."""
    documents = []
    for text_path in sorted(corpus.glob("*.txt")):
        meta = json.loads(text_path.with_suffix(".json").read_text(encoding="utf-8"))
        documents.append((text_path.stem, text_path, meta))
    return documents


def score_corpus(corpus=CORPUS):
    return [
        score_document(slug, path, meta["expected"])
        for slug, path, meta in corpus_documents(corpus)
    ]


def score_seed():
    meta = json.loads(SEED_EXPECTED.read_text(encoding="utf-8"))
    return score_document("seed", ROOT / meta["text"], meta["expected"])


def total_share(scores):
    right = sum(s.right for s in scores)
    total = sum(s.total for s in scores)
    return right / total if total else 1.0


def table(scores, limit=LIMIT):
    lines = [f"{'document':<36} {'right':>5} {'facts':>5} {'share':>7} {'invented':>8}"]
    for s in scores:
        note = f"  ({s.error})" if s.error else ""
        lines.append(
            f"{s.slug:<36} {s.right:>5} {s.total:>5} {s.share:>7.1%} {s.invented:>8}{note}"
        )
    right, total = sum(s.right for s in scores), sum(s.total for s in scores)
    lines.append(
        f"{'TOTAL':<36} {right:>5} {total:>5} {total_share(scores):>7.1%}"
        f"   limit {limit:.0%}: {'met' if total_share(scores) >= limit else 'NOT met'}"
    )
    return "\n".join(lines)


def _short(value, width=70):
    text = "∅" if value is None else str(value).replace("\n", "⏎")
    return text if len(text) <= width else text[: width - 1] + "…"


def misses_report(scores):
    lines = []
    for s in scores:
        for miss in s.misses:
            lines.append(
                f"{s.slug} {miss.fact}\n    expected: {_short(miss.expected)}\n"
                f"    got:      {_short(miss.got)}"
            )
    return "\n".join(lines)


def main(argv=None):
    import os

    import django

    argv = sys.argv[1:] if argv is None else argv
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings_test")
    django.setup()
    seed = score_seed()
    scores = score_corpus()
    print(f"seed: {seed.right}/{seed.total} facts, {seed.invented} invented")
    print(table(scores))
    if "--misses" in argv:
        print()
        print(misses_report([seed, *scores]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
