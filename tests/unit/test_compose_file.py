"""docker-compose.yml, .env.example and the Dockerfile agree with each other and with the
settings the app reads (``ENV_SETTINGS`` in marketplace/config.py)."""

from __future__ import annotations

import re
import shlex
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from marketplace.config import ENV_SETTINGS, REQUIRED_IN_PRODUCTION, load_settings

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("web", "worker", "beat")
BACKING_SERVICES = ("postgres", "elasticsearch", "redis")
MAIL_CATCHER_IMAGES = ("axllent/mailpit", "mailhog/mailhog")
SECRETS = ("SECRET_KEY", "POSTGRES_PASSWORD")

# Compose interpolation: "$$" is a literal "$"; "${NAME}", "${NAME:-default}", "${NAME-default}",
# "${NAME:?error}", "${NAME?error}", "${NAME:+alt}", "${NAME+alt}" and "$NAME" read a variable.
_INTERPOLATION = re.compile(
    r"\$\$"
    r"|\$\{(?P<braced>[A-Za-z_]\w*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|\$(?P<bare>[A-Za-z_]\w*)"
)


def _load_compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _parse_env_file(text: str) -> dict[str, str]:
    """The assignments of a compose .env file (comments and blank lines skipped)."""
    values = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        assert sep, f"not NAME=value: {line!r}"
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        else:
            value = re.split(r"\s+#", value, maxsplit=1)[0]
        values[name.strip()] = value
    return values


@pytest.fixture(scope="module")
def compose() -> dict:
    return _load_compose()


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


@pytest.fixture(scope="module")
def env_example_text() -> str:
    return (ROOT / ".env.example").read_text()


@pytest.fixture(scope="module")
def env_example(env_example_text) -> dict[str, str]:
    return _parse_env_file(env_example_text)


