"""Loading manifests: formats, directories, standard input, ids, and hostile inputs."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workflow.domain.errors import InventoryError
from workflow.domain.inputs import LoadedInputs, NamedInput, load_inputs, load_named_inputs
from workflow.domain.settings import Settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "inputs"

CONFIGMAP_HEAD = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"


def _ids(settings: Settings, *paths: str | Path) -> list[str]:
    return sorted(r.id for r in load_inputs(list(paths), settings=settings).resources)


def _refused(settings: Settings, path: Path, **kwargs: object) -> str:
    """Load a file that must be refused; return the one-line message."""
    with pytest.raises(InventoryError) as info:
        load_inputs([path], settings=settings, **kwargs)  # type: ignore[arg-type]
    message = str(info.value)
    assert 1 == len(message.splitlines())
    assert str(path) in message
    return message


# ---- formats ---------------------------------------------------------------------------------
def test_multi_document_yaml(offline_settings: Settings) -> None:
    """Every document of a multi-document file becomes a resource."""
    expected = ["ConfigMap/default/settings", "Deployment/shop/web", "Namespace/shop",
                "Service/shop/web"]
    assert expected == _ids(offline_settings, FIXTURES / "multi.yaml")


def test_json_file(offline_settings: Settings) -> None:
    """A JSON manifest is read like YAML."""
    assert ["Service/json-ns/api"] == _ids(offline_settings, FIXTURES / "service.json")


def test_kind_list_is_expanded(offline_settings: Settings) -> None:
    """``kind: List`` items become resources; cluster-scoped kinds get ``Kind/name``."""
    expected = ["ClusterRole/reader", "ServiceAccount/ci/runner"]
    assert expected == _ids(offline_settings, FIXTURES / "list.yaml")


def test_typed_list_kind_is_expanded(offline_settings: Settings) -> None:
    """A ``DeploymentList`` is expanded like ``List``."""
    expected = ["Deployment/default/two", "Deployment/team/one"]
    assert expected == _ids(offline_settings, FIXTURES / "deployment-list.yaml")


def test_list_item_keeps_its_source_line(offline_settings: Settings) -> None:
    """An item of a List points at its own line in the file."""
    loaded = load_inputs([FIXTURES / "deployment-list.yaml"], settings=offline_settings)
    two = loaded.inventory.get("Deployment/default/two")
    assert two is not None
    assert 14 == two.source.line


def test_helm_output_with_comment_only_documents(offline_settings: Settings) -> None:
    """Helm's ``# Source:`` documents that rendered to nothing are skipped silently."""
    loaded = load_inputs([FIXTURES / "helm.yaml"], settings=offline_settings)
    assert ["Service/default/release-demo", "ServiceAccount/default/release-demo"] == sorted(
        r.id for r in loaded.resources)
    assert [] == loaded.warnings


def test_crds_and_unknown_kinds_are_kept(offline_settings: Settings) -> None:
    """CRDs and custom resources are in the inventory, marked as not analysed."""
    loaded = load_inputs([FIXTURES / "crd.yaml"], settings=offline_settings)
    known = {r.id: r.known for r in loaded.resources}
    assert {"CustomResourceDefinition/widgets.example.org": True,
            "Widget/toys/blue": False} == known


def test_standard_input(offline_settings: Settings) -> None:
    """``-`` reads manifests from the given byte stream and is recorded as stdin."""
    stream = io.BytesIO((FIXTURES / "multi.yaml").read_bytes())
    loaded = load_inputs(["-"], settings=offline_settings, stdin=stream)
    assert 4 == len(loaded.resources)
    assert [("<stdin>", "stdin")] == [(f.path, f.role) for f in loaded.files]
    assert "<stdin>" == loaded.resources[0].source.file


def test_empty_standard_input_is_refused(offline_settings: Settings) -> None:
    """Empty standard input is one error line."""
    with pytest.raises(InventoryError) as info:
        load_inputs(["-"], settings=offline_settings, stdin=io.BytesIO(b""))
    assert "<stdin>: no Kubernetes objects found" == str(info.value)


