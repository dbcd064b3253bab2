"""The one place the gan-zoo version is written (pyproject.toml reads it)."""

__version__ = "0.1.0"
