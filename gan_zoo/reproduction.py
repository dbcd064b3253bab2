"""Reproduce a published number: retrain a card's recipe with several seeds, score each run under
the card's protocol, and compare the card's value with the reproduced mean ± std.

The recipe is the card's ``config.json`` (the resolved config, exactly as the run trained), read
through the same schema checks as any run from elsewhere; only what does not change the
training trajectory is replaced: where the run is written, where the data is found (never the
card's paths), the device, and the seed (``card seed + i`` for the i-th run). The gan-zoo and
plugin versions recorded with the card are compared with those installed; a difference is
reported, not refused. ``steps`` shortens every run for a smoke check of the pipeline, and the
result says so: its numbers are not comparable with the card's.

Design origin: the "reproduce the paper's number over N seeds and report mean ± std" practice
of Lucic et al. 2018 ("Are GANs Created Equal?"), who showed single-seed GAN comparisons to
be unreliable, and the model-index results of the Hugging Face model card. No torch at import.
"""

from __future__ import annotations

import datetime
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._version import __version__
from .errors import CheckpointError, ConfigError, GanZooError

#: A card value within ``mean ± SPREAD * std`` of the reproduced runs is "within the spread"
#: (about 95% of a normal distribution's mass).
SPREAD = 2.0
#: The most samples a card's protocol may ask each run to be scored on (FID-50k is 50,000).
MAX_SAMPLES = 200_000
#: Why a metric of the card is not reproduced when no installed plugin registers it.
NOT_INSTALLED = (
    "not installed here ('gan-zoo list metrics'; FID, KID, precision and recall come with "
    "gan-zoo-fid)"
)
#: The file a reproduction writes into its folder, beside the runs.
REPORT_FILE = "reproduction.json"


@dataclass
class MetricResult:
    """One metric: the card's value and protocol, and the reproduced values (one per seed)."""

    name: str
    card: float
    protocol: dict[str, Any]
    values: list[float] = field(default_factory=list)
    #: Protocol entries whose reproduced value differs from the card's ("num_samples: ...").
    protocol_differences: list[str] = field(default_factory=list)

    @property
    def mean(self) -> float:
        return sum(self.values) / len(self.values)

    @property
    def std(self) -> float | None:
        """The sample standard deviation (n - 1); None for one seed."""
        n = len(self.values)
        if n < 2:
            return None
        return math.sqrt(sum((v - self.mean) ** 2 for v in self.values) / (n - 1))

    @property
    def within(self) -> bool | None:
        """Whether the card's value lies within ``mean ± SPREAD * std`` (None for one seed)."""
        if self.std is None:
            return None
        return abs(self.card - self.mean) <= SPREAD * self.std

    def as_dict(self) -> dict[str, Any]:
        return {
            "card": self.card,
            "values": list(self.values),
            "mean": self.mean,
            "std": self.std,
            "within_spread": self.within,
            "protocol": self.protocol,
            "protocol_differences": self.protocol_differences,
        }


@dataclass
class Reproduction:
    """What :func:`reproduce` found: the metrics, the runs, version differences and whether
    it was a shortened smoke check."""

    source: str
    dir: Path
    runs: list[Path]
    seeds: list[int]
    metrics: list[MetricResult]
    version_differences: list[str]
    skipped: dict[str, str]
    steps: int | None
    recipe_length: str

    @property
    def smoke(self) -> bool:
        return self.steps is not None

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "dir": str(self.dir),
            "runs": [str(r) for r in self.runs],
            "seeds": self.seeds,
            "smoke_check": self.smoke,
            "steps": self.steps,
            "recipe_length": self.recipe_length,
            "spread": f"mean ± {SPREAD:g} std",
            "gan_zoo_version": __version__,
            "version_differences": self.version_differences,
            "skipped": self.skipped,
            "metrics": {m.name: m.as_dict() for m in self.metrics},
        }


