"""Every `manage.py` command in docs/operations.md exists and accepts the arguments written
there (test_go_live.py runs the same sequence for real), and every make target it names exists."""

import re
import shlex
from pathlib import Path

import pytest
from django.core.management import get_commands, load_command_class

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")


def documented_commands():
    found = []
    for line in re.findall(r"manage\.py ([^`\n]+)", DOC):
        line = re.split(r"\s*(?:&&|\|)\s*", line)[0]
        found.append(shlex.split(line.replace("$(date +\\%a)", "Mon")))
    return found


def test_the_guide_walks_through_the_first_steps():
    names = [args[0] for args in documented_commands()]
    for name in ("bootstrap", "import_schools", "send_invitations", "backup", "restore",
                 "migrate", "load_demo"):  # fmt: skip
        assert name in names, name


@pytest.mark.parametrize("args", documented_commands(), ids=" ".join)
def test_each_documented_command_accepts_its_arguments(args):
    commands = get_commands()
    assert args[0] in commands, f"manage.py {args[0]} does not exist"
    command = load_command_class(commands[args[0]], args[0])
    command.create_parser("manage.py", args[0]).parse_args(args[1:])


def test_the_make_targets_it_names_exist():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in set(re.findall(r"`make (\w+)", DOC)):
        assert re.search(rf"^{target}:", makefile, re.M), target
