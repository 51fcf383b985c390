// Render+ dashboard: the per-frame render-time chart of the running job and the timeline of
// parallel jobs (an arrow from each job to a job that waited for it: the poll's "after"), drawn
// as inline SVG on every tick of the core (dashboard.js).
"use strict";
(() => {
  const { $, on, state, duration, clock, serverNow, jobNumber, jobLabel } = window.RenderPlus;
  const CHART_FRAMES = 60, TIMELINE_JOBS = 40;
  const SVG = "http://www.w3.org/2000/svg";

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
    $("chart-title").textContent = jobLabel(job) + " (" + count + ")";
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
    const waited = started.some((j) => (j.after || []).length);
    const show = state.sawParallel || overlap || waited;
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
      root.append(svg("text", { x: 0, y: y + 12 }, jobLabel(job).slice(0, 20)));
      const bar = svg("rect", { class: "lane " + job.status, x: from, y, width: Math.max(2, to - from), height: lane - 5,
                                "data-job": job.id });
      bar.append(svg("title", {}, job.name + ": " + duration((job.times.finished || serverNow()) - job.times.started)));
      root.append(bar);
    });
    drawWaits(root, jobs, x, lane);
    root.append(svg("text", { x: left, y: H - 2 }, clock(start)),
                svg("text", { x: W - 60, y: H - 2 }, "+" + duration(span)));
    $("timeline").replaceChildren(root);
  }

  // An arrow from the end of each dependency's bar to the start of the bar of the job that
  // waited for it (both drawn: a dependency scrolled off the timeline draws none).
  function drawWaits(root, jobs, x, lane) {
    const lanes = new Map(jobs.map((job, i) => [job.id, i]));
    const middle = (i) => i * lane + 2 + (lane - 5) / 2;
    let any = false;
    jobs.forEach((job, i) => {
      for (const id of job.after || []) {
        if (!lanes.has(id)) continue;
        const dep = jobs[lanes.get(id)];
        const x1 = x(dep.times.finished || serverNow()), y1 = middle(lanes.get(id));
        const x2 = x(job.times.started), y2 = middle(i), bend = Math.max(6, (x2 - x1) / 2);
        const arrow = svg("path", { class: "after-arrow", "data-from": id, "data-to": job.id,
                                    "marker-end": "url(#after-head)",
                                    d: `M ${x1} ${y1} C ${x1 + bend} ${y1}, ${x2 - bend} ${y2}, ${x2} ${y2}` });
        arrow.append(svg("title", {}, jobLabel(job) + " waited for " + jobNumber(id) + " " + dep.name));
        root.append(arrow);
        any = true;
      }
    });
    if (!any) return;
    const marker = svg("marker", { id: "after-head", viewBox: "0 0 8 8", refX: 7, refY: 4,
                                   markerWidth: 6, markerHeight: 6, orient: "auto" });
    marker.append(svg("path", { class: "after-head", d: "M 0 0 L 8 4 L 0 8 z" }));
    const defs = svg("defs");
    defs.append(marker);
    root.prepend(defs);
  }

  on("tick", (view) => {
    drawChart(view);
    drawTimeline(view);
  });
})();
