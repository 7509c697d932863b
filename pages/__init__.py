"""The dashboard's pages (modules in pages.views, registered with st.Page in dashboard.py)."""
