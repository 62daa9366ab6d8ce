// Live progress of a robustness run: polls the run's status JSON until it finishes, then reloads
// once so the results render. Plain JavaScript, no dependencies (no CDN).
(function () {
  "use strict";
  // The AI-system picker of the runs list: choosing a system opens its runs.
  document.addEventListener("change", function (event) {
    const select = event.target.closest("select[data-navigate]");
    if (select && select.value) { window.location = select.value; }
  });

  const panel = document.querySelector("[data-run-status-url]");
  if (!panel) { return; }
  const url = panel.dataset.runStatusUrl;
  const bar = panel.querySelector(".progress > span");
  const status = panel.querySelector("[data-field=status]");
  const message = panel.querySelector("[data-field=message]");
  const eta = panel.querySelector("[data-field=eta]");
  const percent = panel.querySelector("[data-field=percent]");
  const attempt = panel.querySelector("[data-field=attempt]");

  function formatEta(seconds) {
    if (seconds === null || seconds === undefined) { return ""; }
    const s = Math.max(0, Math.round(seconds));
    return s >= 60 ? "about " + Math.floor(s / 60) + " min " + (s % 60) + " s left" : "about " + s + " s left";
  }

  function show(data) {
    const value = Math.round((data.progress || 0) * 100);
    bar.style.width = value + "%";
    panel.querySelector(".progress").setAttribute("aria-valuenow", String(value));
    percent.textContent = value + " %";
    status.textContent = data.status_label;
    message.textContent = data.message || "";
    eta.textContent = data.finished ? "" : formatEta(data.eta_seconds);
    if (data.attempt) {
      attempt.textContent = "Attempt " + data.attempt + (data.worker ? " · worker " + data.worker : "");
    }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (answer) { return answer.ok ? answer.json() : Promise.reject(answer.status); })
      .then(function (data) {
        show(data);
        if (data.finished) {
          if (panel.dataset.finished !== "true") { window.location.reload(); }
          return;
        }
        window.setTimeout(poll, 1500);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }

  if (panel.dataset.finished !== "true") { window.setTimeout(poll, 500); }
}());
