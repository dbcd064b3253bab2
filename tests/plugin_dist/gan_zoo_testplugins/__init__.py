"""Test plugins for gan-zoo: one good, one that fails to import, one that clashes, one with a bad name."""
