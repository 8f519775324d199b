// The console's browser side: htmx for partial updates, Chart.js for the charts the server picks,
// and the live progress of training jobs from the server-sent events of /processing/{job}/events.
import htmx from "htmx.org";
import { Chart, registerables } from "chart.js";
import "./console.css";

Chart.register(...registerables);
window.htmx = htmx;

// Every chart is a <canvas data-chart="ID"> with its spec in <script type="application/json" id="ID">.
function drawCharts(root) {
  for (const canvas of root.querySelectorAll("canvas[data-chart]")) {
    if (canvas.dataset.drawn) continue;
    const spec = document.getElementById(canvas.dataset.chart);
    if (!spec) continue;
    const { type, labels, datasets } = JSON.parse(spec.textContent);
    new Chart(canvas, {
      type,
      data: { labels, datasets },
      options: {
        responsive: true,
        animation: false,
        maintainAspectRatio: type !== "pie",
        plugins: { legend: { display: datasets.length > 1 || type === "pie" } },
      },
    });
    canvas.dataset.drawn = "1";
  }
}

// A <section data-watch="URL"> holds a <progress>, a stage and a table count; the server pushes the job.
function watchJobs(root) {
  for (const panel of root.querySelectorAll("[data-watch]")) {
    if (panel.dataset.watching) continue;
    panel.dataset.watching = "1";
    const events = new EventSource(panel.dataset.watch);
    events.addEventListener("job", (event) => {
      const job = JSON.parse(event.data);
      const bar = panel.querySelector("progress");
      bar.value = job.progress;
      bar.setAttribute("aria-valuenow", String(job.progress));
      panel.querySelector("[data-field=percent]").textContent = `${job.progress}%`;
      panel.querySelector("[data-field=stage]").textContent = job.stage;
      panel.querySelector("[data-field=state]").textContent = job.state;
      panel.querySelector("[data-field=tables]").textContent = `${job.tables_done} of ${job.tables_total}`;
      panel.querySelector("[data-field=advice]").textContent = job.advice;
      panel.dataset.state = job.state;
    });
    events.addEventListener("end", () => {
      events.close();
      panel.dataset.finished = "1";
      const cancel = panel.querySelector("[data-cancel]");
      if (cancel) cancel.disabled = true;
    });
    events.addEventListener("failure", (event) => {
      events.close();
      panel.querySelector("[data-field=advice]").textContent = JSON.parse(event.data).message;
      panel.dataset.finished = "1";
    });
  }
}

function enhance(root) {
  drawCharts(root);
  watchJobs(root);
}

document.addEventListener("DOMContentLoaded", () => enhance(document));
document.addEventListener("htmx:afterSettle", (event) => enhance(event.target));