def test_recursive_directory(offline_settings: Settings) -> None:
    """A directory is read recursively (.yaml, .yml, .json); other files are ignored."""
    loaded = load_inputs([FIXTURES / "tree"], settings=offline_settings, base=FIXTURES)
    assert ["Deployment/default/tree-app", "PersistentVolumeClaim/default/tree-data",
            "Service/default/tree-svc"] == sorted(r.id for r in loaded.resources)
    assert ["tree/apps/deploy.yaml", "tree/apps/nested/svc.yml", "tree/pvc.json"] == sorted(
        f.path for f in loaded.files)


def test_non_kubernetes_yaml_in_directory_is_skipped_with_a_warning(
        offline_settings: Settings) -> None:
    """Helm values found while walking a directory are skipped, with a warning."""
    loaded = load_inputs([FIXTURES / "tree"], settings=offline_settings, base=FIXTURES)
    assert ["tree/values.yaml: skipped, not Kubernetes manifests"] == loaded.warnings


def test_non_kubernetes_yaml_named_explicitly_is_an_error(offline_settings: Settings) -> None:
    """The same file named on the command line is refused."""
    path = FIXTURES / "tree" / "values.yaml"
    message = _refused(offline_settings, path)
    assert f"{path}:2: document 1 is not a Kubernetes object (no apiVersion or kind)" == message


def test_namespace_defaults_to_default(offline_settings: Settings) -> None:
    """Namespaced resources without a namespace are in ``default``; cluster-scoped have none."""
    loaded = load_inputs([FIXTURES / "multi.yaml"], settings=offline_settings)
    namespaces = {r.id: r.namespace for r in loaded.resources}
    assert {"ConfigMap/default/settings": "default", "Deployment/shop/web": "shop",
            "Namespace/shop": None, "Service/shop/web": "shop"} == namespaces


def test_files_are_digested(offline_settings: Settings) -> None:
    """Every input file is recorded with its sha256; the run digest is stable."""
    first = load_inputs([FIXTURES / "multi.yaml"], settings=offline_settings)
    second = load_inputs([FIXTURES / "multi.yaml"], settings=offline_settings)
    assert 64 == len(first.files[0].sha256)
    assert first.digest == second.digest


def test_architecture_notes_are_loaded(offline_settings: Settings, tmp_path: Path) -> None:
    """Notes files are read as text and recorded with role ``architecture``."""
    notes = tmp_path / "ARCH.md"
    notes.write_text("# Notes\nThe API talks to the database.\n", encoding="utf-8")
    loaded = load_inputs([FIXTURES / "multi.yaml"], settings=offline_settings,
                         architecture=[notes])
    assert ["The API talks to the database."] == [n.text.splitlines()[1] for n in loaded.notes]
    assert ["manifest", "architecture"] == [f.role for f in loaded.files]


def test_snapshot_round_trip(offline_settings: Settings) -> None:
    """The state snapshot is JSON and rebuilds the same inventory."""
    loaded = load_inputs([FIXTURES / "multi.yaml"], settings=offline_settings)
    snapshot = json.loads(json.dumps(loaded.to_snapshot()))
    again = type(loaded).from_snapshot(snapshot)
    assert sorted(loaded.inventory.resources) == sorted(again.inventory.resources)
    assert loaded.digest == again.digest


# ---- errors ----------------------------------------------------------------------------------
def test_missing_path_is_an_error(offline_settings: Settings, tmp_path: Path) -> None:
    """A path that does not exist is one line naming it."""
    path = tmp_path / "nope.yaml"
    with pytest.raises(InventoryError) as info:
        load_inputs([path], settings=offline_settings)
    assert f"{path}: no such file or directory" == str(info.value)


def test_no_paths_is_an_error(offline_settings: Settings) -> None:
    """Loading nothing is refused."""
    with pytest.raises(InventoryError):
        load_inputs([], settings=offline_settings)


