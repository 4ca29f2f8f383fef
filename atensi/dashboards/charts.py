"""Charts drawn on the server as SVG: bars for a table's counts, a line of cases opened and
closed per month. Presentation attributes and classes only (the Content-Security-Policy
forbids `style` attributes), no script, nothing from elsewhere. Each chart is decorative
beside its table, which carries the numbers for screen readers and slow phones: the SVG is
hidden from assistive technology.

Hidden counts ("<5") are drawn as no bar with their "<5" label: a bar of any length would
say more than the table.
"""

from __future__ import annotations

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from .tables import Table

WIDTH = 320
BAR_ROW = 30
LABEL_HEIGHT = 12
COLOURS = ("#0d6efd", "#d63384")  # opened, closed: Bootstrap's primary and pink


def bar_chart(table: Table, column: int = 0) -> SafeString:
    """Horizontal bars of one column of `table`, the label above each bar."""
    values = [row.cells[column].value or 0 for row in table.rows]
    biggest = max(values, default=0) or 1
    height = BAR_ROW * len(table.rows) + 4
    bars = []
    for index, row in enumerate(table.rows):
        cell = row.cells[column]
        top = index * BAR_ROW
        length = round((WIDTH - 50) * (cell.value or 0) / biggest)
        bars.append(
            (
                top + LABEL_HEIGHT - 2,
                row.label[:48],
                top + LABEL_HEIGHT,
                length,
                COLOURS[0],
                length + 4,
                top + LABEL_HEIGHT + 11,
                cell.text,
            )
        )
    body = format_html_join(
        "",
        '<text x="0" y="{}" font-size="11" fill="#212529">{}</text>'
        '<rect x="0" y="{}" width="{}" height="14" fill="{}" rx="2"></rect>'
        '<text x="{}" y="{}" font-size="11" fill="#212529">{}</text>',
        bars,
    )
    return format_html(
        '<svg class="dashboard-chart" viewBox="0 0 {} {}" width="100%" aria-hidden="true" focusable="false"'
        ' data-testid="chart-{}">{}</svg>',
        WIDTH,
        height,
        table.key,
        body,
    )


def line_chart(table: Table) -> SafeString:
    """Two lines over the months of `table` (columns: opened, closed), oldest on the left."""
    count = len(table.rows)
    if count == 0:
        return SafeString("")
    top, bottom, left, right = 10, 120, 28, WIDTH - 6
    values = [[row.cells[c].value or 0 for row in table.rows] for c in (0, 1)]
    biggest = max(max(v, default=0) for v in values) or 1
    step = (right - left) / max(count - 1, 1)

    def point(i: int, value: int) -> str:
        return f"{left + i * step:.1f},{bottom - (bottom - top) * value / biggest:.1f}"

    lines = format_html_join(
        "",
        '<polyline points="{}" fill="none" stroke="{}" stroke-width="2"></polyline>',
        (
            (" ".join(point(i, v) for i, v in enumerate(series)), colour)
            for series, colour in zip(values, COLOURS, strict=True)
        ),
    )
    ticks = format_html_join(
        "",
        '<text x="{}" y="{}" font-size="9" text-anchor="middle" fill="#495057">{}</text>',
        (
            (f"{left + i * step:.1f}", bottom + 14, row.key[5:7])
            for i, row in enumerate(table.rows)
            if (count - 1 - i) % 2 == 0
        ),
    )
    legend = format_html_join(
        "",
        '<rect x="{}" y="146" width="10" height="10" fill="{}"></rect>'
        '<text x="{}" y="155" font-size="11" fill="#212529">{}</text>',
        (
            (left + 110 * i, colour, left + 110 * i + 14, label)
            for i, (label, colour) in enumerate(zip(table.columns, COLOURS, strict=True))
        ),
    )
    axis = format_html(
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#adb5bd"></line>'
        '<text x="{}" y="{}" font-size="9" text-anchor="end" fill="#495057">{}</text>'
        '<text x="{}" y="{}" font-size="9" text-anchor="end" fill="#495057">0</text>',
        left,
        bottom,
        right,
        bottom,
        left - 4,
        top + 4,
        biggest,
        left - 4,
        bottom,
    )
    return format_html(
        '<svg class="dashboard-chart" viewBox="0 0 {} 160" width="100%" aria-hidden="true" focusable="false"'
        ' data-testid="chart-{}">{}{}{}{}</svg>',
        WIDTH,
        table.key,
        axis,
        lines,
        ticks,
        legend,
    )
