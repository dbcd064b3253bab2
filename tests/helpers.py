"""What several test modules share: tiny runs, checkpoints of real networks, the CLI in process,
the docs-page checks. A plain module (test modules import it, never each other); the fixtures
built on it live in conftest.py."""

from __future__ import annotations

import base64
import copy
import hashlib
import html as html_lib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

import gan_zoo
from gan_zoo import checkpoint, plugins
from gan_zoo.cli import build_cli
from gan_zoo.config import TrainConfig
from gan_zoo.datasets.idx import FASHION_MNIST_CLASSES  # noqa: F401 (tests import it from here)
from gan_zoo.hookspecs import hookimpl
from gan_zoo.testing import write_idx  # noqa: F401 (tests import it from here)

#: Tiny networks as ``--set`` overrides for the Python API (widths of 8).
TINY = ["generator.width=8", "discriminator.width=8"]
#: Tinier networks (widths of 4), where a test trains many runs or runs in several processes.
TINY_4 = ["generator.width=4", "discriminator.width=4"]


def set_args(overrides: list[str]) -> list[str]:
    """``overrides`` as command-line options: ``["--set", "a=1", "--set", "b=2"]``."""
    return [arg for override in overrides for arg in ("--set", override)]


#: The checkpoint a two-step run writes.
CKPT = Path("checkpoints") / "step-0000002"
#: The tests folder, the repository root, the package's source and the docs.
TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
PACKAGE = ROOT / "gan_zoo"
DOCS = ROOT / "docs"
#: Where Debian's dataset-fashion-mnist puts the real files; tests that need them are slow.
REAL_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
needs_fashion_mnist = pytest.mark.skipif(
    not (REAL_FASHION_MNIST / "train-images-idx3-ubyte.gz").exists(),
    reason="the real Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)",
)


def auto_cpu_precision() -> str:
    """What ``--precision auto`` is on this CPU: bf16 with native bf16 instructions, else fp32."""
    from gan_zoo.training.precision import native_cpu_support

    return "bf16" if native_cpu_support("bf16") else "fp32"


#: Factory arguments every network gets from the run, not options a docs page lists.
CONTRACT = {"z_dim", "image_size", "channels", "num_classes"}


