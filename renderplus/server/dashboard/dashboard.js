// Render+ dashboard: polls GET /batch (ETag / 304) and shows it; no library, no build step.
// The access token comes from the address the server printed (#token=...), is dropped from the
// address bar at once, kept in this tab's sessionStorage (never a cookie: cookies ignore ports)
// and sent as an Authorization header; images are fetched into blob: URLs for the same reason.
"use strict";
(() => {
  const TOKEN_KEY = "renderplus.token";
  const POLL_MS = 1000, HIDDEN_MS = 10000, IDLE_MS = 5000, MAX_BACKOFF_MS = 15000;
  const CHART_FRAMES = 60, TIMELINE_JOBS = 40;
  const SHOWABLE = /\.(png|jpe?g|webp|gif|bmp)$/i;
  const ENDED = ["FINISHED", "CANCELLED", "FAILED"];
  const $ = (id) => document.getElementById(id);
  const SVG = "http://www.w3.org/2000/svg";

  const state = {
    token: null, etag: null, view: null, timer: null, failures: 0, skewMs: 0,
    canResume: false, featuresKnown: false, batchKey: null, sawParallel: false,
    frames: new Map(),   // job id -> {done, at, exact, times: [seconds per frame]}
    thumbs: new Map(),   // job id -> {path, index, url, busy, tries}
    jobEls: new Map(),   // job id -> the job's card and its parts
    jobSigs: new Map(),  // job id -> its JSON last drawn (an unchanged job is not redrawn)
    viewerUrl: null,
  };

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

  async function act(method, path, body) {
    try {
      const response = await api(method, path, { body });
      const data = await statusOf(response);
      let text = data.status || response.statusText;
      if (data.errors) text += "\n" + data.errors.map((e) => e.path + ": " + e.message).join("\n");
      if (data.warnings && data.warnings.length) text += "\n" + data.warnings.join("\n");
      notice(text, response.ok);
    } catch (e) {
      notice("The server did not answer: " + e.message, false);
    }
    state.etag = null;
    poll();
  }

  async function loadFeatures() {
    try {
      const response = await api("GET", "/openapi.json");
      if (!response.ok) return;
      const doc = await response.json();
      state.canResume = Boolean(doc.paths && doc.paths["/batch/resume"]);
      state.featuresKnown = true;
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
      if (!state.featuresKnown && response.status !== 401) loadFeatures();
    } catch (e) {
      state.failures += 1;
      delay = Math.min(MAX_BACKOFF_MS, POLL_MS * 2 ** state.failures);
      connection("server unreachable; trying again in " + Math.round(delay / 1000) + " s");
    }
    state.timer = setTimeout(poll, delay);
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
  function elapsed(times) {
    if (!times.started) return null;
    return (times.finished || serverNow()) - times.started;
  }

  // ------------------------------------------------------------------ the batch

  function showNoBatch() {
    state.view = null;
    $("batch-status").textContent = "NO BATCH";
    $("batch-status").className = "pill";
    $("no-batch").hidden = false;
    $("cancel-batch").disabled = true;
    connection("live");
  }

  function render(view) {
    const key = view.name + "|" + (view.times.started || "waiting");
    if (key !== state.batchKey) resetBatch(key);
    state.view = view;
    $("no-batch").hidden = true;
    $("batch-name").textContent = view.name || "";
    $("batch-status").textContent = view.status;
    $("batch-status").className = "pill " + view.status;
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
    const running = view.status === "RUNNING";
    $("start").disabled = running;
    $("cancel-batch").disabled = !running && !view.poweroff;
    $("resume").hidden = !(state.canResume && view.resumable);
    const again = view.jobs.some((j) => j.status === "FAILED" || j.status === "CANCELLED");
    $("retry").hidden = !(state.canResume && !view.resumable && !running && view.status !== "WAITING" && again);
    tick();
  }

  function resetBatch(key) {
    state.batchKey = key;
    state.frames.clear();
    state.jobSigs.clear();
    state.sawParallel = false;
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
    setBar($("batch-bar"), $("batch-percent"), view.progress || 0);
    facts($("batch-facts"), [
      ["Jobs", ended + " of " + enabled.length + " ended" + (view.failed ? ", " + view.failed + " failed" : "")],
      ["ETA", view.status === "RUNNING" ? (view.eta === null ? "estimating…" : duration(view.eta)) : null],
      ["Started", view.times.started ? clock(view.times.started) : null],
      [view.times.finished ? "Render time" : "Elapsed", view.times.started ? duration(elapsed(view.times)) : null],
      ["Average job", stats.average_time !== null && stats.average_time !== undefined ? duration(stats.average_time) : null],
      ["Fastest", stats.fastest_index !== null && stats.fastest_index !== undefined
        ? "#" + stats.fastest_index + " " + duration(stats.fastest_time) : null],
      ["Slowest", stats.slowest_index !== null && stats.slowest_index !== undefined
        ? "#" + stats.slowest_index + " " + duration(stats.slowest_time) : null],
      ["Power", view.poweroff ? view.poweroff.action + " at " + clock(view.poweroff.at) : null],
    ]);
    messages($("batch-messages"), view.messages || []);
    for (const id of view.running || []) if (view.jobs[id]) jobFacts(view.jobs[id]);
    drawChart(view);
    drawTimeline(view);
    for (const [id, thumb] of state.thumbs) {  // previews not written yet: ask again
      if (!thumb.url && !thumb.busy && thumb.tries < 5 && view.jobs[id]) updateThumb(view.jobs[id]);
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
    const container = $("jobs");
    const next = [...container.children].find((c) => Number(c.dataset.job) > job.id);
    container.insertBefore(card, next || null);
    parts = { card, thumb, name, pill, cancel, fill, label, list, notes };
    state.jobEls.set(job.id, parts);
    return parts;
  }

  function renderJob(job) {
    const parts = jobParts(job);
    parts.card.className = "job " + job.status;
    parts.name.textContent = "#" + job.id + " " + (job.name || "");
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
    facts(parts.list, [
      ["Frames", job.frames_done + " / " + job.frames_total],
      ["ETA", running ? (job.eta === null ? "estimating…" : duration(job.eta)) : null],
      ["Started", job.times.started ? clock(job.times.started) : null],
      [job.times.finished ? "Render time" : "Elapsed", job.times.started ? duration(elapsed(job.times)) : null],
      ["Engine", job.engine && job.engine.type ? job.engine.type : null],
      ["Frame", running && data.frame ? data.frame : null],
      ["Samples", running && data.samples_todo ? (data.samples_done || 0) + " / " + data.samples_todo : null],
      ["Memory", data.mem || null],
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
    if (thumb && thumb.path === path && (thumb.url || thumb.busy || thumb.tries >= 5)) return;
    if (!thumb || thumb.path !== path) {
      thumb = { path, index, url: thumb ? thumb.url : null, busy: false, tries: 0, shown: thumb ? thumb.shown : null };
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
      thumb.url = null;  // no preview yet (a slow EXR save): the next poll asks again
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
    img.alt = "Last frame of job " + jobId + ": " + thumb.path.split(/[\\/]/).pop();
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

  // ------------------------------------------------------------------ charts (inline SVG)

  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function drawChart(view) {
    const running = view.jobs.filter((j) => j.status === "RUNNING");
    const candidates = running.length ? running : view.jobs;
    const job = candidates.filter((j) => (state.frames.get(j.id) || { times: [] }).times.length).pop();
    $("chart-box").hidden = !job;
    if (!job) return;
    const times = state.frames.get(job.id).times.slice(-CHART_FRAMES);
    const count = times.length === 1 ? "the 1 frame seen" : "the last " + times.length + " frames seen";
    $("chart-title").textContent = "#" + job.id + " " + job.name + " (" + count + ")";
    const W = Math.max(320, $("chart").clientWidth), H = 140, left = 44, top = 10, bottom = 20;
    const max = Math.max(...times) * 1.15 || 1, avg = times.reduce((a, b) => a + b, 0) / times.length;
    const step = (W - left) / Math.max(times.length, 10);
    const y = (v) => top + (H - top - bottom) * (1 - v / max);
    const root = svg("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": "Frame render times" });
    root.append(svg("line", { class: "axis", x1: left, y1: H - bottom, x2: W, y2: H - bottom }),
                svg("text", { x: 0, y: top + 8 }, duration(max)), svg("text", { x: 0, y: H - bottom }, "0 s"));
    times.forEach((t, i) => {
      const bar = svg("rect", { class: "frame-bar", x: left + i * step + 1, y: y(t), width: Math.max(1, step - 2),
                                height: Math.max(1, H - bottom - y(t)) });
      bar.append(svg("title", {}, duration(t)));
      root.append(bar);
    });
    root.append(svg("line", { class: "avg", x1: left, y1: y(avg), x2: W, y2: y(avg) }),
                svg("text", { x: left + 4, y: H - 4 }, "average " + duration(avg) + " per frame"));
    $("chart").replaceChildren(root);
  }

  function drawTimeline(view) {
    const now = serverNow();
    const started = view.jobs.filter((j) => j.times.started).sort((a, b) => a.times.started - b.times.started);
    let overlap = false, lastEnd = -Infinity;
    for (const job of started) {
      if (job.times.started < lastEnd) overlap = true;
      lastEnd = Math.max(lastEnd, job.times.finished || now);
    }
    const show = state.sawParallel || overlap;
    $("timeline-box").hidden = !show;
    if (!show) return;
    const jobs = started.slice(-TIMELINE_JOBS);
    const start = Math.min(...jobs.map((j) => j.times.started));
    const end = Math.max(...jobs.map((j) => j.times.finished || serverNow()));
    const span = Math.max(end - start, 1), W = Math.max(320, $("timeline").clientWidth), left = 130, lane = 18;
    const H = jobs.length * lane + 20;
    const x = (t) => left + (W - left - 4) * (t - start) / span;
    const root = svg("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": "Batch timeline" });
    jobs.forEach((job, i) => {
      const y = i * lane + 2, from = x(job.times.started), to = x(job.times.finished || serverNow());
      root.append(svg("text", { x: 0, y: y + 12 }, ("#" + job.id + " " + job.name).slice(0, 20)));
      const bar = svg("rect", { class: "lane " + job.status, x: from, y, width: Math.max(2, to - from), height: lane - 5 });
      bar.append(svg("title", {}, job.name + ": " + duration((job.times.finished || serverNow()) - job.times.started)));
      root.append(bar);
    });
    root.append(svg("text", { x: left, y: H - 2 }, clock(start)),
                svg("text", { x: W - 60, y: H - 2 }, "+" + duration(span)));
    $("timeline").replaceChildren(root);
  }

  // ------------------------------------------------------------------ actions and start-up

  async function submitRecipe(file) {
    if (!file) return;
    if (file.size > 8 * 1024 * 1024) { notice(file.name + " is over 8 MiB: not a recipe", false); return; }
    act("POST", "/batch/recipe", await file.text());
  }

  function wire() {
    $("start").addEventListener("click", () => act("GET", "/batch/start"));
    $("cancel-batch").addEventListener("click", () => {
      if (confirm("Cancel the whole batch? The running render stops.")) act("DELETE", "/batch");
    });
    $("resume").addEventListener("click", () => act("GET", "/batch/resume"));
    $("retry").addEventListener("click", () => act("GET", "/batch/resume"));
    const drop = $("drop");
    $("recipe-file").addEventListener("change", (e) => { submitRecipe(e.target.files[0]); e.target.value = ""; });
    drop.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") $("recipe-file").click(); });
    drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
    drop.addEventListener("dragleave", () => drop.classList.remove("over"));
    drop.addEventListener("drop", (e) => {
      e.preventDefault();
      drop.classList.remove("over");
      submitRecipe(e.dataTransfer.files[0]);
    });
    $("token-form").addEventListener("submit", (e) => {
      e.preventDefault();
      state.token = $("token-input").value.trim();
      sessionStorage.setItem(TOKEN_KEY, state.token);
      $("token-input").value = "";
      $("token-box").hidden = true;
      state.etag = null;
      state.featuresKnown = false;
      for (const thumb of state.thumbs.values()) thumb.tries = 0;
      poll();
    });
    $("viewer").addEventListener("click", closeViewer);
    document.addEventListener("keydown", (e) => { if (e.key === "Escape") closeViewer(); });
    document.addEventListener("visibilitychange", () => { if (!document.hidden) poll(); });
  }

  takeToken();
  wire();
  poll();
})();
