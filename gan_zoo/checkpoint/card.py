"""The model card: a README.md with Hugging Face Hub YAML front matter, then a readable body.

The front matter follows the Hub's model-card metadata (``library_name``, ``license``, ``tags``,
``datasets``, ``pipeline_tag`` and, once the model is evaluated, a ``model-index`` with its
results; see huggingface.co/docs/hub/model-cards). It also carries the resolved config under
``gan_zoo``, exactly as ``config.json`` holds it, so the card alone says how the model was made.
The body follows the sections the Hub's template and Mitchell et al. 2019 ("Model Cards for
Model Reporting") ask for: what the model is, how to use it, how it was trained, how it was
evaluated, and its limitations.

Everything here is a pure function of the record, the training state and the metrics: no file
is read and no registry is asked (the caller passes the parts' descriptions in), so the card
can be rendered and tested from plain dicts.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .._version import __version__
from ..formatting import duration
from .record import CARD_PARTS, RECORD_EXTRAS, part_name
from .yaml import dump_yaml, yaml_scalar

DEFAULT_LICENSE = "bsd-3-clause"
PIPELINE_TAG = "unconditional-image-generation"
#: The protocol of a metric the trainer tracked (``--eval-metric``) rather than evaluated later.
TRACKED_PROTOCOL = "tracked during training"

#: Hub dataset ids of the datasets gan-zoo ships; other names are used as they are.
HUB_DATASETS = {"fashion-mnist": "zalando-datasets/fashion_mnist", "mnist": "ylecun/mnist"}


# Metrics and their protocol.
def card_metrics(
    state: dict[str, Any] | None,
    tracked: dict[str, Any] | None = None,
    evaluated: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The metrics a card shows: those in the training ``state``, the ``tracked`` metric of
    ``training-state.json`` (``{"name", "value", ...}``) unless already there, then the
    ``evaluated`` ones of ``metrics.json``, which win."""
    metrics = dict((state or {}).get("metrics") or {})
    if tracked and tracked["name"] not in metrics:
        metrics[tracked["name"]] = {"value": tracked["value"], "protocol": TRACKED_PROTOCOL}
    metrics.update(evaluated or {})
    return metrics


def metric_protocol(item: Any) -> Any:
    """The protocol of one metric entry: its ``protocol`` value, else its keys other than
    ``value`` (older entries kept them flat), else nothing for a bare number."""
    if not isinstance(item, dict):
        return {}
    if "protocol" in item:
        return item["protocol"]
    return {k: v for k, v in item.items() if k != "value"}


def protocol_text(protocol: Any) -> str:
    """A metric's protocol as one readable line ("feature network: ...; num samples: ...");
    ``-`` when there is none."""
    if isinstance(protocol, dict):
        return "; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in protocol.items()) or "-"
    return str(protocol) if protocol not in (None, "") else "-"


def _metric_rows(metrics: dict[str, Any] | None) -> list[tuple[str, float, Any]]:
    rows = []
    for name, item in (metrics or {}).items():
        value = item["value"] if isinstance(item, dict) else item
        rows.append((str(name), float(value), metric_protocol(item)))
    return rows


def _reference_split(protocol: Any) -> str:
    """The dataset split a metric compared against: ``reference_split``/``split``, or the
    ``dataset/split`` ending of a ``reference`` description; ``test`` when nothing says."""
    if not isinstance(protocol, dict):
        return "test"
    for key in ("reference_split", "split"):
        if protocol.get(key):
            return str(protocol[key])
    match = re.search(r"/([A-Za-z0-9_-]+)\s*$", str(protocol.get("reference", "")))
    return match.group(1) if match else "test"


# The front matter.
def front_matter(
    record: dict[str, Any], metrics: dict[str, Any] | None = None, license: str | None = None
) -> dict[str, Any]:
    """The Hub metadata of a card as a dict (``gan_zoo`` holds ``config.json``)."""
    model, dataset = str(record.get("model", "gan")), str(record.get("dataset", ""))
    hub_dataset = HUB_DATASETS.get(dataset, dataset)
    tags = ["gan", model, dataset, "gan-zoo", PIPELINE_TAG]
    if record.get("conditional"):
        tags.append("class-conditional")
    data: dict[str, Any] = {
        "library_name": "gan-zoo",
        "license": license or record.get("license") or DEFAULT_LICENSE,
        "tags": list(dict.fromkeys(t for t in tags if t)),
        "datasets": [hub_dataset] if hub_dataset else [],
        "pipeline_tag": PIPELINE_TAG,
    }
    results = [
        {
            "task": {"type": PIPELINE_TAG, "name": "Image generation"},
            "dataset": {"type": hub_dataset, "name": dataset, "split": _reference_split(protocol)},
            "metrics": [
                {
                    "type": name.lower(),
                    "value": value,
                    "name": name.upper() if len(name) <= 4 else name,
                }
            ],
        }
        for name, value, protocol in _metric_rows(metrics)
    ]
    if results:
        data["model-index"] = [{"name": f"{model}-{dataset}", "results": results}]
    data["gan_zoo"] = record
    return data


