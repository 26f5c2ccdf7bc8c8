"""The charts of /charts as data: the layout of a horizontal grouped bar chart (drawn by the template as inline SVG,
so it needs no JavaScript), the audits' published figures by audit year, and platform use by audit year (counted over
the network, copgraph.model.network). /charts renders each chart next to a table that holds the same numbers.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

from copgraph.model.figures import Figure
from copgraph.model.network import Audit, Network

# Fill colours for the series, each at least 3:1 against white (WCAG non-text contrast) and told apart by the legend.
PALETTE = ("#1f5fa8", "#b35900", "#2e7d32", "#7b1fa2", "#5d4037", "#c2185b", "#00695c")


@dataclass
class Bar:
    category: str
    series: str
    x: float
    y: float
    width: float
    height: float
    colour: str
    value: int
    title: str


@dataclass
class Group:
    label: str
    y: float  # the middle of the group, where its label sits
    bars: list[Bar]


@dataclass
class BarChart:
    """Everything a template needs to draw one horizontal grouped bar chart; coordinates are in SVG user units."""

    ident: str
    title: str
    description: str
    category_axis: str
    value_axis: str
    width: float
    height: float
    plot_left: float
    plot_top: float
    plot_width: float
    plot_bottom: float
    ticks: list[tuple[float, str]]
    groups: list[Group]
    legend: list[tuple[float, float, str, str]] = field(default_factory=list)  # x, y, colour, label


BAR = 14
BAR_GAP = 2
GROUP_GAP = 14
LEGEND_ROW = 20
CHAR_WIDTH = 7  # a generous average advance of the 13px system font, for laying out labels without measuring them


def nice_maximum(value: float) -> int:
    """The smallest round number at least `value` (and at least 5) that splits into five whole ticks."""
    if value <= 10:
        return 5 if value <= 5 else 10
    power = 10 ** math.floor(math.log10(value))
    return next(int(step * power) for step in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if step * power >= value)


def bar_chart(
    ident: str,
    title: str,
    description: str,
    categories: list[str],
    series: list[str],
    values: dict[tuple[str, str], int],
    category_axis: str,
    value_axis: str,
) -> BarChart:
    """A chart with one group of bars per category and one bar per series that has a value there (a missing value
    draws no bar, so nothing is shown that the data does not hold)."""
    width = 720.0
    legend_height = LEGEND_ROW * len(series) + 8
    plot_left = min(260.0, 16 + CHAR_WIDTH * max((len(c) for c in categories), default=4))
    plot_top = 12.0 + legend_height + 16
    plot_width = width - plot_left - 56
    maximum = nice_maximum(max(values.values(), default=1))
    scale = plot_width / maximum
    groups, y = [], plot_top + GROUP_GAP / 2
    for category in categories:
        present = [(i, name) for i, name in enumerate(series) if (category, name) in values]
        bars = []
        for offset, (i, name) in enumerate(present):
            value = values[(category, name)]
            top = y + offset * (BAR + BAR_GAP)
            colour = PALETTE[i % len(PALETTE)]
            title_text = f"{category}, {name}: {value}"
            bars.append(Bar(category, name, plot_left, top, max(value * scale, 0.5), BAR, colour, value, title_text))
        span = max(len(present), 1) * (BAR + BAR_GAP) - BAR_GAP
        groups.append(Group(category, y + span / 2, bars))
        y += span + GROUP_GAP
    plot_bottom = y - GROUP_GAP / 2
    ticks = [(plot_left + maximum * k / 5 * scale, f"{maximum * k / 5:g}") for k in range(6)]
    legend = [(plot_left, 12.0 + LEGEND_ROW * i, PALETTE[i % len(PALETTE)], name) for i, name in enumerate(series)]
    return BarChart(
        ident,
        title,
        description,
        category_axis,
        value_axis,
        width,
        plot_bottom + 48,
        plot_left,
        plot_top,
        plot_width,
        plot_bottom,
        ticks,
        groups,
        legend,
    )


def figure_chart(figures: list[Figure], audits: list[Audit]) -> BarChart:
    """The audits' own figures (those with cop:inAudit), one group per audit year and one bar per measure. Network
    figures (cop:figureOf, such as AmplifyFE's members) count people, not communities, and stay in the table."""
    chosen = [f for f in figures if f.audit]
    years = sorted({str(a.year) for a in audits} | {f.year for f in chosen})

    def name(figure: Figure) -> str:
        return figure.measure_label if figure.unit == "communities" else f"{figure.measure_label} ({figure.unit})"

    values = {(f.year, name(f)): f.value for f in chosen}
    summary = "; ".join(f"{f.year} {name(f).lower()}: {f.value}" for f in chosen)
    missing = [year for year in years if not any(y == year for y, _ in values)]
    if missing:
        summary += "; no figures recorded for " + ", ".join(missing)
    return bar_chart(
        "audit-figures",
        "Figures published by the sector audits, by audit year",
        f"Bars per audit year for each figure the audit published. {summary}.",
        years,
        list(dict.fromkeys(name(f) for f in chosen)),
        values,
        "Audit year",
        "Number counted (communities unless stated)",
    )


@dataclass
class PlatformUse:
    """Communities per platform in each audit year (on the map that year) and in all the data."""

    years: list[int]
    rows: list[tuple[str, str, dict[int, int], int]]  # platform label, href, count per year, count in all the data
    totals: dict[int, int]  # communities on the map each audit year, whatever their platforms
    all_communities: int


def platform_use(network: Network) -> PlatformUse:
    """Count, for each platform and audit year, the communities on the map in that year with a presence on it."""
    years = sorted({audit.year for audit in network.audits})
    on_map = {year: {c.iri for c in network.selected(year=year)} for year in years}
    users: dict[str, set[str]] = defaultdict(set)
    for edge in network.edges:
        if edge.kind == "platform":
            users[edge.target].add(edge.source)
    rows = [
        (
            network.others[platform].label,
            network.others[platform].href,
            {year: len(members & on_map[year]) for year in years},
            len(members),
        )
        for platform, members in users.items()
    ]
    rows.sort(key=lambda row: (-max(row[2].values(), default=0), -row[3], row[0].lower()))
    return PlatformUse(years, rows, {year: len(on_map[year]) for year in years}, len(network.communities))


def platform_chart(use: PlatformUse) -> BarChart:
    """Platforms as groups, audit years as bars; platforms no community used in an audit year are left to the table."""
    series = [str(year) for year in use.years]
    shown = [row for row in use.rows if any(row[2].values())]
    values = {(label, str(year)): n for label, _, counts, _ in shown for year, n in counts.items() if n}
    summary = "; ".join(
        f"{label}: " + ", ".join(f"{n} in {year}" for year, n in counts.items()) for label, _, counts, _ in shown
    )
    return bar_chart(
        "platform-use",
        "Communities per platform, by audit year",
        f"For each platform, the number of communities on the map in each audit year with a presence on it. {summary}.",
        [row[0] for row in shown],
        series,
        values,
        "Platform",
        "Number of communities",
    )
