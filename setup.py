"""Packaging glue pyproject.toml cannot express: `templates/` and `config/` live at the top of
the repository (where people look for them) but install as `bot.templates` and `bot.defaults`,
so the installed bot finds them with importlib.resources."""
from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["bot", "bot.*", "handlers", "handlers.*"])
    + ["bot.templates", "bot.defaults"],
    package_dir={"bot.templates": "templates", "bot.defaults": "config"},
)
