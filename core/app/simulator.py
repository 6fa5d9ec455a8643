"""POST /simulator/channels/…: the simulator page's forms, signed as their provider would sign them.

Once a provider's secret is set (staging), the real endpoints refuse the page's unsigned forms
with 403. The page posts here instead; this route adds what the provider adds — Africa's
Talking's `?token=`, Twilio's `X-Twilio-Signature` over the URL and the fields — and forwards
the request over HTTP to the channel endpoint on the same server, so the checks still run on
what it sends. Like the page, it is never mounted in production: it signs anything it is given.

GET /simulator/inbox?phone=… is the page's inbox: what the gateway sent that phone later, not as
a webhook's answer (the order's SMS, the driver's delivery code, every notice), read from the
deliveries outbox the senders work from. Without a provider's keys (a laptop) those messages
never reach a phone, so the page is the only place a newcomer can read them. Mounted only when
OMNIROUTE_ENV is `dev` (the default, `make run`): it reads anyone's messages, delivery codes too,
so a gateway others can reach (staging, `test`) answers 404.
"""

from __future__ import annotations

from aiohttp import ClientSession, ClientTimeout, web
from yarl import URL

from channels.render.sms import render_sms
from core.app.form_signer import AFRICASTALKING, TWILIO, FormSigner
from core.config import Settings
from core.messages import Reply
from core.phone import InvalidPhoneError, Phone
from engines.notifications import Delivery, NotificationService

PREFIX = "/simulator"
FORWARD_SECONDS = 30
INBOX_SIZE = 20  # the newest messages; a phone on a page needs no archive


class SimulatorForwarder:
    def __init__(self, settings: Settings) -> None:
        self._signer = FormSigner.of(settings)

    def mount(self, app: web.Application) -> None:
        app.router.add_post(PREFIX + "/{target:channels/.+}", self.forward)

    async def forward(self, request: web.Request) -> web.Response:
        target = request.raw_path.removeprefix(PREFIX)  # path and query, encoded as received
        # Only the providers whose forms the page posts; anything else is not its business.
        if not target.startswith((AFRICASTALKING, TWILIO)):
            raise web.HTTPNotFound(
                text="The simulator only posts Africa's Talking and Twilio forms\n"
            )
        body = await request.read()
        local = _local_origin(request)
        target, signature = self._signer.sign(target, body, local)
        headers = {"Content-Type": request.headers.get("Content-Type", ""), **signature}
        async with (
            ClientSession(timeout=ClientTimeout(total=FORWARD_SECONDS)) as session,
            session.post(URL(local + target, encoded=True), data=body, headers=headers) as answer,
        ):
            return web.Response(
                status=answer.status,
                body=await answer.read(),
                content_type=answer.content_type,
                charset=answer.charset,
            )


class SimulatorInbox:
    def __init__(self, notifications: NotificationService) -> None:
        self._notifications = notifications

    def mount(self, app: web.Application) -> None:
        app.router.add_get(PREFIX + "/inbox", self.inbox)

    async def inbox(self, request: web.Request) -> web.Response:
        """`{"phone", "messages": [{"at", "provider", "channel", "text", "status", "error"}]}`,
        newest first; 400 with the reason when `phone` is not a phone number."""
        try:
            phone = Phone.parse(request.query.get("phone", ""))
        except InvalidPhoneError as exc:
            raise web.HTTPBadRequest(text=f"phone: {exc}\n") from exc
        sent = await self._notifications.latest_for(phone, INBOX_SIZE)
        return web.json_response({"phone": phone.e164, "messages": [_message(d) for d in sent]})


def _message(delivery: Delivery) -> dict[str, str | None]:
    reply = delivery.payload["reply"]
    assert isinstance(reply, dict)
    return {
        "at": delivery.created_at.isoformat(),
        "provider": delivery.provider,
        "channel": delivery.kind,
        "text": render_sms(Reply.from_dict(reply)),  # the words, as an SMS sender writes them
        "status": delivery.status.value,
        "error": delivery.last_error,  # why it has not gone (no sender configured, STOP…)
    }


def _local_origin(request: web.Request) -> str:
    """This server as the connection reached it: from inside the pod, whatever the proxy's name."""
    host, port = request.transport.get_extra_info("sockname")[:2] if request.transport else ("", 0)
    return str(URL.build(scheme="http", host=host, port=port)).rstrip("/")
