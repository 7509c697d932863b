"""The committee deck: a 16:9 PowerPoint with native, editable charts (data embedded).

Bar, line and pie charts are PowerPoint charts ("Modifier les données" opens their numbers);
only the map, which PowerPoint cannot draw, is a picture. Every number comes from
`slides.build()` (itself reading through indicators/query.py), rounded as in the annex.

An agency template (.pptx) can be given: its slide size, layouts, theme fonts and colours are
used (its own slides are dropped); the title of each slide goes into the layout's title placeholder.
"""
from __future__ import annotations

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
from .. import palettes
from .. import format as fmt
from .slides import KINDS, Selection, Slide, shown

ACCENT = RGBColor(0x33, 0x22, 0x88)
ACCENT_HEX = "#332288"
TEXT = RGBColor(0x22, 0x22, 0x22)
MUTED = RGBColor(0x55, 0x55, 0x55)
DEMO = RGBColor(0xB0, 0x3A, 0x2E)
TILE = RGBColor(0xF1, 0xF0, 0xF7)
WIDE = (Inches(13.333), Inches(7.5))
MARGIN = Inches(0.45)

TITLE_PT, SENTENCE_PT, CHART_PT, SOURCE_PT = 28, 18, 14, 12
AXIS_FORMATS = fmt.OFFICE_AXIS_FORMATS     # French axis formats whatever the reader's Office locale
CHARS_PER_LINE_12PT = 150      # a full-width 12 pt line (12.4 in) holds about this many characters


