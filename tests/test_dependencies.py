"""Dependencies point one way: portal ← meetings ← tracking, signups; vmquota needs only portal.

A lower app offers hooks that a higher one fills in its AppConfig.ready() (portal/navigation.py,
meetings/hooks.py) instead of importing upward. These tests read every module of every app with
`ast` – imports at module level and inside functions, models named by string ("app.Model" in a
ForeignKey or a list, apps.get_model("app", …)) and modules named to import_module – and the templates' {% url %} and
{% include %}, so that the rule stays true without anyone having to remember it.

portal/settings.py and portal/urls.py name the apps (INSTALLED_APPS, include("meetings.urls")):
they are the project's wiring, not code of the foundation app, and import nothing of them.
"""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# what each app may use besides itself
MAY_USE = {
    "portal": set(),
    "meetings": {"portal"},
    "tracking": {"portal", "meetings"},
    "signups": {"portal", "meetings"},
    "vmquota": {"portal"},
}
APPS = set(MAY_USE)
PROJECT_WIRING = {"portal/settings.py", "portal/urls.py"}

# Code that breaks the rule today and is being changed elsewhere; each entry must still be true
# (test_the_exceptions_are_still_needed), so the list only shrinks.
NOT_YET = set()
# Imports of a lower app inside a function (the direction allows them at module level).
IN_FUNCTIONS_NOT_YET = set()
MODEL_LABEL = re.compile(rf"^(?:{'|'.join(sorted(APPS))})\.[A-Z]\w*$")


def app_of(dotted):
    top = dotted.split(".")[0]
    return top if top in APPS else None


class Uses(ast.NodeVisitor):
    """Every use of another module or app in one module: (line, target, how, in_function)."""

    def __init__(self, migration=False):
        self.found = []
        self.functions = []  # the enclosing function names
        self.migration = migration

    def add(self, node, target, how):
        self.found.append((node.lineno, target, how, tuple(self.functions)))

    def visit_FunctionDef(self, node):
        self.functions.append(node.name)
        self.generic_visit(node)
        self.functions.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Import(self, node):
        for alias in node.names:
            self.add(node, alias.name, "import")

    def visit_ImportFrom(self, node):
        if node.level == 0 and node.module:
            self.add(node, node.module, "import")

    def visit_Call(self, node):
        name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
        strings = [a.value for a in node.args if isinstance(a, ast.Constant)]
        strings = [s for s in strings if isinstance(s, str)]
        if name == "get_model" and strings:
            self.add(node, strings[0], "get_model")  # get_model("app", "M") / ("app.M")
        elif name == "import_module" and strings:
            self.add(node, strings[0], "import_module")
        self.generic_visit(node)

    def visit_Constant(self, node):
        # a model label anywhere: ForeignKey("signups.Survey"), a list of labels to get_model
        if isinstance(node.value, str) and not self.migration and MODEL_LABEL.match(node.value):
            self.add(node, node.value, "model label")


def modules():
    for app in sorted(APPS):
        for path in sorted((ROOT / app).rglob("*.py")):
            yield app, path.relative_to(ROOT).as_posix(), path


def uses_of(path, name):
    visitor = Uses(migration="/migrations/" in name)
    visitor.visit(ast.parse(path.read_text(encoding="utf-8"), filename=name))
    return visitor.found


def wrong_way(app, name, path):
    if name in PROJECT_WIRING:
        return []
    wrong = []
    for line, target, how, _functions in uses_of(path, name):
        other = app_of(target)
        if other and other != app and other not in MAY_USE[app]:
            if (name, other) not in NOT_YET:
                wrong.append(f"{name}:{line} {app} → {other} ({how} {target})")
    return wrong


def test_imports_follow_the_direction():
    wrong = [w for app, name, path in modules() for w in wrong_way(app, name, path)]
    assert wrong == [], "against the direction (use a hook the lower app offers):\n" + "\n".join(
        wrong
    )


def hidden_in_functions(app, name, path):
    found = []
    for line, target, how, functions in uses_of(path, name):
        other = app_of(target)
        if how != "import" or not functions or other in (None, app) or "ready" in functions:
            continue
        if (name, target) in IN_FUNCTIONS_NOT_YET or (name, other) in NOT_YET:
            continue
        found.append(f"{name}:{line} in {functions[-1]}(): {target}")
    return found


def test_no_app_imports_another_inside_a_function_except_in_ready():
    """Django's place for an app to reach another at start-up is AppConfig.ready(); anywhere else
    an import inside a function hides a dependency (and used to dodge a cycle)."""
    found = [f for app, name, path in modules() for f in hidden_in_functions(app, name, path)]
    assert found == [], "move to the top of the module:\n" + "\n".join(found)


def test_the_exceptions_are_still_needed():
    """An entry of NOT_YET / IN_FUNCTIONS_NOT_YET whose code has changed is to be removed."""
    seen = set()
    for _app, name, path in modules():
        for _line, target, how, functions in uses_of(path, name):
            other = app_of(target)
            seen.add((name, other))
            if how == "import" and functions:
                seen.add((name, target))
    assert (NOT_YET | IN_FUNCTIONS_NOT_YET) - seen == set()


TEMPLATE_USE = re.compile(
    r"""\{%\s*(?:url\s+['"](?P<ns>\w+):|(?:include|extends)\s+['"](?P<dir>\w+)/)"""
)


def template_owner(relative):
    top = relative.split("/")[0]
    return top if top in APPS else "portal"  # base.html, partials/, the error pages


def test_templates_follow_the_direction():
    wrong = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        relative = path.relative_to(ROOT / "templates").as_posix()
        if relative.split("/")[0] in ("account", "allauth", "socialaccount", "emails"):
            continue  # allauth's overrides; e-mails are named <app>_… and rendered by their app
        owner = template_owner(relative)
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for match in TEMPLATE_USE.finditer(text):
                other = match["ns"] or match["dir"]
                if other in APPS and other != owner and other not in MAY_USE[owner]:
                    wrong.append(f"templates/{relative}:{number} {owner} → {other}")
    assert wrong == [], "\n".join(wrong)


# --- the checker itself ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("app", "source", "caught"),
    [
        ("meetings", "import tracking.services", True),
        ("meetings", "def f():\n    from signups.models import Survey", True),
        ("meetings", "from django.apps import apps\napps.get_model('tracking', 'Review')", True),
        ("meetings", "models.ForeignKey('signups.Survey', on_delete=models.CASCADE)", True),
        ("portal", "import_module('meetings.demo')", True),
        ("vmquota", "from meetings.models import Meeting", True),
        ("tracking", "from signups import services", True),
        ("signups", "from tracking.models import TrackedItem", True),
        ("tracking", "from meetings.models import Meeting", False),
        ("meetings", "from portal import access\nfrom . import hooks", False),
        ("vmquota", "from portal.models import School", False),
    ],
)
def test_the_checker_catches_an_import_against_the_direction(tmp_path, app, source, caught):
    path = tmp_path / "module.py"
    path.write_text(source, encoding="utf-8")
    assert bool(wrong_way(app, f"{app}/module.py", path)) is caught


def test_the_checker_catches_an_import_inside_a_function(tmp_path):
    path = tmp_path / "module.py"
    path.write_text(
        "from portal import access\n"
        "class C:\n    def ready(self):\n        from portal import fragments\n"
        "def view():\n    from portal.models import School\n    from .models import Meeting\n",
        encoding="utf-8",
    )
    assert hidden_in_functions("meetings", "meetings/module.py", path) == [
        "meetings/module.py:6 in view(): portal.models"
    ]
