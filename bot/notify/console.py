"""The console channel: prints each message and appends it to a JSON-lines outbox.

It is the channel that always works, the default when nothing else is configured, and what the
demo shows; the outbox lets a script or a test read exactly what was said.
"""

from __future__ import annotations

import json
import sys
import threading
from dataclasses import asdict
from pathlib import Path
from typing import TextIO

from bot.notify.clock import Clock, system_clock
from bot.notify.message import Message
from bot.config.settings import ConsoleChannel


class Console:
    name = "console"

    def __init__(self, outbox: Path | None, *, stream: TextIO | None = None, clock: Clock = system_clock):
        self.outbox = outbox
        self.stream = stream
        self.clock = clock
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: ConsoleChannel, clock: Clock = system_clock) -> "Console":
        return cls(settings.outbox, clock=clock)

    def send(self, message: Message) -> str:
        subject, text = message.subject(), message.render("message.txt.j2")
        entry = {
            "at": self.clock().isoformat(),
            "kind": message.kind,
            "subject": subject,
            "text": text,
            "items": [asdict(item) for item in message.items],
        }
        with self._lock:
            print(f"{subject}\n{text}", file=self.stream or sys.stdout, flush=True)
            if self.outbox is not None:
                self.outbox.parent.mkdir(parents=True, exist_ok=True)
                with self.outbox.open("a", encoding="utf-8") as out:
                    out.write(json.dumps(entry, ensure_ascii=False) + "\n")
        return "printed"
