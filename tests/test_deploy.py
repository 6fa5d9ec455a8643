"""deploy/ stays true to the code: manifests parse, name real commands, settings and routes.

There is no Docker engine or cluster here, so these checks are what keeps a manifest from
drifting silently: a renamed setting, a removed subcommand or a probe on a missing route fails
here instead of in a rollout.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.app.cli import build_parser
from core.app.server import READY_SECONDS, create_app
from core.bus.kafka import LIVE_JOIN_TIMEOUT
from core.config import Settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
MANIFESTS = sorted(DEPLOY.rglob("*.yaml"))


def _documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _subcommands() -> set[str]:
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    raise AssertionError("the CLI has no subcommands")


def _containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    spec = doc.get("spec", {})
    pod = spec.get("template", {}).get("spec", {})
    return list(pod.get("containers", []))


def test_every_manifest_parses() -> None:
    assert MANIFESTS, "deploy/ has no manifests"
    for path in MANIFESTS:
        assert _documents(path), f"{path} is empty"


def test_container_commands_are_real_subcommands() -> None:
    commands = _subcommands()
    used: set[str] = set()
    for path in (DEPLOY / "k8s").rglob("*.yaml"):
        for doc in _documents(path):
            for container in _containers(doc):
                args = container.get("args") or []
                assert args, f"{path}: container {container['name']} has no args"
                used.add(args[0])
    compose = _documents(DEPLOY / "compose" / "compose.yaml")[0]
    for service in compose["services"].values():
        if "command" in service and service.get("image", "").startswith("omniroute"):
            used.add(service["command"][0])
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    cmd = re.search(r'^CMD \["(\w+)"', dockerfile, re.MULTILINE)
    assert cmd is not None
    used.add(cmd.group(1))
    assert used <= commands, f"unknown subcommands: {used - commands}"
    assert {"serve", "migrate", "worker"} <= used


def test_environment_names_are_settings() -> None:
    fields = {f"OMNIROUTE_{name.upper()}" for name in Settings.model_fields}
    named: set[str] = set()
    for path in [*MANIFESTS, DEPLOY / "Dockerfile", DEPLOY / "compose" / ".env.example"]:
        named |= set(re.findall(r"\bOMNIROUTE_[A-Z0-9_]+", path.read_text()))
    assert named, "no settings are named in deploy/"
    assert named <= fields, f"not settings: {sorted(named - fields)}"


def test_dockerfile_copies_what_exists() -> None:
    for line in (DEPLOY / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY ") and "--from" not in line:
            *sources, _dest = line.split()[1:]
            for source in sources:
                assert (ROOT / source).exists(), f"Dockerfile copies missing {source}"


@pytest.mark.parametrize("overlay", ["staging", "production"])
def test_overlays_patch_what_the_base_defines(overlay: str) -> None:
    base = DEPLOY / "k8s" / "base"
    kustomization = _documents(base / "kustomization.yaml")[0]
    defined = set()
    for resource in kustomization["resources"]:
        path = base / resource
        assert path.exists(), f"base lists missing {resource}"
        if path.is_dir():  # a kustomization of its own (the dashboard and alerting rules)
            assert (path / "kustomization.yaml").exists(), resource
            continue
        for doc in _documents(path):
            defined.add((doc["kind"], doc["metadata"]["name"]))
    overlay_doc = _documents(DEPLOY / "k8s" / "overlays" / overlay / "kustomization.yaml")[0]
    assert "../../base" in overlay_doc["resources"]
    for patch in overlay_doc.get("patches", []):
        target = (patch["target"]["kind"], patch["target"]["name"])
        assert target in defined, f"{overlay} patches {target}, which the base lacks"


async def test_probes_hit_routes_that_answer(client: Any) -> None:
    base = DEPLOY / "k8s" / "base"
    paths = set()
    for doc in _documents(base / "gateway-deployment.yaml"):
        for container in _containers(doc):
            for probe in ("readinessProbe", "livenessProbe"):
                paths.add(container[probe]["httpGet"]["path"])
    assert paths == {"/healthz", "/readyz"}
    for path in sorted(paths):
        response = await client.get(path)
        assert response.status == 200, path


def _base_images() -> set[str]:
    """The images the base's containers carry once its own `images` have renamed them."""
    base = DEPLOY / "k8s" / "base"
    renames = {
        image["name"]: image.get("newName", image["name"])
        for image in _documents(base / "kustomization.yaml")[0].get("images", [])
    }
    images = set()
    for path in base.glob("*.yaml"):
        for doc in _documents(path):
            for container in _containers(doc):
                name = container["image"].split(":")[0]
                images.add(renames.get(name, name))
    return images


