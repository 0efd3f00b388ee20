"""Mermaid export: safe node ids, literal labels, namespace subgraphs, attack paths."""

from __future__ import annotations

import re

import pytest

from workflow.domain.threat_model import AttackPath, ThreatModel
from workflow.exports import mermaid

NASTY = [
    '<script>alert("x")</script>',
    'a"]-->b[click callback "javascript:alert(1)"',
    "end",
    "graph TD; A-->B",
    "`**md**` #35; &amp; %%comment",
    "line\nbreak\ttab",
    "{{hex}} ((round)) [box] |pipe|",
    "ünïcödé ✓ 日本",
]

_ENTITY = re.compile(r"#(\d+);")
_LABEL = re.compile(r'"([^"]*)"')


def _decode(label: str) -> str:
    return _ENTITY.sub(lambda m: chr(int(m.group(1))), label)


@pytest.mark.parametrize("text", NASTY)
def test_labels_show_any_text_literally(text: str) -> None:
    """A label is one quoted string with no raw markup, and decodes back to the text."""
    quoted = mermaid.label(text)
    inner = quoted[1:-1]
    assert ('"', '"') == (quoted[0], quoted[-1])
    for ch in '"<>`[]{}|;\n#&%':
        assert ch not in _ENTITY.sub("", inner)
    assert " ".join(text.split()) == _decode(inner)


def test_long_labels_are_shortened() -> None:
    """A very long name is cut with an ellipsis so the diagram stays readable."""
    assert 120 == len(_decode(mermaid.label("x" * 500)[1:-1]))


@pytest.mark.parametrize("text", NASTY)
def test_node_ids_are_plain_identifiers(text: str) -> None:
    """Node ids hold only letters, digits and underscores, and never equal a keyword."""
    nid = mermaid.node_id(text)
    assert re.fullmatch(r"n_[A-Za-z0-9_]+", nid)
    assert nid == mermaid.node_id(text)


def test_node_ids_do_not_collide() -> None:
    """Names that slug the same still get different ids."""
    assert mermaid.node_id("Deployment/a-b/x") != mermaid.node_id("Deployment/a_b/x")


def test_architecture_draws_zones_nodes_and_flows(model: ThreatModel) -> None:
    """Internet node, a cluster holding one subgraph per namespace, every flow an edge."""
    text = mermaid.architecture(model.architecture)
    lines = text.splitlines()
    assert "flowchart LR" == lines[0]
    assert f'{mermaid.node_id("internet", "z")}(("Internet"))' == lines[1].strip()
    assert 1 == sum(1 for line in lines if '["Cluster"]' in line)
    assert 1 == sum(1 for line in lines if '["namespace shop"]' in line)
    assert 1 == sum(1 for line in lines if '["namespace monitoring"]' in line)
    assert sum(1 for line in lines if line.strip().startswith("subgraph")) == sum(
        1 for line in lines if line.strip() == "end")
    edges = [line for line in lines if "-->" in line]
    assert 6 == len(edges)
    assert (f'  {mermaid.node_id("Deployment/shop/web")} -->|"sql: tcp/5432"| '
            f'{mermaid.node_id("Service/shop/db")}') in lines


def test_every_edge_end_is_a_declared_node(hostile_model: ThreatModel) -> None:
    """No edge points at an undeclared node, even with hostile names."""
    text = mermaid.architecture(hostile_model.architecture)
    declared = {m.group(1) for m in re.finditer(r"^\s+([A-Za-z0-9_]+)[\[(]", text, re.M)}
    for src, dst in re.findall(r"^\s+(\S+) -->\|[^|]*\| (\S+)$", text, re.M):
        assert src in declared
        assert dst in declared


def test_hostile_names_stay_inside_labels(hostile_model: ThreatModel) -> None:
    """A name with markup and quotes cannot leave its label: no raw <, > or extra quotes."""
    text = mermaid.render(hostile_model)
    assert "<script>" not in text
    for line in text.splitlines():
        assert 0 == line.count('"') % 2
        for label in _LABEL.findall(line):
            assert "<" not in label
    assert any("#60;script#62;" in line for line in text.splitlines())


def test_attack_paths_chain_their_hops(model: ThreatModel) -> None:
    """Each path is a subgraph chaining its hops, labelled with their attacks, ending in its
    target."""
    text = mermaid.attack_paths(model.attack_paths)
    path = model.attack_paths[0]
    assert 1 == text.count("subgraph ")
    assert len(path.hops) == text.count(" -->|")
    assert '-->|"RBAC_ADMIN"|' in text
    assert '{{"cluster"}}' in text


def test_attack_path_draws_its_target_once() -> None:
    """The last hop's vertex is the target: it is drawn once, as the target."""
    path = AttackPath.model_validate({
        "id": "p", "origin": "internet", "origin_kind": "internet",
        "target": {"kind": "node", "ref": "Node/any"},
        "hops": [{"from": "internet", "to": "Pod/ns/a", "attack": "ROUTE"},
                 {"from": "Pod/ns/a", "to": "Node/any", "attack": "CE_PRIV_MOUNT"}]})
    text = mermaid.attack_paths((path,))
    assert 2 == text.count(" -->|")
    assert 1 == text.count('{{"Node/any"}}')


def test_no_attack_paths_is_said() -> None:
    """An empty list renders a valid diagram saying there are none."""
    assert '"No attack paths in this model"' in mermaid.attack_paths(())


def test_render_holds_architecture_and_attack_paths(model: ThreatModel,
                                                    bare_model: ThreatModel) -> None:
    """The export is one flowchart: architecture plus a subgraph per attack path."""
    text = mermaid.render(model)
    assert text.startswith("flowchart LR\n")
    assert 1 == text.count("flowchart")
    assert '["critical 8.0: internet to control of the cluster"]' in text
    assert mermaid.architecture(bare_model.architecture) == mermaid.render(bare_model)
