"""Packaging glue pyproject.toml cannot express: `handlers/`, `templates/` and `config/` live at
the top of the repository (where people look for them) but install inside the bot's namespace as
`bot.handlers`, `bot.templates` and `bot.defaults`: nothing named `handlers` lands in
site-packages, and the installed bot finds its files with importlib.resources."""
from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["bot", "bot.*"])
    + ["bot.handlers", "bot.templates", "bot.defaults"],
    package_dir={"bot.handlers": "handlers", "bot.templates": "templates", "bot.defaults": "config"},
)