class TemplateError(ValueError):
    pass


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
        if not self.templated:
            blank = layouts[6] if len(layouts) > 6 else layouts[-1]
            return blank, blank
        title_only = blank = None
        for lay in layouts:
            types = {ph.placeholder_format.type for ph in lay.placeholders}
            types -= {PP_PLACEHOLDER.DATE, PP_PLACEHOLDER.FOOTER, PP_PLACEHOLDER.SLIDE_NUMBER}
            if not types and blank is None:
                blank = lay
            if types == {PP_PLACEHOLDER.TITLE} and title_only is None:
                title_only = lay
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
    if title_ph is not None:
        title_ph.text_frame.text = s.titre
        title_ph.text_frame.word_wrap = True
        top = title_ph.top + title_ph.height + Inches(0.05)
    else:
        size = TITLE_PT if len(s.titre) <= 75 else 24 if len(s.titre) <= 100 else 21   # long findings stay on 2 lines
        _text(slide, MARGIN, Inches(0.25), W - 2 * MARGIN, Inches(1.05), s.titre, size, bold=True, colour=ACCENT,
              anchor=MSO_ANCHOR.MIDDLE)
        line = slide.shapes.add_connector(1, MARGIN, Inches(1.33), W - MARGIN, Inches(1.33))
        line.line.color.rgb = ACCENT
        line.line.width = Pt(2)
        top = Inches(1.4)
    _drop_placeholders(slide, [title_ph])
    if s.phrase:
        per_line = int(CHARS_PER_LINE_12PT * 12 / SENTENCE_PT * (W - 2 * MARGIN) / Inches(12.43))
        n = max(1, -(-len(s.phrase) // per_line))
        height = Inches(0.32) * n + Inches(0.12)
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
    per_line = int(CHARS_PER_LINE_12PT * (deck.W - 2 * MARGIN) / Inches(12.43))
    n = sum(max(1, -(-len(text) // per_line)) for text, _ in lines)
    height = Inches(0.21) * max(1, n) + Inches(0.12)
    top = deck.H - height - Inches(0.15)
    _text(slide, MARGIN, top, deck.W - 2 * MARGIN, height, lines or [""], SOURCE_PT, colour=MUTED)
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
    head = Inches(0.75)
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


def _add_chart(deck: _Deck, slide, s: Slide, top, bottom) -> None:
    if s.chart == "bar_stacked":
        return _small_multiples(deck, slide, s, top, bottom)
    cats, series, rows, kind = _chart_frame(s)
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
        ser.format.line.color.rgb = colour
        ser.format.line.width = Pt(3.5)
        ser.smooth = False
        ser.marker.style = XL_MARKER_STYLE.CIRCLE
        ser.marker.size = 9
        ser.marker.format.fill.solid()
        ser.marker.format.fill.fore_color.rgb = colour
        ser.marker.format.line.color.rgb = colour


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
    for ser in plot.series:
        for i, c in enumerate(cats):
            if (c, ser.name) not in first:
                continue
            valeur, statut = first[(c, ser.name)]
            if not secret and statut in ("secret", "absent"):
                continue
            text = shown(valeur, kind, statut)
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
        _text(slide, Inches(0.7), Inches(0.7), W - Inches(1.4), Inches(1.2), s.titre, 44, bold=True,
              colour=RGBColor(0xFF, 0xFF, 0xFF), anchor=MSO_ANCHOR.BOTTOM)
        _text(slide, Inches(0.7), Inches(1.95), W - Inches(1.4), Inches(1.3), subtitle.split("\n"), 22,
              colour=RGBColor(0xFF, 0xFF, 0xFF))
        top = Inches(3.75)
    lines = [("Millésimes des données", {"bold": True, "size": 18})] + [(v, {}) for v in s.extra["vintages"]]
    if s.demo:
        lines.append((f"{content.DEMO_LABEL} : une partie des chiffres est inventée (fichiers officiels à charger).",
                      {"bold": True, "colour": DEMO}))
    _text(slide, Inches(0.7), top, W - Inches(1.4), H - top - Inches(0.3), lines, 15, colour=TEXT)
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
           row_h, first_col_colours: list[str | None] | None = None):
    shape = slide.shapes.add_table(len(body) + 1, len(header), left, top, width, row_h * (len(body) + 1))
    table = shape.table
    total = sum(col_widths)
    for j, w in enumerate(col_widths):
        table.columns[j].width = int(width * w / total)
    for i, row in enumerate([header] + body):
        table.rows[i].height = row_h
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


def _display_slide(deck: _Deck, s: Slide) -> None:
    """A table finding (Comparer, candidature): its display table as the page shows it."""
    slide = deck.add()
    top = _header(deck, slide, s)
    bottom = _footer(deck, slide, s)
    disp = s.extra["display"]
    index = disp.index.name is not None
    cols = list(disp.columns)
    header = ([disp.index.name] if index else []) + [content.COMPARE_SHORT.get(c.rsplit(" (", 1)[0], c.rsplit(" (", 1)[0])
                                                     + (" (" + c.rsplit(" (", 1)[1] if " (" in c else "") for c in cols]
    body = [([str(i)] if index else []) + ["" if pd.isna(v) else str(v) for v in row]
            for i, row in zip(disp.index, disp.itertuples(index=False))]
    highlight = s.extra.get("highlight")
    marks = [(ACCENT_HEX if str(r[0]) == highlight else "#BBBBBB") for r in body] if index else None
    widths = ([3.3] + [1.5] * len(cols)) if index else [3.0 if c in ("Chiffre", "Écart") else 1.3 for c in cols]
    if not index and "Écart" in cols:
        widths[cols.index("Écart")] = 6.0
    row_h = min(Inches(0.45), int((bottom - top - Inches(0.1)) / (len(body) + 1.6)))
    size = 14 if len(body) <= 6 else 12 if len(body) <= 10 else 10
    shape = _table(slide, MARGIN, top, deck.W - 2 * MARGIN, header, body, widths, size, row_h, marks)
    shape.table.rows[0].height = int(row_h * 1.6)
    _speaker_notes(slide, s)


def _sources_slide(deck: _Deck, s: Slide) -> None:
    slide = deck.add()
    top = _header(deck, slide, s)
    t = s.table
    body = [["" if pd.isna(r[c]) else str(r[c]) for c in ("Source", "Producteur", "Millésime", "Années", "Licence")]
            for _, r in t.iterrows()]
    widths = [4.6, 2.0, 1.2, 1.3, 3.4]
    row_h = Inches(0.5)
    _table(slide, MARGIN, top, deck.W - 2 * MARGIN, ["Source", "Producteur", "Millésime", "Années", "Licence"], body,
           widths, 13, row_h)
    # Rows grow with wrapped text: about 11 characters per inch at 13 pt, 0.22 inch per line.
    lines_per_row = [max(1, *(math.ceil(len(cell) / (11 * w)) for cell, w in zip(row, widths))) for row in body]
    y = top + row_h + sum(max(row_h, Inches(0.12 + 0.22 * n)) for n in lines_per_row) + Inches(0.25)
    lines = [("• " + n, {}) for n in s.notes]
    if s.demo:
        lines.append((f"• {content.DEMO_LABEL} : les fichiers marqués « démonstration » sont générés par le logiciel.",
                      {"bold": True, "colour": DEMO}))
    _text(slide, MARGIN, y, deck.W - 2 * MARGIN, deck.H - y - Inches(0.2), lines, 15)
    _speaker_notes(slide, s)


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
        lines.append((f"Plan d'actions : {len(actions)} changement(s)", {"bold": True, "size": 16}))
        shown = actions[: room - min(len(chiffres), room // 3) - 2]
        lines += [("• " + a, {}) for a in shown]
        if len(actions) > len(shown):
            lines.append((f"… et {len(actions) - len(shown)} autre(s) : python -m indicators comite ecarts", {}))
    if chiffres:
        lines.append(("Chiffres clés", {"bold": True, "size": 16}))
        left = max(1, room - len(lines) - (2 if s.extra.get("cibles") else 0))
        lines += [("• " + c, {}) for c in chiffres[:left]]
    cibles = s.extra.get("cibles", [])
    if cibles:
        lines.append(("Cibles des actions : valeur, cible et trajectoire", {"bold": True, "size": 16}))
        lines += [("• " + c, {}) for c in cibles[: max(1, room - len(lines))]]
    if s.extra.get("autres_chiffres"):
        lines.append((f"{s.extra['autres_chiffres']} autre(s) chiffre(s) de la présentation ont changé : voir "
                      "« python -m indicators comite ecarts ».", {"colour": MUTED}))
    if lines:
        _text(slide, MARGIN, top + Inches(0.1), deck.W - 2 * MARGIN, bottom - top - Inches(0.2), lines, 13)
    slide.notes_slide.notes_text_frame.text = "\n".join([s.phrase, *actions, *chiffres, *cibles, s.source])


def render(slide_list: list[Slide], template: Path | str | None = None, colours: dict[str, str] | None = None,
           deck: _Deck | None = None) -> bytes:
    deck = deck or _Deck(template)
    for s in slide_list:
        if s.key == "titre":
            _title_slide(deck, s)
        elif s.key == "chiffres_cles" or s.extra.get("figures"):
            _figures_slide(deck, s)
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
