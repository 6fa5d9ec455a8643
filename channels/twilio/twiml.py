"""TwiML documents, written with the SDK's builders so escaping and attribute names are Twilio's."""

from __future__ import annotations

from aiohttp import web
from twilio.twiml.messaging_response import MessagingResponse  # type: ignore[import-untyped]
from twilio.twiml.voice_response import VoiceResponse  # type: ignore[import-untyped]

from channels.render.voice import VoicePrompt

CONTENT_TYPE = "application/xml"
# <Say> language and voice per reply locale: only pairs Twilio documents for <Say> (the <Say>
# reference's own example, Google.en-GB-Standard-A; its text-to-speech list's Google French
# voices, fr-FR). Twilio documents no Swahili, Nigerian Pidgin, Hausa, Yoruba or Igbo
# text-to-speech voice (Amazon Polly has none, and no Google voice for them is listed), and
# sw-KE on <Say> fails the verb, so its callers were read nothing: prompts on this line are in
# one of these languages (TWILIO_VOICE_CAPABILITIES), and a locale without a voice is read in
# English.
SAY_VOICES = {
    "en": ("en-GB", "Google.en-GB-Standard-A"),
    "fr": ("fr-FR", "Google.fr-FR-Standard-A"),
}
# Seconds a <Gather> waits for a key (Twilio's default is 5). A driver at a door waits for the
# customer to find the code: three silent prompts of ~5-15 s each plus this make about two
# minutes before the call ends (MAX_SILENCES), not the 35-60 s the default gave. A menu key
# still ends the gather at once (numDigits); a key shorter than that on '#', as its prompt says.
GATHER_TIMEOUT_SECONDS = 30


def twiml_response(document: object) -> web.Response:
    return web.Response(text=str(document), content_type=CONTENT_TYPE)


def message_twiml(text: str) -> MessagingResponse:
    response = MessagingResponse()
    response.message(text)
    return response


def voice_twiml(prompt: VoicePrompt, locale: str, action: str, on_silence: str) -> VoiceResponse:
    """Read the prompt and gather the answer; the last reply is read and the call hung up.

    When the caller says nothing, `<Gather>` falls through to the `<Redirect>`, which posts to
    `on_silence` (the action, counting the silence) without digits: the dialog repeats its
    screen with a line saying why.
    """
    language, voice = SAY_VOICES.get(locale, SAY_VOICES["en"])
    response = VoiceResponse()
    if prompt.end:
        response.say(prompt.say, language=language, voice=voice)
        response.hangup()
        return response
    gather = response.gather(
        input="dtmf speech",
        action=action,
        method="POST",
        language=language,
        timeout=GATHER_TIMEOUT_SECONDS,
        # Without it speech would wait `timeout` after the caller stops talking, too.
        speech_timeout="auto",
        **_digits(prompt),
    )
    gather.say(prompt.say, language=language, voice=voice)
    response.redirect(on_silence, method="POST")
    return response


def _digits(prompt: VoicePrompt) -> dict[str, int]:
    """numDigits ends the gather as soon as a whole key is pressed.

    A free-input screen (a quantity) takes any number of digits, so it has no numDigits and
    ends on '#' (Twilio's default finishOnKey) or the timeout; one whose answer has a fixed
    length (a delivery code) ends as soon as that many digits are keyed, so a driver who
    forgets '#' is not kept waiting for the timeout. Where a key is shorter ("00" for Back),
    its prompt says to end it with '#' (render_voice).
    """
    return {} if prompt.num_digits is None else {"num_digits": prompt.num_digits}
