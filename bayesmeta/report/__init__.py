"""Rendering typed results: terminal tables and figures."""
