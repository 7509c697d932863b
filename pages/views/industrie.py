"""Industrie: share of industry of the chosen territory against the EPCIs and the references."""
from __future__ import annotations

import streamlit as st

from indicators import ui


def run() -> None:
    st.title("Industrie")
    ui.slide_button("industrie")
    found = ui.findings("industrie")
    for f in found[:-1]:
        ui.show(f)
    ui.map_block("part_industrie_effectifs", key="carte_industrie")
    ui.show(found[-1])


if __name__ == "__main__":
    run()
