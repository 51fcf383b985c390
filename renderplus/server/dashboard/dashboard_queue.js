// Render+ dashboard: the queue of batches behind the current one (GET /queue, a private route:
// the page sends its token), moved by drag or up/down (PATCH /queue/{id} {"position"}, 0 =
// next), removed (DELETE /queue/{id}), held and continued (POST /queue/hold, /queue/continue);
// and recipes dropped anywhere on the page: queued (POST /queue) while a batch runs or is
// paused, else loaded (POST /batch/recipe). See docs/api.md, Routes.
"use strict";
(() => {
  const RP = window.RenderPlus;
  const { $, el, on, act, api, clock } = RP;
  const QUEUE_MS = 3000;          // the queue changes only when someone changes it: asked less often
  const MAX_RECIPE = 8 * 1024 * 1024;
  const queue = { supported: true, asked: 0, busy: false, sig: null, entries: [], held: false };

  // ------------------------------------------------------------------ reading the queue

  // Asked only of a server that lists the route (GET /openapi.json): an older one has no queue.
  async function refresh() {
    if (!queue.supported || queue.busy || !RP.supports("/queue", "get")) return;
    queue.busy = true;
    queue.asked = Date.now();
    try {
      const response = await api("GET", "/queue");
      if ([404, 405, 409, 501].includes(response.status)) {
        queue.supported = false;  // a server without a queue (or without a store for one): hidden
      } else if (response.ok) {
        show(await response.json());
      }
    } catch (e) { /* the batch poll reports an unreachable server */ }
    finally { queue.busy = false; }
  }

  function show(data) {
    const entries = (data.batches || []).slice().sort((a, b) => a.position - b.position);
    $("queue-box").hidden = false;
    queue.held = Boolean(data.held);
    $("queue-held").hidden = !queue.held;
    $("queue-hold").hidden = queue.held;
    $("queue-continue").hidden = !queue.held;
    $("queue-count").textContent = entries.length ? "(" + entries.length + (entries.length === 1 ? " batch)" : " batches)") : "";
    $("queue-empty").hidden = entries.length > 0;
    const end = $("queue-end");
    end.hidden = !data.estimated_end || !entries.length;
    end.textContent = data.estimated_end ? "Everything done about " + clock(data.estimated_end) : "";
    const sig = JSON.stringify(entries);
    if (sig === queue.sig) return;  // unchanged: no redraw (a drag or the focus stays put)
    queue.sig = sig;
    queue.entries = entries;
    const list = $("queue");
    const focused = list.contains(document.activeElement) ? document.activeElement.dataset.focus : null;
    list.replaceChildren(...entries.map((entry, index) => row(entry, index, entries.length)));
    if (focused) refocus(list, focused);
  }

  function row(entry, index, count) {
    const item = el("li", "queued");
    item.dataset.id = entry.id;
    item.dataset.label = entry.name;
    const handle = el("span", "handle", "⠿");
    handle.draggable = count > 1;
    handle.hidden = count < 2;
    handle.title = "Drag to change when this batch renders";
    handle.setAttribute("aria-hidden", "true");
    const jobs = entry.jobs === 1 ? "1 job" : entry.jobs + " jobs";
    const when = (entry.estimated_start ? ", starts about " + clock(entry.estimated_start) : "")
      + (entry.estimated_end ? ", done about " + clock(entry.estimated_end) : "")
      + (entry.estimate_runs ? " (from " + similar(entry.estimate_runs) + ")" : "");
    const up = RP.rowButton("↑", "Render " + entry.name + " earlier", entry.id + ":up", () => moveQueued(entry.id, index - 1));
    const down = RP.rowButton("↓", "Render " + entry.name + " later", entry.id + ":down", () => moveQueued(entry.id, index + 1));
    const remove = RP.rowButton("Remove", "Remove " + entry.name + " from the queue", entry.id + ":remove", () => {
      if (confirm("Remove “" + entry.name + "” from the queue? Its recipe is dropped.")) act("DELETE", "/queue/" + entry.id);
    });
    remove.classList.add("danger");
    up.disabled = index === 0;
    down.disabled = index === count - 1;
    up.hidden = down.hidden = count < 2;
    item.append(handle, el("span", "position", String(index + 1)), el("strong", "", entry.name),
                el("span", "muted", jobs + ", added " + clock(entry.added) + when), el("span", "grow"), up, down, remove);
    return item;
  }

  function similar(runs) {
    return runs === 1 ? "1 similar run" : runs + " similar runs";
  }

  function refocus(list, key) {
    const [id, what] = key.split(":");
    const twin = { up: "down", down: "up" }[what];
    const find = (name) => list.querySelector("li[data-id='" + id + "'] [data-focus='" + id + ":" + name + "']");
    const button = find(what);
    if (button && !button.disabled && !button.hidden) button.focus();
    else if (twin && find(twin)) find(twin).focus();
  }

  function moveQueued(id, position) {
    if (position < 0 || position >= queue.entries.length) return;
    act("PATCH", "/queue/" + id, JSON.stringify({ position }));
  }

  // ------------------------------------------------------------------ recipes dropped on the page

  function queues() {
    const view = RP.state.view;
    return queue.supported && RP.supports("/queue", "post") && Boolean(view) && (view.status === "RUNNING" || view.status === "PAUSED");
  }

  function showDropTarget() {
    $("drop-text").textContent = queues() ? "Drop a recipe (.json) here to queue it, or click to choose one"
                                          : "Drop a recipe (.json) here, or click to choose one";
  }

  async function submitRecipe(file) {
    if (!file) return;
    if (file.size > MAX_RECIPE) { RP.notice(file.name + " is over 8 MiB: not a recipe", false); return; }
    act("POST", queues() ? "/queue" : "/batch/recipe", await file.text());
  }

  function carriesFiles(event) {
    return Boolean(event.dataTransfer) && [...event.dataTransfer.types].includes("Files");
  }

  function wireDrops() {
    const drop = $("drop");
    $("recipe-file").addEventListener("change", (e) => { submitRecipe(e.target.files[0]); e.target.value = ""; });
    drop.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") $("recipe-file").click(); });
    // The whole page takes a file (a file dropped elsewhere would make the browser open it).
    document.addEventListener("dragover", (e) => {
      if (!carriesFiles(e)) return;
      e.preventDefault();
      drop.classList.add("over");
    });
    document.addEventListener("dragleave", (e) => { if (!e.relatedTarget) drop.classList.remove("over"); });
    document.addEventListener("drop", (e) => {
      if (!carriesFiles(e)) return;
      e.preventDefault();
      drop.classList.remove("over");
      submitRecipe(e.dataTransfer.files[0]);
    });
  }

  // ------------------------------------------------------------------ wiring

  on("poll", () => { if (Date.now() - queue.asked >= QUEUE_MS) refresh(); });
  on("acted", () => { queue.asked = 0; });  // the poll that follows an action asks again
  on("view", showDropTarget);
  $("queue-hold").addEventListener("click", () => act("POST", "/queue/hold"));
  $("queue-continue").addEventListener("click", () => act("POST", "/queue/continue"));
  RP.reorderable($("queue"), {
    movable: () => [...$("queue").children],
    move: (item, position) => moveQueued(Number(item.dataset.id), position),
  });
  wireDrops();
})();
