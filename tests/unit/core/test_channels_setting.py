"""Production mounts only the channels it is told to, so an unused provider needs no secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.app.server import create_app
from core.config import Settings


def test_production_without_twilio_or_meta_secrets_starts_when_they_are_not_enabled(
    tmp_path: Path,
) -> None:
    settings = Settings(
        env="production",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
        channels="africastalking,web",
        africastalking_callback_token="s3cret",
        _env_file=None,
    )
    app = create_app(settings)
    prefixes = {str(r.resource.canonical) for r in app.router.routes() if r.resource}
    assert any(p.startswith("/channels/africastalking") for p in prefixes)
    assert not any(p.startswith("/channels/twilio") for p in prefixes)


def test_production_refuses_an_enabled_channel_without_its_secret(tmp_path: Path) -> None:
    settings = Settings(
        env="production",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
        channels="africastalking,twilio",
        africastalking_callback_token="s3cret",
        _env_file=None,
    )
    with pytest.raises(Exception, match="OMNIROUTE_TWILIO_AUTH_TOKEN"):
        create_app(settings)
