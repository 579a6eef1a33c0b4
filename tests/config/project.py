"""Talking to a served bot about the project's settings file: PUT /api/v1/config, and how often
a pushed file was applied, refused or passed over."""

from __future__ import annotations

import httpx

from bot import metrics

API_TOKEN = "made-up-api-token-for-config"


def put_config(bot, body, token=API_TOKEN):
    return httpx.put(f"{bot.url}/api/v1/config", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def reloads(outcome):
    return metrics.REGISTRY.get_sample_value("vorhoelle_config_reloads_total", {"outcome": outcome}) or 0
