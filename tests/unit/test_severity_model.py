"""docs/SEVERITY.md, principle by principle: each table is scenarios and what they must score."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.facts.derived import Facts
from agents.reviewer.review import Review, review
from tests.unit.rules.chained import catalogue_findings
from workflow.domain.inputs import load_inputs
from workflow.domain.settings import Settings
from workflow.domain.threat_model import Confidence, Finding, Severity


def _pod(kind: str = "Deployment", name: str = "web", ns: str = "shop", *, sa: str = "web",
         container: str = "", pod: str = "", labels: str = "") -> str:
    selector = "" if kind == "Pod" else f"  selector: {{matchLabels: {{app: {name}}}}}\n"
    template = (f"  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec:\n"
                if kind != "Pod" else "")
    indent = "      " if kind != "Pod" else "  "
    meta_labels = f", labels: {{{labels}}}" if labels else ""
    body = (f"apiVersion: apps/v1\nkind: {kind}\nmetadata: {{name: {name}, namespace: {ns}"
            f"{meta_labels}}}\nspec:\n{selector}{template}")
    body += f"{indent}serviceAccountName: {sa}\n"
    if pod:
        body += "".join(f"{indent}{line}\n" for line in pod.splitlines())
    body += (f"{indent}containers:\n{indent}- name: main\n{indent}  image: example/{name}:1.0\n"
             f"{indent}  ports: [{{containerPort: 8080}}]\n")
    if container:
        body += "".join(f"{indent}  {line}\n" for line in container.splitlines())
    return body


def _lb(name: str = "web", ns: str = "shop") -> str:
    return (f"apiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: {ns}}}\n"
            f"spec:\n  type: LoadBalancer\n  selector: {{app: {name}}}\n"
            "  ports: [{port: 443, targetPort: 8080}]\n")


def _bound(rules: str, *, sa: str = "web", ns: str = "shop", cluster: bool = True) -> str:
    kind, binding = ("ClusterRole", "ClusterRoleBinding") if cluster else ("Role", "RoleBinding")
    where = "" if cluster else f", namespace: {ns}"
    return (f"apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: {sa}, namespace: {ns}}}\n"
            f"---\napiVersion: rbac.authorization.k8s.io/v1\nkind: {kind}\n"
            f"metadata: {{name: {sa}-role{where}}}\nrules:\n{rules}\n---\n"
            f"apiVersion: rbac.authorization.k8s.io/v1\nkind: {binding}\n"
            f"metadata: {{name: {sa}-binding{where}}}\n"
            f"roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: {kind}, name: {sa}-role}}\n"
            f"subjects: [{{kind: ServiceAccount, name: {sa}, namespace: {ns}}}]\n")


PRIVILEGED = "securityContext: {privileged: true}"
SECRETS = '- {apiGroups: [""], resources: [secrets], verbs: [get, list]}'
EXEC = '- {apiGroups: [""], resources: [pods/exec], verbs: [create]}'
ADMIN = '- {apiGroups: ["*"], resources: ["*"], verbs: ["*"]}'
IRSA = ("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: web\n  namespace: shop\n"
        "  annotations: {eks.amazonaws.com/role-arn: 'arn:aws:iam::111122223333:role/web'}\n")
GRAFANA = _pod(container="env: [{name: GF_SECURITY_ADMIN_PASSWORD, value: admin}]").replace(
    "example/web:1.0", "grafana/grafana:10.4.2")
KYVERNO = "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: psa}\nspec: {}\n"


def _review(tmp_path: Path, *docs: str, classification: str | None = None) -> Review:
    path = tmp_path / "app.yaml"
    path.write_text("\n---\n".join(docs), encoding="utf-8")
    inv = load_inputs([path], settings=Settings(home=tmp_path / "home",
                                                 redaction_key="k")).inventory
    return review(Facts(inv), catalogue_findings(inv), data_classification=classification)


def _get(result: Review, finding_id: str) -> Finding:
    found = [f for f in result.findings if f.id == finding_id]
    assert found, f"{finding_id} not among {[f.id for f in result.findings]}"
    return found[0]


# ---- 1. impact is what the asset is -------------------------------------------------------
@pytest.mark.parametrize(("docs", "finding_id", "impact", "band"), [
    pytest.param([_pod(container=PRIVILEGED)],
                 "controls.privileged-container@Deployment/shop/web#main", 4, Severity.HIGH,
                 id="root on one node"),
    pytest.param([_pod("DaemonSet", container=PRIVILEGED)],
                 "controls.privileged-container@DaemonSet/shop/web#main", 5, Severity.CRITICAL,
                 id="root on every node"),
    pytest.param([_bound(SECRETS, cluster=False), _pod()],
                 "identity.secrets-read@ServiceAccount/shop/web#shop", 4, Severity.HIGH,
                 id="Secrets of a namespace"),
    pytest.param([_bound(SECRETS), _pod()],
                 "identity.secrets-read@ServiceAccount/shop/web#cluster", 5, Severity.CRITICAL,
                 id="Secrets of the cluster"),
    pytest.param([_pod(pod="volumes: [{name: d, hostPath: {path: /data/cache}}]",
                       container="volumeMounts: [{name: d, mountPath: /c, readOnly: true}]")],
                 "controls.hostpath-mount@Deployment/shop/web#d", 2, Severity.LOW,
                 id="a read-only host path of no consequence"),
])
def test_impact_is_what_the_asset_is(tmp_path: Path, docs: list[str], finding_id: str,
                                     impact: int, band: Severity) -> None:
    """The asset sets the impact: cluster control 5, a node or namespace 4, a gap 2."""
    item = _get(_review(tmp_path, *docs), finding_id)
    assert (impact, band) == (item.impact, item.severity)


SIGNING = ("apiVersion: v1\nkind: Secret\nmetadata: {name: keys, namespace: shop}\nstringData:\n"
           "  jwt-signing-key.pem: |\n    -----BEGIN PRIVATE KEY-----\n    MIIEvQIBADAN\n"
           "    -----END PRIVATE KEY-----\n")
SUPERUSER_CM = ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: db, namespace: shop}\n"
                "data: {POSTGRES_USER: postgres, POSTGRES_PASSWORD: Zr8q2LkM9vXw}\n")
DB_ENV = "env: [{name: DB_PASSWORD, value: Zr8q2LkM9vXw}]"


@pytest.mark.parametrize(("docs", "finding_id", "impact", "band"), [
    pytest.param([SIGNING], "data.secret-in-manifest@Secret/shop/keys", 5, Severity.CRITICAL,
                 id="a token-signing key mints any login"),
    pytest.param([SUPERUSER_CM], "data.configmap-credential@ConfigMap/shop/db#POSTGRES", 4,
                 Severity.HIGH, id="a database superuser password"),
    pytest.param([_pod(container=DB_ENV, labels="data-classification: pci")],
                 "data.literal-credential@Deployment/shop/web#DB", 4, Severity.HIGH,
                 id="a password to classified data"),
    pytest.param([_pod(container=DB_ENV)], "data.literal-credential@Deployment/shop/web#DB", 3,
                 Severity.MEDIUM, id="an application's database password"),
])
def test_credentials_are_rated_by_what_they_open(tmp_path: Path, docs: list[str],
                                                 finding_id: str, impact: int,
                                                 band: Severity) -> None:
    """Committed credentials (one step: read the repository) are rated by their asset."""
    item = _get(_review(tmp_path, *docs), finding_id)
    assert (4, impact, band) == (item.likelihood, item.impact, item.severity)


# ---- 2. likelihood is what the attacker needs first -----------------------------------------
@pytest.mark.parametrize(("docs", "finding_id", "likelihood", "band"), [
    pytest.param([_bound(ADMIN), _pod()], "identity.cluster-admin@ServiceAccount/shop/web#cluster",
                 4, Severity.CRITICAL, id="cluster-admin token mounted in a pod"),
    pytest.param([_bound(ADMIN)], "identity.cluster-admin@ServiceAccount/shop/web#cluster",
                 2, Severity.MEDIUM, id="cluster-admin account no pod uses"),
    pytest.param([_pod(container=PRIVILEGED)],
                 "controls.privileged-container@Deployment/shop/web#main", 4, Severity.HIGH,
                 id="code in the pod that holds the node"),
    pytest.param([_pod()], "controls.run-as-root@Deployment/shop/web#main", 2, Severity.LOW,
                 id="root in a container needs an escape too"),
    pytest.param([IRSA, _pod()], "identity.cloud-identity@ServiceAccount/shop/web", 3,
                 Severity.MEDIUM, id="a pod's cloud identity"),
    pytest.param([IRSA], "identity.cloud-identity@ServiceAccount/shop/web", 2, Severity.LOW,
                 id="a cloud identity no pod uses"),
    pytest.param([GRAFANA, _lb()], "data.default-credential@Deployment/shop/web#GF_SECURITY", 5,
                 Severity.CRITICAL, id="a default admin password on a public service"),
])
def test_likelihood_is_what_the_attacker_needs_first(tmp_path: Path, docs: list[str],
                                                     finding_id: str, likelihood: int,
                                                     band: Severity) -> None:
    """One step (a mounted token, a privileged pod) is 4; a further step is 2."""
    item = _get(_review(tmp_path, *docs), finding_id)
    assert (likelihood, band) == (item.likelihood, item.severity)


# ---- 3. blast radius -----------------------------------------------------------------------
@pytest.mark.parametrize(("kind", "impact"), [("Deployment", 3), ("DaemonSet", 4)])
def test_every_node_raises_impact(tmp_path: Path, kind: str, impact: int) -> None:
    """The same gap on every node (a DaemonSet) has an impact one step higher."""
    item = _get(_review(tmp_path, _pod(kind)), f"controls.run-as-root@{kind}/shop/web#main")
    assert impact == item.impact


# ---- 4. mitigations present ------------------------------------------------------------------
@pytest.mark.parametrize(("extra", "likelihood"), [([], 4), ([KYVERNO], 3)])
def test_mitigation_present_lowers_likelihood(tmp_path: Path, extra: list[str],
                                              likelihood: int) -> None:
    """A policy engine in the manifests lowers the likelihood of what it blocks."""
    item = _get(_review(tmp_path, _pod(container=PRIVILEGED), *extra),
                "controls.privileged-container@Deployment/shop/web#main")
    assert likelihood == item.likelihood


# ---- 5. what is not visible lowers confidence, not severity ---------------------------------
@pytest.mark.parametrize(("classification", "impact", "band"), [
    (None, 4, Severity.HIGH), ("pci", 4, Severity.HIGH)])
def test_unseen_cloud_permissions_lower_confidence_not_severity(
        tmp_path: Path, classification: str | None, impact: int, band: Severity) -> None:
    """Unseen cloud rights: confidence low, said so, not raised for data, not dropped."""
    result = _review(tmp_path, IRSA, _pod(), _lb(), classification=classification)
    item = _get(result, "identity.cloud-identity@ServiceAccount/shop/web")
    assert (impact, band, Confidence.LOW) == (item.impact, item.severity, item.confidence)
    assert "policy" in item.unseen
    assert any("is not in the manifests" in why
               for why in result.adjustments["identity.cloud-identity@ServiceAccount/shop/web"])


# ---- 6. one harm is counted once ------------------------------------------------------------
@pytest.mark.parametrize(("finding_id", "raised"), [
    ("controls.run-as-root@Deployment/shop/web#main", True),
    ("network.pod-not-isolated@Deployment/shop/web", False),
    ("controls.image-not-pinned@Deployment/shop/web#main", False),
])
def test_exposure_raises_only_attacks_that_start_at_the_service(
        tmp_path: Path, finding_id: str, raised: bool) -> None:
    """A public LoadBalancer makes exploiting the pod likelier, not lateral access to it."""
    inside = _get(_review(tmp_path, _pod()), finding_id)
    outside = _get(_review(tmp_path, _pod(), _lb()), finding_id)
    assert raised == (outside.likelihood == inside.likelihood + 1)
    assert raised or outside.likelihood == inside.likelihood


@pytest.mark.parametrize(("docs", "finding_id", "likelihood"), [
    pytest.param([_pod(container=PRIVILEGED), _lb()],
                 "controls.privileged-container@Deployment/shop/web#main", 4,
                 id="exploiting the exposed service is still a step"),
    pytest.param([GRAFANA, _lb()], "data.default-credential@Deployment/shop/web#GF_SECURITY", 5,
                 id="a known password needs nothing but reaching the service"),
])
def test_exposure_raises_to_one_step_unless_reaching_is_enough(
        tmp_path: Path, docs: list[str], finding_id: str, likelihood: int) -> None:
    """Exposure makes an exploit the one step; only a known credential or no login is 5."""
    assert likelihood == _get(_review(tmp_path, *docs), finding_id).likelihood


@pytest.mark.parametrize(("finding_id", "raised"), [
    ("network.pod-not-isolated@Deployment/shop/web", True),
    ("controls.resources-unbounded@Deployment/shop/web#main", False),
    ("controls.run-as-root@Deployment/shop/web#main", False),
    ("controls.image-not-pinned@Deployment/shop/web#main", False),
])
def test_classified_data_raises_only_what_reaches_the_data(tmp_path: Path, finding_id: str,
                                                           raised: bool) -> None:
    """Cardholder data raises disclosure and tampering findings, not resource limits."""
    plain = _get(_review(tmp_path, _pod()), finding_id)
    pci = _get(_review(tmp_path, _pod(labels="data-classification: pci")), finding_id)
    assert raised == (pci.impact == 4 > plain.impact)
    assert raised or pci.impact == plain.impact


@pytest.mark.parametrize(("docs", "kept", "counted"), [
    pytest.param([_pod(pod="hostPID: true", container=PRIVILEGED)],
                 "controls.privileged-container@Deployment/shop/web#main",
                 ["controls.host-pid@Deployment/shop/web",
                  "controls.run-as-root@Deployment/shop/web#main"], id="root on one node"),
    pytest.param([_bound(SECRETS + "\n" + EXEC), _pod()],
                 "identity.secrets-read@ServiceAccount/shop/web#cluster",
                 ["identity.pod-exec@ServiceAccount/shop/web#cluster",
                  "identity.automount-with-rights@Deployment/shop/web"],
                 id="the rights of one account"),
])
def test_the_same_harm_on_the_same_subject_is_counted_once(
        tmp_path: Path, docs: list[str], kept: str, counted: list[str]) -> None:
    """The strongest finding keeps the harm; the others keep their control at impact 2 or less."""
    result = _review(tmp_path, *docs)
    assert _get(result, kept).impact >= 4
    for finding_id in counted:
        assert _get(result, finding_id).impact <= 2
        assert any(f"counted once, by {kept}" in why for why in result.adjustments[finding_id])


def test_a_step_of_an_attack_path_is_not_raised_by_the_path(tmp_path: Path) -> None:
    """The exposed privileged pod is on a path to the node; the path does not raise it."""
    result = _review(tmp_path, _pod(container=PRIVILEGED), _lb())
    assert result.attack_paths
    fid = "controls.privileged-container@Deployment/shop/web#main"
    assert (4, 4) == (_get(result, fid).likelihood, _get(result, fid).impact)
    assert [] == [why for why in result.adjustments.get(fid, ()) if "attack path" in why]


# ---- 7. questions are not scored up ---------------------------------------------------------
def test_questions_keep_their_base_scores(tmp_path: Path) -> None:
    """An open question about an exposed data store stays at its base scores."""
    store = _pod().replace("example/web:1.0", "postgres:16")
    item = _get(_review(tmp_path, store, _lb()),
                "data.unclassified-data-store@Deployment/shop/web")
    assert (1, 3, Severity.INFO) == (item.likelihood, item.impact, item.severity)


# ---- 8. ranking -----------------------------------------------------------------------------
def test_at_equal_scores_what_needs_less_of_the_attacker_ranks_first(tmp_path: Path) -> None:
    """A default admin password on a public service (5 x 4) before a cluster token (4 x 5)."""
    result = _review(tmp_path, GRAFANA, _lb(), _bound(SECRETS, sa="robot"),
                     _pod(name="robot", sa="robot"))
    ids = [f.id for f in result.findings]
    default, token = ("data.default-credential@Deployment/shop/web#GF_SECURITY",
                      "identity.secrets-read@ServiceAccount/shop/robot#cluster")
    assert (8.0, 8.0) == (_get(result, default).score, _get(result, token).score)
    assert ids.index(default) < ids.index(token)


def test_each_risk_ranks_once_before_its_repeats(tmp_path: Path) -> None:
    """The same gap on a second workload follows the other risks of its band."""
    result = _review(tmp_path, _pod(name="a", sa="a"), _pod(name="b", sa="b"))
    low = [f for f in result.findings if f.severity == Severity.LOW]
    rules = [f.rule for f in low]
    first_repeat = next(i for i, rule in enumerate(rules) if rule in rules[:i])
    assert len(set(rules[:first_repeat])) == first_repeat
    assert set(rules[first_repeat:]) <= set(rules[:first_repeat])
