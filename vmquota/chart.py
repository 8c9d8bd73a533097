"""Server-side SVG of a VM's last 24 hours: CPU and network, thresholds drawn, incidents shaded.

Samples are downsampled to 5-minute buckets by their maximum (a peak must not disappear); the
page's text table shows exactly the same numbers.
"""

from datetime import timedelta

from django.utils.html import escape
from django.utils.safestring import mark_safe

BUCKET = timedelta(minutes=5)
WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 720, 170, 56, 10, 10, 24


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


def _panel(points, start, end, *, label, unit, y_max, thresholds, spans, css):
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    span_s = (end - start).total_seconds()

    def x(ts):
        return LEFT + max(0.0, min(1.0, (ts - start).total_seconds() / span_s)) * plot_w

    def y(v):
        return TOP + plot_h - min(v, y_max) / y_max * plot_h

    parts = [
        f'<svg class="vmq-chart {css}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(label)}" preserveAspectRatio="none">',
        f"<title>{escape(label)}</title>",
        f'<rect class="vmq-plot" x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}"/>',
    ]
    for s, e in spans:
        parts.append(
            f'<rect class="vmq-incident" x="{x(s):.1f}" y="{TOP}" '
            f'width="{max(x(e) - x(s), 2):.1f}" height="{plot_h}"/>'
        )
    for frac in (0, 0.5, 1):
        v = y_max * frac
        parts.append(
            f'<text class="vmq-axis" x="{LEFT - 4}" y="{y(v) + 4:.1f}" text-anchor="end">'
            f"{v:,.0f}</text>"
        )
    for hours in range(0, 25, 6):
        tx = LEFT + hours / 24 * plot_w
        tick = (start + timedelta(hours=hours)).astimezone()
        anchor = "end" if hours == 24 else "middle"
        parts.append(
            f'<text class="vmq-axis" x="{tx:.1f}" y="{HEIGHT - 6}" text-anchor="{anchor}">'
            f"{tick:%H:%M}</text>"
        )
    for i, (value, name) in enumerate(sorted(thresholds)):
        # close thresholds (95 and 100) would overlap: labels alternate below and above the line
        label_y = y(value) + 12 if i % 2 == 0 and len(thresholds) > 1 else y(value) - 3
        parts.append(
            f'<line class="vmq-threshold" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" '
            f'y2="{y(value):.1f}"/><text class="vmq-threshold-label" x="{WIDTH - RIGHT - 4}" '
            f'y="{label_y:.1f}" text-anchor="end">{escape(name)}</text>'
        )
    if points:
        coords = " ".join(f"{x(ts + BUCKET / 2):.1f},{y(v):.1f}" for ts, v in points)
        parts.append(f'<polyline class="vmq-line" points="{coords}"/>')
    parts.append(f'<text class="vmq-unit" x="4" y="{TOP + 10}">{escape(unit)}</text></svg>')
    return mark_safe("".join(parts))  # noqa: S308 – every interpolated string is escaped


def vm_charts(samples, start, end, rules, incidents):
    rows = buckets(samples, start, end)
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
    cpu_svg = _panel([(t, c) for t, c, _ in rows], start, end, label="最近 24 小時 CPU 使用率（%）",
                     unit="CPU %", y_max=100.0, thresholds=th["cpu_percent"],
                     spans=spans["cpu_percent"], css="vmq-cpu")  # fmt: skip
    net_svg = _panel([(t, n) for t, _, n in rows], start, end, label="最近 24 小時網路流量（KB/s）",
                     unit="KB/s", y_max=net_max, thresholds=th["net_kbps"],
                     spans=spans["net_kbps"], css="vmq-net")  # fmt: skip
    return {"cpu_svg": cpu_svg, "net_svg": net_svg, "rows": rows}
