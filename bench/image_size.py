"""How big the image's own layer would be: the bot and its runtime dependencies, installed.

No Docker engine runs here, so this does what the Dockerfile's build stage does — a fresh venv,
`pip install '.[slack,email]'` without caches, then pip, setuptools, bytecode caches and every
Google discovery document but Gmail's removed — and measures the result against the 100 MB target. The python:3.11-slim base comes on top; give
its size with --base-mb if you know it (`docker image inspect python:3.11-slim`).

    .venv/bin/python bench/image_size.py [--extras slack,email] [--base-mb 130]

Prints figures; it is a measurement, not a pass/fail test (exit status 0 either way).
"""  # noqa: E501

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

TARGET_MB = 100
KEPT_DISCOVERY_DOCUMENT = "gmail.v1.json"  # the Dockerfile deletes the other ~500 Google APIs
REPO = Path(__file__).resolve().parent.parent


def size_mb(path: Path) -> float:
    total = sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())
    return total / 1_000_000


def install(venv: Path, extras: str) -> None:
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "--quiet"]
    env = {**os.environ, "PIP_NO_CACHE_DIR": "1"}
    subprocess.run([*pip, "install", f"{REPO}[{extras}]" if extras else str(REPO)], check=True, env=env)
    subprocess.run([*pip, "uninstall", "--yes", "pip", "setuptools", "wheel"], check=True, env=env)
    for document in venv.glob("lib/python*/site-packages/googleapiclient/discovery_cache/documents/*.json"):
        if document.name != KEPT_DISCOVERY_DOCUMENT:
            document.unlink()
    for cache in list(venv.rglob("__pycache__")):
        shutil.rmtree(cache, ignore_errors=True)
    # As the Dockerfile does: bytecode compiled once at build time, so starts never compile.
    subprocess.run([str(venv / "bin" / "python"), "-m", "compileall", "-q", "-j", "0", str(venv)], check=True)


def largest_packages(venv: Path, count: int = 8) -> list[tuple[str, float]]:
    site = next(venv.glob("lib/python*/site-packages"))
    sizes = [(entry.name, size_mb(entry)) for entry in site.iterdir() if entry.is_dir()]
    return sorted(sizes, key=lambda item: item[1], reverse=True)[:count]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extras", default="slack,email", help="extras the image installs (default: slack,email)")
    parser.add_argument("--base-mb", type=float, help="size of the python:3.11-slim base, if known")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vorhoelle-image-") as temp:
        venv = Path(temp) / "venv"
        install(venv, args.extras)
        layer = size_mb(venv)
        print(f"runtime layer ({args.extras or 'no extras'}): {layer:.1f} MB "
              f"(target {TARGET_MB} MB: {'within' if layer <= TARGET_MB else 'OVER'})")
        for name, mb in largest_packages(venv):
            print(f"  {name:<40} {mb:6.1f} MB")
    if args.base_mb is None:
        print("python:3.11-slim base: not measured here (no Docker engine); pass --base-mb to add it")
    else:
        print(f"python:3.11-slim base: {args.base_mb:.1f} MB; image total about {layer + args.base_mb:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