def read_card(source: str | os.PathLike) -> tuple[str, Path, dict[str, Any], dict[str, Any]]:
    """``(spec, checkpoint folder, config record, card metrics)`` of a run, checkpoint,
    pretrained tag or ``hf-hub:`` name; a lone weights file has no card to reproduce."""
    from .checkpoint import card_metrics, resolve_checkpoint
    from .checkpoint.layout import CONFIG_FILE, GENERATOR_FILE, METRICS_FILE, STATE_JSON_FILE
    from .checkpoint.schema import check_metrics, check_record, check_state
    from .checkpoint.sources import find_source
    from .safe_io import read_json, shown

    found = find_source(source)
    if found.path.is_file():
        raise CheckpointError(
            f"{shown(found.path)} is a lone weights file, with no card metrics to reproduce; "
            "pass its run or checkpoint folder, or a pretrained tag"
        )
    ckpt = found.path if (found.path / GENERATOR_FILE).is_file() else resolve_checkpoint(found.path)
    record = check_record(read_json(ckpt / CONFIG_FILE), shown(ckpt / CONFIG_FILE))
    evaluated = check_metrics(
        read_json(ckpt / METRICS_FILE) if (ckpt / METRICS_FILE).is_file() else {},
        shown(ckpt / METRICS_FILE),
    )
    state_file = ckpt / STATE_JSON_FILE
    doc = check_state(read_json(state_file), shown(state_file)) if state_file.is_file() else {}
    metrics = card_metrics(doc.get("state"), doc.get("metric"), evaluated)
    spec = shown(found.path) if found.kind == "path" else found.spec
    if not metrics:
        raise CheckpointError(
            f"the card of {spec} records no metric to reproduce; score it first "
            "(gan-zoo evaluate ... --metric classifier-fd)"
        )
    return spec, ckpt, record, metrics


def version_differences(record: dict[str, Any], config: Any) -> list[str]:
    """One line per version that differs between the card and this installation: gan-zoo's,
    and the distribution behind each part (``"generator: card gan-zoo-x 0.1.0, here 0.2.0"``)."""
    from .checkpoint.record import plugin_shown, plugin_versions

    found = []
    card_version = str(record.get("gan_zoo_version", "unknown"))[:64]
    if card_version != __version__:
        found.append(f"gan-zoo: card {card_version}, installed {__version__}")
    here = plugin_versions(config)
    for part, recorded in sorted((record.get("plugins") or {}).items()):
        now = here.get(part, "not installed")
        if recorded != now:
            found.append(f"{part}: card {plugin_shown(recorded)}, installed {now}")
    return found


def choose_metrics(
    metrics: dict[str, Any], wanted: list[str] | None
) -> tuple[dict[str, Any], dict[str, str]]:
    """The card's metrics to reproduce (``wanted``, or every one whose metric is installed) and
    ``{name: why}`` for those left out."""
    from . import plugins
    from .checkpoint.card import metric_protocol

    registry = plugins.registry("metrics")
    chosen, skipped = {}, {}
    for name in wanted or list(metrics):
        if name not in metrics:
            raise ConfigError(
                f"the card has no metric '{name}'; it has {', '.join(metrics) or 'none'}"
            )
        item = metrics[name]
        if name not in registry:
            skipped[name] = NOT_INSTALLED
            if wanted:
                registry.get(name)  # the registry's one-line error, with did-you-mean
            continue
        protocol = metric_protocol(item)
        protocol = protocol if isinstance(protocol, dict) else {}
        samples = protocol.get("num_samples", 10000)
        if isinstance(samples, bool) or not isinstance(samples, int):
            samples = -1
        if not 2 <= samples <= MAX_SAMPLES:
            skipped[name] = f"its protocol's num_samples is not a count in 2..{MAX_SAMPLES}"
            continue
        value = item.get("value") if isinstance(item, dict) else item
        if value is None:
            skipped[name] = "the card records no value for it"
            continue
        chosen[name] = {"value": float(value), "protocol": {**protocol, "num_samples": samples}}
    if not chosen:
        raise GanZooError(
            "none of the card's metrics can be computed here ("
            + "; ".join(f"{k}: {v}" for k, v in skipped.items())
            + "); install the metric's plugin or pass --metric"
        )
    return chosen, skipped


