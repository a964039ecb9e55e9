"""deploy/kubernetes: every manifest is valid against the Kubernetes API's strict JSON schemas
(shipped by the kubernetes-validate package, used here with jsonschema), and the Deployments
give each service a configuration it accepts, on the ports its probes and Services use."""

from __future__ import annotations

import importlib
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from referencing import Registry, Resource

from tests.deploy.config_env import ROOT

MANIFESTS = ROOT / "deploy" / "kubernetes"
KUBERNETES_VERSION = "1.37.0"
SCHEMAS = (
    Path(kubernetes_validate.__file__).parent
    / "kubernetes-json-schema"
    / f"v{KUBERNETES_VERSION}-local-strict"
)
NOT_APPLIED = {"secret.yaml"}  # placeholders: the real Secret is created by hand
SERVICES = ("collector", "storage", "api")


def documents() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(MANIFESTS.glob("*.yaml")):
        if path.name != "kustomization.yaml":
            found += [(path.name, doc) for doc in yaml.safe_load_all(path.read_text()) if doc]
    return found


def by_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for _, doc in documents() if doc["kind"] == kind}


@cache
def validator(kind: str, api_version: str) -> jsonschema.Draft202012Validator:
    """The strict schema of one kind (unknown fields are errors), its $refs resolved locally."""
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    path = SCHEMAS / f"{kind.lower()}-{group_version}.json"
    assert path.is_file(), f"no schema for {kind} {api_version} in Kubernetes {KUBERNETES_VERSION}"
    schema = json.loads(path.read_text())
    definitions = json.loads((SCHEMAS / "_definitions.json").read_text())
    registry: Registry[Any] = Resource.from_contents(definitions) @ Registry()
    return jsonschema.Draft202012Validator(schema, registry=registry)


def errors(document: dict[str, Any]) -> list[str]:
    found = validator(document["kind"], document["apiVersion"]).iter_errors(document)
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in found]


@pytest.mark.parametrize(
    "document", [doc for _, doc in documents()], ids=[f"{f}:{d['kind']}" for f, d in documents()]
)
def test_manifest_is_valid_against_the_strict_kubernetes_schema(document: dict[str, Any]) -> None:
    assert errors(document) == []
    assert document["metadata"].get("namespace", "llm-observatory") == "llm-observatory"


def test_the_schemas_catch_a_misspelt_field() -> None:
    deployment = json.loads(json.dumps(by_kind("Deployment")["api"]))
    deployment["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    deployment["spec"]["replicas"] = "two"
    problems = errors(deployment)
    assert any("livenesProbe" in problem for problem in problems), problems
    assert any(problem.startswith("spec.replicas") for problem in problems), problems


def test_kustomization_applies_every_manifest_but_the_secret_placeholder() -> None:
    kustomization = yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text())
    files = {path.name for path in MANIFESTS.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == files - NOT_APPLIED


def test_the_pipeline_configmap_is_the_collector_pipeline_file() -> None:
    pipeline = by_kind("ConfigMap")["llmobs-collector-pipeline"]["data"]["pipeline.yaml"]
    assert pipeline == (ROOT / "deploy" / "collector" / "pipeline.yaml").read_text()


def container_env(deployment: dict[str, Any]) -> dict[str, str]:
    """The container's environment as Kubernetes assembles it: envFrom, then env."""
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    configmaps, secrets = by_kind("ConfigMap"), by_kind("Secret")
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env |= configmaps[source["configMapRef"]["name"]]["data"]
    for item in container.get("env", []):
        source = item.get("valueFrom", {})
        if "value" in item:
            env[item["name"]] = item["value"]
        elif "secretKeyRef" in source:
            ref = source["secretKeyRef"]
            env[item["name"]] = secrets[ref["name"]]["stringData"][ref["key"]]
        elif "fieldRef" in source:
            env[item["name"]] = f"<{source['fieldRef']['fieldPath']}>"
    return env


@pytest.mark.parametrize("service", SERVICES)
def test_each_deployment_configures_its_service_on_the_ports_it_probes(service: str) -> None:
    deployment = by_kind("Deployment")[service]
    env = container_env(deployment)
    config = importlib.import_module(f"services.{service}.config").load_config(env)
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert ports["metrics"] == config.metrics_port
    assert container["command"] == ["python", "-m", f"services.{service}"]
    for probe in ("livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"]["path"] in ("/health", "/health/detailed")
        assert container[probe]["httpGet"]["port"] in ports
    resources = container["resources"]
    assert resources["requests"]["cpu"] and resources["limits"]["memory"]
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert int(annotations["prometheus.io/port"]) == config.metrics_port
    services = by_kind("Service")
    if service in services:
        exposed = {p["targetPort"] for p in services[service]["spec"]["ports"]}
        assert exposed <= set(ports)


def test_storage_replicas_share_one_consumer_group_under_their_pod_names() -> None:
    storage = by_kind("Deployment")["storage"]
    assert storage["spec"]["replicas"] >= 2
    env = container_env(storage)
    assert env["STORAGE_CONSUMER_NAME"] == "<metadata.name>"
    assert env["HANDOFF_GROUP"] == "storage"


def test_the_collector_scales_on_cpu() -> None:
    hpa = by_kind("HorizontalPodAutoscaler")["collector"]
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1", "kind": "Deployment", "name": "collector"
    }  # fmt: skip
    assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
