"""The object store the settings ask for; production refuses an s3:// store it cannot use.

Like the channels' and rails' secrets: a production gateway with an s3:// store and no
credentials would start, look healthy and fail on the first driver's document, so it refuses to
start instead, naming the variable to set.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from core.config import SettingError, Settings
from core.objects import ObjectStore, ObjectStoreConfigError, S3Config, open_object_store


class MissingObjectStoreSettingError(SettingError):
    """Production with an s3:// object store but something it needs unset."""


def build_object_store(settings: Settings) -> ObjectStore:
    url = settings.object_store_url
    if urlsplit(url).scheme != "s3":
        return open_object_store(url)
    secret = settings.s3_secret_access_key
    if settings.production:
        missing = [
            name
            for name, value in (
                ("AWS_ACCESS_KEY_ID", settings.s3_access_key_id),
                ("AWS_SECRET_ACCESS_KEY", secret),
            )
            if not value
        ]
        if missing:
            raise MissingObjectStoreSettingError(
                f"{' and '.join(missing)} must be set: OMNIROUTE_OBJECT_STORE_URL is {url}, "
                "and the gig workers' documents are kept there"
            )
    endpoint = settings.s3_endpoint_url
    if endpoint is not None and urlsplit(endpoint).scheme not in {"http", "https"}:
        raise ObjectStoreConfigError(
            f"OMNIROUTE_S3_ENDPOINT_URL {endpoint!r}: an http:// or https:// URL (MinIO's API)"
        )
    return open_object_store(
        url,
        S3Config(
            bucket="",
            endpoint_url=endpoint,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=secret.get_secret_value() if secret else None,
        ),
    )
