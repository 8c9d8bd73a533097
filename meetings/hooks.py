"""What meetings/ lets the apps built on a meeting add, without knowing them.

Dependencies point one way (portal ← meetings ← tracking, signups): meetings never imports those
apps. They fill these registries in their AppConfig.ready(), as every app fills the portal's
navigation and home blocks. With no app registered, minutes are imported, rendered and linked
just the same, only without what that app adds.

- `register_import_step(fn)` – fn(*, meeting, result, user) runs inside `meeting_import`'s
  transaction, once the meeting, its report tree and its motions are saved; `result` is the
  importer's ParseResult (its tracked-items tables, for tracking/). Raising `ImportRefused`
  refuses the whole import: nothing is saved and its problems are shown.
- `register_meeting_saved(fn)` – fn(*, meeting, user) after a meeting is created, imported, or its
  header or motions change, inside the same transaction.
- `register_minutes_tables(fn)` – fn(meeting) → {"previous": [...], "new": [...]}: the rows of
  上次會議追蹤列管事項 and 新追蹤列管事項 (columns: rendering.PREVIOUS_COLUMNS / NEW_COLUMNS).
- `register_minutes_models(*models)` – a save or delete of these models can change the rendered
  minutes of any meeting (a tracked item's 案由 in the tables): the cached minutes are dropped.
- `register_link_kind(LinkKind(...))` – something an attachment can link to from the minutes
  (a survey of signups/): the edit page offers a form to pick one, the minutes link to it.
"""

from collections.abc import Callable
from dataclasses import dataclass

from portal import fragments

from .minutes_cache import SHARED


class ImportRefused(ValueError):
    """An import step refuses the minutes; `errors` lists each reason (in Chinese, naming the
    table and row)."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("；".join(self.errors))


@dataclass(frozen=True)
class LinkKind:
    name: str  # the form's prefix and field name, e.g. "survey"
    model: type  # what is linked: its rows have get_absolute_url() and a title
    label: str  # 調查表: the form's field ("連結調查表")
    note: str  # what the minutes say beside such a link: 線上調查表
    choices: Callable  # () → a queryset of the rows that may be linked, in the list's order
    help_text: str = ""


_import_steps: list[Callable] = []
_saved: list[Callable] = []
_tables: list[Callable] = []
_link_kinds: dict[str, LinkKind] = {}


def _add(registry, fn):
    if fn not in registry:  # ready() may run twice (tests, autoreload)
        registry.append(fn)


def register_import_step(fn):
    _add(_import_steps, fn)


def register_meeting_saved(fn):
    _add(_saved, fn)


def register_minutes_tables(fn):
    _add(_tables, fn)


def register_minutes_models(*models):
    fragments.changed_on_save(SHARED, *models)


def register_link_kind(kind):
    _link_kinds[kind.name] = kind


# --- what meetings/ calls --------------------------------------------------------------------


def import_steps_run(*, meeting, result, user):
    for fn in _import_steps:
        fn(meeting=meeting, result=result, user=user)


def meeting_saved(*, meeting, user):
    for fn in _saved:
        fn(meeting=meeting, user=user)


def minutes_tables(meeting):
    tables = {"previous": [], "new": []}
    for fn in _tables:
        for key, rows in (fn(meeting) or {}).items():
            tables.setdefault(key, []).extend(rows)
    return tables


def link_kinds():
    return list(_link_kinds.values())


def link_kind(name):
    return _link_kinds.get(name)


def link_kind_of(model):
    return next((k for k in _link_kinds.values() if k.model is model), None)
