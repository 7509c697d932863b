"""The committee deck: a 16:9 PowerPoint with native, editable charts (data embedded).

Bar, line and pie charts are PowerPoint charts ("Modifier les données" opens their numbers);
only the map, which PowerPoint cannot draw, is a picture. Every number comes from
`slides.build()` (itself reading through indicators/query.py), rounded as in the annex.

An agency template (.pptx) can be given: its slide size, layouts, theme fonts and colours are
used (its own slides are dropped); the title of each slide goes into the layout's title placeholder.
"""
from __future__ import annotations

import copy
import io
import math
from pathlib import Path

import pandas as pd
from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.dml.color import RGBColor
from pptx.enum.chart import (XL_CHART_TYPE, XL_DATA_LABEL_POSITION, XL_LEGEND_POSITION, XL_MARKER_STYLE,
                             XL_TICK_LABEL_POSITION)
from pptx.enum.shapes import MSO_SHAPE
from pptx.enum.shapes import PP_PLACEHOLDER
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.util import Emu, Inches, Pt

from . import picture, slides as content
from .. import chart_kit, palettes
from .. import format as fmt
from .slides import KINDS, Selection, Slide, shown
from ..content import euro_decimals

ACCENT = RGBColor(0x33, 0x22, 0x88)
ACCENT_HEX = "#332288"
TEXT = RGBColor(0x22, 0x22, 0x22)
MUTED = RGBColor(0x55, 0x55, 0x55)
DEMO = RGBColor(0xB0, 0x3A, 0x2E)
TILE = RGBColor(0xF1, 0xF0, 0xF7)
WIDE = (Inches(13.333), Inches(7.5))
MARGIN = Inches(0.45)

TITLE_PT, SENTENCE_PT, CHART_PT, SOURCE_PT = 28, 18, 14, 12
TABLE_PT = 12                  # the smallest type of a table on a slide: a longer table goes on more slides
AXIS_FORMATS = fmt.OFFICE_AXIS_FORMATS     # French axis formats whatever the reader's Office locale
# Text is measured before it is placed (python-pptx cannot): the average advance of French text is about 0.55 em
# in DejaVu Sans, the font LibreOffice substitutes for Calibri on a Debian machine (Calibri itself is narrower,
# so what fits here fits in PowerPoint), 0.6 em in bold; a line is 1.2 em high.
EM_PER_CHAR, EM_PER_CHAR_BOLD, LINE_EM = 0.55, 0.6, 1.2


class TemplateError(ValueError):
    pass


def line_count(text: str, width: int, size: float, bold: bool = False) -> int:
    """How many lines `text` takes in a box `width` EMU wide (less its 0.05 in margins) at `size` pt: words are
    kept whole and wrapped greedily, a word longer than the line is cut."""
    per_line = max(1, int((width / 12700 - 7.2) / (size * (EM_PER_CHAR_BOLD if bold else EM_PER_CHAR))))
    n = 0
    for para in str(text).split("\n"):
        n += 1
        used = 0
        for word in para.split(" "):      # no-break spaces (U+202F, U+00A0) hold their words together
            if not word:
                continue
            k = len(word)
            if used and used + 1 + k > per_line:
                n += 1
                used = 0
            while k > per_line:         # a word wider than the box breaks inside
                n += 1
                k -= per_line
            used = used + 1 + k if used else k
    return max(1, n)


def text_height(text: str, width: int, size: float, bold: bool = False) -> int:
    return int(line_count(text, width, size, bold) * size * LINE_EM * 12700)


def _rgb(hex_colour: str) -> RGBColor:
    return RGBColor.from_string(hex_colour.lstrip("#").upper())


# --- presentation and layouts -----------------------------------------------------------------------

class _Deck:
    def __init__(self, template: Path | str | None):
        self.templated = template is not None
        if template is not None:
            path = Path(template)
            if not path.is_file():
                raise TemplateError(f"modèle PowerPoint introuvable : {path}")
            try:
                self.prs = Presentation(str(path))
            except Exception as exc:  # noqa: BLE001
                raise TemplateError(f"{path} : ce fichier n'est pas un modèle PowerPoint (.pptx) lisible ({exc})") from None
            self._drop_slides()
        else:
            self.prs = Presentation()
            self.prs.slide_width, self.prs.slide_height = WIDE
        self.W, self.H = self.prs.slide_width, self.prs.slide_height
        self.title_layout, self.content_layout = self._layouts()

    def _drop_slides(self) -> None:
        ids = self.prs.slides._sldIdLst
        for sld in list(ids):
            self.prs.part.drop_rel(sld.rId)
            ids.remove(sld)

    def _layouts(self):
        layouts = list(self.prs.slide_layouts)
        title_only = blank = None
        for lay in layouts:
            types = {ph.placeholder_format.type for ph in lay.placeholders}
            types -= {PP_PLACEHOLDER.DATE, PP_PLACEHOLDER.FOOTER, PP_PLACEHOLDER.SLIDE_NUMBER}
            if not types and blank is None:
                blank = lay
            if types == {PP_PLACEHOLDER.TITLE} and title_only is None:
                title_only = lay
        # python-pptx's default template has « Title Slide » and « Title Only »: every slide's title is then in
        # its title placeholder (the outline, screen readers, PowerPoint's « Titre » all read it).
        return layouts[0], title_only or blank or layouts[-1]

    def add(self, layout=None):
        slide = self.prs.slides.add_slide(layout or self.content_layout)
        return slide

    def save(self) -> bytes:
        buf = io.BytesIO()
        self.prs.save(buf)
        return buf.getvalue()


def _text(slide, left, top, width, height, paragraphs, size: int, bold: bool = False, colour: RGBColor = TEXT,
          align=None, anchor=MSO_ANCHOR.TOP):
    """A text box; paragraphs: str or list of str / (str, dict(size, bold, colour)) items."""
    box = slide.shapes.add_textbox(left, top, width, height)
    tf = box.text_frame
    tf.word_wrap = True
    tf.vertical_anchor = anchor
    tf.margin_left = tf.margin_right = Inches(0.05)
    if isinstance(paragraphs, str):
        paragraphs = [paragraphs]
    for i, item in enumerate(paragraphs):
        text, opts = (item, {}) if isinstance(item, str) else item
        p = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
        if align is not None:
            p.alignment = align
        run = p.add_run()
        run.text = text
        run.font.size = Pt(opts.get("size", size))
        run.font.bold = opts.get("bold", bold)
        run.font.color.rgb = opts.get("colour", colour)
        if i:
            p.space_before = Pt(4)
    return box


