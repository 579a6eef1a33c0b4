"""`vorhoelle serve`: receive GitLab's webhooks and keep every job-match issue converged.

Without a configured GitLab (`gitlab_url`), it starts the embedded sandbox GitLab in-process
with a demo project, a bot user and its token, and installs the webhook there — a way to try the
bot in a minute, said loudly in the log. With a GitLab configured, the sandbox never starts.
"""

from __future__ import annotations

import argparse
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from bot.cli.common import command_settings


log = logging.getLogger(__name__)

DEMO_BOT = "vorhoelle-bot"
DEMO_PROJECT = "job-matches"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="receive GitLab webhooks and keep job-match issues converged",
        description=(
            "Serve POST /webhook, GET /health/live, GET /health/ready, GET /metrics and the API "
            "under /api/v1, and the settings page GET /settings when settings_page is configured "
            "(sign-in with GitLab; see the README). Listens at once and loads behind the open socket: while it loads, "
            "/health/live says starting and webhooks wait instead of being refused. "
            "Catches up on start-up and every catch_up.interval_minutes. "
            "Without gitlab_url configured, starts an embedded sandbox GitLab with a demo "
            "project and installs the webhook there."
        ),
    )
    parser.add_argument("--host", help="address to listen on (default: server.host, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on; 0 picks a free one (default: the PORT "
                        "variable if set, as Cloud Run sets it, else server.port, 8080)")
    parser.set_defaults(func=run)


def start_embedded_gitlab(settings: Any) -> tuple[Any, Any]:
    """Start the sandbox GitLab in this process with a demo project (`root/job-matches`) and a
    bot user (maintainer there, so it may install its own webhook). Returns the sandbox and the
    settings pointed at it."""
    import httpx
    from pydantic import SecretStr

    from bot.sandbox import start_in_thread

    # A plain random admin token (not glpat-shaped), so the log filter lets the banner show it.
    sandbox = start_in_thread(root_token=f"demo-{secrets.token_urlsafe(18)}")
    with httpx.Client(base_url=f"{sandbox.url}/api/v4", headers={"PRIVATE-TOKEN": sandbox.root_token}) as api:
        def create(where: str, **fields: Any) -> Any:
            response = api.post(where, json=fields)
            response.raise_for_status()
            return response.json()

        bot = create("/users", username=DEMO_BOT, name="Vorhölle Bot", email="vorhoelle-bot@example.com",
                     password=secrets.token_urlsafe(16), skip_confirmation=True)
        token = create(f"/users/{bot['id']}/personal_access_tokens", name="vorhoelle", scopes=["api"])
        project = create("/projects", name="Job matches", path=DEMO_PROJECT, visibility="private")
        create(f"/projects/{project['id']}/members", user_id=bot["id"], access_level=40)
    secret = settings.webhook_secret or SecretStr(secrets.token_urlsafe(24))
    return sandbox, settings.model_copy(update={
        "gitlab_url": sandbox.url,
        "gitlab_token": SecretStr(token["token"]),
        "project": project["path_with_namespace"],
        "webhook_secret": secret,
    })


def announce_demo(sandbox: Any, settings: Any) -> None:
    banner = "=" * 78
    log.warning(
        "\n%s\nNO GITLAB CONFIGURED: running against the EMBEDDED SANDBOX GitLab (in memory; "
        "everything is lost on exit).\n  sandbox:  %s  (admin token: %s)\n  project:  %s/%s\n"
        "Act as a reviewer with the admin token, e.g. python-gitlab or curl -H 'PRIVATE-TOKEN: …'.\n"
        "To use a real GitLab, set VORHOELLE_GITLAB_URL, VORHOELLE_GITLAB_TOKEN, VORHOELLE_PROJECT "
        "and VORHOELLE_WEBHOOK_SECRET,\nthen run `vorhoelle hook install --url <this bot's URL>/webhook`.\n%s",
        banner, sandbox.url, sandbox.root_token, sandbox.url, settings.project, banner,
    )


def run(args: argparse.Namespace) -> int:
    """Listen first, then load the bot behind the open socket (bot/web/loading.py)."""
    from bot.config.files import listen_address
    from bot.web.loading import LoadingApp
    from bot.web.server import DrainingServer, listening_socket

    settings = None
    address = listen_address(args.config, args.host, args.port)
    if address is None:  # only the settings model can tell: load it first, and hear what is wrong
        settings = command_settings(args, log_batched=True)
        address = chosen_address(args, settings)
    sock = listening_socket(*address)
    bot = ServedBot(args, sock, address, settings)
    loading = LoadingApp(bot.load)
    bot.server = DrainingServer(loading, hard_exit=True)
    loading.on_failure = bot.server.stop_soon
    try:
        bot.server.run(sockets=[sock])
    finally:
        if bot.sandbox is not None:
            bot.sandbox.stop()
    if loading.failure is not None:
        raise loading.failure
    return 0


def chosen_address(args: argparse.Namespace, settings: Any) -> tuple[str, int]:
    """`--host`/`--port`, else `PORT` for the port, else the settings."""
    from bot.config.files import platform_port

    port = args.port if args.port is not None else platform_port()
    return args.host or settings.server.host, settings.server.port if port is None else port


@dataclass
class ServedBot:
    """What `serve` loads while its socket already listens: settings, logging, the runtime, the
    app, and without a configured GitLab the embedded sandbox."""

    args: argparse.Namespace
    sock: Any
    address: tuple[str, int]
    settings: Any = None
    server: Any = None
    sandbox: Any = None

    def load(self) -> Any:
        from bot.web.app import create_app
        from bot.config.files import ConfigError
        from bot.hook_admin import install_hook
        from bot.runtime import build_runtime
        from bot.web.server import url_of

        settings = self.settings or command_settings(self.args, log_batched=True)
        if chosen_address(self.args, settings) != self.address:
            raise ConfigError([f"server.host/server.port: the settings say {chosen_address(self.args, settings)}, "
                               f"but the bot opened {self.address} before reading them; give --host and --port"])
        self.server.set_grace(settings.server.shutdown_grace_seconds)
        url = url_of(self.sock, settings.public_url)
        if not settings.gitlab_url:
            self.sandbox, settings = start_embedded_gitlab(settings)
        if settings.webhook_secret is None:
            log.warning("no webhook_secret: every delivery will be refused (401) until "
                        "VORHOELLE_WEBHOOK_SECRET is set; catch-up still runs")
        runtime = build_runtime(settings)
        app = create_app(runtime)
        if self.sandbox is not None and settings.webhook_secret is not None:  # the sandbox's own secret
            install_hook(runtime.gitlab, f"{url}/webhook", settings.webhook_secret.get_secret_value())
            announce_demo(self.sandbox, settings)
        log.info("listening on %s (webhook: %s/webhook, health: %s/health/ready)", url, url, url)
        return app