def test_missing_notes_file_is_an_error(offline_settings: Settings, tmp_path: Path) -> None:
    """A notes file that does not exist is one line naming it."""
    notes = tmp_path / "missing.md"
    with pytest.raises(InventoryError) as info:
        load_inputs([FIXTURES / "multi.yaml"], settings=offline_settings, architecture=[notes])
    assert f"{notes}: no such notes file" == str(info.value)


def test_malformed_yaml_names_file_and_line(offline_settings: Settings, tmp_path: Path) -> None:
    """A syntax error gives ``file:line`` of the problem."""
    path = tmp_path / "broken.yaml"
    path.write_text(CONFIGMAP_HEAD + "data:\n  a: b\n   c: d\n", encoding="utf-8")
    message = _refused(offline_settings, path)
    assert message.startswith(f"{path}:6: invalid YAML: ")


def test_malformed_json_names_file_and_line(offline_settings: Settings, tmp_path: Path) -> None:
    """A JSON syntax error gives ``file:line`` too."""
    path = tmp_path / "broken.json"
    path.write_text('{\n  "apiVersion": "v1",\n  "kind": "Service"\n  "metadata": {}\n}\n',
                    encoding="utf-8")
    message = _refused(offline_settings, path)
    assert message.startswith(f"{path}:4: invalid YAML: ")


def test_empty_file_is_refused(offline_settings: Settings, tmp_path: Path) -> None:
    """An empty file is refused in one line."""
    path = tmp_path / "empty.yaml"
    path.write_bytes(b"")
    assert f"{path}: no Kubernetes objects found" == _refused(offline_settings, path)


def test_comment_only_file_is_refused(offline_settings: Settings, tmp_path: Path) -> None:
    """A file with comments and separators only holds no objects."""
    path = tmp_path / "comments.yaml"
    path.write_text("# nothing here\n---\n# still nothing\n---\n", encoding="utf-8")
    assert f"{path}: no Kubernetes objects found" == _refused(offline_settings, path)


def test_binary_file_is_refused(offline_settings: Settings, tmp_path: Path) -> None:
    """A binary file is refused before parsing."""
    path = tmp_path / "image.yaml"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    assert f"{path}: binary file, not YAML or JSON text" == _refused(offline_settings, path)


def test_non_utf8_file_is_refused(offline_settings: Settings, tmp_path: Path) -> None:
    """Latin-1 text is refused with the offset of the first bad byte."""
    path = tmp_path / "latin1.yaml"
    path.write_bytes((CONFIGMAP_HEAD + "data: {city: Z\xfcrich}\n").encode("latin-1"))
    message = _refused(offline_settings, path)
    assert f"{path}: not UTF-8 text (invalid byte 0xfc at offset 65)" == message


def test_non_kubernetes_yaml_is_refused(offline_settings: Settings, tmp_path: Path) -> None:
    """YAML that is not a Kubernetes object is refused, naming the document."""
    path = tmp_path / "compose.yaml"
    path.write_text("services:\n  web:\n    image: nginx\n", encoding="utf-8")
    message = _refused(offline_settings, path)
    assert f"{path}:1: document 1 is not a Kubernetes object (no apiVersion or kind)" == message


def test_scalar_document_is_refused(offline_settings: Settings, tmp_path: Path) -> None:
    """A document that is a plain string is not a Kubernetes object."""
    path = tmp_path / "scalar.yaml"
    path.write_text(CONFIGMAP_HEAD + "---\njust text\n", encoding="utf-8")
    message = _refused(offline_settings, path)
    assert "document 2 is not a Kubernetes object" in message


def test_bad_list_item_is_refused(offline_settings: Settings, tmp_path: Path) -> None:
    """A List item that is not an object is refused with its line."""
    path = tmp_path / "list.yaml"
    path.write_text("apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: Service\n"
                    "    metadata: {name: a}\n  - 42\n", encoding="utf-8")
    message = _refused(offline_settings, path)
    assert f"{path}:7: item 2 of the List is not a Kubernetes object" == message


