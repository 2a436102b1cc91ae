"""docker-compose.yml cannot run here; keep it honest by checking it against Procfile and .env."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
PROCFILE = dict(
    line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip()
)
ENV_EXAMPLE = {
    m.group(1)
    for m in re.finditer(r"^([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M)
}


def _cmd(service: str) -> str:
    cmd = SERVICES[service]["command"]
    return " ".join(cmd) if isinstance(cmd, list) else str(cmd)


def _queues(cmd: str) -> set[str]:
    words = shlex.split(cmd)
    return set(words[words.index("-Q") + 1].split(","))


def test_compose_has_every_process_of_the_procfile() -> None:
    expected = {
        "postgres",
        "redis",
        "web",
        "worker",
        "worker-odoo",
        "worker-events",
        "beat",
        "flower",
        "odoo",
    }
    assert expected <= set(SERVICES)
    for proc in ("web", "worker", "beat", "flower"):
        assert proc in PROCFILE
    assert "worker_odoo" in PROCFILE
    assert "worker_events" in PROCFILE


def test_workers_split_the_queues_the_same_way() -> None:
    from django.conf import settings

    assert _queues(_cmd("worker")) == _queues(PROCFILE["worker"])
    assert _queues(_cmd("worker-odoo")) == _queues(PROCFILE["worker_odoo"]) == {"odoo"}
    assert _queues(_cmd("worker-events")) == _queues(PROCFILE["worker_events"]) == {"events"}
    assert _queues(_cmd("worker")) | {"odoo", "events"} == set(settings.HUB_QUEUES)


def test_commands_agree_with_the_procfile() -> None:
    assert (
        "gunicorn integration_hub.wsgi" in _cmd("web")
        and "gunicorn integration_hub.wsgi" in PROCFILE["web"]
    )
    for svc, proc in (("beat", "beat"), ("flower", "flower")):
        assert "celery -A integration_hub " + proc in _cmd(svc)
        assert "celery -A integration_hub " + proc in PROCFILE[proc]
    assert "DatabaseScheduler" in _cmd("beat") and "DatabaseScheduler" in PROCFILE["beat"]


def test_every_variable_compose_sets_is_documented() -> None:
    anchor = COMPOSE["x-hub"]["environment"]
    assert set(anchor) <= ENV_EXAMPLE
    for name in re.findall(r"\$\{([A-Z0-9_]+)", (ROOT / "docker-compose.yml").read_text()):
        assert name in ENV_EXAMPLE or name in {"HUB_DB_PASSWORD", "ODOO_DB_PASSWORD"}, name


def test_every_setting_read_from_the_environment_is_documented() -> None:
    source = (ROOT / "integration_hub" / "settings.py").read_text()
    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]+)"', source))
    read |= set(re.findall(r'_required_secret\(\s*"([A-Z][A-Z0-9_]+)"', source))
    missing = read - ENV_EXAMPLE
    assert not missing, f"settings read these but .env.example does not list them: {missing}"


def test_services_have_healthchecks_and_wait_for_healthy_dependencies() -> None:
    for svc in ("postgres", "redis", "web", "odoo", "odoo-db"):
        assert "healthcheck" in SERVICES[svc], svc
    for svc in ("web", "worker", "worker-odoo", "worker-events", "beat"):
        deps = SERVICES[svc]["depends_on"]
        assert deps["postgres"]["condition"] == "service_healthy"
        assert deps["redis"]["condition"] == "service_healthy"
    assert SERVICES["odoo"]["image"].startswith("odoo:17")
