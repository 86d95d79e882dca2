"""The deployment files stay true to the code: .env.example lists every setting, docker-compose.yml parses
and runs the stack with health checks. (No Docker engine is needed: these read the files.)"""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
READ_IN_CODE = re.compile(r'(?:\benv(?:\.\w+)?|os\.environ\.get|os\.environ)[(\[]\s*"([A-Z][A-Z0-9_]*)"')
LISTED = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)
COMPOSE_VARIABLE = re.compile(r"\$\{([A-Z][A-Z0-9_]*)")


def _settings_read() -> set[str]:
    return {name for path in ("igaming/settings.py", "igaming/engines.py")
            for name in READ_IN_CODE.findall((ROOT / path).read_text())}


def _env_example() -> set[str]:
    return set(LISTED.findall((ROOT / ".env.example").read_text()))


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_env_example_lists_every_setting_the_code_reads():
    read = _settings_read()
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "DEBUG", "ALLOWED_HOSTS"} <= read  # the scan works

    missing = read - _env_example()

    assert not missing, f"add to .env.example: {sorted(missing)}"


def test_env_example_changes_nothing_when_copied_as_is():
    active = [line for line in (ROOT / ".env.example").read_text().splitlines()
              if line.strip() and not line.lstrip().startswith("#")]
    assert active == []


def test_every_compose_variable_is_documented_in_env_example():
    variables = set(COMPOSE_VARIABLE.findall((ROOT / "docker-compose.yml").read_text()))
    assert "POSTGRES_PASSWORD" in variables

    assert not variables - _env_example(), f"add to .env.example: {sorted(variables - _env_example())}"


def test_compose_runs_the_whole_stack_with_health_checks():
    services = _compose()["services"]

    assert set(services) >= {"postgres", "redis", "migrate", "web", "wallet", "worker", "beat"}
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")
    for name in ("postgres", "redis", "web", "wallet", "worker", "beat"):
        assert services[name]["healthcheck"]["test"], name
    assert "/health" in " ".join(services["web"]["healthcheck"]["test"])
    assert ":8001/health" in " ".join(services["wallet"]["healthcheck"]["test"])
    assert services["wallet"]["command"] == ["python", "-m", "igaming.walletserver", "--bind", "0.0.0.0:8001"]
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    for name in ("web", "wallet", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        environment = services[name]["environment"]
        assert environment["DEBUG"] == "0"
        assert re.fullmatch(r"postgres://igaming:\$\{POSTGRES_PASSWORD:\?[^}]*\}@postgres:5432/igaming",
                            environment["DATABASE_URL"])
        assert environment["REDIS_URL"] == "redis://redis:6379/0"
    assert "worker" in services["worker"]["command"] and "beat" in services["beat"]["command"]


def test_compose_takes_secrets_from_the_environment_only():
    text = (ROOT / "docker-compose.yml").read_text()
    environment = _compose()["services"]["web"]["environment"]

    for secret in ("SECRET_KEY", "FASTTRACK_API_KEY", "PSP_WEBHOOK_SECRET", "GAME_PROVIDER_SECRETS"):
        assert environment[secret] == f"${{{secret}:?set {secret} in .env}}"
    assert "${POSTGRES_PASSWORD:?" in text


def test_the_image_runs_as_a_non_root_user_on_python_3_12():
    dockerfile = (ROOT / "Dockerfile").read_text()

    assert dockerfile.startswith("#") and "\nFROM python:3.12-slim\n" in dockerfile
    assert "pip install -r requirements.txt" in dockerfile
    assert "collectstatic" in dockerfile
    assert re.search(r"^USER app$", dockerfile, re.MULTILINE)
