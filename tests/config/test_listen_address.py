"""`listen_address` (what `vorhoelle serve` opens before loading the settings model) says what the
settings will say, or None where only the model can tell."""

from __future__ import annotations

import argparse

import pytest

from bot.cli.serve import chosen_address
from bot.config.files import ConfigError, listen_address
from bot.config.settings import load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    import os

    for name in list(os.environ):
        if name.upper().startswith("VORHOELLE_") or name == "PORT":
            monkeypatch.delenv(name)


def settings_address(config_file=None, host=None, port=None):
    server = load_settings(config_file).server
    return host or server.host, server.port if port is None else port


CASES = {
    "defaults": ("", {}, {}),
    "file": ("server:\n  host: 0.0.0.0\n  port: 9000\n", {}, {}),
    "environment over file": ("server:\n  port: 9000\n", {"VORHOELLE_SERVER__PORT": "9100"}, {}),
    "names ignore case": ("", {"vorhoelle_server__host": "::1", "Vorhoelle_Server__Port": "9200"}, {}),
    "command line over all": ("server:\n  port: 9000\n", {"VORHOELLE_SERVER__PORT": "9100"},
                              {"host": "127.0.0.2", "port": 0}),
    "file without a server section": ("staging:\n  threshold: 75\n", {}, {}),
}


@pytest.mark.parametrize("text, environment, command_line", CASES.values(), ids=CASES.keys())
def test_the_address_is_the_one_the_settings_give(tmp_path, monkeypatch, text, environment, command_line):
    config = tmp_path / "vorhoelle.yml"
    config.write_text(text)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    expected = settings_address(config, **command_line)
    assert listen_address(config, command_line.get("host"), command_line.get("port")) == expected


def test_the_file_named_by_the_environment_counts(tmp_path, monkeypatch):
    config = tmp_path / "elsewhere.yml"
    config.write_text("server:\n  port: 9300\n")
    monkeypatch.setenv("VORHOELLE_CONFIG", str(config))
    assert listen_address(None, None, None) == ("127.0.0.1", 9300) == settings_address()


UNSURE = {
    "a port the model would refuse": ("server:\n  port: http\n", {}),
    "a port out of range": ("server:\n  port: 70000\n", {}),
    "a section that is not a mapping": ("server: 8080\n", {}),
    "YAML that does not parse": ("server: [\n", {}),
    "the whole section in one variable": ("", {"VORHOELLE_SERVER": '{"port": 9400}'}),
    "a variable the model would refuse": ("", {"VORHOELLE_SERVER__PORT": "eighty"}),
}


@pytest.mark.parametrize("text, environment", UNSURE.values(), ids=UNSURE.keys())
def test_unsure_means_none_so_the_settings_load_first(tmp_path, monkeypatch, text, environment):
    config = tmp_path / "vorhoelle.yml"
    config.write_text(text)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert listen_address(config, None, None) is None


def test_a_missing_file_is_left_to_the_settings_to_report(tmp_path):
    assert listen_address(tmp_path / "missing.yml", None, None) is None


def test_port_comes_between_the_command_line_and_the_settings(tmp_path, monkeypatch):
    config = tmp_path / "vorhoelle.yml"
    config.write_text("server:\n  host: 0.0.0.0\n  port: 9000\n")
    monkeypatch.setenv("VORHOELLE_SERVER__PORT", "9100")
    monkeypatch.setenv("PORT", "9500")
    assert listen_address(config, None, None) == ("0.0.0.0", 9500)
    assert listen_address(config, None, 9600) == ("0.0.0.0", 9600)
    arguments = argparse.Namespace(host=None, port=None)
    assert chosen_address(arguments, load_settings(config)) == ("0.0.0.0", 9500)


def test_a_port_that_is_no_port_is_said_in_one_line(monkeypatch):
    monkeypatch.setenv("PORT", "http")
    assert listen_address(None, None, None) is None  # serve loads the settings, then hears why
    with pytest.raises(ConfigError, match=r"^PORT='http': not a port"):
        chosen_address(argparse.Namespace(host=None, port=None), load_settings())
    assert chosen_address(argparse.Namespace(host=None, port=8123), load_settings()) == ("127.0.0.1", 8123)
