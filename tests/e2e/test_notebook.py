"""The quickstart notebook (docs/notebooks/quickstart.ipynb, rendered into the docs) runs from
top to bottom in a real Jupyter kernel, with the pretrained plugin installed the way a user
installs it."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import ROOT

nbformat = pytest.importorskip("nbformat", reason="the dev extra installs nbformat")
nbclient = pytest.importorskip("nbclient", reason="the dev extra installs nbclient")

NOTEBOOK = ROOT / "docs" / "notebooks" / "quickstart.ipynb"


def outputs(cell) -> str:
    return "".join(
        o.get("text", "") for o in cell.get("outputs", []) if o["output_type"] == "stream"
    )


@pytest.mark.slow
def test_the_quickstart_notebook_runs(use_distribution, tmp_path: Path):
    use_distribution(ROOT / "plugins" / "gan-zoo-pretrained")  # for the pretrained tag
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert not any(cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")
    client = nbclient.NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    )
    client.execute()  # a cell that raises fails here, naming it
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    printed = "\n".join(outputs(cell) for cell in code)
    assert "300 steps;" in printed and "report.html" in printed
    assert "(16, 1, 28, 28)" in printed
    assert "12 frames of" in printed
    assert "notebook-mlp" in printed and "20 steps of notebook-mlp" in printed
    pictures = sum(
        1
        for cell in code
        for o in cell.outputs
        if "image/png" in o.get("data", {}) or "image/gif" in o.get("data", {})
    )
    assert pictures == 4  # the run's samples, a grid, the walk, the pretrained grid
