"""Exports: CSV/XLSX tables, PowerPoint decks."""