@pytest.mark.parametrize("overlay", ["staging", "production"])
def test_an_overlays_tag_is_the_one_deployed(overlay: str) -> None:
    """An overlay's release `images` entry names the image as the base left it: under any other
    name kustomize ignores it, and the release's tag is never deployed (the base's `latest` is)."""
    release = json.loads(_release_module().release_file(overlay).read_text())
    tagged = {image["name"] for image in release["images"] if {"newTag", "digest"} & set(image)}
    assert tagged
    assert tagged <= _base_images(), f"{overlay} tags {tagged - _base_images()}, no container's"


def test_readiness_waits_for_readyz_to_name_a_hung_backend() -> None:
    """/readyz answers within READY_SECONDS; a probe timing out first fails it unexplained."""
    for doc in _documents(DEPLOY / "k8s" / "base" / "gateway-deployment.yaml"):
        for container in _containers(doc):
            probe = container["readinessProbe"]
            assert probe.get("timeoutSeconds", 1) > READY_SECONDS, container["name"]


# Before it listens, `serve` imports the service graph, connects to Temporal and waits for the
# live Kafka groups to join (LIVE_JOIN_TIMEOUT at most); the orchestrator must wait that long.
STARTUP_SECONDS = LIVE_JOIN_TIMEOUT + 30


def _probe_budget(probe: dict[str, Any]) -> float:
    """Seconds a probe lets a container fail before it acts."""
    return float(
        probe.get("initialDelaySeconds", 0)
        + probe.get("periodSeconds", 10) * probe.get("failureThreshold", 3)
    )


def test_liveness_lets_a_starting_gateway_start() -> None:
    """A gateway still waiting for its Kafka groups is not restarted by its liveness probe."""
    for doc in _documents(DEPLOY / "k8s" / "base" / "gateway-deployment.yaml"):
        for container in _containers(doc):
            first = container.get("startupProbe") or container["livenessProbe"]
            assert _probe_budget(first) >= STARTUP_SECONDS, container["name"]
            assert first["httpGet"]["path"] == "/healthz"
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    start_period = re.search(r"--start-period=(\d+)s", dockerfile)
    assert start_period is not None, "the image's health check counts failures from the start"
    assert int(start_period.group(1)) >= STARTUP_SECONDS


def _compose_environment(service: str, supplied: dict[str, str] | None = None) -> dict[str, str]:
    """A compose service's environment as compose interpolates it: each `${NAME:?…}` the
    operator must supply filled in, each `${NAME:-default}` from `supplied` or its default."""
    compose = _documents(DEPLOY / "compose" / "compose.yaml")[0]
    environment = compose["services"][service]["environment"]
    supplied = supplied or {}
    required = re.compile(r"\$\{(\w+):\?[^}]*\}")
    defaulted = re.compile(r"\$\{(\w+):-([^}]*)\}")

    def interpolate(value: str) -> str:
        value = required.sub(lambda m: f"operator-set-{m.group(1).lower()}", value)
        return defaulted.sub(lambda m: supplied.get(m.group(1)) or m.group(2), value)

    return {name: interpolate(str(value)) for name, value in environment.items()}


