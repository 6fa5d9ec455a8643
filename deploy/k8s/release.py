"""Point an overlay at a release: `python3 deploy/k8s/release.py OVERLAY IMAGE [--revision R]`.

Writes `overlays/<OVERLAY>/release/kustomization.yaml`, a kustomize Component that sets every
container's image and names the migrate Job after the release. A Job's pod template cannot
change once created, so each release needs a Job of its own, under a name Kubernetes accepts
(a DNS-1123 label of at most 63 characters, as the Job's name is also a label value on its
pods). The image's tag cannot be that name: a digest (`@sha256:…`, 64 hex digits) is too long,
a registry with a port (`host:5000/omniroute:1.0.1`) puts a `/` in it, and a re-used tag
(`staging`) names the Job that already ran, so the new image's migrations would never run. The
name is instead a hash of the full image reference and the release's revision, which every run
moves on (by one, or to `--revision`, e.g. the CI run's number): re-applying one release keeps
its Job, the next release gets a new one, even under the same tag.

Standard library only: it runs wherever kubectl does. The file it writes is JSON, which YAML
(and so kustomize) reads as is.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

OVERLAYS = Path(__file__).resolve().parent / "overlays"
# The image as the base names it (base/kustomization.yaml renames `omniroute` to it).
BASE_IMAGE = "ghcr.io/omniroute/omniroute"
# The migrate Job as the base names it; the release's patch renames it.
BASE_JOB = "omniroute-migrate-release"
JOB_PREFIX = "omniroute-migrate-"
HASH_CHARS = 12
DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
# A reference: [host[:port]/]path[:tag][@algorithm:hex], no spaces, nothing upper-case in the
# repository part (registries refuse it); tags may mix case.
_REPOSITORY = re.compile(r"[a-z0-9]+([._:/-][a-z0-9]+)*")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_DIGEST = re.compile(r"[a-z0-9]+([+._-][a-z0-9]+)*:[a-fA-F0-9]{32,}")


class ImageError(ValueError):
    """Not an image reference a release can be pinned to."""


def split_image(image: str) -> tuple[str, str, str]:
    """`host:5000/omniroute:1.0.1@sha256:…` -> (repository, tag, digest); "" where absent.

    The tag is after the last `:` that follows the last `/`: a registry's port is not a tag.
    """
    name, _, digest = image.partition("@")
    tag = ""
    colon = name.rfind(":")
    if colon > name.rfind("/"):
        name, tag = name[:colon], name[colon + 1 :]
    if not _REPOSITORY.fullmatch(name):
        raise ImageError(f"{image!r}: not an image repository")
    if tag and not _TAG.fullmatch(tag):
        raise ImageError(f"{image!r}: {tag!r} is not an image tag")
    if digest and not _DIGEST.fullmatch(digest):
        raise ImageError(f"{image!r}: {digest!r} is not an image digest")
    if not tag and not digest:
        raise ImageError(f"{image!r}: give a tag or a digest (a release is pinned, not latest)")
    return name, tag, digest


def job_name(image: str, revision: str) -> str:
    """The migrate Job's name for one release: a DNS-1123 label of 30 characters."""
    split_image(image)
    digest = hashlib.sha256(f"{image}\n{revision}".encode()).hexdigest()
    return JOB_PREFIX + digest[:HASH_CHARS]


def component(image: str, revision: str) -> dict[str, Any]:
    """The overlay's release: its image everywhere and its migrate Job's name."""
    repository, tag, digest = split_image(image)
    pinned: dict[str, str] = {"name": BASE_IMAGE, "newName": repository}
    if digest:
        pinned["digest"] = digest  # kustomize then writes repository@digest
    else:
        pinned["newTag"] = tag
    operations = [
        {"op": "replace", "path": "/metadata/name", "value": job_name(image, revision)},
        {
            "op": "add",
            "path": "/metadata/annotations",
            "value": {"omniroute.io/image": image, "omniroute.io/revision": revision},
        },
    ]
    return {
        "apiVersion": "kustomize.config.k8s.io/v1alpha1",
        "kind": "Component",
        "images": [pinned],
        "patches": [{"target": {"kind": "Job", "name": BASE_JOB}, "patch": json.dumps(operations)}],
    }


def release_file(overlay: str) -> Path:
    return OVERLAYS / overlay / "release" / "kustomization.yaml"


def current_revision(path: Path) -> str | None:
    """The revision the overlay's release file names, if there is one."""
    if not path.exists():
        return None
    operations = json.loads(json.loads(path.read_text())["patches"][0]["patch"])
    for operation in operations:
        if operation["path"] == "/metadata/annotations":
            return str(operation["value"]["omniroute.io/revision"])
    return None


def next_revision(previous: str | None) -> str:
    return str(int(previous) + 1) if previous and previous.isdigit() else "1"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="release.py", description="Point a kustomize overlay at a release's image."
    )
    parser.add_argument("overlay", help="staging or production (a folder under overlays/)")
    parser.add_argument("image", help="the full image reference: repo:tag or repo@sha256:…")
    parser.add_argument(
        "--revision", help="the release's revision (default: the overlay's last one plus one)"
    )
    args = parser.parse_args(argv)
    path = release_file(args.overlay)
    if not path.parent.parent.is_dir():
        parser.error(f"no overlay {args.overlay!r} under {OVERLAYS}")
    revision = args.revision or next_revision(current_revision(path))
    try:
        written = component(args.image, revision)
    except ImageError as exc:
        parser.error(str(exc))
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(written, indent=2) + "\n")
    name = job_name(args.image, revision)
    print(f"{args.overlay}: {args.image}, revision {revision}, migrate Job {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
