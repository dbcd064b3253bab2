"""The model card: a README.md with Hugging Face Hub YAML front matter, then a readable body.

The front matter follows the Hub's model-card metadata (``library_name``, ``license``, ``tags``,
``datasets``, ``pipeline_tag`` and, once the model is evaluated, a ``model-index`` with its
results; see huggingface.co/docs/hub/model-cards). It also carries the resolved config under
``gan_zoo``, exactly as ``config.json`` holds it, so the card alone says how the model was made.
The body follows the sections the Hub's template and Mitchell et al. 2019 ("Model Cards for
Model Reporting") ask for: what the model is, how to use it, how it was trained, how it was
evaluated, and its limitations.

PyYAML is not a runtime dependency, so this module writes YAML itself with a small emitter:
block mappings and sequences, plain scalars only where YAML 1.1 and 1.2 read them the same,
everything else double-quoted (JSON string syntax is valid YAML).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from ._version import __version__
from .formatting import duration

DEFAULT_LICENSE = "bsd-3-clause"
PIPELINE_TAG = "unconditional-image-generation"

#: Hub dataset ids of the datasets gan-zoo ships; other names are used as they are.
HUB_DATASETS = {"fashion-mnist": "zalando-datasets/fashion_mnist", "mnist": "ylecun/mnist"}

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_./-]*$")
_RESERVED = {"y", "n", "yes", "no", "true", "false", "on", "off", "null"}


# A small YAML emitter.
def yaml_scalar(value: Any) -> str:
    """One YAML scalar that PyYAML (YAML 1.1) and the Hub (YAML 1.2) read back as ``value``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        text = repr(value)
        mantissa, e, exponent = text.partition("e")
        if e and "." not in mantissa:  # YAML 1.1 needs a dot to see a float: 1e-05 -> 1.0e-05
            text = f"{mantissa}.0e{exponent}"
        return text
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _RESERVED:
        return text
    return json.dumps(text, ensure_ascii=False)


def _lines(value: Any, indent: int) -> list[str]:
    pad = " " * indent
    out: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            name = yaml_scalar(str(key))
            if isinstance(item, dict) and item:
                out.append(f"{pad}{name}:")
                out += _lines(item, indent + 2)
            elif isinstance(item, (list, tuple)) and item:
                out.append(f"{pad}{name}:")
                out += _lines(list(item), indent)
            else:
                out.append(f"{pad}{name}: {_flow(item)}")
    else:
        for item in value:
            if isinstance(item, (dict, list, tuple)) and item:
                sub = _lines(item if isinstance(item, dict) else list(item), indent + 2)
                out.append(f"{pad}- {sub[0][indent + 2 :]}")
                out += sub[1:]
            else:
                out.append(f"{pad}- {_flow(item)}")
    return out


def _flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, (list, tuple)):
        return "[]"
    return yaml_scalar(value)


def dump_yaml(data: dict[str, Any]) -> str:
    """Block-style YAML for a JSON-like mapping."""
    return "\n".join(_lines(data, 0)) + "\n"


def split_front_matter(text: str) -> tuple[str, str]:
    """``(yaml, body)`` of a card; the YAML between the leading ``---`` lines."""
    if not text.startswith("---\n"):
        return "", text
    end = text.find("\n---\n", 3)
    if end < 0:
        return "", text
    return text[4 : end + 1], text[end + 5 :]


# The card.
def _name(spec: Any) -> str | None:
    return spec.get("name") if isinstance(spec, dict) else spec


def _metric_list(metrics: dict[str, Any] | None) -> list[tuple[str, float, dict[str, Any]]]:
    rows = []
    for name, item in (metrics or {}).items():
        if isinstance(item, dict):
            protocol = {k: v for k, v in item.items() if k != "value"}
            rows.append((str(name), float(item["value"]), protocol))
        else:
            rows.append((str(name), float(item), {}))
    return rows


def protocol_text(protocol: dict[str, Any]) -> str:
    """A metric's protocol as one readable line ("feature network: ...; num samples: ...")."""
    if isinstance(protocol.get("protocol"), str) and len(protocol) == 1:
        return protocol["protocol"]
    flat = protocol.get("protocol", protocol)
    if isinstance(flat, dict):
        return "; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in flat.items()) or "-"
    return str(flat)


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
    rows = _metric_list(metrics)
    if rows:
        results = []
        for name, value, protocol in rows:
            split = _reference_split(protocol.get("protocol", protocol))
            results.append(
                {
                    "task": {"type": PIPELINE_TAG, "name": "Image generation"},
                    "dataset": {"type": hub_dataset, "name": dataset, "split": str(split)},
                    "metrics": [
                        {
                            "type": name.lower(),
                            "value": value,
                            "name": name.upper() if len(name) <= 4 else name,
                        }
                    ],
                }
            )
        data["model-index"] = [{"name": f"{model}-{dataset}", "results": results}]
    data["gan_zoo"] = record
    return data