def _strings(node):
    """Every string in a parsed YAML document, keys included."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


def _interpolations(text: str):
    """(name, operator, argument) for each variable that compose substitutes in ``text``."""
    for match in _INTERPOLATION.finditer(text):
        if match.group(0) == "$$":
            continue
        if match.group("bare"):
            yield match.group("bare"), None, None
        else:
            yield match.group("braced"), match.group("op"), match.group("arg")


def _interpolate(text: str, env: dict[str, str]) -> str:
    """Substitute like compose does, for the forms used in docker-compose.yml."""

    def substitute(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group("braced") or match.group("bare")
        op, arg = match.group("op"), match.group("arg")
        value = env.get(name)
        empty_counts = op is not None and op.startswith(":")
        missing = value is None or (empty_counts and value == "")
        if op in (":-", "-"):
            return arg if missing else value
        if op in (":?", "?"):
            if missing:
                raise ValueError(f"compose refuses to start: {name}: {arg}")
            return value
        if op in (":+", "+"):
            return "" if missing else arg
        return value or ""

    return _INTERPOLATION.sub(substitute, text)


def _environment(service: dict) -> dict[str, str | None]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # the "- NAME=value" form
        env = dict(item.partition("=")[::2] for item in env)
    return {name: None if value is None else str(value) for name, value in env.items()}


def _command(service: dict) -> str:
    command = service.get("command", "")
    return shlex.join(command) if isinstance(command, list) else command


def _healthcheck_command(service: dict) -> str:
    test = service["healthcheck"]["test"]
    return test if isinstance(test, str) else " ".join(test[1:])


def _mail_catchers(services: dict) -> list[str]:
    return [
        name
        for name, service in services.items()
        if str(service.get("image", "")).startswith(MAIL_CATCHER_IMAGES)
    ]


def test_the_required_services_exist(services):
    assert set(APP_SERVICES + BACKING_SERVICES) <= set(services)
    assert _mail_catchers(services), "no mail catcher service (Mailpit)"


@pytest.mark.parametrize(
    ("service", "image_prefix"),
    [
        ("postgres", "postgres:16"),
        ("redis", "redis:7"),
        ("elasticsearch", "docker.elastic.co/elasticsearch/elasticsearch:9."),
    ],
)
def test_backing_service_images(services, service, image_prefix):
    assert services[service]["image"].startswith(image_prefix)


def test_elasticsearch_runs_as_a_single_node_without_security(services):
    env = _environment(services["elasticsearch"])
    assert env["discovery.type"] == "single-node"
    assert env["xpack.security.enabled"] == "false"
    assert "-Xmx1g" in env["ES_JAVA_OPTS"]


def test_app_services_are_built_from_the_dockerfile(services):
    for name in APP_SERVICES:
        assert services[name]["build"] == ".", name


def test_every_service_has_a_healthcheck(services):
    for name in APP_SERVICES + BACKING_SERVICES + tuple(_mail_catchers(services)):
        healthcheck = services[name].get("healthcheck")
        assert healthcheck, f"{name} has no healthcheck"
        assert not healthcheck.get("disable"), name
        test = healthcheck["test"]
        assert isinstance(test, list), name
        assert test[0] in ("CMD", "CMD-SHELL") and len(test) > 1, name


def test_web_healthcheck_requests_the_app_without_curl(services):
    # python:3.11-slim has no curl.
    test = services["web"]["healthcheck"]["test"]
    assert test[:2] == ["CMD", "python"]
    assert "http://localhost:8000/" in _healthcheck_command(services["web"])


def test_worker_healthcheck_pings_its_own_node(services):
    healthcheck = services["worker"]["healthcheck"]
    assert healthcheck["test"][0] == "CMD-SHELL"  # the shell expands $HOSTNAME
    command = _healthcheck_command(services["worker"])
    # "$$" stops compose from interpolating HOSTNAME on the host.
    assert "celery -A workers.celery_app inspect ping -d celery@$$HOSTNAME" in command


def test_beat_answers_pings_because_remote_control_is_on(services):
    assert "--enable-remote-control" in _command(services["beat"])
    assert services["beat"]["healthcheck"]["test"][0] == "CMD-SHELL"
    command = _healthcheck_command(services["beat"])
    assert "celery -A workers.celery_app inspect ping -d celerybeat@$$HOSTNAME" in command


def test_beat_keeps_its_schedule_in_a_volume(services):
    # The image runs as a user who may write only to mounted volumes and instance/.
    match = re.search(r"--schedule[= ](\S+)", _command(services["beat"]))
    assert match, "beat's schedule file is not set; its default is the read-only /app"
    mounts = [volume.split(":")[1] for volume in services["beat"].get("volumes", [])]
    assert str(Path(match.group(1)).parent) in mounts


def test_worker_and_beat_run_the_celery_app(services):
    assert _command(services["worker"]).startswith("celery -A workers.celery_app worker")
    assert _command(services["beat"]).startswith("celery -A workers.celery_app beat")


def test_web_publishes_port_8000(services):
    assert "8000:8000" in [str(port) for port in services["web"]["ports"]]


def test_web_migrates_the_database_before_serving(services):
    command = _command(services["web"])
    migrate, serve = command.index("db upgrade"), command.index("gunicorn")
    assert migrate < serve
    # "&&": a failed migration must stop the container, not serve the old schema.
    assert "&&" in command[migrate:serve]
    assert "--bind 0.0.0.0:8000" in command
    assert "marketplace:create_app()" in command


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_services_set_only_names_the_app_reads(services, service):
    unknown = set(_environment(services[service])) - set(ENV_SETTINGS)
    assert not unknown, f"{service} sets names the app does not read: {sorted(unknown)}"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_services_run_in_production_with_its_required_settings(services, service):
    env = _environment(services[service])
    assert env["MARKETPLACE_ENV"] == "production"
    for name in REQUIRED_IN_PRODUCTION:
        assert env.get(name), f"{service} does not set {name}"


def test_app_services_share_one_configuration(services):
    web = services["web"]
    for name in ("worker", "beat"):
        assert _environment(services[name]) == _environment(web), name
    for name in APP_SERVICES:
        env_file = services[name]["env_file"]
        assert ".env" in ([env_file] if isinstance(env_file, str) else env_file), name


def test_secrets_are_never_written_into_the_compose_file(compose):
    uses = {name: [] for name in SECRETS}
    for text in _strings(compose):
        for name, op, _arg in _interpolations(text):
            if name in uses:
                uses[name].append(op)
    # ":?" makes compose refuse to start while the secret is unset or empty.
    assert uses["SECRET_KEY"] and set(uses["SECRET_KEY"]) == {":?"}
    assert uses["POSTGRES_PASSWORD"] and set(uses["POSTGRES_PASSWORD"]) == {":?"}
    assert _environment(compose["services"]["web"])["SECRET_KEY"].startswith("${SECRET_KEY:?")


@pytest.mark.parametrize("service", APP_SERVICES)
def test_depends_on_waits_for_healthy_services(services, service):
    depends_on = services[service]["depends_on"]
    assert isinstance(depends_on, dict), "the list form of depends_on waits for nothing"
    for name, condition in depends_on.items():
        assert condition == {"condition": "service_healthy"}, f"{service} -> {name}"
        assert "healthcheck" in services[name], f"{service} waits on {name}, never healthy"
    assert "redis" in depends_on


def test_web_and_worker_wait_for_every_backing_service(services):
    for name in ("web", "worker"):
        assert set(BACKING_SERVICES) <= set(services[name]["depends_on"]), name


def test_worker_and_beat_start_after_the_migrations(services):
    # web applies the migrations before it reports healthy.
    for name in ("worker", "beat"):
        assert "web" in services[name]["depends_on"], name


def test_every_interpolated_variable_is_in_env_example(compose, env_example):
    used = {name for text in _strings(compose) for name, _op, _arg in _interpolations(text)}
    assert used, "the compose file interpolates nothing; the parser is broken"
    missing = used - set(env_example)
    assert not missing, f"not in .env.example: {sorted(missing)}"


def test_env_example_sets_only_names_that_are_used(compose, env_example):
    used = {name for text in _strings(compose) for name, _op, _arg in _interpolations(text)}
    unknown = set(env_example) - used - set(ENV_SETTINGS)
    assert not unknown, f".env.example sets names nothing reads: {sorted(unknown)}"


def test_env_example_documents_every_setting(env_example_text):
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", env_example_text, re.MULTILINE))
    missing = set(ENV_SETTINGS) - documented
    assert not missing, f"not documented in .env.example: {sorted(missing)}"


def test_env_example_comments_every_assignment(env_example_text):
    lines = env_example_text.splitlines()
    for number, line in enumerate(lines):
        if line and not line.startswith("#"):
            assert number and lines[number - 1].startswith("#"), f"no comment above {line!r}"


def test_an_unedited_env_example_does_not_start_production(compose, env_example):
    # The secrets are left empty in .env.example, so a plain copy fails fast.
    env = _environment(compose["services"]["web"])
    with pytest.raises(ValueError, match="SECRET_KEY"):
        _interpolate(env["SECRET_KEY"], env_example)
    with pytest.raises(ValueError, match="POSTGRES_PASSWORD"):
        _interpolate(env["DATABASE_URL"], env_example)


@pytest.mark.parametrize("service", APP_SERVICES)
@pytest.mark.parametrize("dotenv_source", [".env.example", "compose defaults"])
def test_the_app_accepts_the_compose_environment(
    services, env_example, service, dotenv_source, tmp_path
):
    dotenv = {"SECRET_KEY": "k" * 64, "POSTGRES_PASSWORD": "pw"}
    if dotenv_source == ".env.example":
        dotenv = {**env_example, **dotenv}
    env = {
        name: _interpolate(value, dotenv) for name, value in _environment(services[service]).items()
    }

    settings = load_settings(env, str(tmp_path))

    assert settings["MARKETPLACE_ENV"] == "production"
    assert settings["SECRET_KEY"] == "k" * 64
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://est:pw@postgres:5432/est"
    assert settings["SEARCH_BACKEND"] == "elasticsearch"
    assert settings["MAIL_TRANSPORT"] == "smtp"
    assert settings["SMTP_PORT"] == 1025
    assert "<" in settings["MAIL_FROM"] and "@" in settings["MAIL_FROM"]
    # Each address names a service of the compose file, on the port that service listens on.
    assert urlsplit(settings["SQLALCHEMY_DATABASE_URI"]).hostname in services
    assert urlsplit(settings["REDIS_URL"]).hostname == "redis"
    assert urlsplit(settings["ELASTICSEARCH_URL"])[1] == "elasticsearch:9200"
    assert settings["SMTP_HOST"] in _mail_catchers(services)
    assert urlsplit(settings["PUBLIC_BASE_URL"]).port == 8000


def _dockerfile_instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    instructions = []
    for line in joined.splitlines():
        instruction, _, argument = line.strip().partition(" ")
        if instruction:
            instructions.append((instruction.upper(), argument.strip()))
    return instructions


def test_dockerfile_installs_the_project_and_serves_it_unprivileged():
    instructions = _dockerfile_instructions()
    arguments = defaultdict(list)
    for name, argument in instructions:
        arguments[name].append(argument)

    assert arguments["FROM"] == ["python:3.11-slim"]
    assert any("pip install" in arg and re.search(r"\s\.(\s|$)", arg) for arg in arguments["RUN"])
    assert arguments["EXPOSE"] == ["8000"]
    assert arguments["USER"] and arguments["USER"][-1] not in ("root", "0")
    # The last USER must come before CMD: the server itself runs unprivileged.
    names = [name for name, _ in instructions]
    assert max(i for i, n in enumerate(names) if n == "USER") < names.index("CMD")
    cmd = arguments["CMD"][-1]
    assert '"gunicorn"' in cmd and '"0.0.0.0:8000"' in cmd and '"marketplace:create_app()"' in cmd
    # gunicorn takes its worker count from WEB_CONCURRENCY only if none is given on the command.
    assert "--workers" not in cmd and '"-w"' not in cmd


def test_dockerignore_keeps_local_state_and_secrets_out_of_the_image():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".venv", ".git", "instance", ".env", ".ci/cache", ".pytest_cache"} <= ignored
    assert "**/__pycache__" in ignored
