"""Industrie: share of industry of the chosen territory against the EPCIs and the references."""
from __future__ import annotations

import streamlit as st

from indicators import ui


def run() -> None:
    st.title("Industrie")
    ui.slide_button("industrie")
    for f in ui.findings("industrie"):     # the shares, the map (a finding too), the change over time
        ui.show(f)


if __name__ == "__main__":
    run()
