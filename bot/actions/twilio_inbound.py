"""POST /twilio/inbound: WhatsApp replies through Twilio's messaging webhook.

A notification about a new match ends with "Reply *A 12* to approve, *R 12 <reason>* to reject".
The request is checked with Twilio's request validator against the account's auth token and the
address Twilio signed (`public_url` + `/twilio/inbound`, so it checks behind a proxy) before
anything else; a bad signature is 401 and logged. The sender's number maps to a GitLab user
through `review.whatsapp_users`. Only the two commands act; anything else gets the help text and
changes nothing. The answer is TwiML saying what happened; Twilio's `MessageSid` is the request
id, so a retried delivery is recorded once.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qs

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.actions.decide import EXPECTS, Asked, Decided, decide
from bot.actions.http import Rejected, error_response, form_body
from bot.render import render

log = logging.getLogger(__name__)

PATH = "/twilio/inbound"
_COMMAND = re.compile(r"^\s*(?P<verb>[AaRr])\s*#?(?P<iid>\d{1,9})(?:\s+(?P<reason>\S.*?))?\s*$", re.DOTALL)
_MESSAGE_SID = re.compile(r"^(SM|MM)[0-9a-fA-F]{32}$")
VERBS = {"a": "approve", "r": "reject"}


def command(body: str) -> tuple[str, int, str | None] | None:
    """("approve", 12, None) for "A 12"; ("reject", 12, "too far") for "R 12 too far"; else None."""
    found = _COMMAND.match(body)
    if found is None or int(found["iid"]) == 0:
        return None
    verb = VERBS[found["verb"].lower()]
    if verb == "approve" and found["reason"]:
        return None   # "A 12 and more" is not the command; better to ask again than to guess
    return verb, int(found["iid"]), found["reason"]


def twiml(text: str) -> Response:
    from twilio.twiml.messaging_response import MessagingResponse

    answer = MessagingResponse()
    answer.message(text)
    return Response(str(answer), media_type="application/xml")


async def twilio_inbound(request: Request) -> Response:
    """Verify, then act on "A 12" / "R 12 reason" and say what happened; help for anything else."""
    runtime = request.app.state.runtime
    settings = runtime.settings
    whatsapp = settings.notify.channels.whatsapp
    if not (whatsapp.inbound and whatsapp.auth_token and settings.public_url):
        return error_response(404, "WhatsApp replies are off",
                              "set notify.channels.whatsapp.inbound, its auth_token and public_url")
    try:
        body = await form_body(request)
        params = {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
    except Rejected as rejected:
        return rejected.response
    except UnicodeDecodeError:
        return error_response(400, "not a Twilio request", "the form is not UTF-8")
    from twilio.request_validator import RequestValidator

    signed_url = settings.public_url.rstrip("/") + PATH
    signature = request.headers.get("x-twilio-signature", "")
    if not RequestValidator(whatsapp.auth_token.get_secret_value()).validate(signed_url, params, signature):
        log.warning("Twilio request refused (401): X-Twilio-Signature does not match %s", signed_url,
                    extra={"event": "twilio_refused"})
        return error_response(401, "invalid Twilio signature", f"X-Twilio-Signature does not sign {signed_url}")
    if request.headers.get("i-twilio-idempotency-token"):
        log.info("Twilio delivery %s (idempotency token %s); MessageSid makes a repeat harmless",
                 params.get("MessageSid"), request.headers["i-twilio-idempotency-token"])
    sender = params.get("From", "").removeprefix("whatsapp:")
    asked = command(params.get("Body", ""))
    message_sid = params.get("MessageSid", "")
    if asked is None or not _MESSAGE_SID.match(message_sid):
        log.info("WhatsApp message from %s is no command; answered with the help", sender)
        return twiml(render("actions/whatsapp_help.txt.j2").strip())
    action, iid, reason = asked
    username = settings.review.whatsapp_users.get(sender)
    if username is None:
        log.warning("WhatsApp %s on #%s from %s, who is not in review.whatsapp_users; nothing done", action, iid, sender)
        decided = Decided("unknown_user", iid, action)
    else:
        decided = await run_in_threadpool(
            decide, runtime, Asked("whatsapp", message_sid, iid, action, username, reason, expects=EXPECTS[action]),
        )
    return twiml(render("actions/answer.txt.j2", d=decided, sender=sender).strip())


def routes() -> list[BaseRoute]:
    return [Route(PATH, twilio_inbound, methods=["POST"])]
