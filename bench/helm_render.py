"""Time of Helm rendering per chart: the SDK's render, and ktmb's whole chart loading.

    python bench/helm_render.py [--repeat 20] [--services 50]

For each chart: (1) ``render`` — the Helm Go SDK rendering the templates in-process
(helm-python-sdk, ``Chart.load`` + ``render``); (2) ``load`` — ``load_inputs`` on the chart
directory: rendering plus placing lines back in the templates, parsing, redaction and the
inventory, i.e. what a scan of the chart costs before its rules run. Charts: the test chart
that reproduces part of Online Boutique (with and without the corpus's hardened values when the
corpus is present), and a generated chart of N services (one Deployment, Service and
NetworkPolicy each from one range loop). The first call in the process (loading the 75 MB
shared library) is reported on its own. Median and worst of ``--repeat`` runs, in milliseconds.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _project import ROOT, compile_project

CHART = ROOT / "tests" / "fixtures" / "helm" / "onlineboutique"
VALUES = ROOT.parent / "shared" / "corpus" / "apps" / "online-boutique-helm-hardened" / \
    "values-used.yaml.txt"


def generated_chart(folder: Path, services: int) -> Path:
    """A chart whose one template renders ``services`` services (3 objects each)."""
    chart = folder / "generated"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: generated\nversion: 1.0.0\n")
    (chart / "values.yaml").write_text(f"services: {services}\nimage: registry/app:1.0\n")
    (chart / "templates" / "services.yaml").write_text("""\
{{- range $i := until (int .Values.services) }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: svc-{{ $i }}
spec:
  selector: {matchLabels: {app: svc-{{ $i }}}}
  template:
    metadata: {labels: {app: svc-{{ $i }}}}
    spec:
      containers:
        - name: app
          image: {{ $.Values.image }}
          securityContext: {runAsNonRoot: true, allowPrivilegeEscalation: false}
---
apiVersion: v1
kind: Service
metadata:
  name: svc-{{ $i }}
spec:
  selector: {app: svc-{{ $i }}}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: svc-{{ $i }}
spec:
  podSelector: {matchLabels: {app: svc-{{ $i }}}}
  policyTypes: [Ingress]
{{- end }}
""")
    return chart


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median and worst wall time of ``fn`` in milliseconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--services", type=int, default=50)
    args = parser.parse_args()
    compile_project()
    from workflow.domain.inputs import load_inputs
    from workflow.domain.renderers import RenderOptions
    from workflow.domain.settings import Settings

    start = time.perf_counter()
    import helm_python as helm  # timed: what the first chart of a process pays

    with helm.Chart.load(str(CHART)) as chart:
        chart.render({}, name="warm")
    print(f"first render in a process (import and library load included): "
          f"{(time.perf_counter() - start) * 1000:.0f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(home=Path(tmp), redaction_key="bench")
        cases = [("onlineboutique (test chart, defaults)", CHART, RenderOptions())]
        if VALUES.is_file():
            cases.append(("onlineboutique (hardened values)", CHART,
                          RenderOptions(values=(VALUES,))))
        cases.append((f"generated ({args.services} services)",
                      generated_chart(Path(tmp), args.services), RenderOptions()))
        print(f"{'chart':<42} {'objects':>7} {'render ms':>14} {'load ms':>14}")
        for name, path, options in cases:
            values = {}
            if options.values:
                import yaml

                values = yaml.safe_load(options.values[0].read_text())

            def render(path: Path = path, values: dict[str, object] = values) -> None:
                with helm.Chart.load(str(path)) as chart:
                    chart.render(values, name=chart.name, namespace="default")

            def load(path: Path = path, options: RenderOptions = options) -> int:
                return len(load_inputs([path], settings=settings, render=options).resources)

            objects = load()
            r_med, r_max = timed(render, args.repeat)
            l_med, l_max = timed(load, args.repeat)
            print(f"{name:<42} {objects:>7} {r_med:>6.1f} ({r_max:>5.1f}) "
                  f"{l_med:>6.1f} ({l_max:>5.1f})")
    print("(median (worst) of each; load = render + lines + parse + redaction + inventory)")


if __name__ == "__main__":
    main()