def _flatten(prefix: str, value: Any, rows: list[tuple[str, str]]) -> None:
    if isinstance(value, dict) and value:
        for key, item in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), item, rows)
    else:
        rows.append((prefix, value if isinstance(value, str) and value else json.dumps(value)))


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell (a '|' would start a new column)."""
    return " ".join(str(text).replace("|", "\\|").split())


def _describe(kind: str, name: str | None) -> str:
    if not name:
        return ""
    from . import plugins
    from .errors import GanZooError

    try:
        return plugins.registry(kind).get(name).description
    except GanZooError:
        return ""


def render_card(
    record: dict[str, Any],
    *,
    state: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
    samples: str | None = "samples.png",
    generator_kwargs: dict[str, Any] | None = None,
    license: str | None = None,
) -> str:
    """The README.md of a checkpoint: front matter, then the body (see the module docstring)."""
    state = state or {}
    model, dataset = record.get("model", "gan"), record.get("dataset", "")
    g, d, loss = (
        _name(record.get("generator")),
        _name(record.get("discriminator")),
        _name(record.get("loss")),
    )
    step = state.get("step")
    out = ["---", dump_yaml(front_matter(record, metrics, license)).rstrip(), "---", ""]
    out += [f"# {model} on {dataset}", ""]
    out += [
        f"A generative adversarial network trained with [gan-zoo](https://github.com/gan-zoo/gan-zoo) "
        f"{record.get('gan_zoo_version', __version__)}: preset `{model}` on the `{dataset}` dataset"
        + (f", {step} generator steps." if step is not None else "."),
        "",
        "## Model",
        "",
        "| part | name | description |",
        "|---|---|---|",
    ]
    for part, kind, name in (
        ("generator", "generators", g),
        ("discriminator", "discriminators", d),
        ("loss", "losses", loss),
    ):
        plugin = (record.get("plugins") or {}).get(part, "")
        out.append(
            f"| {part} | `{name}` {('(' + plugin + ')') if plugin else ''} | {_cell(_describe(kind, name))} |"
        )
    out.append("")
    image_size, channels = (
        (generator_kwargs or {}).get("image_size"),
        (generator_kwargs or {}).get("channels"),
    )
    if image_size:
        plural = "channel" if channels == 1 else "channels"
        out += [
            f"Images are {image_size}x{image_size} pixels with {channels} {plural}, values in [-1, 1].",
            "",
        ]
    if record.get("ema"):
        out += [
            f"`generator.safetensors` holds the exponential moving average of the generator (decay {record['ema']}).",
            "",
        ]
    if samples:
        out += ["## Samples", "", f"![samples from fixed noise]({samples})", ""]
    names = record.get("class_names") or []
    example_class = names[7] if len(names) > 7 else (names[0] if names else None)
    if example_class and record.get("conditional"):
        slug = "-".join(
            example_class.lower().split()
        )  # class names match ignoring case and punctuation
        cls_cli, cls_py = f" --class {slug}", f", labels={json.dumps(slug)}"
    else:
        cls_cli = cls_py = ""
    extra = sorted(
        {v.split()[0] for v in (record.get("plugins") or {}).values() if v.split()[0] != "gan-zoo"}
    )
    out += [
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
        "## Training",
        "",
        "| setting | value |",
        "|---|---|",
    ]
    rows: list[tuple[str, str]] = []
    _flatten(
        "",
        {k: v for k, v in record.items() if k not in ("plugins", "class_names", "gan_zoo_version")},
        rows,
    )
    out += [f"| `{k}` | `{_cell(v)}` |" for k, v in rows]
    out += ["", "## Hardware and training time", ""]
    elapsed = state.get("elapsed_seconds")
    facts = [
        ("hardware", state.get("hardware")),
        ("training time", duration(elapsed) if isinstance(elapsed, (int, float)) else None),
        ("generator steps", step),
        ("epochs", state.get("epoch")),
        ("images seen", state.get("images_seen")),
    ]
    if isinstance(elapsed, (int, float)) and elapsed > 0 and state.get("images_seen"):
        facts.append(("throughput", f"{state['images_seen'] / elapsed:.0f} img/s"))
    out += [f"- {k}: {v}" for k, v in facts if v is not None] or ["- not recorded"]
    losses = state.get("last_losses") or {}
    out += ["", "## Final losses", ""]
    if losses:
        out += ["| statistic | value |", "|---|---|"] + [
            f"| `{k}` | {yaml_scalar(v)} |" for k, v in losses.items()
        ]
    else:
        out.append("Not recorded.")
    out += ["", "## Metrics", ""]
    rows_m = _metric_list(metrics)
    if rows_m:
        out += ["| metric | value | protocol |", "|---|---|---|"]
        out += [f"| {n} | {v:.4g} | {_cell(protocol_text(p))} |" for n, v, p in rows_m]
    else:
        out.append("Not evaluated yet.")
    out += [
        "",
        "## Limitations",
        "",
        f"- The model only generates images like those of `{dataset}`"
        + (f", at {image_size}x{image_size} pixels" if image_size else "")
        + "; it cannot be prompted and knows nothing outside that data.",
        "- It reproduces the biases and gaps of its training data, and a GAN can drop rare modes "
        "(mode collapse): samples may be less diverse than the data.",
        "- Sample-quality metrics are comparable only under the exact same protocol "
        "(feature network, number of samples, reference split).",
        "- Samples are synthetic; do not present them as real photographs or data.",
        "",
    ]
    return "\n".join(out)


# Reading a checkpoint back: the card's facts, for `gan-zoo info` and for re-rendering.
def describe(path: Any) -> dict[str, Any]:
    """What a run, checkpoint dir or lone ``generator.safetensors`` holds, from its JSON and headers.

    Reads no weights and imports no torch: ``gan-zoo info`` stays instant on large checkpoints.
    """
    from pathlib import Path

    from . import checkpoint as ck

    given = Path(path).expanduser()
    ckpt = ck.resolve_checkpoint(given)
    weights = ckpt if ckpt.is_file() else ckpt / ck.GENERATOR_FILE
    meta = ck.read_metadata(weights)
    if ckpt.is_dir() and (ckpt / ck.CONFIG_FILE).is_file():
        record = ck.read_json(ckpt / ck.CONFIG_FILE)
    else:
        record = json.loads(meta.get("config", "{}"))
    doc = (
        ck.read_json(ckpt / ck.STATE_JSON_FILE)
        if ckpt.is_dir() and (ckpt / ck.STATE_JSON_FILE).is_file()
        else {}
    )
    state = doc.get("state") or {}
    metrics = dict(state.get("metrics") or {})
    if doc.get("metric") and doc["metric"]["name"] not in metrics:
        metrics[doc["metric"]["name"]] = {
            "value": doc["metric"]["value"],
            "protocol": "tracked during training",
        }
    if ckpt.is_dir() and (ckpt / ck.METRICS_FILE).is_file():
        metrics.update(ck.read_json(ckpt / ck.METRICS_FILE))
    files = [ckpt] if ckpt.is_file() else sorted(p for p in ckpt.iterdir() if p.is_file())
    run = ckpt.parent.parent if ckpt.is_dir() and ckpt.parent.name == "checkpoints" else None
    pointers = {}
    if run is not None:
        pointers = {k: ck._pointer(ckpt.parent, k) for k in (ck.LATEST, ck.BEST)}
    return {
        "path": str(given),
        "checkpoint": str(ckpt),
        "run": str(run) if run is not None else None,
        "model": record.get("model"),
        "dataset": record.get("dataset"),
        "generator": _name(record.get("generator")),
        "discriminator": _name(record.get("discriminator")),
        "loss": _name(record.get("loss")),
        "generator_kwargs": json.loads(meta.get("generator_kwargs", "{}")),
        "ema": meta.get("ema") == "true",
        "class_names": record.get("class_names") or json.loads(meta.get("class_names", "[]")),
        "step": state.get("step", int(meta["step"]) if meta.get("step", "").isdigit() else None),
        "epoch": state.get("epoch"),
        "images_seen": state.get("images_seen"),
        "elapsed_seconds": state.get("elapsed_seconds"),
        "hardware": state.get("hardware"),
        "last_losses": state.get("last_losses") or {},
        "metrics": metrics,
        "gan_zoo_version": record.get("gan_zoo_version", meta.get("gan_zoo_version")),
        "plugins": record.get("plugins") or {},
        "config_hash": meta.get("config_hash"),
        "files": {p.name: p.stat().st_size for p in files},
        "checkpoints": [p.name for p in ck.list_checkpoints(run)] if run is not None else [],
        "latest": pointers.get(ck.LATEST),
        "best": pointers.get(ck.BEST),
    }


def record_metrics(checkpoint_dir: Any, metrics: dict[str, Any]) -> None:
    """Add evaluated metrics to a checkpoint (``metrics.json``) and rewrite its model card.

    ``metrics`` maps a name to ``{"value": v, "protocol": {...}}`` (feature network, number of
    samples, reference split), e.g. ``{"fid": {"value": 23.1, "protocol": {"feature_network":
    "inception-v3", "num_samples": 10000, "reference_split": "test"}}}``.
    """
    from pathlib import Path

    from . import checkpoint as ck

    ckpt = Path(checkpoint_dir)
    if not (ckpt / ck.GENERATOR_FILE).is_file():
        ckpt = ck.resolve_checkpoint(ckpt)
    saved = ck.read_json(ckpt / ck.METRICS_FILE) if (ckpt / ck.METRICS_FILE).is_file() else {}
    saved.update(json.loads(json.dumps(metrics)))
    ck.atomic_write_json(ckpt / ck.METRICS_FILE, saved)
    info = describe(ckpt)
    record = ck.read_json(ckpt / ck.CONFIG_FILE)
    state = (
        (ck.read_json(ckpt / ck.STATE_JSON_FILE).get("state") or {})
        if (ckpt / ck.STATE_JSON_FILE).is_file()
        else {}
    )
    samples = ck.SAMPLES_FILE if (ckpt / ck.SAMPLES_FILE).is_file() else None
    text = render_card(
        record,
        state=state,
        metrics=info["metrics"],
        samples=samples,
        generator_kwargs=info["generator_kwargs"],
    )
    ck.atomic_write_text(ckpt / ck.CARD_FILE, text)
