"""The settings, docker-compose.yml and the Dockerfile agree with each other."""

import ast
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("migrate", "web", "worker", "beat")


def variables_read_by_settings() -> set[str]:
    """Every NAME in env("NAME"), env.bool("NAME"), env.db("NAME")… of cnas/settings.py."""
    tree = ast.parse((ROOT / "cnas" / "settings.py").read_text())
    names = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        is_env = (isinstance(func, ast.Name) and func.id == "env") or (
            isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "env"
        )
        if is_env and isinstance(node.args[0], ast.Constant):
            names.add(node.args[0].value)
    return names


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_settings_read_the_documented_variables():
    assert {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL"} <= variables_read_by_settings()


def test_compose_has_the_services_of_the_scaled_layout():
    services = compose()["services"]
    assert set(services) == {"migrate", "web", "worker", "beat", "db", "redis", "objectstore", "objectstore-bucket"}
    assert services["db"]["image"] == "postgres:15"
    assert services["objectstore"]["image"].startswith("minio/minio")
    # web and worker scale out; exactly one beat; migrations once, before any of them starts
    assert services["web"]["deploy"]["replicas"] >= 2 and services["worker"]["deploy"]["replicas"] >= 2
    assert services["beat"]["deploy"]["replicas"] == 1
    assert "migrate" in services["migrate"]["command"] and "migrate" not in services["web"]["command"]
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert services[name]["depends_on"]["objectstore-bucket"]["condition"] == "service_completed_successfully"


def test_web_and_worker_share_no_disk_and_keep_private_files_in_the_bucket():
    services = compose()["services"]
    for name in APP_SERVICES:
        assert "volumes" not in services[name], f"{name} keeps state on a volume"
        environment = services[name]["environment"]
        assert "PRIVATE_MEDIA_ROOT" not in environment
        assert {"PRIVATE_S3_BUCKET", "PRIVATE_S3_ENDPOINT_URL", "PRIVATE_S3_ACCESS_KEY_ID",
                "PRIVATE_S3_SECRET_ACCESS_KEY", "PRIVATE_S3_REGION", "PRIVATE_S3_LOCATION"} <= set(environment)
        assert "objectstore:9000" in environment["PRIVATE_S3_ENDPOINT_URL"]
    bucket = services["web"]["environment"]["PRIVATE_S3_BUCKET"]
    made = services["objectstore-bucket"]
    assert made["environment"]["BUCKET"] == bucket and "mc mb" in made["entrypoint"]
    assert "mc anonymous set none" in made["entrypoint"]  # never readable without the portal's key
    assert services["web"]["environment"]["PRIVATE_S3_ACCESS_KEY_ID"] == made["environment"]["PORTAL_KEY"]


def test_every_variable_compose_sets_is_read_by_the_settings():
    read = variables_read_by_settings()
    for name in APP_SERVICES:
        service = compose()["services"][name]
        environment = service["environment"]
        assert set(environment) <= read, f"{name}: {set(environment) - read} not read by settings"
        # and what production needs is set
        assert {"DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS"} <= set(environment)
        assert environment["DEBUG"] == "0"
        assert "db:5432" in environment["DATABASE_URL"] and "redis:6379" in environment["REDIS_URL"]


def test_app_services_are_built_from_the_dockerfile_with_the_lock_file():
    for name in APP_SERVICES:
        assert compose()["services"][name]["build"] == "."
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "COPY pyproject.toml uv.lock" in dockerfile
    assert re.search(r"uv sync --frozen", dockerfile)
    assert "libharfbuzz-subset0" in dockerfile


def test_compose_file_is_valid_against_the_compose_schema():
    checker = Path(sys.executable).with_name("check-jsonschema")
    result = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.compose-spec", str(ROOT / "docker-compose.yml")],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_procfile_runs_web_worker_and_beat():
    procfile = dict(
        line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip()
    )
    assert set(procfile) == {"web", "worker", "beat"}
    assert "gunicorn" in procfile["web"] and "${PORT" in procfile["web"]
    assert "worker" in procfile["worker"] and "beat" in procfile["beat"]


def clean_environ() -> dict[str, str]:
    """The environment of a production process: none of the test-only switches."""
    return {k: v for k, v in os.environ.items() if k not in {"DJANGO_ALLOW_ASYNC_UNSAFE", "SECRET_KEY"}}


def run_manage(*args, **env):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**clean_environ(), **env},
    )


