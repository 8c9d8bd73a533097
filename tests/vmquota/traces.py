"""Helpers to write hand-made traces: one sample a minute from 10:00 Taipei time."""

from datetime import datetime, timedelta, timezone

TPE = timezone(timedelta(hours=8))
T0 = datetime(2019, 9, 10, 10, 0, tzinfo=TPE)


def at(minute):
    return T0 + timedelta(minutes=minute)


def iso(minute):
    return at(minute).isoformat()


def csv_text(rows):
    """rows: (vm, minute, cpu, net)."""
    lines = ["vm,ts,cpu_percent,net_kbps"]
    lines += [f"{vm},{iso(m)},{cpu},{net}" for vm, m, cpu, net in rows]
    return "\n".join(lines) + "\n"
