"""How big the image's own layer would be: the bot and its runtime dependencies, installed, and
as a registry stores it (a gzip-compressed tar, what `docker push` uploads and a pull downloads).

No Docker engine or registry is reachable here, so this does what the Dockerfile's build stage
does — a fresh venv, the dependencies pinned in requirements.lock and then the bot without
resolving again, no caches, then pip, setuptools and every Google discovery document but Gmail's
removed, bytecode compiled — and measures the result against the 100 MB target, installed and
compressed. The python:3.11-slim base comes on top; give its sizes with --base-mb and
--base-compressed-mb if you know them (`docker image inspect python:3.11-slim` for the installed
size, `docker buildx imagetools inspect --raw` and the layers' `size` for the compressed one).

    .venv/bin/python bench/image_size.py [--extras slack,email,replies] [--base-mb 130 --base-compressed-mb 45]

Prints figures; it is a measurement, not a pass/fail test (exit status 0 either way).
"""  # noqa: E501

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

TARGET_MB = 100
LOCKED_EXTRAS = "slack,email,replies"   # what the Dockerfile installs, and requirements.lock pins
KEPT_DISCOVERY_DOCUMENT = "gmail.v1.json"  # the Dockerfile deletes the other ~500 Google APIs
REPO = Path(__file__).resolve().parent.parent


def size_mb(path: Path) -> float:
    total = sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())
    return total / 1_000_000


def install(venv: Path, extras: str) -> None:
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "--quiet"]
    env = {**os.environ, "PIP_NO_CACHE_DIR": "1"}
    if extras == LOCKED_EXTRAS:   # as the Dockerfile installs: the lock, then the bot alone
        subprocess.run([*pip, "install", "--no-deps", "-r", str(REPO / "requirements.lock")], check=True, env=env)
        subprocess.run([*pip, "install", "--no-deps", str(REPO)], check=True, env=env)
    else:
        subprocess.run([*pip, "install", f"{REPO}[{extras}]" if extras else str(REPO)], check=True, env=env)
    subprocess.run([*pip, "uninstall", "--yes", "pip", "setuptools", "wheel"], check=True, env=env)
    for document in venv.glob("lib/python*/site-packages/googleapiclient/discovery_cache/documents/*.json"):
        if document.name != KEPT_DISCOVERY_DOCUMENT:
            document.unlink()
    for cache in list(venv.rglob("__pycache__")):
        shutil.rmtree(cache, ignore_errors=True)
    # As the Dockerfile does: bytecode compiled once at build time, so starts never compile.
    subprocess.run([str(venv / "bin" / "python"), "-m", "compileall", "-q", "-j", "0", str(venv)], check=True)


class _Counter:
    """A write-only file that only counts the bytes written to it."""

    def __init__(self) -> None:
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        pass


def compressed_mb(path: Path) -> float:
    """The directory as an image layer is stored and pulled: a tar, gzip-compressed (level 6,
    as Docker and BuildKit write layers)."""
    counter = _Counter()
    with tarfile.open(fileobj=counter, mode="w:gz", compresslevel=6) as layer:  # type: ignore[call-overload]
        layer.add(path, arcname="opt/vorhoelle")
    return counter.size / 1_000_000


def largest_packages(venv: Path, count: int = 8) -> list[tuple[str, float]]:
    site = next(venv.glob("lib/python*/site-packages"))
    sizes = [(entry.name, size_mb(entry)) for entry in site.iterdir() if entry.is_dir()]
    return sorted(sizes, key=lambda item: item[1], reverse=True)[:count]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extras", default=LOCKED_EXTRAS, help=f"extras the image installs (default: {LOCKED_EXTRAS})")
    parser.add_argument("--base-mb", type=float, help="installed size of the python:3.11-slim base, if known")
    parser.add_argument("--base-compressed-mb", type=float,
                        help="compressed size of the python:3.11-slim base (its layers in the registry), if known")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vorhoelle-image-") as temp:
        venv = Path(temp) / "venv"
        install(venv, args.extras)
        layer, packed = size_mb(venv), compressed_mb(venv)
        print(f"runtime layer ({args.extras or 'no extras'}): {layer:.1f} MB installed, {packed:.1f} MB compressed "
              f"(target {TARGET_MB} MB: {'within' if layer <= TARGET_MB else 'OVER'})")
        for name, mb in largest_packages(venv):
            print(f"  {name:<40} {mb:6.1f} MB")
    for what, base, ours in (("installed", args.base_mb, layer), ("compressed", args.base_compressed_mb, packed)):
        if base is None:
            print(f"python:3.11-slim base, {what}: not measured here (no Docker engine or registry); "
                  f"pass --base-{'mb' if what == 'installed' else 'compressed-mb'} to add it")
        else:
            print(f"python:3.11-slim base, {what}: {base:.1f} MB; image total about {ours + base:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