# ---- hostile inputs --------------------------------------------------------------------------
def _billion_laughs() -> str:
    lines = [CONFIGMAP_HEAD + "data:", '  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol",'
                                       '"lol"]']
    previous = "a"
    for name in "bcdefghi":
        lines.append(f"  {name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
        previous = name
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_refused_quickly(offline_settings: Settings, tmp_path: Path) -> None:
    """The classic YAML bomb is refused (the bound is a hang guard; speed lives in bench/)."""
    path = tmp_path / "bomb.yaml"
    path.write_text(_billion_laughs(), encoding="utf-8")
    started = time.monotonic()
    message = _refused(offline_settings, path)
    elapsed = time.monotonic() - started
    assert "alias expansion exceeds" in message
    assert elapsed < 2.0


def test_too_many_aliases_are_refused(tmp_path: Path) -> None:
    """More aliases than KTMB_MAX_ALIASES is refused with the line of the first one too many."""
    settings = Settings(home=tmp_path, redaction_key="k", max_aliases=3)
    path = tmp_path / "aliases.yaml"
    path.write_text(CONFIGMAP_HEAD + "data:\n  a: &a x\n  b: *a\n  c: *a\n  d: *a\n  e: *a\n",
                    encoding="utf-8")
    message = _refused(settings, path)
    assert f"{path}:9: more than 3 YAML aliases (KTMB_MAX_ALIASES)" == message


def test_alias_expansion_counts_against_the_node_limit(tmp_path: Path) -> None:
    """A small bomb is measured by its expanded size, not its text size."""
    settings = Settings(home=tmp_path, redaction_key="k", max_nodes=500)
    path = tmp_path / "small-bomb.yaml"
    text = (CONFIGMAP_HEAD + "data:\n  a: &a [1,2,3,4,5,6,7,8,9,10]\n"
            "  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n  c: [*b,*b,*b,*b,*b]\n")
    path.write_text(text, encoding="utf-8")
    assert "alias expansion exceeds 500 nodes" in _refused(settings, path)


def test_deep_nesting_is_refused(offline_settings: Settings, tmp_path: Path) -> None:
    """10,000 nested lists are refused without a RecursionError."""
    path = tmp_path / "deep.yaml"
    path.write_text(CONFIGMAP_HEAD + "data: {x: " + "[" * 10_000 + "]" * 10_000 + "}\n",
                    encoding="utf-8")
    started = time.monotonic()
    message = _refused(offline_settings, path)
    assert time.monotonic() - started < 2.0
    assert message.startswith(f"{path}:4: ")


def test_nesting_over_the_configured_depth_is_refused(tmp_path: Path) -> None:
    """Nesting beyond KTMB_MAX_DEPTH (but within the parser's own limit) is refused."""
    settings = Settings(home=tmp_path, redaction_key="k", max_depth=10)
    path = tmp_path / "nested.yaml"
    path.write_text(CONFIGMAP_HEAD + "data: {x: " + "[" * 20 + "]" * 20 + "}\n",
                    encoding="utf-8")
    message = _refused(settings, path)
    assert f"{path}:4: nesting deeper than 10 levels (KTMB_MAX_DEPTH)" == message


def test_deep_block_nesting_is_refused(offline_settings: Settings, tmp_path: Path) -> None:
    """Deep block-style mappings are refused too."""
    path = tmp_path / "block.yaml"
    body = "".join(f"{'  ' * i}k{i}:\n" for i in range(200)) + "  " * 200 + "leaf: 1\n"
    path.write_text(CONFIGMAP_HEAD + "data:\n" + "".join(
        "  " + line + "\n" for line in body.splitlines()), encoding="utf-8")
    assert "nesting deeper than 64 levels" in _refused(offline_settings, path)


def test_file_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    """A file larger than KTMB_MAX_FILE_BYTES is refused before it is read."""
    settings = Settings(home=tmp_path, redaction_key="k", max_file_bytes=1_000)
    path = tmp_path / "huge.yaml"
    path.write_text(CONFIGMAP_HEAD + "data:\n" + "".join(
        f"  k{i}: v{i}\n" for i in range(200)), encoding="utf-8")
    size = path.stat().st_size
    message = _refused(settings, path)
    assert (f"{path}: file is {size:,} bytes, over the limit of 1,000 (KTMB_MAX_FILE_BYTES)"
            == message)


def test_standard_input_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    """Standard input is cut at the size limit too."""
    settings = Settings(home=tmp_path, redaction_key="k", max_file_bytes=100)
    with pytest.raises(InventoryError) as info:
        load_inputs(["-"], settings=settings, stdin=io.BytesIO(b"#" * 10_000))
    assert ("<stdin>: standard input is over the limit of 100 bytes (KTMB_MAX_FILE_BYTES)"
            == str(info.value))


def test_too_many_documents_are_refused(tmp_path: Path) -> None:
    """More documents than KTMB_MAX_DOCUMENTS is refused."""
    settings = Settings(home=tmp_path, redaction_key="k", max_documents=5)
    path = tmp_path / "many.yaml"
    path.write_text("---\n".join(
        f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}}}\n" for i in range(10)),
        encoding="utf-8")
    assert "more than 5 documents (KTMB_MAX_DOCUMENTS)" in _refused(settings, path)


