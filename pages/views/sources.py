"""Sources et méthodes: the loaded files (the finding its slide and annex sheet render), then the reference
blocks of indicators/content/sources.py: loading remarks, definitions, sectors, filières, nomenclatures,
statistical secret. Presentation mode steps through them, one block at a time; the page is reference
material rather than something to project, and says so."""
from __future__ import annotations

import streamlit as st

from indicators import format as fmt, ui
from indicators.content import sources


def run() -> None:
    st.title("Sources et méthodes")
    if ui.presenting():
        st.caption(fmt.typeset("Page de référence, plutôt à consulter qu'à projeter : une rubrique à la fois."))
    ui.slide_button("sources")
    for f in ui.findings("sources") + sources.reference(ui.content_context("sources")):
        ui.show(f)


if __name__ == "__main__":
    run()
