"""`omniroute simulate ussd`: a feature phone in the terminal, through the real USSD endpoint."""

from __future__ import annotations

import secrets
import sys
import urllib.error
import urllib.parse
import urllib.request


def post_ussd(url: str, form: dict[str, str]) -> str:
    data = urllib.parse.urlencode(form).encode()
    request = urllib.request.Request(  # noqa: S310 - the gateway's own URL, given by the user
        f"{url.rstrip('/')}/channels/africastalking/ussd", data=data, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return str(response.read().decode())


def simulate_ussd(url: str, phone: str, service_code: str) -> int:
    session_id = f"sim-{secrets.token_hex(6)}"
    inputs: list[str] = []
    print(f"Dialling {service_code} from {phone} (empty line or Ctrl+D to hang up)\n")
    while True:
        form = {
            "sessionId": session_id,
            "serviceCode": service_code,
            "phoneNumber": phone,
            "networkCode": "62130",
            "text": "*".join(inputs),
        }
        try:
            screen = post_ussd(url, form)
        except urllib.error.HTTPError as exc:
            print(f"gateway answered {exc.code}: {exc.read().decode().strip()}", file=sys.stderr)
            return 1
        except urllib.error.URLError as exc:
            print(f"cannot reach the gateway at {url}: {exc.reason}", file=sys.stderr)
            return 1
        kind, _, body = screen.partition(" ")
        print("+" + "-" * 30)
        for line in body.splitlines():
            print(f"| {line}")
        print("+" + "-" * 30)
        if kind == "END":
            return 0
        try:
            answer = input("> ").strip()
        except EOFError:
            answer = ""
        if not answer:
            print("(hung up)")
            return 0
        inputs.append(answer)