def test_production_settings_pass_the_deploy_check_without_warning():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING",
                        DEBUG="0", SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="example.org",
                        SITE_URL="https://example.org")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
    assert "WARNING" not in result.stderr + result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = run_manage("check", DEBUG="0", ALLOWED_HOSTS="example.org")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_behaviour_is_on_with_debug_0():
    code = ("from django.conf import settings as s; "
            "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
            "s.SECURE_HSTS_SECONDS > 0, s.ALLOWED_HOSTS)")
    result = run_manage("shell", "--no-imports", "-c", code, DEBUG="0", SECRET_KEY=secrets.token_urlsafe(50),
                        ALLOWED_HOSTS="example.org")
    assert result.stdout.strip() == "True True True True ['example.org']", result.stderr


def site_url_of(**env) -> str:
    """settings.SITE_URL in a process of that environment (SITE_URL and PORT unset unless given)."""
    environ = {k: v for k, v in clean_environ().items() if k not in {"SITE_URL", "PORT"}}
    result = subprocess.run([sys.executable, "-c", "import cnas.settings as s; print(s.SITE_URL)"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120, env={**environ, **env})
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_site_url_defaults_to_the_port_and_loses_its_trailing_slash():
    assert site_url_of() == "http://127.0.0.1:8000"
    assert site_url_of(PORT="8123") == "http://127.0.0.1:8123"
    assert site_url_of(PORT="8123", SITE_URL="https://portail.example.org/") == "https://portail.example.org"


def test_a_site_url_that_is_not_an_address_is_refused(settings):
    from cnas.checks import check_site_url, check_site_url_is_https

    for wrong in ("portail.example.org", "ftp://portail.example.org", "https://portail.example.org/espace/",
                  "https://portail.example.org/?x=1", ""):
        settings.SITE_URL = wrong
        assert [error.id for error in check_site_url()] == ["cnas.E001"], wrong
    for right in ("http://127.0.0.1:8000", "https://portail.example.org"):
        settings.SITE_URL = right
        assert check_site_url() == []
    settings.DEBUG, settings.SITE_URL = False, "http://portail.example.org"
    assert [error.id for error in check_site_url_is_https()] == ["cnas.E002"]
    settings.SITE_URL = "https://portail.example.org"
    assert check_site_url_is_https() == []


def test_production_wants_an_https_site_url():
    """What `manage.py check --deploy` says of the e-mails' links in production (the Makefile's
    deploy-check gives it https://example.org)."""
    result = run_manage("check", "--deploy", DEBUG="0", SECRET_KEY=secrets.token_urlsafe(50),
                        ALLOWED_HOSTS="example.org", SITE_URL="http://example.org")
    assert result.returncode != 0 and "cnas.E002" in result.stderr and "https" in result.stderr


def test_make_gives_web_worker_and_beat_the_site_url_of_its_port():
    environ = {k: v for k, v in clean_environ().items() if k not in {"SITE_URL", "PORT"}}

    def dry_run(*args):
        result = subprocess.run(["make", "-n", *args], cwd=ROOT, capture_output=True, text=True, timeout=60,
                                env=environ)
        assert result.returncode == 0, result.stderr
        return result.stdout

    honcho = next(line for line in dry_run("run", "PORT=8123").splitlines() if "honcho start" in line)
    assert 'SITE_URL="http://127.0.0.1:8123"' in honcho and "--port 8123" in honcho
    honcho = next(line for line in dry_run("run", "SITE_URL=https://portail.example.org").splitlines()
                  if "honcho start" in line)
    assert 'SITE_URL="https://portail.example.org"' in honcho
    assert "SITE_URL=https://example.org" in dry_run("deploy-check")
