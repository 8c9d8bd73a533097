"""Server-side SVG of a VM's last 24 hours: CPU and network, thresholds drawn, incidents shaded.

Samples are downsampled to 5-minute buckets by their maximum (a peak must not disappear); the
page's text table shows exactly the same numbers. The database does the downsampling
(`bucket_maxima`: 288 rows instead of 1 440); `buckets` is the same in Python, the definition
the tests hold the SQL to.
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import NotSupportedError
from django.db.models import BigIntegerField, DateTimeField, Func, Max, Value
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe

from portal.rocdate import format_short_datetime

BUCKET = timedelta(minutes=5)


@dataclass(frozen=True)
class Geometry:
    """An SVG scales as a whole, text included: one drawn 720 units wide shrinks its 11-unit
    labels to 5 px on a phone. So each chart is drawn twice – wide, and compact for narrow
    screens (fewer ticks, larger type) – and CSS shows the one that fits."""

    css: str
    width: int
    height: int
    left: int
    tick_hours: int
    right: int = 10
    top: int = 24  # room above the plot for the unit and the highest threshold's label
    bottom: int = 24


WIDE = Geometry("vmq-wide", width=720, height=190, left=56, tick_hours=6)
COMPACT = Geometry("vmq-compact", width=340, height=220, left=46, tick_hours=12)


def buckets(samples, start, end):
    """samples: (ts, cpu, net) → [(bucket start, max cpu, max net)] for buckets with data."""
    out = {}
    for ts, cpu, net in samples:
        if ts < start or ts > end:
            continue
        index = int((ts - start) / BUCKET)
        old = out.get(index)
        out[index] = (cpu, net) if old is None else (max(old[0], cpu), max(old[1], net))
    return [(start + i * BUCKET, c, n) for i, (c, n) in sorted(out.items())]


class BucketIndex(Func):
    """`int((ts - start) / bucket)` in SQL, exactly as `buckets` computes it: whole microseconds
    since `start`, divided by the bucket's microseconds (integer division; ts ≥ start, so it
    floors). Buckets start at `start`, not at round clock times, as in Python."""

    output_field = BigIntegerField()

    def __init__(self, ts, start, bucket):
        super().__init__(ts, Value(start, output_field=DateTimeField()))
        self.micros = int(bucket // timedelta(microseconds=1))  # an int, inlined in the SQL

    def as_postgresql(self, compiler, connection, **extra):
        (ts, ts_params), (start, start_params) = map(
            compiler.compile, self.get_source_expressions()
        )
        # timestamptz - timestamptz is an interval of whole microseconds; its EPOCH is numeric
        # (exact) on PostgreSQL 14+
        sql = (
            f"((EXTRACT(EPOCH FROM ({ts} - {start}::timestamptz)) * 1000000)::bigint"
            f" / {self.micros})"
        )
        return sql, (*ts_params, *start_params)

    def as_sqlite(self, compiler, connection, **extra):
        (ts, ts_params), (start, start_params) = map(
            compiler.compile, self.get_source_expressions()
        )

        # Django stores an aware datetime as UTC text 'YYYY-MM-DD HH:MM:SS[.ffffff]' (the
        # fraction only when it is not zero): whole seconds by strftime of the first 19
        # characters (strftime would round a fraction to milliseconds), microseconds from the
        # text. The parameter goes through the same adaptation and the same function.
        def micros_of(text):
            return (
                f"(CAST(strftime('%%s', substr({text}, 1, 19)) AS INTEGER) * 1000000"
                f" + CAST(substr({text} || '.000000', 21, 6) AS INTEGER))"
            )

        sql = f"(({micros_of(ts)} - {micros_of(start)}) / {self.micros})"
        return sql, (*ts_params, *ts_params, *start_params, *start_params)

    def as_sql(self, compiler, connection, **extra):
        raise NotSupportedError("vmquota's chart buckets need PostgreSQL or SQLite")


def bucket_maxima(samples, start, end):
    """`buckets` done by the database: `samples` is a queryset of one VM's UsageSample rows →
    [(bucket start, max cpu, max net)] for the buckets with data, the same list as `buckets`
    gives for those rows."""
    rows = (
        samples.filter(ts__gte=start, ts__lte=end)
        .annotate(bucket=BucketIndex("ts", start, BUCKET))
        .values("bucket")
        .annotate(cpu=Max("cpu_percent"), net=Max("net_kbps"))
        .order_by("bucket")
        .values_list("bucket", "cpu", "net")
    )
    return [(start + i * BUCKET, c, n) for i, c, n in rows]


def _panel(points, start, end, *, label, unit, y_max, thresholds, spans, css, g, days=1,
           step=BUCKET):  # fmt: skip
    plot_w, plot_h = g.width - g.left - g.right, g.height - g.top - g.bottom
    span_s = (end - start).total_seconds()

    def x(ts):
        return g.left + max(0.0, min(1.0, (ts - start).total_seconds() / span_s)) * plot_w

    def y(v):
        return g.top + plot_h - min(v, y_max) / y_max * plot_h

    parts = [
        f'<svg class="vmq-chart {css} {g.css}" viewBox="0 0 {g.width} {g.height}" role="img" '
        f'aria-label="{escape(label)}">',
        f"<title>{escape(label)}</title>",
        f'<rect class="vmq-plot" x="{g.left}" y="{g.top}" width="{plot_w}" height="{plot_h}"/>',
    ]
    for s, e in spans:
        parts.append(
            f'<rect class="vmq-incident" x="{x(s):.1f}" y="{g.top}" '
            f'width="{max(x(e) - x(s), 2):.1f}" height="{plot_h}"/>'
        )
    for frac in (0, 0.5, 1):
        v = y_max * frac
        parts.append(
            f'<text class="vmq-axis" x="{g.left - 4}" y="{y(v) + 4:.1f}" text-anchor="end">'
            f"{v:,.0f}</text>"
        )
    # a day: hours on the axis; a week or a month: the same number of ticks, as dates
    for hours in range(0, 24 * days + 1, g.tick_hours * days):
        tx = g.left + hours / (24 * days) * plot_w
        tick = (start + timedelta(hours=hours)).astimezone()
        anchor = {0: "start", 24 * days: "end"}.get(hours, "middle")
        parts.append(
            f'<text class="vmq-axis" x="{tx:.1f}" y="{g.height - 6}" text-anchor="{anchor}">'
            f"{tick.month}/{tick.day}</text>"
            if days > 1
            else f'<text class="vmq-axis" x="{tx:.1f}" y="{g.height - 6}" '
            f'text-anchor="{anchor}">{tick:%H:%M}</text>'
        )
    ordered = sorted(thresholds, reverse=True)
    for i, (value, name) in enumerate(ordered):
        # the highest label sits above its line, the next one below its own: close thresholds
        # (95 and 100) never print on top of each other
        label_y = y(value) - 4 if i % 2 == 0 else y(value) + 13
        parts.append(
            f'<line class="vmq-threshold" x1="{g.left}" x2="{g.width - g.right}" '
            f'y1="{y(value):.1f}" y2="{y(value):.1f}"/><text class="vmq-threshold-label" '
            f'x="{g.width - g.right - 2}" y="{label_y:.1f}" text-anchor="end">{escape(name)}</text>'
        )
    if points:
        coords = " ".join(f"{x(ts + step / 2):.1f},{y(v):.1f}" for ts, v in points)
        parts.append(f'<polyline class="vmq-line" points="{coords}"/>')
    # the unit above the plot's top-left corner, clear of the axis numbers
    parts.append(f'<text class="vmq-unit" x="{g.left}" y="{g.top - 8}">{escape(unit)}</text></svg>')
    return "".join(parts)


def _both(*args, **kwargs):
    return mark_safe(  # noqa: S308 – every interpolated string is escaped in _panel
        _panel(*args, g=WIDE, **kwargs) + _panel(*args, g=COMPACT, **kwargs)
    )


def vm_charts(rows, start, end, rules, incidents, days=1, step=BUCKET):
    """rows: [(bucket start, max cpu, max net)], from `bucket_maxima` (or `buckets`); for a
    week or a month (`days`), periods of `step` from the rollup (`rollup.maxima`)."""
    spans = {"cpu_percent": [], "net_kbps": []}
    for inc in incidents:
        stop = inc.ended_at or end
        if stop >= start:
            spans[inc.rule.metric].append((max(inc.streak_start, start), stop))
    th = {"cpu_percent": [], "net_kbps": []}
    for rule in rules:
        th[rule.metric].append(
            (rule.threshold, f"≥ {rule.threshold:g}（{rule.get_action_display()}）")
        )
    net_max = max([n for _, _, n in rows] + [t for t, _ in th["net_kbps"]] + [1.0]) * 1.1
    span = "最近 24 小時" if days == 1 else f"最近 {days} 天"
    cpu_svg = _both([(t, c) for t, c, _ in rows], start, end, label=f"{span} CPU 使用率（%）",
                     unit="CPU %", y_max=100.0, thresholds=th["cpu_percent"],
                     spans=spans["cpu_percent"], css="vmq-cpu", days=days, step=step)  # fmt: skip
    net_svg = _both([(t, n) for t, _, n in rows], start, end, label=f"{span}網路流量（KB/s）",
                     unit="KB/s", y_max=net_max, thresholds=th["net_kbps"],
                     spans=spans["net_kbps"], css="vmq-net", days=days, step=step)  # fmt: skip
    return {"cpu_svg": cpu_svg, "net_svg": net_svg, "rows": rows}


_TENTH = Decimal("0.1")


def one_decimal(value):
    """A maximum as the template filter floatformat:"-1" shows it: a whole number without
    decimals, anything else to one decimal place, halves rounded up (12 → 12, 12.04 → 12.0,
    0.25 → 0.3)."""
    exact = Decimal(repr(value))
    if exact == exact.to_integral_value():
        return str(int(exact))
    return str(exact.quantize(_TENTH, ROUND_HALF_UP))


def table_rows(rows):
    """The charts' text alternative as text: [(bucket start, max cpu, max net)] → [(the start in
    Taipei time as roc_datetime_short shows it, one_decimal(cpu), one_decimal(net))]. Formatted
    here rather than by three template filters a row, which were half of the page's build."""
    zone = timezone.get_current_timezone()  # once, not per row as timezone.localtime() does
    return [
        (format_short_datetime(start.astimezone(zone)), one_decimal(cpu), one_decimal(net))
        for start, cpu, net in rows
    ]