def _fill_title(ph, left, top, width, height, text: str, size: int, colour: RGBColor,
                anchor=MSO_ANCHOR.MIDDLE) -> None:
    """The title placeholder of the default layouts, set where and as the deck draws its titles (left-aligned,
    bold, never shrunk by the reader's autofit)."""
    from pptx.enum.text import MSO_AUTO_SIZE

    ph.left, ph.top, ph.width, ph.height = left, top, width, height
    tf = ph.text_frame
    tf.text = text
    tf.word_wrap = True
    tf.auto_size = MSO_AUTO_SIZE.NONE
    tf.vertical_anchor = anchor
    tf.margin_left = tf.margin_right = Inches(0.05)
    for p in tf.paragraphs:
        p.alignment = PP_ALIGN.LEFT
        for r in p.runs:
            r.font.size = Pt(size)
            r.font.bold = True
            r.font.color.rgb = colour


def _drop_placeholders(slide, keep) -> None:
    """Remove the layout placeholders we do not fill (they would show "Cliquez pour ajouter un texte")."""
    kept = {id(ph._element) for ph in keep if ph is not None}
    for ph in list(slide.placeholders):
        if id(ph._element) not in kept:
            ph._element.getparent().remove(ph._element)


def _header(deck: _Deck, slide, s: Slide) -> int:
    """Title (placeholder of the template, or a text box) and sentence; returns the top of the body area."""
    W = deck.W
    title_ph = next((ph for ph in slide.placeholders
                     if ph.placeholder_format.type in (PP_PLACEHOLDER.TITLE, PP_PLACEHOLDER.CENTER_TITLE)), None)
    size = TITLE_PT if len(s.titre) <= 75 else 24 if len(s.titre) <= 100 else 21   # long findings stay on 2 lines
    if title_ph is not None and deck.templated:
        title_ph.text_frame.text = s.titre
        title_ph.text_frame.word_wrap = True
        top = title_ph.top + title_ph.height + Inches(0.05)
    else:
        if title_ph is None:
            _text(slide, MARGIN, Inches(0.25), W - 2 * MARGIN, Inches(1.05), s.titre, size, bold=True, colour=ACCENT,
                  anchor=MSO_ANCHOR.MIDDLE)
        else:
            _fill_title(title_ph, MARGIN, Inches(0.25), W - 2 * MARGIN, Inches(1.05), s.titre, size, ACCENT)
        line = slide.shapes.add_connector(1, MARGIN, Inches(1.33), W - MARGIN, Inches(1.33))
        line.line.color.rgb = ACCENT
        line.line.width = Pt(2)
        top = Inches(1.4)
    _drop_placeholders(slide, [title_ph])
    if s.phrase:
        height = text_height(s.phrase, W - 2 * MARGIN, SENTENCE_PT) + Inches(0.12)
        _text(slide, MARGIN, top, W - 2 * MARGIN, height, s.phrase, SENTENCE_PT)
        top += height + Inches(0.05)
    return top


def _footer(deck: _Deck, slide, s: Slide, notes: list[str] | None = None) -> int:
    """Source and vintage, secret notes, demo mark; returns the top of the footer (bottom of the body)."""
    notes = s.notes if notes is None else notes
    lines = []
    if s.demo:
        lines.append((f"{content.DEMO_LABEL} : chiffres plausibles mais inventés.", {"bold": True, "colour": DEMO}))
    if s.source:
        lines.append((s.source, {}))
    lines += [(n, {}) for n in notes[:3]]
    if len(notes) > 3:
        lines.append((f"… et {len(notes) - 3} autre(s) remarque(s) : voir les notes de la diapositive et l'annexe.", {}))
    width = deck.W - 2 * MARGIN
    height = sum(text_height(text, width, SOURCE_PT, opts.get("bold", False)) + Pt(4) for text, opts in lines)
    height = max(height, Pt(SOURCE_PT * LINE_EM)) + Inches(0.12)
    top = deck.H - height - Inches(0.15)
    _text(slide, MARGIN, top, width, height, lines or [""], SOURCE_PT, colour=MUTED)
    return top


def _speaker_notes(slide, s: Slide) -> None:
    parts = [s.phrase, s.definition, s.source, *s.notes]
    slide.notes_slide.notes_text_frame.text = "\n".join(p for p in parts if p)


# --- native charts ---------------------------------------------------------------------------------

def _chart_frame(s: Slide) -> tuple[list, list, pd.DataFrame, str]:
    rows = s.chart_rows()
    cat_col, ser_col = s.spec.cat, s.spec.series
    cats = list(dict.fromkeys(rows[cat_col].astype(str)))
    series = list(dict.fromkeys(rows[ser_col].astype(str)))
    kind = rows.kind.iat[0] if len(rows) else "count"
    return cats, series, rows.assign(_cat=rows[cat_col].astype(str), _ser=rows[ser_col].astype(str)), kind


def chart_data(s: Slide, only: str | None = None) -> CategoryChartData:
    """The chart's embedded data: categories x series (or the one series `only`), None (empty cell) for
    secret/absent values."""
    cats, series, rows, kind = _chart_frame(s)
    fmt_code = KINDS[kind][3]
    cd = CategoryChartData(number_format=fmt_code)
    cells = _cells(rows)
    statuts: dict[str, set[str]] = {}
    for c, ser, st in zip(rows._cat, rows._ser, rows.statut):
        if only is None or ser == only:
            statuts.setdefault(c, set()).add(st)
    marked = []
    for c in cats:
        st = statuts.get(c, set())
        # a line's categories are years: its secret points are gaps, named in the notes
        mark = "" if s.chart == "line" else " (s)" if "secret" in st else (" (partiel)" if "partiel" in st else "")
        marked.append(c + mark)
    cd.categories = marked
    for name in series if only is None else [only]:
        vals = [cells.get((c, name), (None, ""))[0] for c in cats]
        cd.add_series(name, [None if v is None or pd.isna(v) else float(v) for v in vals], number_format=fmt_code)
    return cd


