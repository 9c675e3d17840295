"""Self-contained HTML reports with charts: statement previews and the margin report.

One HTML file, nothing fetched to open it: CSS inline, charts as inline SVG drawn
by pygal (its JavaScript left out, so the page is static and opens offline), no
CDN, no web fonts.  Deterministic: pygal names each chart with a random UUID,
which is replaced by one derived from the content, so the same statement gives
the same bytes.  Two pictures:

- **usage per install per month** (a stacked bar per month, one colour per install);
- **the tier a volume reaches**: the volume as a bar against the price tiers'
  bounds (and, for the margin report, the vendor bundle it needs).
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from .margin import MarginReport, money
from .pricing import Metered, noun_of, tier_of

if TYPE_CHECKING:
    from .statement import Statement

__all__ = ["STYLE", "page", "render_margin_html", "render_statement_html", "tier_chart",
           "tier_sentence", "usage_chart"]

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 60rem; color: #1d2433; padding: 0 1rem; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
th, td { border-bottom: 1px solid #d8dde6; padding: .4rem .6rem; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
figure.chart { margin: 1.5rem 0; } figure.chart svg { width: 100%; height: auto; }
figcaption { color: #4a5468; font-size: .9rem; }
.banner { background: #fff4d6; border: 1px solid #e8c766; padding: .5rem .8rem; }
"""

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_SCRIPT = re.compile(r"<script\b.*?</script>", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)


def _pygal() -> object:
    from ._extra import require_extra

    require_extra()
    import pygal

    return pygal


def _static_svg(chart: object, seed: str) -> str:
    """The chart's SVG without scripts, its random ids made deterministic."""
    svg: str = chart.render(is_unicode=True)  # type: ignore[attr-defined]
    svg = _COMMENT.sub("", _SCRIPT.sub("", svg))
    ids = sorted(set(_UUID.findall(svg)))
    for n, found in enumerate(ids):
        digest = hashlib.sha256(f"{seed}|{n}".encode()).hexdigest()
        svg = svg.replace(found, f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-"
                          f"{digest[16:20]}-{digest[20:32]}")
    return svg


def _config(title: str) -> dict[str, object]:
    return {"title": title, "js": [], "disable_xml_declaration": True, "width": 800,
            "height": 360, "legend_at_bottom": True, "print_values": False,
            "show_minor_y_labels": False, "truncate_legend": 40,
            "value_formatter": lambda v: f"{v:,.0f}" if v is not None else ""}


def usage_chart(usage: Mapping[tuple[str, str], int], *, noun: str, names: Mapping[str, str]
                | None = None, seed: str = "") -> str:
    """``usage[(install, month)] = quantity`` as a stacked bar chart (inline SVG)."""
    pygal = _pygal()
    months = sorted({m for _, m in usage})
    installs = sorted({i for i, _ in usage})
    chart = pygal.StackedBar(**_config(f"{noun} per install per month"))  # type: ignore[attr-defined]
    chart.x_labels = months
    for install in installs:
        label = (names or {}).get(install) or f"install {install[:8]}"
        chart.add(label, [usage.get((install, m)) for m in months])
    return _static_svg(chart, f"usage|{seed}")


def tier_sentence(metered: Metered, quantity: Decimal) -> str:
    """``150,000 records reaches tier 2 of 3 (10,001-100,000)``."""
    from .pricing import _n

    index = tier_of(metered, quantity)
    lower = metered.tiers[index - 1].up_to if index else None
    upper = metered.tiers[index].up_to
    if lower is None:
        span = f"up to {_n(upper)}" if upper is not None else "every quantity"
    elif upper is None:
        span = f"above {_n(lower)}"
    else:
        span = f"{_n(lower + 1)}-{_n(upper)}"

    return (f"{quantity.normalize():,f} {noun_of(metered.metric)} reaches tier {index + 1} "
            f"of {len(metered.tiers)} ({span})")


def tier_chart(metered: Metered, quantity: Decimal, *, title: str, seed: str = "",
               extra: Sequence[tuple[str, int]] = ()) -> str:
    """The volume against the tiers' upper bounds (and ``extra`` marks, e.g. a bundle)."""
    pygal = _pygal()
    chart = pygal.HorizontalBar(**_config(title))  # type: ignore[attr-defined]
    reached = tier_of(metered, quantity)
    chart.add(f"this volume ({noun_of(metered.metric)})", [float(quantity)])
    for n, tier in enumerate(metered.tiers):
        if tier.up_to is None:
            continue
        mark = " — reached" if n == reached else (" — passed" if n < reached else "")
        chart.add(f"tier {n + 1} up to {tier.up_to.normalize():,f}{mark}", [float(tier.up_to)])
    for label, value in extra:
        chart.add(label, [value])
    return _static_svg(chart, f"tier|{seed}")


def page(title: str, body: str) -> bytes:
    """A whole HTML document around ``body`` (already escaped where needed)."""
    e = html.escape
    return (f"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{e(title)}</title><style>{STYLE}</style></head>\n<body>\n{body}\n"
            f"</body></html>\n").encode()


