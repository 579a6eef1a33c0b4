"""One message to one channel, retried with back-off (tenacity, honouring `Retry-After`).

A permanent failure (a wrong address, an unapproved WhatsApp conversation) is not retried; an
adapter's bug is caught and reported as a failed send, so it cannot take the other channels down.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable

from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from bot import metrics
from bot.config.notify_sections import RetrySettings
from bot.notify.channel import Channel, ChannelError, Receipt
from bot.notify.message import Message
from bot.notify.owed import family

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SendResult:
    channel: str
    ok: bool
    detail: str
    receipt: Receipt | None = None   # when the channel asked the record for a mention


def send(channel: Channel, message: Message, retry: RetrySettings, sleep: Callable[[float], None]) -> SendResult:
    fallback = wait_random_exponential(multiplier=1, max=retry.max_wait_seconds)

    def wait(state: Any) -> float:
        error = state.outcome.exception()
        if isinstance(error, ChannelError) and error.retry_after is not None:
            return min(error.retry_after, retry.max_wait_seconds)
        return float(fallback(state))

    retrying = Retrying(
        retry=retry_if_exception(lambda e: not (isinstance(e, ChannelError) and e.permanent)),
        stop=stop_after_attempt(retry.attempts),
        wait=wait,
        sleep=sleep,
        reraise=True,
    )
    counted = metrics.NOTIFICATIONS.labels   # by channel: a target may name a phone number
    try:
        receipt = retrying(channel.send, message)
    except ChannelError as exc:
        log.warning("%s: delivery failed: %s", channel.name, exc)
        counted(channel=family(channel.name), outcome="failed").inc()
        return SendResult(channel.name, False, str(exc))
    except Exception as exc:  # an adapter's bug must not take the other channels down
        log.exception("%s: delivery crashed", channel.name)
        counted(channel=family(channel.name), outcome="failed").inc()
        return SendResult(channel.name, False, f"{type(exc).__name__}: {exc}")
    log.info("%s: delivered %s (%d item(s)): %s", channel.name, message.kind, len(message.items), receipt)
    counted(channel=family(channel.name), outcome="sent").inc()
    return SendResult(channel.name, True, str(receipt), receipt if isinstance(receipt, Receipt) else None)