def test_compose_gateway_starts_once_its_secrets_are_supplied(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`docker compose up` either names the secret it lacks or runs a gateway that starts:
    a production gateway with every channel mounted and no secret refuses to start."""
    for name in list(os.environ):
        if name.startswith("OMNIROUTE_"):
            monkeypatch.delenv(name)
    for name, value in _compose_environment("gateway").items():
        monkeypatch.setenv(name, value)
    settings = Settings(_env_file=None)
    assert settings.production
    app = create_app(settings)
    assert any(r.canonical == "/channels/africastalking" for r in app.router.resources())


def test_compose_gateway_serves_its_metrics_to_a_scraper_with_its_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A production gateway without OMNIROUTE_METRICS_TOKEN leaves /metrics open to anyone (and
    is to refuse it outright): compose asks for the token, as for the channels' secrets."""
    for name in list(os.environ):
        if name.startswith("OMNIROUTE_"):
            monkeypatch.delenv(name)
    for name, value in _compose_environment("gateway").items():
        monkeypatch.setenv(name, value)
    settings = Settings(_env_file=None)
    assert settings.production
    assert settings.metrics_token is not None
    assert settings.metrics_token.get_secret_value() == "operator-set-omniroute_metrics_token"


def test_compose_gateway_checks_twilio_against_the_address_twilio_calls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Twilio signs the public https URL it posts to (a domain, or a tunnel to the host); with
    OMNIROUTE_PUBLIC_URL fixed at http://localhost:8080 every real webhook failed its
    signature check (403), and payment callbacks named an address no provider can reach."""
    for name in list(os.environ):
        if name.startswith("OMNIROUTE_"):
            monkeypatch.delenv(name)
    public = "https://shop.example.ngrok.app"
    for name, value in _compose_environment("gateway", {"OMNIROUTE_PUBLIC_URL": public}).items():
        monkeypatch.setenv(name, value)
    assert Settings(_env_file=None).public_url == public


def test_compose_gives_the_gateway_every_setting_in_its_env_file() -> None:
    """The README has the operator put the stack's settings in deploy/compose/.env, which compose
    reads only to fill in `${…}`: the containers never saw the rest of a channel's settings
    (Meta's verify token, so WhatsApp's webhook handshake was refused with 403; the senders'
    keys, so no SMS or WhatsApp reply, order confirmation or delivery code ever went)."""
    compose = _documents(DEPLOY / "compose" / "compose.yaml")[0]
    for service in ("migrate", "gateway", "worker"):
        entries = compose["services"][service].get("env_file", [])
        files = {
            (DEPLOY / "compose" / entry["path"]).resolve(): entry.get("required", True)
            for entry in entries
        }
        # optional: a stack given its secrets by `export` alone still starts
        assert files.get((DEPLOY / "compose" / ".env").resolve()) is False, service


def test_compose_services_come_back_after_a_crash_or_a_reboot() -> None:
    """Without a restart policy a gateway that exits (Temporal not yet listening, a backend
    restarting) stays down, and after a reboot of the host nothing comes back."""
    compose = _documents(DEPLOY / "compose" / "compose.yaml")[0]
    for name, service in compose["services"].items():
        if service.get("command") == ["migrate"]:
            continue  # one-shot: runs to completion before the gateway starts
        assert service.get("restart") in {"always", "unless-stopped"}, name


@pytest.mark.parametrize("overlay", ["staging", "production"])
def test_a_release_leaves_the_autoscaled_replica_count_alone(overlay: str) -> None:
    """A Deployment the HPA scales must not name its replicas: every `kubectl apply` of a
    release would reset 12 busy gateways to the manifest's 3, killing the rest at once."""
    base = DEPLOY / "k8s" / "base"
    scaled = {
        doc["spec"]["scaleTargetRef"]["name"]
        for doc in _documents(base / "gateway-hpa.yaml")
        if doc["kind"] == "HorizontalPodAutoscaler"
    }
    for doc in _documents(base / "gateway-deployment.yaml"):
        if doc["metadata"]["name"] in scaled:
            assert "replicas" not in doc["spec"], doc["metadata"]["name"]
    overlay_doc = _documents(DEPLOY / "k8s" / "overlays" / overlay / "kustomization.yaml")[0]
    for patch in overlay_doc.get("patches", []):
        if patch["target"]["kind"] == "Deployment" and patch["target"]["name"] in scaled:
            paths = {op["path"] for op in yaml.safe_load(patch["patch"])}
            assert "/spec/replicas" not in paths, (overlay, patch["target"]["name"])


def test_the_disruption_budget_lets_a_node_drain_and_keeps_the_rest_serving() -> None:
    """minAvailable 1 blocked every drain of staging's single gateway, and let drains evict
    all but one of production's fifteen at once; one at a time does neither."""
    (pdb,) = _documents(DEPLOY / "k8s" / "base" / "gateway-pdb.yaml")
    assert "minAvailable" not in pdb["spec"]
    assert pdb["spec"]["maxUnavailable"] == 1
    for overlay in ("staging", "production"):
        overlay_doc = _documents(DEPLOY / "k8s" / "overlays" / overlay / "kustomization.yaml")[0]
        kinds = {patch["target"]["kind"] for patch in overlay_doc.get("patches", [])}
        assert "PodDisruptionBudget" not in kinds, overlay


def test_a_stopping_gateway_keeps_answering_until_it_is_out_of_the_service() -> None:
    """Kubernetes sends SIGTERM while the Service still routes to the pod for a few seconds;
    serve stops listening at once, so without a pause every rollout refused in-flight USSD
    callbacks (the subscriber sees a network error)."""
    for doc in _documents(DEPLOY / "k8s" / "base" / "gateway-deployment.yaml"):
        pod = doc["spec"]["template"]["spec"]
        for container in _containers(doc):
            command = container["lifecycle"]["preStop"]["exec"]["command"]
            assert command[0] == "sleep"
            pause = int(command[1])
            assert pause >= 5
            assert pod["terminationGracePeriodSeconds"] >= pause + 20


def test_compose_keeps_the_gateways_documents_across_a_rebuild() -> None:
    """With the default file:// object store the drivers' documents were written inside the
    gateway's container, and `up --build` (a new container) lost them."""
    compose = _documents(DEPLOY / "compose" / "compose.yaml")[0]
    gateway = compose["services"]["gateway"]
    store = _compose_environment("gateway").get("OMNIROUTE_OBJECT_STORE_URL")
    store = store or Settings.model_fields["object_store_url"].default
    if not store.startswith("file://"):
        return
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    workdir = re.findall(r"^WORKDIR (\S+)", dockerfile, re.MULTILINE)[-1]
    path = store.removeprefix("file://")
    path = path if path.startswith("/") else f"{workdir}/{path}"
    mounted = [
        v.split(":")[1]
        for v in gateway.get("volumes", [])
        if v.split(":")[0] in compose.get("volumes", {})
    ]
    assert any(path == m or path.startswith(m + "/") for m in mounted), (path, mounted)
    # a named volume starts as the image's directory: it must exist there, owned by the user
    owned = re.findall(r"install -d -o omniroute -g omniroute (\S+)", dockerfile)
    assert any(m in owned for m in mounted), (mounted, owned)


def _option(args: list[str], name: str, default: str) -> str:
    return args[args.index(name) + 1] if name in args else default


def test_a_hung_worker_is_restarted() -> None:
    """The worker's liveness probe asks its /healthz on the port and address it listens on: a
    worker whose loop hangs or whose Temporal worker stopped takes no tasks and no restart."""
    parser = build_parser()
    for doc in _documents(DEPLOY / "k8s" / "base" / "worker-deployment.yaml"):
        for container in _containers(doc):
            parsed = parser.parse_args(container["args"])
            assert parsed.command == "worker"
            assert parsed.host == "0.0.0.0"  # the kubelet probes the pod's address
            ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
            probe = container["livenessProbe"]["httpGet"]
            assert probe["path"] == "/healthz"
            assert ports[probe["port"]] == parsed.port
            assert container["startupProbe"]["httpGet"] == probe
            assert _probe_budget(container["startupProbe"]) >= STARTUP_SECONDS
    compose = _documents(DEPLOY / "compose" / "compose.yaml")[0]
    worker = parser.parse_args(compose["services"]["worker"]["command"])
    healthcheck = re.search(
        r"http://127\.0\.0\.1:(\d+)/healthz", (DEPLOY / "Dockerfile").read_text()
    )
    assert healthcheck is not None
    assert worker.port == int(healthcheck.group(1)), "the image's HEALTHCHECK asks another port"


def _release_module() -> Any:
    """deploy/k8s/release.py, loaded from its file (deploy/ is not a package)."""
    spec = importlib.util.spec_from_file_location("release", DEPLOY / "k8s" / "release.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# What Kubernetes accepts as a Job's name (the name is also a label value on its pods).
DNS_1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
DIGEST = "sha256:" + "3f" * 32
RELEASE_IMAGES = [
    "ghcr.io/omniroute/omniroute:1.0.1",
    "registry.internal:5000/omniroute:1.0.1",  # a registry with a port
    f"ghcr.io/omniroute/omniroute@{DIGEST}",  # deployed by digest
    f"localhost:5000/omniroute:1.0.1@{DIGEST}",
    "ghcr.io/omniroute/omniroute:" + "Release_1.0.1-rc." + "9" * 110,  # a 128-character tag
]


@pytest.mark.parametrize("image", RELEASE_IMAGES)
def test_every_image_reference_names_a_migrate_job_kubernetes_accepts(image: str) -> None:
    name = _release_module().job_name(image, "7")
    assert DNS_1123_LABEL.fullmatch(name), name
    assert len(name) <= 63
    assert name.startswith("omniroute-migrate-")


def test_each_release_gets_its_own_migrate_job_even_under_a_reused_tag() -> None:
    """A Job's pod template is immutable, and a finished Job is not run again: a new release
    under the tag of the last one (staging's) must still get a Job of its own; re-applying
    the same release keeps its Job."""
    release = _release_module()
    image = "ghcr.io/omniroute/omniroute:staging"
    assert release.job_name(image, "8") != release.job_name(image, "7")
    assert release.job_name(image, "7") == release.job_name(image, "7")
    other = f"ghcr.io/omniroute/omniroute@{DIGEST}"
    assert release.job_name(other, "7") != release.job_name(image, "7")


@pytest.mark.parametrize("image", ["ghcr.io/omniroute/omniroute", "Omniroute:1", "a b:1", ""])
def test_an_image_that_pins_no_release_is_refused(image: str) -> None:
    release = _release_module()
    with pytest.raises(release.ImageError):
        release.job_name(image, "1")


@pytest.mark.parametrize("overlay", ["staging", "production"])
def test_an_overlays_release_was_written_by_the_release_script(overlay: str) -> None:
    """The overlay's release file is what release.py writes for its image and revision: a
    hand edit of the image alone would keep the last release's Job name (never run again)."""
    release = _release_module()
    path = release.release_file(overlay)
    written = json.loads(path.read_text())
    (operations,) = [json.loads(p["patch"]) for p in written["patches"]]
    (annotations,) = [o["value"] for o in operations if o["path"] == "/metadata/annotations"]
    image, revision = annotations["omniroute.io/image"], annotations["omniroute.io/revision"]
    assert written == release.component(image, revision)
    overlay_doc = _documents(DEPLOY / "k8s" / "overlays" / overlay / "kustomization.yaml")[0]
    assert "release" in overlay_doc["components"]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl renders the overlays")
@pytest.mark.parametrize("image", RELEASE_IMAGES[1:3])
def test_a_release_renders_its_image_everywhere_and_its_own_migrate_job(
    image: str, tmp_path: Path
) -> None:
    """Run as the README says, twice (a release, then the next under the same image)."""
    deploy = tmp_path / "deploy"
    shutil.copytree(DEPLOY / "k8s", deploy / "k8s")
    script = deploy / "k8s" / "release.py"

    names = []
    for _ in range(2):
        subprocess.run([sys.executable, str(script), "staging", image], check=True)
        rendered = subprocess.run(
            ["kubectl", "kustomize", str(deploy / "k8s" / "overlays" / "staging")],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        docs = [doc for doc in yaml.safe_load_all(rendered) if doc]
        (job,) = [doc for doc in docs if doc["kind"] == "Job"]
        names.append(job["metadata"]["name"])
        assert {c["image"] for doc in docs for c in _containers(doc)} == {
            image.replace(":1.0.1@", "@")  # by digest, kustomize drops the tag
        }
    release = _release_module()
    assert names == [release.job_name(image, "2"), release.job_name(image, "3")]
