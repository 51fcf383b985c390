// Render+ dashboard: polls GET /batch (ETag / 304) and shows it; no library, no build step.
// The access token comes from the address the server printed (#token=...), is dropped from the
// address bar at once, kept in this tab's sessionStorage (never a cookie: cookies ignore ports)
// and sent as an Authorization header; images are fetched into blob: URLs for the same reason.
//
// This file is the core: requests, polling, the batch and its job cards. The page's other
// scripts (loaded after it, in order) add to it through window.RenderPlus: charts
// (dashboard_charts.js), drag to reorder (dashboard_drag.js), pause and job edits
// (dashboard_edits.js), the queue and recipe drops (dashboard_queue.js), each job's movie
// (dashboard_movie.js). They listen to its
// events: "view" (a poll's batch, or null: no batch), "tick" (the clock moved), "poll" (a poll
// cycle ended), "acted" (an action was answered), "job-card" (a job's card was made).
//
// Jobs are numbered from 1 on the page, as the add-on's panel numbers them (jobLabel); the ids
// the API takes and answers stay 0-based (data-job, the requests, the timeline's arrows).
"use strict";
(() => {
  const TOKEN_KEY = "renderplus.token";
  const POLL_MS = 1000, HIDDEN_MS = 10000, IDLE_MS = 5000, MAX_BACKOFF_MS = 15000;
  const SHOWABLE = /\.(png|jpe?g|webp|gif|bmp)$/i;
  const ENDED = ["FINISHED", "CANCELLED", "FAILED"];
  const $ = (id) => document.getElementById(id);

  const state = {
    token: null, etag: null, view: null, timer: null, failures: 0, skewMs: 0,
    canResume: false, featuresKnown: false, features: null, batchKey: null, sawParallel: false,
    counted: new Map(),  // "batch" or job id -> the elapsed seconds this page last counted
    frames: new Map(),   // job id -> {done, at, exact, times: [seconds per frame]}
    thumbs: new Map(),   // job id -> {path, index, url, busy, tries, retryAt}
    jobEls: new Map(),   // job id -> the job's card and its parts
    jobSigs: new Map(),  // job id -> its JSON last drawn (an unchanged job is not redrawn)
    viewerUrl: null,
    paths: {},           // the server's routes (GET /openapi.json), to offer only what it has
  };
  const listeners = new Map();
  function on(event, handler) {
    if (!listeners.has(event)) listeners.set(event, []);
    listeners.get(event).push(handler);
  }
  function emit(event, ...args) { for (const handler of listeners.get(event) || []) handler(...args); }

  // ------------------------------------------------------------------ token and requests

  function takeToken() {
    const match = /(?:^#|&)token=([^&]*)/.exec(location.hash);
    if (match) {
      sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]));
      history.replaceState(null, "", location.pathname + location.search);
    }
    state.token = sessionStorage.getItem(TOKEN_KEY);
  }

  function askToken() {
    $("token-box").hidden = false;
    $("token-input").focus();
  }

  async function api(method, path, options = {}) {
    const headers = Object.assign({}, options.headers || {});
    if (state.token) headers.Authorization = "Bearer " + state.token;
    const init = { method, headers, cache: "no-store", credentials: "omit", redirect: "error" };
    if (options.body !== undefined) {
      init.body = options.body;
      headers["Content-Type"] = "application/json";
    }
    const response = await fetch(path, init);
    const date = response.headers.get("Date");
    if (date) state.skewMs = Date.parse(date) + 500 - Date.now();
    if (response.status === 401) askToken();
    return response;
  }

  async function statusOf(response) {
    try { return await response.json(); } catch (e) { return { status: response.statusText }; }
  }

  function notice(text, ok) {
    const el = $("notice");
    el.textContent = text;
    el.className = "notice " + (ok ? "ok" : "bad");
    el.hidden = !text;
  }

  // A change asked of the server: its answer's sentence (and any errors) is shown as it is.
  async function act(method, path, body) {
    let ok = false;
    try {
      const response = await api(method, path, { body });
      const data = await statusOf(response);
      let text = data.status || response.statusText;
      if (data.errors) text += "\n" + data.errors.map((e) => e.path + ": " + e.message).join("\n");
      if (data.warnings && data.warnings.length) text += "\n" + data.warnings.join("\n");
      notice(text, response.ok);
      ok = response.ok;
    } catch (e) {
      notice("The server did not answer: " + e.message, false);
    }
    state.etag = null;
    emit("acted", method, path);
    poll();
    return ok;
  }

  // The server's routes (GET /openapi.json), asked before the first poll is drawn: every later
  // poll of an unchanged batch is a 304, so controls drawn without them would stay wrong. When
  // they come later (the token was missing), the controls are drawn again at once.
  function loadFeatures() {
    if (!state.features) state.features = readFeatures().finally(() => { state.features = null; });
    return state.features;
  }

  async function readFeatures() {
    try {
      const response = await api("GET", "/openapi.json");
      if (!response.ok) return;
      const doc = await response.json();
      state.paths = doc.paths || {};
      state.canResume = Boolean(state.paths["/batch/resume"]);
      state.featuresKnown = true;
      if (state.view) drawControls(state.view);
      emit("view", state.view);  // buttons that depend on the routes appear now
    } catch (e) { /* the next poll says whether the server is there */ }
  }

  // ------------------------------------------------------------------ polling

  async function poll() {
    clearTimeout(state.timer);
    let delay = document.hidden ? HIDDEN_MS : POLL_MS;
    try {
      const response = await api("GET", "/batch", { headers: state.etag ? { "If-None-Match": state.etag } : {} });
      state.failures = 0;
      if (response.status === 200) {
        state.etag = response.headers.get("ETag");
        render(await response.json());
        connection("live");
      } else if (response.status === 304) {
        tick();
        connection("live");
      } else if (response.status === 409) {
        showNoBatch();
        delay = Math.max(delay, IDLE_MS);
      } else if (response.status === 401) {
        connection("waiting for the access token");
        delay = HIDDEN_MS;
      } else {
        connection("the server answered " + response.status);
        delay = IDLE_MS;
      }
      if (!state.featuresKnown && response.status !== 401) await loadFeatures();
    } catch (e) {
      state.failures += 1;
      delay = Math.min(MAX_BACKOFF_MS, POLL_MS * 2 ** state.failures);
      connection("server unreachable; trying again in " + Math.round(delay / 1000) + " s");
    }
    state.timer = setTimeout(poll, delay);
    emit("poll");
  }

  function connection(text) { $("connection").textContent = text; }
  function serverNow() { return (Date.now() + state.skewMs) / 1000; }

  // ------------------------------------------------------------------ formatting

  function duration(seconds) {
    if (seconds === null || seconds === undefined || !isFinite(seconds)) return "–";
    if (seconds < 60) return seconds.toFixed(seconds < 10 ? 1 : 0) + " s";
    const s = Math.round(seconds), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    const rest = String(s % 60).padStart(2, "0");
    return h ? h + " h " + String(m).padStart(2, "0") + " min" : m + " min " + rest + " s";
  }
  function clock(epoch) { return epoch ? new Date(epoch * 1000).toLocaleTimeString() : "–"; }
  function percent(value) { return (value >= 10 || value === 0 ? value.toFixed(0) : value.toFixed(1)) + " %"; }
  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function facts(list, pairs) {
    list.replaceChildren(...pairs.filter((p) => p[1] !== null).map(([name, value]) => {
      const row = el("div");
      row.append(el("dt", "", name), el("dd", "", String(value)));
      return row;
    }));
  }
  function messages(list, items) { list.replaceChildren(...items.map((m) => el("li", "", m))); }
  function setBar(fill, label, value) {
    fill.style.width = Math.max(0, Math.min(100, value)) + "%";
    label.textContent = percent(value);
  }
  // How long a batch or job ("key": "batch" or its id) rendered: the poll's rendertime once it
  // gives one, else counted from its start, but only while it runs. One that stopped without a
  // recorded time (interrupted: its Render+ died; paused) keeps what this page last counted, or
  // shows none: the clock never runs on for a batch that does not.
  function elapsed(key, times, running) {
    if (times.rendertime !== null && times.rendertime !== undefined) return times.rendertime;
    if (!times.started) return null;
    if (times.finished) return times.finished - times.started;
    if (!running) return state.counted.has(key) ? state.counted.get(key) : null;
    const seconds = serverNow() - times.started;
    state.counted.set(key, seconds);
    return seconds;
  }
  function elapsedFact(key, times, running) {
    const seconds = elapsed(key, times, running);
    const done = times.finished || (times.rendertime !== null && times.rendertime !== undefined);
    return [done ? "Render time" : "Elapsed", seconds === null ? null : duration(seconds)];
  }
  function jobNumber(id) { return "#" + (id + 1); }
  function jobLabel(job) { return jobNumber(job.id) + " " + (job.name || ""); }
  // The folder of the job's last output, when the poll names whole paths (with the token).
  function outputFolder(job) {
    const outputs = job.outputs || [];
    const last = outputs.length ? outputs[outputs.length - 1] : "";
    const cut = Math.max(last.lastIndexOf("/"), last.lastIndexOf("\\"));
    return cut > 0 ? last.slice(0, cut) : null;
  }

  // ------------------------------------------------------------------ the batch

  function showNoBatch() {
    state.view = null;
    $("batch-status").textContent = "NO BATCH";
    $("batch-status").className = "pill";
    $("no-batch").hidden = false;
    $("cancel-batch").disabled = true;
    connection("live");
    emit("view", null);
  }

  function render(view) {
    const key = view.name + "|" + (view.times.started || "waiting");
    if (key !== state.batchKey) resetBatch(key);
    state.view = view;
    $("no-batch").hidden = true;
    $("batch-name").textContent = view.name || "";
    // An interrupted batch (its Render+ died) is CANCELLED in the poll; the page names it.
    $("batch-status").textContent = view.resumable ? "INTERRUPTED" : view.status;
    $("batch-status").className = "pill " + view.status;
    $("batch-status").title = view.resumable ? "Render+ stopped while this batch rendered: Resume renders what is missing" : "";
    document.title = "Render+ " + percent(view.progress || 0) + " " + (view.name || "");
    if ((view.running || []).length > 1) state.sawParallel = true;
    const now = Date.now();
    for (const job of view.jobs) {
      trackFrames(job, now);
      const sig = JSON.stringify(job) + view.status;
      if (state.jobSigs.get(job.id) === sig) continue;
      state.jobSigs.set(job.id, sig);
      renderJob(job);
      jobFacts(job);
      updateThumb(job);
    }
    for (const [id, parts] of state.jobEls) if (id >= view.jobs.length) { parts.card.remove(); state.jobEls.delete(id); }
    arrangeJobs(view);
    drawControls(view);
    emit("view", view);
    tick();
  }

  // The batch's buttons. Resume (an interrupted batch) and Retry (an ended batch with failed or
  // cancelled jobs) both ask GET /batch/resume: only the missing frames and the failed jobs
  // render again. Start runs the whole recipe again, and says so while they are offered.
  function drawControls(view) {
    const running = view.status === "RUNNING", paused = view.status === "PAUSED";
    $("start").disabled = running || paused;
    $("cancel-batch").disabled = !running && !paused && !view.poweroff;
    const resume = state.canResume && Boolean(view.resumable);
    const again = view.jobs.some((j) => j.status === "FAILED" || j.status === "CANCELLED");
    const retry = state.canResume && !view.resumable && ENDED.includes(view.status) && again;
    $("resume").hidden = !resume;
    $("retry").hidden = !retry;
    $("start").title = resume || retry ? "Render the whole recipe again, every job from its first frame" : "";
  }

  // The cards follow the run order (poll key "order": ended jobs as they ran, running, then
  // queued ones as they will start); a server without it: by id. Cards move only when the order
  // changed, and a focused button keeps its focus (moving a node would drop it).
  function arrangeJobs(view) {
    const ids = (view.order || []).filter((id) => state.jobEls.has(id));
    const rest = [...state.jobEls.keys()].filter((id) => !ids.includes(id)).sort((a, b) => a - b);
    const wanted = ids.concat(rest).map((id) => state.jobEls.get(id).card);
    const container = $("jobs");
    const shown = [...container.children];
    if (wanted.length === shown.length && wanted.every((card, i) => card === shown[i])) return;
    const focused = document.activeElement;
    container.append(...wanted);
    if (focused && focused !== document.activeElement && container.contains(focused)) focused.focus();
  }

  function resetBatch(key) {
    state.batchKey = key;
    state.frames.clear();
    state.jobSigs.clear();
    state.sawParallel = false;
    state.counted.clear();
    for (const thumb of state.thumbs.values()) if (thumb.shown) URL.revokeObjectURL(thumb.shown);
    state.thumbs.clear();
    for (const parts of state.jobEls.values()) parts.thumb.replaceChildren("no frame yet");
  }

  // What changes with the clock alone (elapsed times) is redrawn on 304 answers too.
  function tick() {
    const view = state.view;
    if (!view) return;
    const enabled = view.jobs.filter((j) => j.status !== "DISABLED");
    const ended = enabled.filter((j) => ENDED.includes(j.status)).length;
    const stats = view.stats || {};
    const folders = [...new Set(view.jobs.map(outputFolder).filter((f) => f))];
    setBar($("batch-bar"), $("batch-percent"), view.progress || 0);
    facts($("batch-facts"), [
      ["Jobs", ended + " of " + enabled.length + " ended" + (view.failed ? ", " + view.failed + " failed" : "")],
      ["Starts at", view.starts_at ? clock(view.starts_at) : null],
      ["Continues at", view.continues_at ? clock(view.continues_at) + " (its window opens)" : null],
      ["ETA", view.status === "RUNNING" ? (view.eta === null ? "estimating…" : duration(view.eta))
        : (view.eta !== null && view.eta !== undefined && !ENDED.includes(view.status) ? duration(view.eta) : null)],
      ["Started", view.times.started ? clock(view.times.started) : null],
      elapsedFact("batch", view.times, view.status === "RUNNING"),
      ["Average job", stats.average_time !== null && stats.average_time !== undefined ? duration(stats.average_time) : null],
      ["Fastest", stats.fastest_index !== null && stats.fastest_index !== undefined
        ? jobNumber(stats.fastest_index) + " " + duration(stats.fastest_time) : null],
      ["Slowest", stats.slowest_index !== null && stats.slowest_index !== undefined
        ? jobNumber(stats.slowest_index) + " " + duration(stats.slowest_time) : null],
      ["Output folder", folders.length === 1 ? folders[0] : null],
      ["Power", view.poweroff ? view.poweroff.action + " at " + clock(view.poweroff.at) : null],
    ]);
    messages($("batch-messages"), view.messages || []);
    for (const id of view.running || []) if (view.jobs[id]) jobFacts(view.jobs[id]);
    emit("tick", view);
    for (const [id, thumb] of state.thumbs) {  // previews not written yet: ask again
      if (!thumb.url && !thumb.busy && Date.now() >= thumb.retryAt && view.jobs[id]) updateThumb(view.jobs[id]);
    }
  }

  // ------------------------------------------------------------------ jobs

  function jobParts(job) {
    let parts = state.jobEls.get(job.id);
    if (parts) return parts;
    const card = el("article", "job");
    card.dataset.job = job.id;
    const thumb = el("div", "thumb", "no frame yet");
    const body = el("div");
    const head = el("div", "job-head");
    const name = el("strong");
    const pill = el("span", "pill");
    const cancel = el("button", "small danger", "Cancel job");
    cancel.type = "button";
    cancel.addEventListener("click", () => act("DELETE", "/batch/jobs/" + job.id));
    head.append(name, pill, el("span", "grow"), cancel);
    const bar = el("div", "bar");
    const fill = el("div", "fill");
    const label = el("span");
    bar.append(fill, label);
    const list = el("dl", "facts");
    const notes = el("ul", "messages");
    body.append(head, bar, list, notes);
    card.append(thumb, body);
    $("jobs").append(card);  // arrangeJobs puts it in its place
    parts = { card, thumb, head, name, pill, cancel, fill, label, list, notes };
    state.jobEls.set(job.id, parts);
    emit("job-card", parts, job);
    return parts;
  }

  function renderJob(job) {
    const parts = jobParts(job);
    parts.card.className = "job " + job.status;
    parts.name.textContent = jobLabel(job);
    parts.pill.textContent = job.status;
    parts.pill.className = "pill " + job.status;
    const cancellable = state.view.status === "RUNNING" && (job.status === "RUNNING" || job.status === "QUEUED");
    parts.cancel.hidden = !cancellable;
    setBar(parts.fill, parts.label, job.progress || 0);
    messages(parts.notes, job.messages || []);
  }

  function jobFacts(job) {
    const parts = state.jobEls.get(job.id);
    if (!parts) return;
    const data = (job.engine && job.engine.data) || {};
    const running = job.status === "RUNNING";
    const folder = outputFolder(job);
    facts(parts.list, [
      ["Frames", job.frames_done + " / " + job.frames_total],
      ["ETA", job.eta !== null && job.eta !== undefined
        ? duration(job.eta) + (job.eta_runs ? " (from " + job.eta_runs + (job.eta_runs === 1 ? " similar run)" : " similar runs)") : "")
        : (running ? "estimating…" : null)],
      ["Started", job.times.started ? clock(job.times.started) : null],
      elapsedFact(job.id, job.times, running && state.view.status === "RUNNING"),
      ["Engine", job.engine && job.engine.type ? job.engine.type : null],
      ["Blender", job.blender && job.blender.path
        ? (job.blender.version ? job.blender.version + " · " : "") + job.blender.path : null],
      ["Frame", running && data.frame ? data.frame : null],
      ["Samples", running && data.samples_todo ? (data.samples_done || 0) + " / " + data.samples_todo : null],
      ["Memory", data.mem || null],
      ["Output folder", folder],
    ]);
  }

  // Per-frame render times, measured here from successive polls (the poll has no per-frame
  // times): a frame's time is the time between two changes of frames_done. The first interval
  // counts only when this page saw the job start (else it began before the page opened).
  function trackFrames(job, now) {
    let track = state.frames.get(job.id);
    if (!track) {
      track = { done: job.frames_done, at: null, exact: false, times: [] };
      state.frames.set(job.id, track);
      if (job.status === "RUNNING") track.at = now;
      return;
    }
    if (job.status === "RUNNING" && track.at === null) {
      track.at = now;
      track.exact = true;
    }
    const added = job.frames_done - track.done;
    if (added > 0 && track.at !== null) {
      if (track.exact) for (let i = 0; i < added; i++) track.times.push((now - track.at) / 1000 / added);
      track.exact = true;
      track.at = now;
    }
    track.done = job.frames_done;
  }

  // ------------------------------------------------------------------ images

  async function fetchBlobUrl(path) {
    const response = await api("GET", path);
    if (!response.ok) throw new Error((await statusOf(response)).status || String(response.status));
    return URL.createObjectURL(await response.blob());
  }

  async function updateThumb(job) {
    const outputs = job.outputs || [];
    if (!outputs.length) return;
    const index = outputs.length - 1, path = outputs[index];
    let thumb = state.thumbs.get(job.id);
    if (thumb && thumb.path === path && (thumb.url || thumb.busy || Date.now() < thumb.retryAt)) return;
    if (!thumb || thumb.path !== path) {
      thumb = { path, index, url: thumb ? thumb.url : null, busy: false, tries: 0, retryAt: 0,
                shown: thumb ? thumb.shown : null };
      state.thumbs.set(job.id, thumb);
    }
    thumb.busy = true;
    thumb.tries += 1;
    try {
      const url = await fetchBlobUrl("/previews/current/" + job.id + "/" + index);
      if (state.thumbs.get(job.id) !== thumb) { URL.revokeObjectURL(url); return; }
      if (thumb.shown) URL.revokeObjectURL(thumb.shown);
      thumb.url = thumb.shown = url;
      showThumb(job.id, thumb);
    } catch (e) {
      // no preview yet (a slow EXR save, a loaded machine): asked again after 2, 4, 8... s (at
      // most 30 s apart), never given up while this frame is the job's last
      thumb.url = null;
      thumb.retryAt = Date.now() + Math.min(30000, 1000 * 2 ** thumb.tries);
    } finally {
      thumb.busy = false;
    }
  }

  function showThumb(jobId, thumb) {
    const parts = state.jobEls.get(jobId);
    if (!parts) return;
    let img = parts.thumb.querySelector("img");
    if (!img) {
      img = el("img");
      img.addEventListener("click", () => openViewer(jobId));
      parts.thumb.replaceChildren(img);
    }
    img.alt = "Last frame of job " + jobNumber(jobId) + ": " + thumb.path.split(/[\\/]/).pop();
    img.title = thumb.path;
    img.src = thumb.url;
  }

  async function openViewer(jobId) {
    const thumb = state.thumbs.get(jobId);
    if (!thumb) return;
    const caption = $("viewer-caption");
    caption.textContent = thumb.path;
    $("viewer-img").src = thumb.shown;
    $("viewer").hidden = false;
    if (!SHOWABLE.test(thumb.path)) { caption.textContent += " (preview: browsers cannot show this format)"; return; }
    try {
      const url = await fetchBlobUrl("/frames/current/" + jobId + "/" + thumb.index);
      closeViewerUrl();
      state.viewerUrl = url;
      $("viewer-img").src = url;
    } catch (e) {
      caption.textContent += " (" + e.message + ")";
    }
  }

  function closeViewerUrl() {
    if (state.viewerUrl) URL.revokeObjectURL(state.viewerUrl);
    state.viewerUrl = null;
  }

  function closeViewer() {
    $("viewer").hidden = true;
    $("viewer-img").removeAttribute("src");
    closeViewerUrl();
  }

  // ------------------------------------------------------------------ actions and start-up

  function wire() {
    $("start").addEventListener("click", () => act("GET", "/batch/start"));
    $("cancel-batch").addEventListener("click", () => {
      if (confirm("Cancel the whole batch? The running render stops.")) act("DELETE", "/batch");
    });
    $("resume").addEventListener("click", () => act("GET", "/batch/resume"));
    $("retry").addEventListener("click", () => act("GET", "/batch/resume"));
    $("token-form").addEventListener("submit", (e) => {
      e.preventDefault();
      state.token = $("token-input").value.trim();
      sessionStorage.setItem(TOKEN_KEY, state.token);
      $("token-input").value = "";
      $("token-box").hidden = true;
      state.etag = null;
      state.featuresKnown = false;
      for (const thumb of state.thumbs.values()) { thumb.tries = 0; thumb.retryAt = 0; }
      poll();
    });
    $("viewer").addEventListener("click", closeViewer);
    document.addEventListener("keydown", (e) => { if (e.key === "Escape") closeViewer(); });
    document.addEventListener("visibilitychange", () => { if (!document.hidden) poll(); });
  }

  // What the other scripts use. They run after this one and before DOMContentLoaded, so they
  // have all subscribed by the first poll.
  window.RenderPlus = {
    $, el, on, api, act, notice, statusOf, state, duration, clock, serverNow, percent, jobNumber, jobLabel,
    supports: (path, method) => Boolean(state.paths[path] && (!method || state.paths[path][method])),
  };

  // The routes first (one request), so the first poll draws every control it offers.
  async function begin() {
    await loadFeatures();
    poll();
  }

  takeToken();
  wire();
  document.addEventListener("DOMContentLoaded", begin);
})();