def _cells(rows: pd.DataFrame) -> dict[tuple[str, str], tuple[float, str]]:
    """(category, series) -> (valeur, statut) of its first row, in one pass over the rows (a boolean mask per
    category and per label cost 30 ms a chart)."""
    out: dict[tuple[str, str], tuple[float, str]] = {}
    for c, ser, v, st in zip(rows._cat, rows._ser, rows.valeur, rows.statut):
        out.setdefault((c, ser), (v, st))
    return out


def _font(obj, size=CHART_PT, colour=TEXT):
    obj.font.size = Pt(size)
    obj.font.color.rgb = colour


def _inner_layout(chart, x: float, y: float, w: float, h: float) -> None:
    """Place a chart's plot area (fractions of the chart frame): panels side by side then share their rows."""
    from lxml import etree
    from pptx.oxml.ns import qn

    area = chart._chartSpace.chart.plotArea
    layout = area.find(qn("c:layout"))
    if layout is None:
        layout = etree.Element(qn("c:layout"))
        area.insert(0, layout)
    for child in list(layout):
        layout.remove(child)
    manual = etree.SubElement(layout, qn("c:manualLayout"))
    for tag, val in (("layoutTarget", "inner"), ("xMode", "edge"), ("yMode", "edge"), ("x", x), ("y", y), ("w", w), ("h", h)):
        etree.SubElement(manual, qn(f"c:{tag}")).set("val", f"{val:.4f}" if isinstance(val, float) else val)


def _small_multiples(deck: _Deck, slide, s: Slide, top, bottom) -> None:
    """Categories of very unequal size (filières by EPCI): one native bar chart per series, each on its own
    scale under its name, as on the page; a stack would bury the small ones under the largest. The plot areas
    are placed by hand so that every panel's bars share the same rows, and « s » stands where a value is
    secret (a chart draws no label on an empty point)."""
    cats, series, rows, kind = _chart_frame(s)
    mark = s.extra.get("highlight")
    labels = Inches(2.4)         # the first panel carries the territories' names
    panel = (deck.W - 2 * MARGIN - labels) // max(1, len(series))
    # the panels' names wrap in their width: the tallest sets the head room, so none rises into the sentence
    head = max(Inches(0.4), max(text_height(n, panel - Inches(0.1), CHART_PT - 1, bold=True) for n in series)
               + Inches(0.1))
    height = bottom - top - head
    y, h = 0.02, 0.96
    row = height * h / max(1, len(cats))
    left = MARGIN
    cells = _cells(rows)
    for i, name in enumerate(series):
        width = panel + (labels if i == 0 else 0)
        inner = left + (labels if i == 0 else 0) + Inches(0.05)
        _text(slide, inner, top, panel - Inches(0.1), head, name, CHART_PT - 1, bold=True,
              align=PP_ALIGN.CENTER, anchor=MSO_ANCHOR.BOTTOM)
        chart = slide.shapes.add_chart(XL_CHART_TYPE.BAR_CLUSTERED, left, top + head, width, height,
                                       chart_data(s, only=name)).chart
        _inner_layout(chart, (inner - left) / width, y, panel * 0.62 / width, h)   # the rest: value labels
        chart.has_legend = False
        chart.has_title = False
        chart.font.size = Pt(CHART_PT)
        plot = chart.plots[0]
        plot.gap_width = 50
        ca = chart.category_axis
        ca.reverse_order = True
        ca.has_major_gridlines = False
        ca.format.line.color.rgb = RGBColor(0x99, 0x99, 0x99)
        ca.tick_label_position = XL_TICK_LABEL_POSITION.LOW if i == 0 else XL_TICK_LABEL_POSITION.NONE
        _font(ca.tick_labels, CHART_PT + 1)
        va = chart.value_axis
        va.visible = False
        va.has_major_gridlines = False
        va.minimum_scale = 0
        ser = plot.series[0]
        ser.invert_if_negative = False
        colour = s.spec.colours.get(name, "#4477AA")
        ser.format.fill.solid()
        ser.format.fill.fore_color.rgb = _rgb(colour)
        if mark in cats:        # the chosen EPCI stands out, the others are lighter (as on the page)
            for k, c in enumerate(cats):
                ser.points[k].format.fill.solid()
                ser.points[k].format.fill.fore_color.rgb = _rgb(colour if c == mark else palettes.tint(colour))
        _text_labels(plot, rows, cats, kind, False, secret=False)   # PowerPoint would label an empty point too
        for k, c in enumerate(cats):
            valeur, statut = cells.get((c, name), (None, ""))
            if statut in ("secret", "absent"):
                _text(slide, inner, top + head + int(height * y + row * k), Inches(0.6), int(row),
                      shown(valeur, kind, statut), CHART_PT + 1, colour=MUTED, anchor=MSO_ANCHOR.MIDDLE)
        left += width


def _line_style(ser, colour, width, marker: int) -> None:
    """A line series in one colour: its line, and round markers filled and outlined with it."""
    ser.format.line.color.rgb = colour
    ser.format.line.width = width
    ser.smooth = False
    ser.marker.style = XL_MARKER_STYLE.CIRCLE
    ser.marker.size = marker
    ser.marker.format.fill.solid()
    ser.marker.format.fill.fore_color.rgb = colour
    ser.marker.format.line.color.rgb = colour