def test_binary_file_in_a_directory_is_an_error(offline_settings: Settings,
                                                tmp_path: Path) -> None:
    """A binary .yaml found in a directory fails the load (it is not silently skipped)."""
    (tmp_path / "ok.yaml").write_text(CONFIGMAP_HEAD, encoding="utf-8")
    bad = tmp_path / "zz.yaml"
    bad.write_bytes(b"\x00\xff" * 64)
    with pytest.raises(InventoryError) as info:
        load_inputs([tmp_path], settings=offline_settings)
    assert f"{bad}: binary file, not YAML or JSON text" == str(info.value)


@pytest.mark.parametrize("text", [
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: !!python/object:os.system {}\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: !!binary aGVsbG8=\n",
])
def test_unsafe_tags_are_refused(offline_settings: Settings, tmp_path: Path,
                                 text: str) -> None:
    """Python object tags never construct anything; the error is one line."""
    path = tmp_path / "tags.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        loaded = load_inputs([path], settings=offline_settings)
    except InventoryError as exc:
        assert 1 == len(str(exc).splitlines())
        assert str(path) in str(exc)
    else:
        assert ["ConfigMap/default/x"] == [r.id for r in loaded.resources]


def _mini_bomb(path: Path) -> None:
    """One document whose aliases expand to about 4.4 million nodes (under KTMB_MAX_NODES)."""
    lines = [CONFIGMAP_HEAD + "data:", '  a: &a [' + ",".join(['"lol"'] * 10) + "]"]
    previous = "a"
    for name in "bcdef":
        lines.append(f"  {name}: &{name} [" + ",".join([f"*{previous}"] * 10) + "]")
        previous = name
    lines.append("  x: [*f, *f, *f]")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_bomb_just_under_the_node_limit_is_refused_quickly(tmp_path: Path) -> None:
    """A bomb sized just under the node limit must still fail fast, not build for seconds."""
    path = tmp_path / "mini-bomb.yaml"
    _mini_bomb(path)
    code = ("import sys; from pathlib import Path; from workflow.domain.inputs import load_inputs; "
            "from workflow.domain.settings import Settings; "
            "from workflow.domain.errors import InventoryError\n"
            "try:\n    load_inputs([sys.argv[1]], settings=Settings(home=Path(sys.argv[2]), "
            "redaction_key='k'))\nexcept InventoryError as exc:\n    print(exc)\n")
    try:
        out = subprocess.run([sys.executable, "-c", code, str(path), str(tmp_path)],
                             capture_output=True, text=True, timeout=5, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail("loading a 4.4M-node alias bomb took more than 5 s")
    assert str(path) in out.stdout


@pytest.mark.corpus
@pytest.mark.parametrize("name", ["bookinfo", "guestbook", "ingress-nginx", "node-agents",
                                  "online-boutique", "online-boutique-helm-hardened",
                                  "sock-shop"])
def test_corpus_applications_load(offline_settings: Settings, name: str) -> None:
    """Every corpus application loads (skips when ../shared/corpus is absent)."""
    from tests.corpus_paths import corpus_app

    app = corpus_app(name)
    loaded = load_inputs([app], settings=offline_settings, base=app)
    assert loaded.resources
    assert [] == [w for w in loaded.warnings if "skipped" not in w]
    assert len(loaded.inventory.resources) <= len(loaded.resources)
    assert all("/" in r.id for r in loaded.resources)


# ---- every text is pre-scanned, with or without aliases --------------------------------------
@pytest.mark.parametrize("anchor", ["", "\n  anchored: &a 1\n  again: *a"])
def test_limits_hold_with_and_without_aliases(tmp_path: Path, anchor: str) -> None:
    """Depth and document limits give the same one-line error whether a text has aliases."""
    settings = Settings(home=tmp_path, redaction_key="k", max_depth=10, max_documents=2)
    deep = tmp_path / "deep.yaml"
    deep.write_text(CONFIGMAP_HEAD + "data:" + anchor + "\n  x: " + "[" * 20 + "]" * 20 + "\n",
                    encoding="utf-8")
    line = 5 + anchor.count("\n")
    assert f"{deep}:{line}: nesting deeper than 10 levels (KTMB_MAX_DEPTH)" == _refused(
        settings, deep)
    many = tmp_path / "many.yaml"
    many.write_text("---\n".join([CONFIGMAP_HEAD + "data:" + anchor + "\n"] * 3),
                    encoding="utf-8")
    assert f"{many}: more than 2 documents (KTMB_MAX_DOCUMENTS)" == _refused(settings, many)


def test_a_large_document_without_aliases_is_refused(tmp_path: Path) -> None:
    """Without aliases the nodes themselves (keys included) count against the node limit."""
    settings = Settings(home=tmp_path, redaction_key="k", max_nodes=50)
    path = tmp_path / "large.yaml"
    path.write_text(CONFIGMAP_HEAD + "data:\n" + "".join(f"  k{i}: v{i}\n" for i in range(30))
                    + "binaryData:\n  z: [1, 2]\n", encoding="utf-8")
    message = _refused(settings, path)
    assert message.startswith(f"{path}:")
    assert message.endswith("more than 50 YAML nodes in one document (KTMB_MAX_NODES)")
    small = tmp_path / "small.yaml"
    small.write_text(CONFIGMAP_HEAD + "data:\n" + "".join(f"  k{i}: v{i}\n" for i in range(10)),
                     encoding="utf-8")
    assert ["ConfigMap/default/x"] == _ids(settings, small)


# ---- contents already read -------------------------------------------------------------------
def test_named_inputs_load_like_paths(offline_settings: Settings, tmp_path: Path) -> None:
    """Contents read elsewhere load to the same inputs as the files they came from."""
    (tmp_path / "a.yaml").write_text(CONFIGMAP_HEAD, encoding="utf-8")
    (tmp_path / "notes.md").write_text("# Notes\npassword=hunter2hunter2\n", encoding="utf-8")
    from_paths = load_inputs([tmp_path / "a.yaml"], settings=offline_settings,
                             architecture=[tmp_path / "notes.md"], base=tmp_path)
    from_contents = load_named_inputs(
        [NamedInput("a.yaml", (tmp_path / "a.yaml").read_bytes())], settings=offline_settings,
        architecture=[NamedInput("notes.md", (tmp_path / "notes.md").read_bytes())])
    assert from_paths.to_snapshot() == from_contents.to_snapshot()
    assert "hunter2" not in json.dumps(from_contents.to_snapshot())


def test_named_inputs_skip_only_found_files(offline_settings: Settings) -> None:
    """A found file without Kubernetes objects is skipped; a named one is refused."""
    chart = b"apiVersion: v2\nname: chart\n"
    loaded = load_named_inputs([NamedInput("x.yaml", CONFIGMAP_HEAD.encode()),
                                NamedInput("Chart.yaml", chart, explicit=False)],
                               settings=offline_settings)
    assert (["x.yaml"], ["Chart.yaml: skipped, not Kubernetes manifests"]) == (
        [f.path for f in loaded.files], loaded.warnings)
    with pytest.raises(InventoryError) as info:
        load_named_inputs([NamedInput("Chart.yaml", chart)], settings=offline_settings)
    assert str(info.value).startswith("Chart.yaml:")


def test_named_inputs_hold_to_the_limits(offline_settings: Settings) -> None:
    """Contents over KTMB_MAX_FILE_BYTES, and no contents at all, are one-line refusals."""
    small = offline_settings.model_copy(update={"max_file_bytes": 64})
    with pytest.raises(InventoryError) as info:
        load_named_inputs([NamedInput("big.yaml", CONFIGMAP_HEAD.encode() * 4)], settings=small)
    assert "big.yaml: file is over the limit of 64 bytes (KTMB_MAX_FILE_BYTES)" == str(info.value)
    with pytest.raises(InventoryError) as empty:
        load_named_inputs([], settings=offline_settings)
    assert "(no input): no Kubernetes objects found" == str(empty.value)


CHART_WITHOUT_NAMESPACES = """
apiVersion: v1
kind: ServiceAccount
metadata: {name: exporter}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: exporter}
spec:
  selector: {matchLabels: {app: exporter}}
  template:
    metadata: {labels: {app: exporter}}
    spec:
      serviceAccountName: exporter
      containers: [{name: exporter, image: "example/exporter:1.0"}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: pinned, namespace: other}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: exporter}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects:
- {kind: ServiceAccount, name: exporter, namespace: monitoring}
- {kind: ServiceAccount, name: unnamed-namespace}
"""


def test_namespace_option_places_objects_without_one(offline_settings: Settings,
                                                      tmp_path: Path) -> None:
    """--namespace is the namespace of objects that name none; named ones keep theirs."""
    path = tmp_path / "chart.yaml"
    path.write_text(CHART_WITHOUT_NAMESPACES, encoding="utf-8")
    inputs = load_inputs([path], settings=offline_settings, namespace="monitoring")
    ids = sorted(r.id for r in inputs.resources)
    assert ["ClusterRoleBinding/exporter", "ConfigMap/other/pinned",
            "Deployment/monitoring/exporter", "ServiceAccount/monitoring/exporter"] == ids
    subjects = [s.id for b in inputs.inventory.bindings for s in b.subjects]
    assert ["ServiceAccount/monitoring/exporter",
            "ServiceAccount/monitoring/unnamed-namespace"] == subjects
    assert [] == inputs.warnings


def test_namespace_survives_the_snapshot(offline_settings: Settings, tmp_path: Path) -> None:
    """A resumed run rebuilds the same inventory: the namespace is in the snapshot."""
    path = tmp_path / "chart.yaml"
    path.write_text(CHART_WITHOUT_NAMESPACES, encoding="utf-8")
    inputs = load_inputs([path], settings=offline_settings, namespace="monitoring")
    again = LoadedInputs.from_snapshot(inputs.to_snapshot())
    assert "monitoring" == again.inventory.default_namespace


def test_defaulted_objects_bound_elsewhere_draw_a_hint(offline_settings: Settings,
                                                       tmp_path: Path) -> None:
    """Without --namespace, bindings naming another namespace suggest it."""
    path = tmp_path / "chart.yaml"
    path.write_text(CHART_WITHOUT_NAMESPACES, encoding="utf-8")
    inputs = load_inputs([path], settings=offline_settings)
    assert ["objects without a namespace were placed in default, but bindings name their "
            "service accounts in namespace monitoring: give --namespace monitoring (as kubectl "
            "apply -n would)"] == inputs.warnings


@pytest.mark.parametrize("name", ["Not_A_Name", "-x", "a" * 64, ""])
def test_bad_namespace_is_a_config_error(name: str) -> None:
    """A namespace that Kubernetes would refuse is a one-line usage error."""
    from workflow.domain.errors import ConfigError
    from workflow.domain.run import RunOptions

    with pytest.raises(ConfigError, match="--namespace"):
        RunOptions(namespace=name)
