// Render+ dashboard: changing the current batch. Pause it (now, after the frame, after the job:
// POST /batch/pause) and continue it (GET /batch/resume); move a queued job (drag, or the
// up/down buttons: PATCH /batch/jobs/{id} {"position"}, 0 = next among the queued jobs), skip
// it or take a skipped one back ({"enabled": false / true}). See docs/api.md, Routes
// and Poll. Job edits are offered when the poll has "order" (a server that can edit).
"use strict";
(() => {
  const RP = window.RenderPlus;
  const { $, on, act } = RP;
  const STRENGTH = { job: 1, frame: 2, now: 3 };  // a stronger pause may replace a weaker one
  const PAUSING = { now: "pausing now…", frame: "pausing after the frame…", job: "pausing after the job…" };
  const LIVE = ["WAITING", "RUNNING", "PAUSED"];
  const controls = new Map();  // job id -> {handle, up, down, skip}

  // ------------------------------------------------------------------ pause and continue

  function showPause(view) {
    const running = Boolean(view) && view.status === "RUNNING";
    const pausing = running ? view.pausing || null : null;
    $("pause-group").hidden = !(running && RP.supports("/batch/pause"));
    for (const button of $("pause-group").querySelectorAll("button")) {
      button.disabled = Boolean(pausing) && STRENGTH[button.dataset.when] <= STRENGTH[pausing];
    }
    $("batch-pausing").hidden = !pausing;
    $("batch-pausing").textContent = pausing ? PAUSING[pausing] || "pausing…" : "";
    $("continue").hidden = !(view && view.status === "PAUSED");
  }

  // ------------------------------------------------------------------ the jobs' run order

  // The queued jobs in the order they will start: what a position counts.
  function queuedOrder(view) {
    return (view.order || []).filter((id) => view.jobs[id] && view.jobs[id].status === "QUEUED");
  }

  function moveJob(id, position) {
    return act("PATCH", "/batch/jobs/" + id, JSON.stringify({ position }));
  }

  function jobName(job) { return RP.jobLabel(job); }

  on("job-card", (parts, job) => {
    const name = jobName(job);
    const handle = RP.el("span", "handle", "⠿");
    handle.draggable = true;
    handle.title = "Drag to change when this job renders";
    handle.setAttribute("aria-hidden", "true");
    const up = RP.rowButton("↑", "Render " + name + " earlier", job.id + ":up", () => step(job.id, -1));
    const down = RP.rowButton("↓", "Render " + name + " later", job.id + ":down", () => step(job.id, 1));
    const skip = RP.rowButton("Skip", "Skip " + name, job.id + ":skip", () => toggle(job.id));
    parts.card.dataset.label = name;
    parts.head.insertBefore(handle, parts.head.firstChild);
    parts.head.append(up, down, skip);  // after "Cancel job", the card's first button
    controls.set(job.id, { handle, up, down, skip });
  });

  function step(id, by) {
    const view = RP.state.view;
    const order = queuedOrder(view);
    const position = order.indexOf(id) + by;
    if (order.indexOf(id) < 0 || position < 0 || position >= order.length) return;
    moveJob(id, position);
  }

  function toggle(id) {
    const job = RP.state.view.jobs[id];
    act("PATCH", "/batch/jobs/" + id, JSON.stringify({ enabled: job.status === "DISABLED" }));
  }

  function showJobControls(view) {
    const editable = Boolean(view) && Array.isArray(view.order) && LIVE.includes(view.status);
    const order = editable ? queuedOrder(view) : [];
    for (const [id, parts] of controls) {
      const job = view && view.jobs[id];
      const at = order.indexOf(id);
      const movable = at >= 0 && order.length > 1;
      const focused = document.activeElement;
      parts.handle.hidden = !movable;
      parts.handle.draggable = movable;
      parts.up.hidden = parts.down.hidden = !movable;
      parts.up.disabled = at <= 0;
      parts.down.disabled = at === order.length - 1;
      const skippable = editable && Boolean(job) && (job.status === "QUEUED" || job.status === "DISABLED");
      parts.skip.hidden = !skippable;
      if (skippable) {
        const name = jobName(job), include = job.status === "DISABLED";
        parts.skip.textContent = include ? "Include" : "Skip";
        parts.skip.title = include ? "Render " + name + " after the queued jobs" : "Skip " + name;
        parts.skip.setAttribute("aria-label", parts.skip.title);
      }
      // a move button that just became useless hands the focus to its twin
      if (focused === parts.up && parts.up.disabled && !parts.down.hidden) parts.down.focus();
      if (focused === parts.down && parts.down.disabled && !parts.up.hidden) parts.up.focus();
    }
  }

  // ------------------------------------------------------------------ wiring

  on("view", (view) => {
    showPause(view);
    showJobControls(view);
  });

  for (const button of $("pause-group").querySelectorAll("button")) {
    button.addEventListener("click", () => act("POST", "/batch/pause", JSON.stringify({ when: button.dataset.when })));
  }
  $("continue").addEventListener("click", () => act("GET", "/batch/resume"));
  RP.reorderable($("jobs"), {
    movable: () => {
      const view = RP.state.view;
      return view ? queuedOrder(view).map((id) => controls.has(id) && RP.state.jobEls.get(id).card).filter(Boolean) : [];
    },
    move: (card, position) => moveJob(Number(card.dataset.job), position),
  });
})();
