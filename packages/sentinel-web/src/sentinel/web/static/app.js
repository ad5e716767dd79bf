// Sentinel dashboard: renders /api/status, /api/jobs and agent events, kept
// current by /api/stream with a fallback to polling. Every value from the
// agent is written with textContent, never as HTML, because file names and
// error messages come from outside.
"use strict";

const QUEUE_STATES = ["queued", "active", "delayed", "done", "failed"];
const FOLDER_STATES = ["inbox", "processed", "failed"];
const MAX_EVENTS = 100;
const JOB_LIMIT = 25;
const POLL_MS = 2000;
// Stream errors in a row, with no message between them, before polling.
const MAX_STREAM_ERRORS = 3;

const state = {
  lastSeq: 0,
  events: [],
  queueKey: null,
  pollTimer: null,
};

function byTestId(id) {
  return document.querySelector(`[data-testid="${id}"]`);
}

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "" : String(text);
  if (className) td.className = className;
  return td;
}

function row(cells, testId) {
  const tr = document.createElement("tr");
  if (testId) tr.setAttribute("data-testid", testId);
  for (const td of cells) tr.append(td);
  return tr;
}

function emptyRow(columns, text) {
  const td = cell(text, "empty");
  td.colSpan = columns;
  return row([td]);
}

function formatTime(seconds) {
  if (typeof seconds !== "number") return "";
  return new Date(seconds * 1000).toLocaleTimeString();
}

function setConnection(name) {
  const el = byTestId("connection");
  el.dataset.state = name;
  el.textContent = name;
}

function renderQueue(queue) {
  byTestId("queue-absent").hidden = queue !== null;
  for (const name of QUEUE_STATES) {
    const value = queue === null ? "–" : queue[name];
    byTestId(`queue-${name}`).textContent = String(value);
  }
  // Reload the job tables only when a job finished or failed since last time.
  const key = queue === null ? null : `${queue.done}/${queue.failed}`;
  if (key !== state.queueKey) {
    state.queueKey = key;
    loadJobs();
  }
}

function renderFolders(folders) {
  const body = byTestId("folders");
  const routes = Object.keys(folders).sort();
  const rows = routes.map((route) =>
    row(
      [cell(route), ...FOLDER_STATES.map((name) => {
        const td = cell(folders[route][name], "number");
        td.setAttribute("data-testid", `folder-${route}-${name}`);
        return td;
      })],
      `folder-${route}`,
    ),
  );
  body.replaceChildren(...(rows.length ? rows : [emptyRow(4, "No watched folders.")]));
}

function renderPlugins(plugins) {
  const rows = plugins.map((plugin) => {
    const status = cell(plugin.status, `status-${plugin.status}`);
    status.setAttribute("data-testid", `plugin-${plugin.id}-status`);
    return row(
      [cell(plugin.id), cell(plugin.distribution), cell(plugin.version), status,
        cell(plugin.error, "error")],
      `plugin-${plugin.id}`,
    );
  });
  byTestId("plugins").replaceChildren(...rows);
}

function renderProblems(problems) {
  const list = byTestId("problems");
  list.hidden = problems.length === 0;
  list.replaceChildren(...problems.map((text) => {
    const li = document.createElement("li");
    li.textContent = text;
    return li;
  }));
}

function renderStatus(status) {
  renderQueue(status.queue);
  renderFolders(status.folders || {});
  renderPlugins(status.plugins || []);
  renderProblems(status.problems || []);
  byTestId("updated").textContent = formatTime(status.time);
}

function jobFile(job) {
  const payload = job.payload || {};
  return payload.relative || payload.path || "";
}

function jobResult(job) {
  if (job.result === null || job.result === undefined) return "";
  return typeof job.result === "string" ? job.result : JSON.stringify(job.result);
}

function renderJobs(jobState, jobs) {
  const failed = jobState === "failed";
  const rows = jobs.map((job) =>
    row(
      [cell(formatTime(job.finished_at)), cell(job.task), cell(jobFile(job)),
        cell(`${job.attempts}/${job.max_attempts}`, "number"),
        failed ? cell(job.error, "error") : cell(jobResult(job))],
      `job-${job.id}`,
    ),
  );
  const empty = emptyRow(5, failed ? "No failures." : "No finished jobs.");
  byTestId(`jobs-${jobState}`).replaceChildren(...(rows.length ? rows : [empty]));
}

function renderJobsError(jobState, message) {
  byTestId(`jobs-${jobState}`).replaceChildren(emptyRow(5, message));
}

async function loadJobs() {
  for (const jobState of ["failed", "done"]) {
    try {
      const response = await fetch(`/api/jobs?state=${jobState}&limit=${JOB_LIMIT}`);
      const body = await response.json();
      if (response.ok) renderJobs(jobState, body.jobs);
      else renderJobsError(jobState, body.error);
    } catch (error) {
      renderJobsError(jobState, `Loading jobs failed: ${error}`);
    }
  }
}

function addEvents(events) {
  for (const event of events) {
    if (event.seq <= state.lastSeq) continue;
    state.lastSeq = event.seq;
    state.events.unshift(event);
  }
  state.events.length = Math.min(state.events.length, MAX_EVENTS);
  const rows = state.events.map((event) =>
    row(
      [cell(formatTime(event.time)), cell(event.kind), cell(event.action),
        cell(event.route), cell(event.path), cell(event.reason || event.message, "error")],
      `event-${event.seq}`,
    ),
  );
  byTestId("events").replaceChildren(...(rows.length ? rows : [emptyRow(6, "No events yet.")]));
}

async function poll() {
  try {
    const [status, events] = await Promise.all([
      fetch("/api/status").then((r) => r.json()),
      fetch(`/api/events?since=${state.lastSeq}`).then((r) => r.json()),
    ]);
    renderStatus(status);
    addEvents(events.events);
    setConnection("polling");
  } catch (error) {
    setConnection("offline");
  }
}

function startPolling() {
  if (state.pollTimer !== null) return;
  poll();
  state.pollTimer = setInterval(poll, POLL_MS);
}

function connect() {
  if (typeof EventSource === "undefined") {
    startPolling();
    return;
  }
  const source = new EventSource("/api/stream");
  let errors = 0;
  source.addEventListener("open", () => setConnection("live"));
  source.addEventListener("status", (message) => {
    errors = 0;
    setConnection("live");
    renderStatus(JSON.parse(message.data));
  });
  source.addEventListener("event", (message) => {
    errors = 0;
    addEvents([JSON.parse(message.data)]);
  });
  source.addEventListener("error", () => {
    errors += 1;
    // The browser reconnects by itself unless the server refused the
    // stream; give up on it only when that or repeated failures happen.
    if (source.readyState === EventSource.CLOSED || errors >= MAX_STREAM_ERRORS) {
      source.close();
      startPolling();
    } else {
      setConnection("reconnecting");
    }
  });
}

addEvents([]);
connect();