# The body, section by section.
def _cell(text: Any) -> str:
    """Text safe inside a Markdown table cell (a '|' would start a new column)."""
    return " ".join(str(text).replace("|", "\\|").split())


def _flatten(prefix: str, value: Any, rows: list[tuple[str, str]]) -> None:
    if isinstance(value, dict) and value:
        for key, item in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), item, rows)
    else:
        rows.append((prefix, value if isinstance(value, str) and value else json.dumps(value)))


def _model_section(
    record: dict[str, Any], descriptions: dict[str, str], generator_kwargs: dict[str, Any]
) -> list[str]:
    out = ["## Model", "", "| part | name | description |", "|---|---|---|"]
    plugins = record.get("plugins") or {}
    for part in CARD_PARTS:
        name, plugin = part_name(record.get(part)), plugins.get(part, "")
        where = f"({plugin})" if plugin else ""
        out.append(f"| {part} | `{name}` {where} | {_cell(descriptions.get(part, ''))} |")
    out.append("")
    image_size, channels = generator_kwargs.get("image_size"), generator_kwargs.get("channels")
    if image_size:
        plural = "channel" if channels == 1 else "channels"
        out += [
            f"Images are {image_size}x{image_size} pixels with {channels} {plural}, "
            "values in [-1, 1].",
            "",
        ]
    if record.get("ema"):
        out += [
            "`generator.safetensors` holds the exponential moving average of the generator "
            f"(decay {record['ema']}).",
            "",
        ]
    return out


def _usage_section(record: dict[str, Any]) -> list[str]:
    names = record.get("class_names") or []
    example_class = names[7] if len(names) > 7 else (names[0] if names else None)
    if example_class and record.get("conditional"):
        # class names match ignoring case and punctuation, so a slug works on the command line
        slug = "-".join(example_class.lower().split())
        cls_cli, cls_py = f" --class {slug}", f", labels={json.dumps(slug)}"
    else:
        cls_cli = cls_py = ""
    extra = sorted(
        {v.split()[0] for v in (record.get("plugins") or {}).values() if v.split()[0] != "gan-zoo"}
    )
    return [
        "## How to sample",
        "",
        "With the command line, from the folder holding this card:",
        "",
        "```bash",
        "pip install " + " ".join(["gan-zoo", *extra]),
        f"gan-zoo generate . --n 64 --seed 0{cls_cli} --out grid.png",
        "gan-zoo interpolate . --steps 16 --out walk.gif",
        "```",
        "",
        "With Python:",
        "",
        "```python",
        "import gan_zoo",
        "",
        'g = gan_zoo.load(".", device="cpu")  # the generator, in eval mode',
        f"images = g.sample(16, seed=0{cls_py})  # (16, C, H, W) in [-1, 1]",
        'g.to_pil(images)[0].save("sample.png")',
        "```",
        "",
    ]


def _training_section(record: dict[str, Any], state: dict[str, Any]) -> list[str]:
    out = ["## Training", ""]
    init = record.get("init")
    if isinstance(init, dict) and init.get("source"):
        source = _cell(init["source"]).replace("`", "")
        digest = _cell(init.get("generator_sha256", "")).replace("`", "")
        out += [
            f"This run started from the weights of `{source}`"
            + (f" (generator weights sha256 `{digest}`)" if digest else "")
            + ", not from a random initialisation; its optimizers and step count started afresh.",
            "",
        ]
    out += ["| setting | value |", "|---|---|"]
    rows: list[tuple[str, str]] = []
    _flatten("", {k: v for k, v in record.items() if k not in RECORD_EXTRAS}, rows)
    out += [f"| `{k}` | `{_cell(v)}` |" for k, v in rows]
    out += ["", "## Hardware and training time", ""]
    elapsed = state.get("elapsed_seconds")
    timed = isinstance(elapsed, (int, float))
    facts = [
        ("hardware", state.get("hardware")),
        ("training time", duration(elapsed) if timed else None),
        ("generator steps", state.get("step")),
        ("epochs", state.get("epoch")),
        ("images seen", state.get("images_seen")),
    ]
    world, batch = state.get("world_size"), state.get("batch_per_process")
    if isinstance(world, int) and world > 1 and isinstance(batch, int):
        split = "per-process" if record.get("ddp_batch", "global") == "per-process" else "global"
        facts.append(
            (
                "data parallel",
                f"{world} processes (DDP) x batch {batch} per process = "
                f"global batch {world * batch} (--ddp-batch {split})",
            )
        )
    if timed and elapsed > 0 and state.get("images_seen"):
        facts.append(("throughput", f"{state['images_seen'] / elapsed:.0f} img/s"))
    out += [f"- {k}: {v}" for k, v in facts if v is not None] or ["- not recorded"]
    losses = state.get("last_losses") or {}
    out += ["", "## Final losses", ""]
    if losses:
        out += ["| statistic | value |", "|---|---|"]
        out += [f"| `{k}` | {yaml_scalar(v)} |" for k, v in losses.items()]
    else:
        out.append("Not recorded.")
    return out