def render_margin_html(report: MarginReport) -> bytes:
    """The margin report as a self-contained HTML page with its two charts."""
    e = html.escape
    cur = report.currency
    seed = hashlib.sha256(repr(report.to_json()).encode()).hexdigest()
    rows = "".join(f"<tr><td>{e(n)}</td><td class=\"num\">{v:,}</td>"
                   f"<td class=\"num\">{e(money(p, cur))}</td></tr>"
                   for n, v, p in report.clients)
    usage: dict[tuple[str, str], int] = {}
    names: dict[str, str] = {}
    for client in report.usage:
        for install, qty in client.per_install.items():
            usage[(install, report.period or "")] = qty
            names[install] = f"{client.client} · {install[:8]}"
        if not client.per_install and client.quantities.get(report.metric):
            usage[(client.client, report.period or "")] = client.quantities[report.metric]
            names[client.client] = client.client
    parts = ["<h1>Partner margin</h1><p class=\"banner\">Preview; excl. VAT"
             + (f" · {e(report.period)}" if report.period else "") + "</p>",
             "<table><tr><th>Client</th><th class=\"num\">" + e(report.metric)
             + "</th><th class=\"num\">Revenue</th></tr>" + rows
             + f"<tr><th>Total</th><th class=\"num\">{report.pooled_volume:,}</th>"
             f"<th class=\"num\">{e(money(report.revenue, cur))}</th></tr></table>",
             f"<p id=\"summary\">Revenue: {e(money(report.revenue, cur))} · Pooled cost: "
             f"{e(money(report.cost, cur))} ({report.bundles} x {report.bundle.volume:,}-"
             f"{e(report.metric)} bundle at {e(money(report.bundle.price, cur))}) · "
             f"<strong>Gross profit: {e(money(report.gross_profit, cur))}</strong></p>"]
    if usage:
        parts.append("<h2>Usage per install per month</h2><figure class=\"chart\" "
                     "id=\"usage-chart\">" + usage_chart(usage, noun=report.metric,
                                                         names=names, seed=seed)
                     + f"<figcaption>{e(report.metric)} per install, "
                     f"{e(report.period or 'modelled')}</figcaption></figure>")
    if report.metered is not None:
        pooled = Decimal(report.pooled_volume)
        sentence = tier_sentence(report.metered, pooled)
        parts.append("<h2>The tier the pooled volume reaches</h2><figure class=\"chart\" "
                     "id=\"tier-chart\">" + tier_chart(
                         report.metered, pooled, title="pooled volume against the price tiers",
                         seed=seed, extra=[(f"vendor bundle {report.bundle.volume:,} x "
                                            f"{report.bundles}",
                                            report.bundle.volume * report.bundles)])
                     + f"<figcaption id=\"tier-caption\">Pooled: {e(sentence)}; covered by "
                     f"{report.bundles} vendor bundle(s) of {report.bundle.volume:,}."
                     "</figcaption></figure>")
    return page("Partner margin", "\n".join(parts))


def render_statement_html(st: Statement) -> bytes:
    """A statement preview as a self-contained HTML page: lines, notes and two charts."""
    from .statement import BANNER, quantity_text, unit_price_text

    e = html.escape
    cur = st.currency
    rows = "".join(f"<tr><td>{e(line.description)}</td><td class=\"num\">"
                   f"{e(quantity_text(line))}</td><td class=\"num\">"
                   f"{e(unit_price_text(line, cur))}</td><td class=\"num\">"
                   f"{e(money(line.amount, cur))}</td></tr>" for line in st.lines)
    notes = "".join(f"<li>{e(n)}</li>" for n in st.notes)
    parts = [f"<h1>{e(BANNER)}</h1><p class=\"banner\">Statement "
             f"<code>{e(st.statement_id)}</code> · {e(st.customer)} · {e(st.period)} · "
             f"{st.event_count} events</p>",
             "<table><tr><th>Line</th><th class=\"num\">Quantity</th><th class=\"num\">"
             f"Unit price</th><th class=\"num\">Amount</th></tr>{rows}<tr><th>Total</th>"
             f"<td></td><td></td><th class=\"num\" id=\"total\">{e(money(st.total, cur))}"
             "</th></tr></table>", f"<h2>Notes</h2><ul>{notes}</ul>"]
    usage = {(i, m): q for i, m, q in st.usage_by_install_month}
    if usage:
        noun = noun_of(st.metered[0][0].metric) if st.metered else "usage"
        parts.append("<h2>Usage per install per month</h2><figure class=\"chart\" "
                     "id=\"usage-chart\">" + usage_chart(usage, noun=noun,
                                                         seed=st.statement_id)
                     + f"<figcaption>{e(noun)} per production install and month"
                     "</figcaption></figure>")
    for n, (metered, quantity) in enumerate(st.metered):
        parts.append(f"<h2>The tier {e(noun_of(metered.metric))} reach</h2>"
                     f"<figure class=\"chart\" id=\"tier-chart-{n}\">" + tier_chart(
                         metered, quantity, title=f"{noun_of(metered.metric)} in {st.period} "
                         "against the price tiers", seed=f"{st.statement_id}|{n}")
                     + f"<figcaption class=\"tier-caption\">{e(tier_sentence(metered, quantity))}"
                     f" ({metered.mode} pricing)</figcaption></figure>")
    return page(f"{BANNER} {st.statement_id}", "\n".join(parts))
