"""User text shown as text in Streamlit's Markdown: the plan d'actions (workbook, online edits), names typed at
sign-in, uploaded file names, messages quoting them.

`st.markdown`, `st.caption`, alerts, expander and widget labels and the cells of `st.table` all render
Markdown: a workbook cell `[Portail officiel](https://…)` would be a link on the public page, `![x](https://…)`
an image every visitor's browser fetches. `escape` is the one place such text is neutralised: every character
that opens Markdown or HTML is backslash-escaped, bare addresses lose their autolink (`https\\://`, `www\\.`,
`\\@`), a line break becomes a space. The text people read is unchanged. Ordinary punctuation (« - », « . »,
« : ») stays as typed except where it would start a list or an autolink.
"""
from __future__ import annotations

import re

import pandas as pd

_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#|~$!])")
_PROTOCOL = re.compile(r"(?<=[A-Za-z0-9])(:)(?=//)")
_WWW = re.compile(r"(?i)(\bwww)(\.)")
_LIST = re.compile(r"^(\s*)([-+]|\d{1,9}[.)])(?=\s|$)")


def escape(text) -> str:
    """`text` (any value) as Markdown that shows exactly that text, never a link, an image, HTML or formatting."""
    s = " ".join(str(text).splitlines())
    s = _SPECIAL.sub(r"\\\1", s)
    s = _PROTOCOL.sub(r"\\:", s)
    s = _WWW.sub(r"\1\\.", s)
    s = s.replace("@", "\\@")
    return _LIST.sub(lambda m: m.group(1) + m.group(2)[:-1] + "\\" + m.group(2)[-1], s)


def _cell(v):
    return escape(v) if isinstance(v, str) else v


def table(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of `df` for `st.table` (whose cells render Markdown): every text cell and index label escaped."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(_cell)
    if out.index.dtype == object:
        out.index = out.index.map(_cell)
    return out