def _metrics_section(metrics: dict[str, Any] | None) -> list[str]:
    out = ["## Metrics", ""]
    rows = _metric_rows(metrics)
    if not rows:
        return [*out, "Not evaluated yet."]
    out += ["| metric | value | protocol |", "|---|---|---|"]
    return out + [f"| {n} | {v:.4g} | {_cell(protocol_text(p))} |" for n, v, p in rows]


def _exports_section(exports: dict[str, Any] | None) -> list[str]:
    """The exports of the generator (``gan-zoo export``) and how each matched it."""
    if not exports:
        return []
    out = [
        "## Exports",
        "",
        "Checked against the eager generator on seeded latents (`gan-zoo export`).",
        "",
        "| format | file | max abs diff | tolerance | runtime | passed |",
        "|---|---|---|---|---|---|",
    ]
    for name, item in exports.items():
        check = item.get("check") or {}
        diff = check.get("max_abs_diff")
        shown = f"{diff:.3g}" if isinstance(diff, (int, float)) else "-"
        out.append(
            f"| {_cell(name)} | `{_cell(item.get('file', '')).replace('`', '')}` | {shown} "
            f"| {_cell(check.get('tolerance', '-'))} | {_cell(check.get('runtime', '-'))} "
            f"| {'yes' if check.get('passed') else 'no'} |"
        )
    return [*out, ""]


def _limitations(dataset: Any, image_size: Any) -> list[str]:
    at_size = f", at {image_size}x{image_size} pixels" if image_size else ""
    return [
        "## Limitations",
        "",
        f"- The model only generates images like those of `{dataset}`{at_size}; it cannot be "
        "prompted and knows nothing outside that data.",
        "- It reproduces the biases and gaps of its training data, and a GAN can drop rare modes "
        "(mode collapse): samples may be less diverse than the data.",
        "- Sample-quality metrics are comparable only under the exact same protocol "
        "(feature network, number of samples, reference split).",
        "- Samples are synthetic; do not present them as real photographs or data.",
        "",
    ]


def render_card(
    record: dict[str, Any],
    *,
    state: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
    samples: str | None = "samples.png",
    generator_kwargs: dict[str, Any] | None = None,
    descriptions: dict[str, str] | None = None,
    license: str | None = None,
    exports: dict[str, Any] | None = None,
) -> str:
    """The README.md of a checkpoint: front matter, then the body (see the module docstring).

    ``record`` is ``config.json``, ``state`` the ``state`` of ``training-state.json``,
    ``metrics`` ``{name: {"value": v, "protocol": ...}}`` (see :func:`card_metrics`),
    ``samples`` the file name of the sample grid (None: no grid), ``generator_kwargs`` the
    generator's factory arguments (its image size), ``descriptions`` ``{part: text}`` for the
    generator, discriminator and loss (see :func:`~gan_zoo.checkpoint.record.part_descriptions`),
    ``exports`` the ``exports.json`` of ``gan-zoo export`` (``{format: {"file", "check"}}``).
    """
    state = state or {}
    generator_kwargs = generator_kwargs or {}
    model, dataset = record.get("model", "gan"), record.get("dataset", "")
    step = state.get("step")
    version = record.get("gan_zoo_version", __version__)
    out = ["---", dump_yaml(front_matter(record, metrics, license)).rstrip(), "---", ""]
    out += [
        f"# {model} on {dataset}",
        "",
        "A generative adversarial network trained with "
        f"[gan-zoo](https://github.com/gan-zoo/gan-zoo) {version}: preset `{model}` "
        f"on the `{dataset}` dataset" + (f", {step} generator steps." if step is not None else "."),
        "",
    ]
    out += _model_section(record, descriptions or {}, generator_kwargs)
    if samples:
        out += ["## Samples", "", f"![samples from fixed noise]({samples})", ""]
    out += _usage_section(record)
    out += _training_section(record, state)
    out += ["", *_metrics_section(metrics), ""]
    out += _exports_section(exports)
    out += _limitations(dataset, generator_kwargs.get("image_size"))
    return "\n".join(out)