def recipe(record: dict[str, Any], seed: int, out: Path, options: dict[str, Any]) -> Any:
    """The card's config for one reproduction run: the card's recipe with a new seed and
    output folder, the data found as for any run (or in ``data_dir``), ``options`` (device,
    steps) applied; validated. The tracked evaluation during training is off: each run is
    scored afterwards under the card's protocol, and it does not change the trajectory."""
    from .checkpoint import missing_part, pin_parts, record_to_config
    from .training.resolve import validate

    missing = missing_part(record)
    if missing is not None:
        raise missing
    config = pin_parts(record_to_config(record), record)
    config.seed, config.out = seed, str(out)
    config.data_dir, config.download = options.get("data_dir"), False
    config.init, config.tensorboard, config.eval_metric = None, False, "none"
    if options.get("device") is not None:
        config.device = options["device"]
    if options.get("steps") is not None:
        config.steps = int(options["steps"])
    return validate(config)


def reproduce(
    source: str | os.PathLike,
    *,
    seeds: int = 3,
    steps: int | None = None,
    metrics: list[str] | None = None,
    device: str | None = None,
    data_dir: str | None = None,
    out: str | os.PathLike | None = None,
    progress: str = "auto",
) -> Reproduction:
    """Retrain the recipe of ``source`` ``seeds`` times, score each run as the card was scored,
    and compare (see the module docstring). ``steps`` shortens each run (a smoke check)."""
    from .evaluation import evaluate
    from .safe_io import atomic_write_json
    from .training.loop import run_training
    from .training.rundir import holds_run

    if seeds < 1:
        raise ConfigError(f"--seeds must be at least 1, got {seeds}")
    spec, _, record, card = read_card(source)
    chosen, skipped = choose_metrics(card, metrics)
    root = Path(out) if out is not None else _default_dir(record)
    first = int(record.get("seed", 0) or 0)
    options = {"device": device, "steps": steps, "data_dir": data_dir}
    configs = [recipe(record, first + i, root / f"seed-{first + i}", options) for i in range(seeds)]
    for config in configs:  # before any training: a later seed must not fail after hours
        if holds_run(Path(config.out)):
            raise ConfigError(f"{config.out} already holds a run; pick another --out")
    diffs = version_differences(record, configs[0])
    results = [MetricResult(n, c["value"], c["protocol"]) for n, c in chosen.items()]
    runs = []
    for config in configs:
        run = run_training(config, progress=progress)
        runs.append(run.dir)
        if run.interrupted:
            raise GanZooError(
                f"the run of seed {config.seed} was interrupted; nothing was compared (the runs "
                f"so far are in {root})"
            )
        for result in results:
            protocol = result.protocol
            scored = evaluate(
                run.dir,
                [result.name],
                num_samples=protocol["num_samples"],
                split=str(protocol.get("reference_split") or "test"),
                device=device or "auto",
                data_dir=data_dir,
            )
            result.values.append(float(scored[result.name]["value"]))
            _compare_protocols(result, scored[result.name].get("protocol"))
    recorded = record.get("steps") or record.get("epochs")
    length = f"{recorded} {'steps' if record.get('steps') else 'epochs'}"
    found = Reproduction(
        spec, root, runs, [c.seed for c in configs], results, diffs, skipped, steps, length
    )
    atomic_write_json(root / REPORT_FILE, found.as_dict())
    return found


#: Protocol entries that decide whether two values of a metric are comparable.
_PROTOCOL_KEYS = ("name", "network_sha256", "num_samples", "reference", "resize", "precision")


def _compare_protocols(result: MetricResult, protocol: Any) -> None:
    if not isinstance(protocol, dict):
        return
    for key in _PROTOCOL_KEYS:
        card, now = result.protocol.get(key), protocol.get(key)
        line = f"{key}: card {card}, reproduced {now}"
        if card is not None and card != now and line not in result.protocol_differences:
            result.protocol_differences.append(line)


def _default_dir(record: dict[str, Any]) -> Path:
    """``runs/reproduce-<model>-<dataset>-<time>`` (names from the card, reduced to safe
    characters: a card from elsewhere must not name a path)."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    name = "-".join(
        re.sub(r"[^A-Za-z0-9._-]+", "-", str(record.get(key, "")))[:40].strip(".-") or key
        for key in ("model", "dataset")
    )
    return Path("runs") / f"reproduce-{name}-{stamp}"


__all__ = [
    "NOT_INSTALLED",
    "REPORT_FILE",
    "SPREAD",
    "MetricResult",
    "Reproduction",
    "choose_metrics",
    "read_card",
    "recipe",
    "reproduce",
    "version_differences",
]
