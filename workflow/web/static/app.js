// ktmb web UI: keeps the run page current while the run works. No framework, no build step.
"use strict";

(function () {
  const run = document.getElementById("run");
  if (!run) {
    return;
  }
  const runId = run.dataset.runId;
  const shown = run.dataset.status;
  const moving = new Set(["queued", "running"]);
  let busy = run.dataset.busy === "true";
  if (!moving.has(shown) && !busy) {
    return;
  }
  const statusEl = document.getElementById("run-status");
  let delay = 700;

  async function poll() {
    try {
      const response = await fetch("/runs/" + encodeURIComponent(runId), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        cache: "no-store",
      });
      if (response.ok) {
        const data = await response.json();
        for (const phase of data.phases) {
          const item = document.querySelector('li.phase[data-phase="' + phase.phase + '"]');
          if (item) {
            item.className = "phase phase-" + phase.status;
            item.querySelector(".state").textContent = phase.status.replace(/_/g, " ");
            item.querySelector(".count").textContent = phase.findings + " findings";
          }
        }
        statusEl.textContent = data.status;
        if (data.status !== shown || (busy && !data.busy)) {
          if (!moving.has(data.status) && !data.busy) {
            window.location.reload();
            return;
          }
        }
        busy = data.busy;
      }
    } catch (err) {
      // the server restarts or the network hiccups: keep trying, more slowly
      delay = Math.min(delay * 2, 10000);
    }
    window.setTimeout(poll, delay);
  }

  window.setTimeout(poll, delay);
})();

// Removing a finding and changing it are exclusive: say so before the server does.
document.addEventListener("change", function (event) {
  const target = event.target;
  if (!(target instanceof HTMLInputElement) || !target.classList.contains("edit-remove")) {
    return;
  }
  const grid = target.closest(".edit-grid");
  for (const select of grid.querySelectorAll("select")) {
    select.disabled = target.checked;
    if (target.checked) {
      select.value = "";
    }
  }
});