def _line_panels(deck: _Deck, slide, s: Slide, top, bottom) -> None:
    """Evolutions of series of unequal size (filières: BTP in hundreds, PPAM in units): one native line chart per
    series on its own scale, up to three a row, as the page draws them (chart_kit.line_panels); a secret year is
    a gap named in the notes."""
    cats, series, rows, kind = _chart_frame(s)
    cells = _cells(rows)
    cols = min(len(series), 3)
    n_rows = -(-len(series) // cols)
    gap = Inches(0.25)
    pw = (deck.W - 2 * MARGIN - (cols - 1) * gap) // cols
    ph = (bottom - top - (n_rows - 1) * gap) // n_rows
    head = Inches(0.4)
    skip = max(1, -(-len(cats) // 4))      # four years a panel at most: 14 pt labels side by side
    dec = euro_decimals(rows.valeur[rows.kind == "eur"])     # one precision within the chart (« 81,0 M€ »)
    for i, name in enumerate(series):
        left = MARGIN + (i % cols) * (pw + gap)
        y = top + (i // cols) * (ph + gap)
        _text(slide, left, y, pw, head, name, CHART_PT, bold=True, anchor=MSO_ANCHOR.BOTTOM)
        statuts = [cells[(c, name)][1] for c in cats if (c, name) in cells]
        if statuts and all(st == "secret" for st in statuts):
            # Nothing to draw: a grey box says so, rather than a 0 to 1 axis with nothing on it (as on the page).
            box = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, left, y + head, pw, ph - head)
            box.fill.solid()
            box.fill.fore_color.rgb = RGBColor(0xEE, 0xEE, 0xEE)
            box.line.color.rgb = _rgb(palettes.SECRET_LINE)
            _text(slide, left, y + head, pw, ph - head, "s — secret statistique", CHART_PT, colour=MUTED,
                  align=PP_ALIGN.CENTER, anchor=MSO_ANCHOR.MIDDLE)
            continue
        chart = slide.shapes.add_chart(XL_CHART_TYPE.LINE_MARKERS, left, y + head, pw, ph - head,
                                       chart_data(s, only=name)).chart
        chart.has_title = False
        chart.has_legend = False
        chart.font.size = Pt(CHART_PT)
        va = chart.value_axis
        va.has_major_gridlines = True
        va.major_gridlines.format.line.color.rgb = RGBColor(0xDD, 0xDD, 0xDD)
        va.tick_labels.number_format = AXIS_FORMATS.get(kind, KINDS[kind][3])
        va.tick_labels.number_format_is_linked = False
        values = [v for c in cats for v in [cells.get((c, name), (None, ""))[0]] if v is not None and pd.notna(v)]
        hi = max([0.0, *values])
        va.minimum_scale = min(0.0, *values) if values else 0.0
        va.maximum_scale = _nice(hi * 1.3) if hi > 0 else 1.0      # room above the last value's label
        va.major_unit = va.maximum_scale / 2
        _font(va.tick_labels)
        ca = chart.category_axis
        _font(ca.tick_labels)
        _tick_skip(ca, skip)
        ser = chart.plots[0].series[0]
        colour = _rgb(s.spec.colours.get(name, "#4477AA"))
        _line_style(ser, colour, Pt(3), 7)
        # the last value labelled (a first one, half a category from the axis, would print over its ticks)
        shown_at = [k for k, c in enumerate(cats) if cells.get((c, name), (None, "secret"))[1] not in ("secret", "absent")]
        if shown_at:
            valeur, statut = cells[(cats[shown_at[-1]], name)]
            _label(ser.points[shown_at[-1]], shown(valeur, kind, statut, dec if kind == "eur" else None), CHART_PT,
                   XL_DATA_LABEL_POSITION.ABOVE)


def _nice(x: float) -> float:
    """The round number at or above x (1, 2, 2.5 or 5 times a power of ten): an axis maximum."""
    if x <= 0:
        return 1.0
    p = 10 ** math.floor(math.log10(x))
    return next(m * p for m in (1, 2, 2.5, 5, 10) if m * p >= x - 1e-9)


def _tick_skip(axis, every: int) -> None:
    """Label one category in `every` (python-pptx has no property for c:tickLblSkip)."""
    from lxml import etree
    from pptx.oxml.ns import qn

    ax = axis._element
    for old in ax.findall(qn("c:tickLblSkip")):
        ax.remove(old)
    el = etree.Element(qn("c:tickLblSkip"))
    el.set("val", str(every))
    # the schema's order (a reader ignores a misplaced element): before c:tickMarkSkip, c:noMultiLvlLbl, c:extLst
    before = next((ax.find(qn(t)) for t in ("c:tickMarkSkip", "c:noMultiLvlLbl", "c:extLst")
                   if ax.find(qn(t)) is not None), None)
    if before is not None:
        before.addprevious(el)
    else:
        ax.append(el)


def _value_room(va, rows: pd.DataFrame, cats: list[str], width: int, kind: str) -> None:
    """Bars labelled at their end: the value axis is widened so that each label stays inside the plot area,
    never over the category names (a negative bar's label is on the left, where the names are)."""
    values = [float(v) for v in rows.valeur if v is not None and pd.notna(v)]
    if not values:
        return
    lo, hi = min(0.0, *values), max(0.0, *values)
    span = (hi - lo) or 1.0
    names = max((len(c) for c in cats), default=0) * (CHART_PT + 1) * EM_PER_CHAR * 12700
    label = (max(len(shown(v, kind)) for v in values) + 1) * (CHART_PT + 1) * EM_PER_CHAR * 12700
    plot = max(width - names - Inches(0.3), Inches(2))
    room = min(0.4, label / plot)               # the share of the plot a label takes
    sides = (lo < 0) + (hi > 0)
    pad = span * room / max(0.2, 1 - sides * room)
    va.minimum_scale = lo - pad if lo < 0 else 0.0
    va.maximum_scale = hi + pad if hi > 0 else 0.0


def _add_chart(deck: _Deck, slide, s: Slide, top, bottom) -> None:
    if s.chart == "bar_stacked":
        return _small_multiples(deck, slide, s, top, bottom)
    cats, series, rows, kind = _chart_frame(s)
    if s.chart == "line" and len(series) > 1 and chart_kit.unequal(
            {n: [float(v) for v in g.valeur.dropna()] for n, g in rows.groupby("_ser")}):
        return _line_panels(deck, slide, s, top, bottom)
    fmt_code = KINDS[kind][3]
    colours = s.spec.colours
    by_point = s.spec.by_point
    chart_type = {"bar": XL_CHART_TYPE.BAR_CLUSTERED,
                  "line": XL_CHART_TYPE.LINE_MARKERS, "pie": XL_CHART_TYPE.PIE,
                  "waterfall": XL_CHART_TYPE.BAR_CLUSTERED}[s.chart]
    frame = slide.shapes.add_chart(chart_type, MARGIN, top, deck.W - 2 * MARGIN, bottom - top, chart_data(s))
    chart = frame.chart
    chart.has_title = False
    chart.font.size = Pt(CHART_PT)
    chart.has_legend = s.chart in ("line", "pie") or (len(series) > 1)
    if chart.has_legend:
        chart.legend.position = XL_LEGEND_POSITION.RIGHT if s.chart in ("line", "pie") else XL_LEGEND_POSITION.BOTTOM
        chart.legend.include_in_layout = False
        _font(chart.legend, CHART_PT + 2 if s.chart == "pie" else CHART_PT)
    plot = chart.plots[0]
    if s.chart == "pie":
        ser = plot.series[0]
        for i, c in enumerate(cats):
            pt = ser.points[i]
            pt.format.fill.solid()
            pt.format.fill.fore_color.rgb = _rgb(colours.get(c, "#4477AA"))
        total = sum(v for v in ser.values if v is not None)
        for i, v in enumerate(ser.values):     # French text labels: « 38 % », whatever the Office locale
            if v is not None and total:
                _label(ser.points[i], fmt.percent(v / total, 0), CHART_PT + 2, XL_DATA_LABEL_POSITION.OUTSIDE_END)
        return
    if s.chart in ("bar", "waterfall"):
        plot.gap_width = 50 if s.chart == "bar" else 40
        chart.category_axis.reverse_order = True       # first category at the top, as on the pages
        chart.category_axis.tick_label_position = XL_TICK_LABEL_POSITION.LOW   # clear of negative bars
        _font(chart.category_axis.tick_labels, CHART_PT + 1)
        chart.category_axis.has_major_gridlines = False
        chart.category_axis.format.line.color.rgb = RGBColor(0x99, 0x99, 0x99)
        va = chart.value_axis
        va.has_major_gridlines = False
        va.visible = False
        _value_room(va, rows, cats, deck.W - 2 * MARGIN, kind)
        for ser in plot.series:
            ser.invert_if_negative = False
            if by_point:
                for i, c in enumerate(cats):
                    pt = ser.points[i]
                    pt.format.fill.solid()
                    pt.format.fill.fore_color.rgb = _rgb(colours.get(c, "#4477AA"))
            else:
                ser.format.fill.solid()
                ser.format.fill.fore_color.rgb = _rgb(colours.get(ser.name, "#4477AA"))
        _text_labels(plot, rows, cats, kind, s.chart == "waterfall")
        return
    # line
    va = chart.value_axis
    va.has_major_gridlines = True
    va.major_gridlines.format.line.color.rgb = RGBColor(0xDD, 0xDD, 0xDD)
    va.tick_labels.number_format, va.tick_labels.number_format_is_linked = AXIS_FORMATS.get(kind, fmt_code), False
    _font(va.tick_labels)
    _font(chart.category_axis.tick_labels)
    for ser in plot.series:
        colour = _rgb(colours.get(ser.name, "#4477AA"))
        _line_style(ser, colour, Pt(3.5), 9)


def _label(point, text: str, size: int, position=None) -> None:
    dl = point.data_label
    dl.has_text_frame = True
    dl.text_frame.text = text
    dl.text_frame.word_wrap = False      # « 22,2 M€ » on one line, even in a narrow panel
    if position is not None:
        dl.position = position
    for p in dl.text_frame.paragraphs:
        for r in p.runs:
            r.font.size = Pt(size)
            r.font.color.rgb = TEXT


def _text_labels(plot, rows: pd.DataFrame, cats: list[str], kind: str, signed: bool, secret: bool = True) -> None:
    """Data labels as French text (« 3,7 % », « 2 000 M€ », « s »): PowerPoint's number formats follow the
    reader's locale (« 3.7% », « 2,000 M€ » in English), text does not. secret=False: no label on a secret or
    absent point (the caller writes its « s » beside the axis)."""
    first = _cells(rows)
    dec = euro_decimals(rows.valeur[rows.kind == "eur"]) if "kind" in rows else None   # one precision a chart
    for ser in plot.series:
        for i, c in enumerate(cats):
            if (c, ser.name) not in first:
                continue
            valeur, statut = first[(c, ser.name)]
            if not secret and statut in ("secret", "absent"):
                continue
            text = shown(valeur, kind, statut, dec if kind == "eur" else None)
            if signed and statut not in ("secret", "absent") and valeur > 0:
                text = "+" + text
            _label(ser.points[i], text, CHART_PT + 1, XL_DATA_LABEL_POSITION.OUTSIDE_END)


# --- slide kinds -----------------------------------------------------------------------------------

def _title_slide(deck: _Deck, s: Slide) -> None:
    slide = deck.add(deck.title_layout)
    W, H = deck.W, deck.H
    phs = {ph.placeholder_format.type: ph for ph in slide.placeholders}
    title_ph = phs.get(PP_PLACEHOLDER.CENTER_TITLE) or phs.get(PP_PLACEHOLDER.TITLE)
    sub_ph = phs.get(PP_PLACEHOLDER.SUBTITLE)
    subtitle = f"{s.phrase}\nComité du Territoire d'industrie — {s.extra['date']}"
    if deck.templated and title_ph is not None:
        title_ph.text_frame.text = s.titre
        if sub_ph is not None:
            sub_ph.text_frame.text = subtitle
        _drop_placeholders(slide, [title_ph, sub_ph])
        top = max(ph.top + ph.height for ph in (title_ph, sub_ph) if ph is not None) + Inches(0.2)
        if sub_ph is None:
            _text(slide, MARGIN, top, W - 2 * MARGIN, Inches(0.9), subtitle, 20)
            top += Inches(1.0)
    else:
        band = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, 0, 0, W, Inches(3.4))
        band.fill.solid()
        band.fill.fore_color.rgb = ACCENT
        band.line.fill.background()
        # the band is drawn first: the title placeholder comes before it in the shape tree, so it moves on top
        slide.shapes._spTree.remove(band._element)
        slide.shapes._spTree.insert(2, band._element)
        _fill_title(title_ph, Inches(0.7), Inches(0.5), W - Inches(1.4), Inches(1.4), s.titre,
                    40 if len(s.titre) <= 40 else 32, RGBColor(0xFF, 0xFF, 0xFF), anchor=MSO_ANCHOR.BOTTOM)
        _drop_placeholders(slide, [title_ph])
        _text(slide, Inches(0.7), Inches(1.95), W - Inches(1.4), Inches(1.3), subtitle.split("\n"), 22,
              colour=RGBColor(0xFF, 0xFF, 0xFF))
        top = Inches(3.75)
    room = H - top - Inches(0.3)
    for size in (15, 14, 13, 12, 11):   # the largest type at which the vintages and the missing parts fit
        lines = [("Millésimes des données", {"bold": True, "size": size + 3})] + [(v, {}) for v in s.extra["vintages"]]
        if s.extra.get("absent"):
            lines += [("Parties sans diapositive pour cette sélection", {"bold": True, "size": size + 3}),
                      (" ; ".join(s.extra["absent"]) + ".", {})]
        if s.demo:
            lines.append((f"{content.DEMO_LABEL} : une partie des chiffres est inventée (fichiers officiels à charger).",
                          {"bold": True, "colour": DEMO}))
        need = sum(text_height(t, W - Inches(1.4), o.get("size", size), o.get("bold", False)) + Pt(4) for t, o in lines)
        if need <= room:
            break
    _text(slide, Inches(0.7), top, W - Inches(1.4), room, lines, size, colour=TEXT)
    _speaker_notes(slide, s)


def _figures_slide(deck: _Deck, s: Slide) -> None:
    slide = deck.add()
    top = _header(deck, slide, s)
    bottom = _footer(deck, slide, s)
    rows = s.table[s.table.usage == "chiffre"] if "usage" in s.table else s.table
    shares = s.extra.get("shares", {})
    n_cols = 4
    n_rows = max(1, -(-len(rows) // n_cols))
    gap = Inches(0.2)
    tile_w = int((deck.W - 2 * MARGIN - (n_cols - 1) * gap) / n_cols)
    tile_h = int((bottom - top - Inches(0.1) - (n_rows - 1) * gap) / n_rows)
    for i, r in enumerate(rows.itertuples()):
        left = MARGIN + (i % n_cols) * (tile_w + gap)
        t = top + (i // n_cols) * (tile_h + gap)
        box = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, left, t, tile_w, tile_h)
        box.fill.solid()
        box.fill.fore_color.rgb = TILE
        box.line.fill.background()
        value = shown(r.valeur, r.kind, r.statut)
        year = (r.note if pd.isna(r.annee) else f"{r.annee_base} → {r.annee}" if pd.notna(r.annee_base)
                else f"{r.annee}")
        lines = [(value, {"size": 30, "bold": True, "colour": ACCENT}), (r.indicateur, {"size": 15}),
                 (year + (" · " + content.STATUT_MARKS[r.statut] if r.statut != "ok" else ""),
                  {"size": 12, "colour": MUTED})]
        if r.indicateur in shares:
            lines.append((f"{fmt.percent(shares[r.indicateur], 0)} {s.extra.get('home', 'de la référence')}",
                          {"size": 12, "colour": MUTED}))
        _text(slide, left + Inches(0.1), t + Inches(0.05), tile_w - Inches(0.2), tile_h - Inches(0.1), lines, 15,
              anchor=MSO_ANCHOR.MIDDLE)
    _speaker_notes(slide, s)


def _chart_slide(deck: _Deck, s: Slide) -> None:
    slide = deck.add()
    top = _header(deck, slide, s)
    bottom = _footer(deck, slide, s)
    if len(s.chart_rows()):
        _add_chart(deck, slide, s, top, bottom - Inches(0.05))
    _speaker_notes(slide, s)


def _table(slide, left, top, width, header: list[str], body: list[list], col_widths: list[float], size: int,
           row_h: list[int], first_col_colours: list[str | None] | None = None):
    """A table; row_h: the height of each body row (the header row takes the first's)."""
    row_h = [row_h[0] if row_h else Inches(0.4)] + list(row_h)
    shape = slide.shapes.add_table(len(body) + 1, len(header), left, top, width, sum(row_h))
    table = shape.table
    total = sum(col_widths)
    for j, w in enumerate(col_widths):
        table.columns[j].width = int(width * w / total)
    for i, row in enumerate([header] + body):
        table.rows[i].height = row_h[i]
        for j, value in enumerate(row):
            cell = table.cell(i, j)
            cell.margin_left = cell.margin_right = Inches(0.06)
            cell.margin_top = cell.margin_bottom = Inches(0.02)
            cell.vertical_anchor = MSO_ANCHOR.MIDDLE
            tf = cell.text_frame
            tf.word_wrap = True
            p = tf.paragraphs[0]
            p.alignment = PP_ALIGN.LEFT if j == 0 or i == 0 and j == 0 else PP_ALIGN.RIGHT if i else PP_ALIGN.CENTER
            if i and j == 0 and first_col_colours and first_col_colours[i - 1]:
                mark = p.add_run()
                mark.text = "■ "
                mark.font.size = Pt(size)
                mark.font.color.rgb = _rgb(first_col_colours[i - 1])
            run = p.add_run()
            run.text = str(value)
            run.font.size = Pt(size - 1 if i == 0 else size)
            run.font.bold = i == 0 or j == 0
    return shape


def _row_heights(body: list[list], widths: list[int], size: int, header: bool = False) -> list[int]:
    """The height each table row takes once its cells wrap (cell margins 0.06 in each side, 0.02 in top and
    bottom), measured as `line_count` does."""
    pad = Inches(0.12)
    return [max(text_height(cell, w - pad + Inches(0.1), size, bold=header or j == 0) for j, (cell, w)
                in enumerate(zip(row, widths))) + Inches(0.08) for row in body]


def _fit_widths(weights: list[float], width: int, header: list[str], body: list[list], size: int) -> list[float]:
    """Column weights widened so that no word breaks inside (« 41 659 habitants » in a narrow column became
    « habitant / s »): the room a column lacks is taken from the widest one."""
    widths = [width * w / sum(weights) for w in weights]
    em = size * 12700
    need = [max(max((len(word) for word in str(cell).replace("\n", " ").split(" ")), default=0) * em *
                (EM_PER_CHAR_BOLD if (i == 0 or j == 0) else EM_PER_CHAR) for i, row in enumerate([header] + body)
                for cell in [row[j]] for _ in [0]) + Inches(0.25)
            for j in range(len(header))]
    for j, n in enumerate(need):
        short = n - widths[j]
        if short > 0:
            k = max(range(len(widths)), key=lambda c: widths[c] - need[c])
            if k != j and widths[k] - need[k] > short:
                widths[j] += short
                widths[k] -= short
    return widths


def _pages(heights: list[int], room: int) -> list[list[int]]:
    """Row indexes per slide: as many rows as the room holds, at least one."""
    out, used = [[]], 0
    for i, h in enumerate(heights):
        if out[-1] and used + h > room:
            out.append([])
            used = 0
        out[-1].append(i)
        used += h
    return out


def _continued(s: Slide, k: int, n: int) -> Slide:
    """The k-th of n slides of one finding: the same title marked « (suite) », the sentence only on the first."""
    if k == 0:
        return s
    part = copy.copy(s)
    part.titre = f"{s.titre} (suite {k + 1}/{n})"
    part.phrase = ""
    return part


def _display_slide(deck: _Deck, s: Slide) -> None:
    """A table finding (Comparer, candidature): its display table as the page shows it, at 12 pt at least; the
    rows that do not fit go on the next slide, under the same header."""
    disp = s.extra["display"]
    index = disp.index.name is not None
    cols = list(disp.columns)
    header = ([disp.index.name] if index else []) + [content.COMPARE_SHORT.get(c.rsplit(" (", 1)[0], c.rsplit(" (", 1)[0])
                                                     + (" (" + c.rsplit(" (", 1)[1] if " (" in c else "") for c in cols]
    body = [([str(i)] if index else []) + ["" if pd.isna(v) else str(v) for v in row]
            for i, row in zip(disp.index, disp.itertuples(index=False))]
    highlight = s.extra.get("highlight")
    marks = [(ACCENT_HEX if str(r[0]) == highlight else "#BBBBBB") for r in body] if index else None
    weights = s.extra.get("weights") or (
        ([3.3] + [1.5] * len(cols)) if index else [3.0 if c in ("Chiffre", "Écart") else 1.3 for c in cols])
    if not index and "Écart" in cols:
        weights[cols.index("Écart")] = 6.0
    width = deck.W - 2 * MARGIN
    size = 14 if len(body) <= 6 else TABLE_PT
    weights = _fit_widths(weights, width, header, body, size)
    widths = [int(width * w / sum(weights)) for w in weights]
    head_h = _row_heights([header], widths, size - 1, header=True)[0]
    heights = _row_heights(body, widths, size)
    probe = deck.add()                  # the room under the sentence and above the footer of the first slide
    top, bottom = _header(deck, probe, s), _footer(deck, probe, s)
    first_room = bottom - top - head_h - Inches(0.1)
    pages = _pages(heights, first_room)
    if len(pages) > 1:                  # later slides have no sentence: more room
        rest = _pages(heights[len(pages[0]):], first_room + (top - Inches(1.4)))
        pages = [pages[0]] + [[i + len(pages[0]) for i in p] for p in rest]
    for k, idx in enumerate(pages):
        part = _continued(s, k, len(pages))
        if k == 0:
            slide = probe
        else:
            slide = deck.add()
            top, _ = _header(deck, slide, part), _footer(deck, slide, part)
        shape = _table(slide, MARGIN, top, width, header, [body[i] for i in idx], weights, size,
                       [heights[i] for i in idx], [marks[i] for i in idx] if marks else None)
        shape.table.rows[0].height = head_h
        _speaker_notes(slide, part if k else s)


def _sources_slide(deck: _Deck, s: Slide) -> None:
    """The sources' table, then the methods as bullets below it, or on a second slide when they do not fit."""
    slide = deck.add()
    top = _header(deck, slide, s)
    t = s.table
    cols = ["Source", "Producteur", "Millésime", "Années", "Licence"]
    body = [["" if pd.isna(r[c]) else str(r[c]) for c in cols] for _, r in t.iterrows()]
    weights = [4.6, 2.0, 1.2, 1.3, 3.4]
    width = deck.W - 2 * MARGIN
    widths = [int(width * w / sum(weights)) for w in weights]
    size = 13
    head_h = _row_heights([cols], widths, size - 1, header=True)[0]
    heights = _row_heights(body, widths, size)
    bottom = deck.H - Inches(0.3)
    pages = _pages(heights, bottom - top - head_h)
    bullets = [("• " + n, {}) for n in s.notes]
    if s.demo:
        bullets.append((f"• {content.DEMO_LABEL} : les fichiers marqués « démonstration » sont générés par le logiciel.",
                        {"bold": True, "colour": DEMO}))
    bullets_h = sum(text_height(text, width, 15, opts.get("bold", False)) + Pt(4) for text, opts in bullets)
    y = top
    for k, idx in enumerate(pages):
        if k:
            slide = deck.add()
            top = y = _header(deck, slide, _continued(s, k, len(pages) + 1))
        shape = _table(slide, MARGIN, top, width, cols, [body[i] for i in idx], weights, size, [heights[i] for i in idx])
        shape.table.rows[0].height = head_h
        y = top + head_h + sum(heights[i] for i in idx) + Inches(0.2)
        _speaker_notes(slide, s)
    if bullets and y + bullets_h > bottom:      # the methods on a slide of their own
        slide = deck.add()
        y = _header(deck, slide, _continued(s, len(pages), len(pages) + 1)) + Inches(0.1)
        _speaker_notes(slide, s)
    if bullets:
        _text(slide, MARGIN, y, width, max(bullets_h, bottom - y), bullets, 15)


def _picture_slide(deck: _Deck, s: Slide) -> None:
    slide = deck.add()
    top = _header(deck, slide, s)
    bottom = _footer(deck, slide, s)
    max_w, max_h = deck.W - 2 * MARGIN, bottom - top - Inches(0.05)
    # Rendered at the shape of the free area (about 130 px per inch): a picture of another shape would be
    # shrunk to fit and its type would become unreadable on a projector.
    fig = s.extra.get("figure")
    png = None if fig is None else picture.figure_png(fig, width=int(max_w / Inches(1) * 130),
                                                      height=int(max_h / Inches(1) * 130))
    if png is None:
        _text(slide, MARGIN + Inches(0.5), top + Inches(0.3), deck.W - 2 * MARGIN - Inches(1), bottom - top - Inches(0.6),
              picture.NO_BROWSER, 20, colour=TEXT, anchor=MSO_ANCHOR.MIDDLE)
    else:
        from PIL import Image

        w, h = Image.open(io.BytesIO(png)).size
        scale = min(max_w / w, max_h / h)
        pw, ph = int(w * scale), int(h * scale)
        slide.shapes.add_picture(io.BytesIO(png), int((deck.W - pw) / 2), top, Emu(pw), Emu(ph))
    _speaker_notes(slide, s)


def _since_slide(deck: _Deck, s: Slide) -> None:
    """« Depuis le dernier comité »: the generated summary, the changed actions and the changed key figures."""
    slide = deck.add()
    top = _header(deck, slide, s)
    bottom = _footer(deck, slide, s)
    actions, chiffres = s.extra.get("actions", []), s.extra.get("chiffres", [])
    room = max(4, int((bottom - top) / Inches(0.3)) - 2)
    lines = []
    if actions:
        lines.append((f"Plan d'actions : {fmt.count(len(actions), 'changement')}", {"bold": True, "size": 16}))
        shown = actions[: room - min(len(chiffres), room // 3) - 2]
        lines += [("• " + a, {}) for a in shown]
        if len(actions) > len(shown):
            lines.append((f"… et {fmt.count(len(actions) - len(shown), 'autre')} : voir la page Plan d'actions et "
                          "l'annexe.", {}))
    if chiffres:
        lines.append(("Chiffres clés", {"bold": True, "size": 16}))
        left = max(1, room - len(lines) - (2 if s.extra.get("cibles") else 0))
        lines += [("• " + c, {}) for c in chiffres[:left]]
    cibles = s.extra.get("cibles", [])
    if cibles:
        lines.append(("Cibles des actions : valeur, cible et trajectoire", {"bold": True, "size": 16}))
        lines += [("• " + c, {}) for c in cibles[: max(1, room - len(lines))]]
    if s.extra.get("autres_chiffres"):
        n = s.extra["autres_chiffres"]
        lines.append((f"{fmt.count(n, 'autre chiffre', 'autres chiffres')} de la présentation "
                      f"{'a' if n == 1 else 'ont'} changé : voir l'annexe.", {"colour": MUTED}))
    if lines:
        _text(slide, MARGIN, top + Inches(0.1), deck.W - 2 * MARGIN, bottom - top - Inches(0.2), lines, 13)
    slide.notes_slide.notes_text_frame.text = "\n".join([s.phrase, *actions, *chiffres, *cibles, s.source])


def nothing_to_show(s: Slide) -> bool:
    """A slide with only a title and a sentence saying why it is empty (a year the source does not cover, no
    committee edition yet): the deck leaves it out and its title slide says so."""
    if s.key in ("titre", "sources"):
        return False
    if s.extra.get("figure") is not None or s.extra.get("actions") or s.extra.get("chiffres") or s.extra.get("cibles"):
        return False
    if "display" in s.extra:
        return not len(s.extra["display"])
    if s.key == "chiffres_cles" or s.extra.get("figures"):
        return not len(s.table)
    return not (s.chart and len(s.chart_rows()))


def _with_extra(s: Slide, **extra) -> Slide:
    out = copy.copy(s)
    out.extra = {**s.extra, **extra}
    return out


def _absent_line(s: Slide) -> str:
    """« Candidature : chiffres de 2022, non comparés pour 2020 »: the title when it gives the reason, else the
    title and its source line's reason."""
    if "\u202f:" in s.titre or ":" in s.titre:
        return s.titre
    why = s.source.rsplit(":", 1)[-1].strip().rstrip(".") if ":" in s.source else s.phrase.split(":")[0].strip()
    return f"{s.titre}\u202f: {why}" if why else s.titre


def render(slide_list: list[Slide], template: Path | str | None = None, colours: dict[str, str] | None = None,
           deck: _Deck | None = None) -> bytes:
    deck = deck or _Deck(template)
    if any(s.key == "titre" for s in slide_list):      # the title slide names what the deck leaves out
        missing = [s for s in slide_list if nothing_to_show(s)]
        absent = [_absent_line(m) for m in missing]
        gone = {id(m) for m in missing}
        slide_list = [_with_extra(s, absent=absent) if s.key == "titre" else s for s in slide_list
                      if id(s) not in gone]
    for s in slide_list:
        if s.key == "titre":
            _title_slide(deck, s)
        elif s.key == "chiffres_cles" or s.extra.get("figures"):
            _figures_slide(deck, s)
        elif s.key == "depuis_comite":         # its page table is in `display`; the slide has its own layout
            _since_slide(deck, s)
        elif "display" in s.extra:
            _display_slide(deck, s)
        elif s.key == "sources":
            _sources_slide(deck, s)
        elif s.chart == "carte":          # maps: a picture (PowerPoint has no map chart)
            _picture_slide(deck, s)
        elif s.key == "depuis_comite":
            _since_slide(deck, s)
        elif s.chart:
            _chart_slide(deck, s)
        else:                                   # nothing loaded: title, explanation, source line
            slide = deck.add()
            _header(deck, slide, s)
            _footer(deck, slide, s)
            _speaker_notes(slide, s)
    return deck.save()


def build_deck(snap, selection: Selection | None = None, template: Path | str | None = None,
               keys: list[str] | None = None, map_figure=None) -> bytes:
    """The deck of a selection as .pptx bytes (keys: a subset of slides.ORDER, e.g. one page's slides)."""
    selection = selection or Selection()
    deck = _Deck(template)                      # a bad template fails before any work
    ctx = content.context(snap, selection)
    slide_list = content.build(snap, selection, keys, map_figure, ctx=ctx)
    return render(slide_list, deck=deck)