class Parts:
    """A tiny DCGAN pair with optimizers that have taken real steps."""

    def __init__(
        self,
        width: int = 8,
        ema: bool = False,
        seed: int = 0,
        generator: str = "dcgan",
        g_options=None,
    ):
        torch.manual_seed(seed)
        self.config = TrainConfig.from_preset("dcgan", "fashion-mnist", gan_zoo.get_preset("dcgan"))
        self.config.generator.name = generator
        self.config.generator.options = dict(g_options or {"width": width})
        self.config.discriminator.options = {"width": width}
        self.config.image_size, self.config.channels, self.config.batch_size = 28, 1, 4
        self.config.ema = 0.99 if ema else 0.0
        g_kwargs = {"z_dim": 100, "image_size": 28, "channels": 1, **self.config.generator.options}
        self.g = gan_zoo.create_generator(generator, **g_kwargs)
        if self.g.num_classes:
            self.config.conditional, self.config.num_classes = True, self.g.num_classes
        self.d = gan_zoo.create_discriminator("dcgan", image_size=28, channels=1, width=width)
        self.g_opt = torch.optim.Adam(self.g.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.d_opt = torch.optim.Adam(self.d.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.ema = copy.deepcopy(self.g) if ema else None
        self.loss = gan_zoo.create_loss("bce")
        self.labels = torch.arange(4) % 10 if getattr(self.g, "num_classes", 0) else None
        for _ in range(2):
            self.step()

    def step(self) -> None:
        """One real D and G update on a fixed batch."""
        real = torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(1)) * 2 - 1
        z = torch.randn(4, 100, generator=torch.Generator().manual_seed(2))
        d_loss = self.loss.d_loss(
            self.d(real, self.labels), self.d(self.g(z, self.labels).detach(), self.labels)
        )
        self.d_opt.zero_grad()
        d_loss.backward()
        self.d_opt.step()
        g_loss = self.loss.g_loss(self.d(self.g(z, self.labels), self.labels))
        self.g_opt.zero_grad()
        g_loss.backward()
        self.g_opt.step()
        if self.ema is not None:
            with torch.no_grad():
                for pe, p in zip(self.ema.parameters(), self.g.parameters(), strict=True):
                    pe.lerp_(p, 0.5)

    def save(self, run: Path, step: int, **kwargs) -> Path:
        state = {
            "step": step,
            "epoch": step // 10,
            "images_seen": 4 * step,
            "elapsed_seconds": 1.5 * step,
            "hardware": "CPU (test)",
            "last_losses": {"loss/d": 1.25, "loss/g": 0.75},
            **kwargs.pop("extra_state", {}),
        }
        kwargs.setdefault("samples", torch.full((1, 62, 62), 128, dtype=torch.uint8))
        kwargs.setdefault("rng", {"torch": torch.get_rng_state()})
        keep = kwargs.pop("keep", 3)
        training_state = checkpoint.TrainingState(
            self.g, self.d, self.g_opt, self.d_opt, ema_generator=self.ema, progress=state, **kwargs
        )
        return checkpoint.save_checkpoint(run, training_state, self.config, keep=keep)


def make_run(tmp_path: Path, **kwargs) -> tuple[Path, Parts]:
    """A run directory with one checkpoint at step 2; returns (run dir, parts)."""
    parts = Parts(**kwargs)
    run = tmp_path / "run"
    parts.save(run, 2)
    return run, parts


class TinyConditionalGenerator(torch.nn.Module):
    """A small class-conditional generator, provided by a test plugin."""

    def __init__(
        self,
        z_dim: int = 100,
        image_size: int = 28,
        channels: int = 1,
        num_classes: int = 10,
        width: int = 8,
    ):
        super().__init__()
        self.z_dim, self.image_size, self.channels, self.num_classes = (
            z_dim,
            image_size,
            channels,
            num_classes,
        )
        self.embed = torch.nn.Embedding(num_classes, z_dim)
        self.net = torch.nn.Sequential(
            torch.nn.Linear(z_dim, width),
            torch.nn.ReLU(),
            torch.nn.Linear(width, channels * image_size**2),
        )

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        h = z * self.embed(labels) if labels is not None else z  # (B, z_dim)
        return torch.tanh(self.net(h)).view(-1, self.channels, self.image_size, self.image_size)


class TinyPlugin:
    @hookimpl
    def register_generators(self, register):
        register(
            "tiny-cond",
            TinyConditionalGenerator,
            description="Tiny conditional MLP (tests).",
            conditional=True,
        )


def install_tiny_plugin() -> None:
    """Register the test plugin as if the distribution gan-zoo-tiny 1.2.3 were installed."""
    plugins.host().register(TinyPlugin(), "tiny", distribution="gan-zoo-tiny", version="1.2.3")


def make_conditional_run(tmp_path: Path) -> tuple[Path, Parts]:
    """A run of the plugin's conditional generator with the Fashion-MNIST class names."""
    install_tiny_plugin()
    parts = Parts(generator="tiny-cond")
    run = tmp_path / "cond-run"
    parts.save(run, 2, extra_state={"class_names": FASHION_MNIST_CLASSES})
    return run, parts


def outputs(g, seed: int = 3) -> torch.Tensor:
    g.eval()
    with torch.no_grad():
        return g(torch.randn(5, 100, generator=torch.Generator().manual_seed(seed)), None)


def cli_in_process(*args):
    return CliRunner().invoke(build_cli(), [str(a) for a in args])


def train_tiny(data: Path, out: Path, **options) -> Path:
    """A real two-step run with EMA; returns its run directory."""
    settings = dict(
        steps=2,
        batch_size=16,
        device="cpu",
        log_every=1,
        ema=0.9,
        ema_warmup=0,
        data_dir=str(data),
        out=str(out),
    )
    settings.update(options)
    overrides = settings.pop("overrides", TINY)
    return gan_zoo.train(
        "dcgan", "fashion-mnist", overrides=overrides, progress="quiet", **settings
    ).dir


def _sections(page: Path) -> dict[str, str]:
    """``## `name` `` headings of a docs page and the text under each."""
    parts = re.split(r"^## `([^`]+)`\s*$", page.read_text(), flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def _shown(value) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value)


def check_documented(kind: str, page: str) -> None:
    """Every entry has a section listing each of its own options with its default."""
    sections = _sections(DOCS / page)
    for entry in plugins.registry(kind):
        if entry.plugin.distribution != "gan-zoo":
            continue
        assert entry.name in sections, f"{kind} '{entry.name}' is missing from docs/{page}"
        text = sections[entry.name]
        for option, default in entry.options().items():
            if option in CONTRACT:
                continue
            row = re.search(rf"^\| `{option}` \|(.*)$", text, flags=re.M)
            assert row, f"option '{option}' of {kind} '{entry.name}' is missing from docs/{page}"
            assert f"`{_shown(default)}`" in row.group(1), (
                f"wrong default of '{option}' in docs/{page}"
            )


# Headless Chromium (Debian's `chromium`, installed by `make browser`): pages are opened from
# files with no network, and a probe script reports what the browser made of them.
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="headless Chromium is not installed (make browser: apt-get install chromium)",
)


def _chromium(page: Path, *flags: str, timeout: int = 180) -> str:
    """Run headless Chromium on the file ``page`` with no network; its stdout."""
    profile = page.parent / ".chromium-profile"
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        "--proxy-server=127.0.0.1:9",  # nothing leaves the machine
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--autoplay-policy=no-user-gesture-required",
        f"--user-data-dir={profile}",
        *flags,
        page.resolve().as_uri(),
    ]
    env = {**os.environ, "HOME": str(page.parent)}
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def browser_probe(page: Path, probe: str) -> dict:
    """Open ``page`` in headless Chromium with the script ``probe`` added (and allowed by the
    page's Content-Security-Policy by its hash); ``probe`` must end by calling ``done(result)``
    with a JSON-able result, which comes back as a dict."""
    script = (
        "function done(result) { var pre = document.createElement('pre');"
        " pre.id = 'probe-result'; pre.textContent = JSON.stringify(result);"
        " document.body.appendChild(pre); }\n" + probe
    )
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    html = page.read_text(encoding="utf-8")
    html = html.replace("script-src ", f"script-src 'sha256-{digest}' ", 1)
    html = html.replace("</body>", f"<script>{script}</script></body>", 1)
    probed = page.with_name(f"probe-{page.name}")
    probed.write_text(html, encoding="utf-8")
    dom = _chromium(probed, "--dump-dom", "--virtual-time-budget=15000")
    found = re.search(r'<pre id="probe-result">(.*?)</pre>', dom, flags=re.S)
    assert found, f"the probe wrote no result; the page's DOM ends with: {dom[-1500:]}"
    return json.loads(html_lib.unescape(found.group(1)))


def browser_screenshot(page: Path, out: Path, width: int = 1400, height: int = 2400) -> Path:
    """A PNG screenshot of ``page`` as headless Chromium draws it, written to ``out``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    _chromium(
        page,
        f"--screenshot={out.resolve()}",
        f"--window-size={width},{height}",
        "--hide-scrollbars",
        "--virtual-time-budget=5000",
    )
    assert out.is_file() and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return out
