"""``gan-zoo export``: the generator of a run or a tag as ONNX, a ``.pt2`` or TorchScript.

A thin layer over :func:`gan_zoo.exporting.export`.
"""

from __future__ import annotations

import json

import click

from ..exporting import FORMATS, TOLERANCES


@click.command("export")
@click.argument("source")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="onnx",
    show_default=True,
    help="onnx (onnxruntime and others), exported-program (torch.export's .pt2) or "
    "torchscript (torch.jit, libtorch).",
)
@click.option(
    "--out", required=True, type=click.Path(), help="The file to write (replaced atomically)."
)
@click.option("--no-record", is_flag=True, help="Do not record the export in the run's model card.")
@click.option("--json", "as_json", is_flag=True, help="Print the file's metadata as JSON.")
def export_cmd(source, fmt, out, no_record, as_json):
    """Export the generator of SOURCE for use outside PyTorch's eager mode.

    SOURCE is a run, a checkpoint, a generator .safetensors, a pretrained tag or
    hf-hub:owner/name. The inputs are z (batch, z_dim) and, for a class-conditional
    generator, labels (batch,); the batch size is dynamic. The export is checked against the
    eager generator on seeded latents (onnxruntime runs the ONNX file) and the result is
    written into the file's metadata and, for a run of yours, into its model card.

    \b
    Examples:
      pip install 'gan-zoo[export]'
      gan-zoo export runs/dcgan-fashion-mnist-20261124-101500 --format onnx --out dcgan.onnx
      gan-zoo export dcgan.fashion-mnist --format exported-program --out dcgan.pt2
      gan-zoo export runs/my-run --format torchscript --out g.pt --no-record
    """
    from ..exporting import export

    result = export(source, fmt, out, record=not no_record)
    if as_json:
        click.echo(json.dumps(result.metadata, indent=2))
        return
    check = result.check
    click.echo(
        f"Exported the generator of {result.metadata['source']} to {result.path} ({fmt}); "
        f"checked with {check['runtime']}: max |export - eager| {check['max_abs_diff']:.2g} "
        f"on seed-{check['seed']} latents at batch sizes "
        f"{', '.join(map(str, check['batch_sizes']))} (tolerance {TOLERANCES[fmt]:g})"
    )
    if result.recorded_in is not None:
        click.echo(f"Recorded in {result.recorded_in / 'README.md'} and exports.json")


COMMANDS = [export_cmd]
