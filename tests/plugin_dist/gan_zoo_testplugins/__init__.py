"""Test plugins for gan-zoo: one good, one that fails to import, one that clashes, one with a bad
name, and one whose entries break the contract in one way each."""
