"""An empty Streamlit app with two pages, served like the dashboard: the floor of bench/feel.py."""
import streamlit as st


def _one():
    st.title("Un")


def _two():
    st.title("Deux")


page = st.navigation([st.Page(_one, title="Un", url_path="un", default=True), st.Page(_two, title="Deux", url_path="deux")])
page.run()
st.html(f'<div data-testid="ti-version" data-page="{page.url_path or "un"}" hidden></div>')
