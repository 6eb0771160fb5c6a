"""Assertions on the manifests the Conveyor chart renders (helm template; no cluster needed)."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import pytest
import yaml

from .render import CHART, PORTS, SERVICES, Manifest, Rendered, container, env_names, fullname, helm, render

pytestmark = pytest.mark.unit

PLACEHOLDER_JWT_SECRET = "dev-insecure-secret"


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_has_deployment_service_hpa_pdb_and_networkpolicy(default: Rendered, service: str) -> None:
    name = fullname(service)
    deployment = default.get("Deployment", name)
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector["app.kubernetes.io/component"] == service
    assert deployment["spec"]["template"]["metadata"]["labels"].items() >= selector.items()

    svc = default.get("Service", name)
    assert svc["spec"]["selector"] == selector
    assert svc["spec"]["ports"] == [{"name": "http", "port": PORTS[service], "targetPort": "http", "protocol": "TCP"}]

    hpa = default.get("HorizontalPodAutoscaler", name)
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
    assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    # With an HPA the Deployment leaves replicas alone, or every upgrade would reset the scale.
    assert "replicas" not in deployment["spec"]

    pdb = default.get("PodDisruptionBudget", name)
    assert pdb["spec"]["selector"]["matchLabels"] == selector
    assert pdb["spec"]["maxUnavailable"] == 1

    policy = default.get("NetworkPolicy", name)
    assert policy["spec"]["podSelector"]["matchLabels"] == selector
    assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert policy["spec"]["ingress"][0]["ports"] == [{"port": "http", "protocol": "TCP"}]


@pytest.mark.parametrize("service", SERVICES)
def test_probes_hit_the_health_endpoints_on_the_service_port(default: Rendered, service: str) -> None:
    spec = container(default.get("Deployment", fullname(service)))
    assert spec["ports"] == [{"name": "http", "containerPort": PORTS[service], "protocol": "TCP"}]
    assert spec["livenessProbe"]["httpGet"] == {"path": "/health/live", "port": "http"}
    assert spec["readinessProbe"]["httpGet"] == {"path": "/health/ready", "port": "http"}
    assert spec["startupProbe"]["httpGet"] == {"path": "/health/live", "port": "http"}
    assert spec["args"] == ["serve"]
    assert spec["image"] == f"conveyor/{service}:0.1.0"
    assert spec["resources"]["requests"]["cpu"] and spec["resources"]["limits"]["memory"]


def _assert_locked_down(pod: Manifest) -> None:
    pod_security = pod["securityContext"]
    assert pod_security["runAsNonRoot"] is True
    assert pod_security["runAsUser"] == 10001
    assert pod_security["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    for spec in pod["containers"] + pod.get("initContainers", []):
        security = spec["securityContext"]
        assert security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"] == {"drop": ["ALL"]}
        assert {"name": "tmp", "mountPath": "/tmp"} in spec["volumeMounts"]
    tmp = next(volume for volume in pod["volumes"] if volume["name"] == "tmp")
    assert "emptyDir" in tmp


@pytest.mark.parametrize("service", SERVICES)
def test_pods_run_non_root_on_a_read_only_root_filesystem(default: Rendered, service: str) -> None:
    _assert_locked_down(default.get("Deployment", fullname(service))["spec"]["template"]["spec"])
    _assert_locked_down(default.get("Job", f"{fullname(service)}-migrate")["spec"]["template"]["spec"])


@pytest.mark.parametrize("service", SERVICES)
def test_migration_job_is_a_pre_install_and_pre_upgrade_hook(default: Rendered, service: str) -> None:
    job = default.get("Job", f"{fullname(service)}-migrate")
    annotations = job["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert "before-hook-creation" in annotations["helm.sh/hook-delete-policy"]
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    migrate = pod["containers"][0]
    assert migrate["args"] == ["migrate"]
    assert migrate["image"] == f"conveyor/{service}:0.1.0"
    # Hooks run before the release's ConfigMaps exist: settings inline, secrets from a hook Secret
    # created earlier (lower weight) and deleted with the Job.
    assert "envFrom" not in migrate
    env = env_names(migrate)
    prefix = service.upper()
    assert env["CONVEYOR_ENVIRONMENT"]["value"] == "production"
    assert env["KAFKA_BOOTSTRAP_SERVERS"]["value"] == "kafka:9092"
    ref = env[f"{prefix}_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
    hook_secret = default.get("Secret", ref["name"])
    hook_annotations = hook_secret["metadata"]["annotations"]
    assert hook_annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert int(hook_annotations["helm.sh/hook-weight"]) < int(annotations["helm.sh/hook-weight"])
    dsn = base64.b64decode(hook_secret["data"][ref["key"]]).decode()
    assert dsn == f"postgresql://conveyor@postgresql:5432/conveyor_{service}"
    # The migration pods must never be selected by the Deployment's Service or PDB.
    service_selector = default.get("Service", fullname(service))["spec"]["selector"]
    assert not service_selector.items() <= job["spec"]["template"]["metadata"]["labels"].items()


@pytest.mark.parametrize("service", SERVICES)
def test_the_migration_job_creates_the_topics_first_with_the_same_settings(default: Rendered, service: str) -> None:
    pod = default.get("Job", f"{fullname(service)}-migrate")["spec"]["template"]["spec"]
    (topics,) = pod["initContainers"]
    (migrate,) = pod["containers"]
    assert topics["args"] == ["topics", "--partitions", "3", "--replication-factor", "1"]
    assert topics["image"] == migrate["image"]
    assert env_names(topics) == env_names(migrate)


def test_topic_creation_can_be_left_to_the_operator() -> None:
    pod = render(sets={"migrations.topics.enabled": "false"}).get("Job", f"{fullname('entities')}-migrate")
    assert "initContainers" not in pod["spec"]["template"]["spec"]


def test_no_secret_value_is_in_a_configmap_or_a_plain_env_value(all_features: Rendered) -> None:
    secrets = {
        "an-hs256-key-of-at-least-thirty-two-characters",
        "kafka-sasl-password",
        "smtp-password",
    }
    for doc in all_features:
        if doc["kind"] == "Secret":
            continue
        text = yaml.safe_dump(doc)
        for secret in secrets:
            assert secret not in text, f"{doc['kind']} {doc['metadata']['name']} holds a secret"
    for configmap in all_features.kinds("ConfigMap"):
        for key in configmap["data"]:
            assert "PASSWORD" not in key and "SECRET" not in key and "DATABASE_URL" not in key


def test_secrets_reach_the_containers_through_secret_key_refs(all_features: Rendered) -> None:
    notifications = container(all_features.get("Deployment", fullname("notifications")))
    env = env_names(notifications)
    expected = {
        "NOTIFICATIONS_DATABASE_URL": (fullname("notifications"), "DATABASE_URL"),
        "CONVEYOR_JWT_SECRET": ("conveyor-shared", "CONVEYOR_JWT_SECRET"),
        "KAFKA_SASL_PASSWORD": ("conveyor-shared", "KAFKA_SASL_PASSWORD"),
        "NOTIFICATIONS_SMTP_PASSWORD": (fullname("notifications"), "SMTP_PASSWORD"),
    }
    for variable, (secret_name, key) in expected.items():
        assert env[variable]["valueFrom"]["secretKeyRef"] == {"name": secret_name, "key": key}
        secret = all_features.get("Secret", secret_name)
        assert key in secret["data"]
    shared = all_features.get("Secret", "conveyor-shared")
    assert base64.b64decode(shared["data"]["KAFKA_SASL_PASSWORD"]).decode() == "kafka-sasl-password"
    # Only notifications sends e-mail.
    assert "NOTIFICATIONS_SMTP_PASSWORD" not in env_names(
        container(all_features.get("Deployment", fullname("entities")))
    )


def test_existing_secrets_are_referenced_and_no_secret_is_rendered(production: Rendered) -> None:
    assert production.kinds("Secret") == []
    for service in SERVICES:
        deployment_env = env_names(container(production.get("Deployment", fullname(service))))
        ref = deployment_env[f"{service.upper()}_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
        assert ref == {"name": f"conveyor-{service}-db", "key": "database-url"}
        assert deployment_env["KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
            "name": "conveyor-kafka",
            "key": "password",
        }
        # RS256 through the JWKS: no HS256 key anywhere.
        assert "CONVEYOR_JWT_SECRET" not in deployment_env
        job_env = env_names(
            production.get("Job", f"{fullname(service)}-migrate")["spec"]["template"]["spec"]["containers"][0]
        )
        assert (
            job_env[f"{service.upper()}_DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"] == f"conveyor-{service}-db"
        )
    smtp = env_names(container(production.get("Deployment", fullname("notifications"))))["NOTIFICATIONS_SMTP_PASSWORD"]
    assert smtp["valueFrom"]["secretKeyRef"] == {"name": "conveyor-smtp", "key": "password"}


def test_generated_jwt_secret_is_strong_and_the_same_for_services_and_migrations(default: Rendered) -> None:
    shared = default.get("Secret", "conveyor-shared")
    key = base64.b64decode(shared["data"]["CONVEYOR_JWT_SECRET"]).decode()
    assert key != PLACEHOLDER_JWT_SECRET and len(key) >= 32
    for service in SERVICES:
        hook = default.get("Secret", f"{fullname(service)}-migrate")
        assert base64.b64decode(hook["data"]["CONVEYOR_JWT_SECRET"]).decode() == key


def test_shared_and_service_settings(all_features: Rendered, production: Rendered) -> None:
    shared = all_features.get("ConfigMap", "conveyor-shared")["data"]
    assert shared["KAFKA_BOOTSTRAP_SERVERS"] == "kafka-a:9092,kafka-b:9092"
    assert shared["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert shared["KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-256"
    assert shared["KAFKA_SASL_USERNAME"] == "conveyor"
    assert shared["KAFKA_SSL_CAFILE"] == "/etc/conveyor/kafka-ca/ca.crt"
    assert shared["CONVEYOR_ENVIRONMENT"] == "production"
    pipelines = all_features.get("ConfigMap", fullname("pipelines"))["data"]
    assert pipelines == {
        "PIPELINES_HOST": "0.0.0.0",
        "PIPELINES_PORT": "8002",
        "PIPELINES_LOG_LEVEL": "DEBUG",
        "PIPELINES_RUN_WORKERS": "false",
        "PIPELINES_CORS_ORIGINS": "",
    }
    notifications = all_features.get("ConfigMap", fullname("notifications"))["data"]
    assert notifications["NOTIFICATIONS_SMTP_HOST"] == "smtp.example.com"
    assert notifications["NOTIFICATIONS_SMTP_PORT"] == "587"
    assert notifications["NOTIFICATIONS_SMTP_USERNAME"] == "mailer"
    assert notifications["NOTIFICATIONS_SMTP_STARTTLS"] == "true"
    prod_shared = production.get("ConfigMap", "conveyor-shared")["data"]
    assert prod_shared["CONVEYOR_JWT_JWKS_URL"].startswith("https://")
    assert prod_shared["CONVEYOR_JWT_ISSUER"] and prod_shared["CONVEYOR_JWT_AUDIENCE"] == "conveyor"
    assert (
        production.get("ConfigMap", fullname("entities"))["data"]["ENTITIES_CORS_ORIGINS"] == "https://app.example.com"
    )


def test_kafka_ca_is_mounted_where_kafka_ssl_cafile_points(all_features: Rendered) -> None:
    pod = all_features.get("Deployment", fullname("entities"))["spec"]["template"]["spec"]
    volume = next(v for v in pod["volumes"] if v["name"] == "kafka-ca")
    assert volume["secret"]["secretName"] == "kafka-ca"
    mount = next(m for m in pod["containers"][0]["volumeMounts"] if m["name"] == "kafka-ca")
    assert mount == {"name": "kafka-ca", "mountPath": "/etc/conveyor/kafka-ca", "readOnly": True}


def test_service_overrides_and_disabled_services(all_features: Rendered) -> None:
    pipelines = all_features.get("Deployment", fullname("pipelines"))
    assert pipelines["spec"]["replicas"] == 4
    assert fullname("pipelines") not in all_features.names("HorizontalPodAutoscaler")
    assert fullname("reporting") not in all_features.names("Deployment")
    assert not any(fullname("reporting") in doc["metadata"]["name"] for doc in all_features)
    assert "EXTRA_SETTING" in env_names(container(pipelines))
    assert pipelines["spec"]["template"]["spec"]["serviceAccountName"] == "conveyor-runner"
    assert all_features.kinds("ServiceAccount") == []


def test_ingress_routes_each_public_path_to_its_owner_as_the_local_gateway_does(production: Rendered) -> None:
    ingress = production.get("Ingress", "conveyor")
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["spec"]["tls"][0]["hosts"] == ["api.conveyor.example.com"]
    assert "nginx.ingress.kubernetes.io/rewrite-target" not in ingress["metadata"]["annotations"]
    rule = ingress["spec"]["rules"][0]
    assert rule["host"] == "api.conveyor.example.com"
    routes = {
        p["path"]: (p["pathType"], p["backend"]["service"]["name"], p["backend"]["service"]["port"])
        for p in rule["http"]["paths"]
    }
    table = yaml.safe_load((CHART / "public-paths.yaml").read_text())
    assert routes == {
        prefix: ("Prefix", fullname(service), {"name": "http"}) for service in SERVICES for prefix in table[service]
    }
    assert routes["/v1/items"][1] == fullname("entities")
    assert routes["/v1/placements"][1] == fullname("pipelines")
    assert not any(path.startswith(("/health", "/metrics")) for path in routes)


def test_services_serve_at_their_root_behind_the_ingress(production: Rendered) -> None:
    for service in SERVICES:
        config = production.get("ConfigMap", fullname(service))["data"]
        assert f"{service.upper()}_ROOT_PATH" not in config


def test_a_disabled_service_gets_no_path(all_features: Rendered, default: Rendered) -> None:
    assert default.kinds("Ingress") == []
    ingress = all_features.get("Ingress", "conveyor")
    owners = {p["backend"]["service"]["name"] for p in ingress["spec"]["rules"][0]["http"]["paths"]}
    assert owners == {fullname(s) for s in SERVICES if s != "reporting"}
    assert "/v1/reports" not in [p["path"] for p in ingress["spec"]["rules"][0]["http"]["paths"]]


def test_service_monitors_scrape_metrics(production: Rendered, default: Rendered) -> None:
    assert default.kinds("ServiceMonitor") == []
    monitors = production.kinds("ServiceMonitor")
    assert {m["metadata"]["name"] for m in monitors} == {fullname(s) for s in SERVICES}
    for monitor in monitors:
        assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
        assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
        assert monitor["spec"]["endpoints"] == [
            {"port": "http", "path": "/metrics", "interval": "30s", "scrapeTimeout": "10s"}
        ]
        component = monitor["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"]
        assert production.get("Service", fullname(component))["metadata"]["labels"].items() >= (
            monitor["spec"]["selector"]["matchLabels"].items()
        )


def test_network_policy_restricts_sources_and_egress_in_production(production: Rendered, default: Rendered) -> None:
    assert default.get("NetworkPolicy", fullname("entities"))["spec"]["egress"] == [{}]
    policy = production.get("NetworkPolicy", fullname("entities"))["spec"]
    sources = policy["ingress"][0]["from"]
    assert sources[0] == {
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "conveyor", "app.kubernetes.io/instance": "conveyor"}}
    }
    assert {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}} in sources
    egress_ports = [port["port"] for rule in policy["egress"] for port in rule.get("ports", [])]
    assert egress_ports[:2] == [53, 53] and {5432, 9093, 443}.issubset(egress_ports)


def test_config_changes_roll_the_pods() -> None:
    before = render().get("Deployment", fullname("entities"))
    after = render(sets={"defaults.runWorkers": "false", "auth.jwtSecret": "x" * 40}).get(
        "Deployment", fullname("entities")
    )
    before_sum = before["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
    assert before_sum != after["spec"]["template"]["metadata"]["annotations"]["checksum/config"]


def test_schema_rejects_wrong_values_and_accepts_the_examples() -> None:
    result = helm("template", "conveyor", str(CHART), "--kube-version", "1.27.0", "--set", "services.entities.port=80")
    assert result.returncode != 0
    assert "/services/entities/port" in result.stderr
    result = helm(
        "template", "conveyor", str(CHART), "--kube-version", "1.27.0", "--set", "kafka.securityProtocol=SASL_SSL"
    )
    assert result.returncode != 0, "SASL without a user name must be refused"
    schema = json.loads((CHART / "values.schema.json").read_text())
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert set(values) <= set(schema["properties"]), "every top-level value is described by the schema"


def test_readme_lists_every_value() -> None:
    readme = (CHART / "README.md").read_text()
    values = yaml.safe_load((CHART / "values.yaml").read_text())

    def leaves(node: object, prefix: str) -> list[str]:
        if isinstance(node, dict) and node and prefix not in {"podSecurityContext", "securityContext"}:
            return [leaf for key, value in node.items() for leaf in leaves(value, f"{prefix}.{key}" if prefix else key)]
        return [prefix]

    missing = []
    for key in leaves(values, ""):
        documented = key.replace("services.entities.", "services.<name>.")
        if key.startswith("services.") and not key.startswith("services.entities."):
            continue
        if f"`{documented}`" not in readme:
            missing.append(documented)
    assert missing == [], f"chart README does not list: {missing}"


def _render_notes(tmp_path: Path, *values_files: Path) -> str:
    # helm prints NOTES.txt only from install/upgrade, which need a cluster: render a copy of the
    # chart in which NOTES.txt is wrapped in a ConfigMap instead.
    chart = tmp_path / "conveyor"
    shutil.copytree(CHART, chart)
    notes = (chart / "templates" / "NOTES.txt").read_text()
    (chart / "templates" / "NOTES.txt").unlink()
    (chart / "templates" / "_notes.tpl").write_text('{{- define "test.notes" -}}\n' + notes + "{{- end -}}\n")
    (chart / "templates" / "notes.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n"
        '  notes: |\n{{ include "test.notes" . | indent 4 }}\n'
    )
    args = ["template", "conveyor", str(chart), "--namespace", "conveyor", "--show-only", "templates/notes.yaml"]
    for path in values_files:
        args += ["-f", str(path)]
    result = helm(*args)
    assert result.returncode == 0, result.stderr
    text: str = yaml.safe_load(result.stdout)["data"]["notes"]
    return text


def test_notes_tell_how_to_reach_the_services_and_the_generated_key(tmp_path: Path) -> None:
    notes = _render_notes(tmp_path)
    assert "entities       http://conveyor-entities.conveyor.svc:8001" in notes
    assert "CONVEYOR_JWT_SECRET" in notes
    assert "WARNING" not in notes


def test_notes_for_production_name_the_jwks_and_the_ingress(tmp_path: Path) -> None:
    notes = _render_notes(tmp_path, CHART / "values-production.yaml")
    assert "RS256, verified against https://login.example.com/" in notes
    assert "https://api.conveyor.example.com/<service>/v1/" in notes
    assert "CONVEYOR_JWT_SECRET" not in notes


def test_the_test_clock_is_never_on_in_the_chart(
    default: Rendered, production: Rendered, all_features: Rendered
) -> None:
    # The shared test clock (`make run ARGS=--test-clock`) is for a laptop: no value set turns it on,
    # the Ingress never routes /v1/test/clock, and the schema refuses it as an extra variable.
    for rendered in (default, production, all_features):
        assert "TEST_CLOCK" not in rendered.text
        assert "/v1/test" not in rendered.text
    refused = helm(
        "template", "conveyor", str(CHART), "--kube-version", "1.27.0",
        "--set", "defaults.extraEnv[0].name=CONVEYOR_TEST_CLOCK_FILE", "--set", "defaults.extraEnv[0].value=/tmp/c",
    )  # fmt: skip
    assert refused.returncode != 0 and "/defaults/extraEnv/0/name" in refused.stderr
