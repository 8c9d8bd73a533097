"""`python -m vmquota.replay` (no Django) gives what `manage.py vmquota_replay` gives: the same
reader, the same incidents (its whole-file path is held to `evaluation.replay`), the same JSON."""

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.vmquota.traces import csv_text, iso
from vmquota import evaluation, replay, trace
from vmquota.ingest import parse_rows, read_csv

ROOT = Path(__file__).resolve().parents[2]


def cli(path):
    return subprocess.run(
        [sys.executable, "-m", "vmquota.replay", str(path), "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def command(path):
    out = StringIO()
    call_command("vmquota_replay", str(path), "--json", stdout=out)
    return out.getvalue()


def pegged(vm, start, minutes, cpu=100, net=0):
    return [(vm, start + m, cpu, net) for m in range(minutes)]


TRACE = (
    pegged("vm-b", 0, 40) + pegged("vm-a", 0, 35, cpu=96) + [("vm-a", 35, 10, 0)]
    + pegged("vm-a", 50, 32, net=26000) + pegged("vm-c", 0, 20) + pegged("vm-c", 26, 20)
    + [("vm-b", 3, 0, 0)]  # a repeat: the first received counts
)  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("shape", ["plain", "quoted and spaced"])
def test_the_cli_and_the_command_print_the_same(tmp_path, shape):
    text = csv_text(TRACE)
    if shape != "plain":  # read row by row, not as a whole file
        text = text.replace("vm-a,", '"vm-a", ').replace(",0\n", ", 0\n")
    path = tmp_path / "trace.csv"
    path.write_text(text)
    done = cli(path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == command(path)
    incidents = json.loads(done.stdout)
    assert {(i["vm"], i["metric"], i["threshold"]) for i in incidents} >= {
        ("vm-b", "cpu_percent", 100), ("vm-a", "cpu_percent", 95), ("vm-a", "net_kbps", 25600),
    }  # fmt: skip


@pytest.mark.django_db
def test_the_cli_and_the_command_refuse_a_bad_trace_alike(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(f"vm,ts,cpu_percent,net_kbps\nvm-a,{iso(0)},101,0\n,{iso(1)},5,x\n")
    done = cli(path)
    with pytest.raises(CommandError) as refused:
        command(path)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip() == str(refused.value)
    assert "第 2 行 cpu_percent" in done.stderr and "第 3 行 vm" in done.stderr


def test_the_cli_imports_no_django():
    code = "import sys, vmquota.replay; print(sorted(m for m in sys.modules if 'django' in m))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.stdout.strip() == "[]", done.stderr


def test_the_cli_uses_the_portals_time_zone():
    assert replay.TIME_ZONE == settings.TIME_ZONE


cells = st.sampled_from(["vm-a", "vm-b", " vm-c ", "", "a\x01", "0", "5", "100", "100.5", "-1",
                         "nan", "1e3", "23040", "1_0", "x", iso(0), iso(1), iso(7),
                         "2019-09-10T10:00:00", "2019-09-10T02:00:00Z"])  # fmt: skip
rows = st.lists(st.lists(cells, min_size=0, max_size=5), max_size=25)


@hsettings(max_examples=300, deadline=None)
@given(
    rows=rows,
    header=st.sampled_from(
        ["vm,ts,cpu_percent,net_kbps", "ts,vm,net_kbps,cpu_percent,x", "vm,ts,cpu_percent"]
    ),
)
def test_the_trace_reader_checks_rows_as_the_upload_does(rows, header):
    text = header + "\n" + "\n".join(",".join(r) for r in rows) + "\n"
    try:
        expected = read_csv(text)
    except ValueError as exc:
        with pytest.raises(ValueError, match="缺少欄位"):
            trace.read_trace(text)
        assert "缺少欄位" in str(exc)
        return
    parsed, errors = parse_rows(expected, from_text=True, check_window=False)
    samples, got_errors = trace.read_trace(text)
    assert samples == [p[1:] for p in parsed]
    assert got_errors == errors


minute_rows = st.lists(
    st.tuples(st.sampled_from(["vm-a", "vm-b", "vm-c"]), st.integers(0, 90),
              st.sampled_from([0, 94.5, 95, 99.9, 100]), st.sampled_from([0, 23040, 25600.5])),
    max_size=150,
)  # fmt: skip


@hsettings(max_examples=150, deadline=None)
@given(samples=minute_rows)
def test_the_whole_file_path_equals_evaluation_replay(tmp_path_factory, samples):
    path = tmp_path_factory.mktemp("t") / "trace.csv"
    path.write_text(csv_text(samples))
    rules = evaluation.seed_rule_specs()
    want = evaluation.replay(replay.load(path), rules, evaluation.DEFAULT_MAX_GAP)
    got = replay.replay_file(path)
    assert replay.render(got, True) == replay.render(want, True)
    plain = replay._plain_columns(path.read_bytes(), evaluation.DEFAULT_MAX_GAP)
    assert (plain is not None) == bool(samples)


def test_dumps_is_json_with_an_indent_of_two():
    items = [{"vm": 'a"b\\c 中', "n": 1, "x": 2.5, "none": None}, {"vm": "z", "n": 0}]
    assert replay.dumps(items) == json.dumps(items, ensure_ascii=False, indent=2)
    assert replay.dumps([]) == json.dumps([], ensure_ascii=False, indent=2)


def decimal_text(digits, point):
    """digits with a point inserted `point` places from the left (None: no point)."""
    if point is None:
        return digits
    point = min(point, len(digits))
    return digits[:point] + "." + digits[point:]


names = st.text(st.characters(codec="utf-8", exclude_characters=',\n"\r'), min_size=0, max_size=30)
numbers = st.one_of(
    st.builds(decimal_text, st.text("0123456789", max_size=17), st.none() | st.integers(0, 17)),
    st.sampled_from(["1e3", "-1", "1_0", "+5", "nan", "inf", "5..", "１"]),
)
times = st.builds(
    lambda m, form: form(m),
    st.integers(0, 30),
    st.sampled_from([iso, lambda m: iso(m).replace("+08:00", "Z"),
                     lambda m: iso(m)[:-6] + ".250000+08:00", lambda m: iso(m)[:-6]]),
)  # fmt: skip


def read_as_rows(text):
    """(names, columns) of the whole-file path held to the row reader, or None if it declined."""
    from vmquota import whatif_fold

    plain = replay._plain_columns(text.encode(), evaluation.DEFAULT_MAX_GAP)
    if plain is None:
        return None
    samples, errors = trace.read_trace(text)
    assert not errors
    first = {}
    for vm, ts, cpu, net in samples:
        first.setdefault((vm, whatif_fold.to_us(ts)), (cpu, net))
    names_, columns = plain
    got = [
        ((names_[v], t), (c, n))
        for v, t, c, n in zip(columns.vm.tolist(), columns.ts.tolist(),
                              columns.values[0].tolist(), columns.values[1].tolist(), strict=True)
    ]  # fmt: skip
    assert sorted(got) == sorted(first.items())
    assert len({names_[v] for v in columns.vm.tolist()}) == len(names_)
    return plain


def trace_text(rows, ending):
    text = "vm,ts,cpu_percent,net_kbps\n" + "\n".join(",".join(r) for r in rows)
    return text + ("\n" if ending and rows else "")


@hsettings(max_examples=200, deadline=None)
@given(rows=st.lists(st.tuples(names, times, numbers, numbers), max_size=40), ending=st.booleans())
def test_the_whole_file_reader_reads_what_the_row_reader_reads_or_declines(rows, ending):
    """Any names, times in several forms, and decimals up to 17 digits: whenever the whole-file
    path takes a trace, it reads exactly the samples – the first of each (vm, ts) – and the
    float() values the row reader reads."""
    read_as_rows(trace_text(rows, ending))


good_names = st.text(
    st.characters(codec="utf-8", categories=["L", "N", "P", "S"], exclude_characters=',"'),
    min_size=1, max_size=16,  # at most 64 bytes of UTF-8: longer names go row by row
)  # fmt: skip
cpu_texts = st.builds(decimal_text, st.text("0123456789", min_size=1, max_size=2),
                      st.none() | st.integers(0, 2))  # fmt: skip
net_texts = st.builds(decimal_text, st.text("0123456789", min_size=1, max_size=15),
                      st.none() | st.integers(0, 8))  # fmt: skip


@hsettings(max_examples=150, deadline=None)
@given(
    rows=st.lists(st.tuples(good_names, times.filter(lambda t: t[-1] != "0" or "+" in t),
                            cpu_texts, net_texts), min_size=1, max_size=40),
    ending=st.booleans(),
)  # fmt: skip
def test_the_whole_file_reader_takes_every_plain_trace(rows, ending):
    rows = [r for r in rows if float(r[3]) <= trace.MAX_NET_KBPS] or [("vm", iso(0), "1", "1")]
    assert read_as_rows(trace_text(rows, ending)) is not None


def test_plain_decimals_are_read_as_float_reads_them():
    texts = ["0", "100", "99.9", "0.1", "23040.5", "5.", ".5", "007", "12345678.1234567",
             "0.00000000000001", "99999999.9999999", "25600.00000000"]  # fmt: skip
    text = "vm,ts,cpu_percent,net_kbps\n" + "".join(
        f"a{i},{iso(0)},0,{t}\n" for i, t in enumerate(texts)
    )
    names_, columns = replay._plain_columns(text.encode(), evaluation.DEFAULT_MAX_GAP)
    got = dict(
        zip((names_[v] for v in columns.vm.tolist()), columns.values[1].tolist(), strict=True)
    )
    assert [got[f"a{i}"] for i in range(len(texts))] == [float(t) for t in texts]
    sixteen = text.replace("25600.00000000", "0000000000000001")  # 16 digits: not taken
    assert replay._plain_columns(sixteen.encode(), evaluation.DEFAULT_MAX_GAP) is None
