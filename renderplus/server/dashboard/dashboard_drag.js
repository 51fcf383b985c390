// Render+ dashboard: drag to reorder a list (the queued batches, the queued jobs), by a handle
// (".handle", so the rest of a row keeps selectable text). Dropping an item on another gives it
// that item's place: dragged down it lands after it, dragged up before it. Every list also has
// move up / move down buttons, so nothing needs a mouse.
"use strict";
(() => {
  const RP = window.RenderPlus;

  // list: the element holding the items; options.movable(): the items that may move, in their
  // order (the dragged one among them); options.move(item, position): position in that order.
  RP.reorderable = function reorderable(list, options) {
    let dragged = null, marked = null;

    function unmark() {
      if (marked) marked.classList.remove("drop-before", "drop-after");
      marked = null;
    }
    function finish() {
      unmark();
      if (dragged) dragged.classList.remove("dragging");
      dragged = null;
    }
    function targetOf(event) {
      if (!dragged || !(event.target instanceof Element)) return null;
      const items = options.movable();
      const target = items.find((item) => item.contains(event.target));
      return target && target !== dragged ? target : null;
    }

    list.addEventListener("dragstart", (event) => {
      const handle = event.target instanceof Element ? event.target.closest(".handle") : null;
      const item = handle && options.movable().find((candidate) => candidate.contains(handle));
      if (!item) return;
      dragged = item;
      item.classList.add("dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", item.dataset.label || "");
      event.dataTransfer.setDragImage(item, 12, 12);
    });
    list.addEventListener("dragover", (event) => {
      const target = targetOf(event);
      if (!target) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      const items = options.movable();
      const down = items.indexOf(dragged) < items.indexOf(target);
      if (marked !== target) unmark();
      marked = target;
      target.classList.add(down ? "drop-after" : "drop-before");
    });
    list.addEventListener("drop", (event) => {
      const target = targetOf(event);
      if (!target) return;
      event.preventDefault();
      const item = dragged, position = options.movable().indexOf(target);
      finish();
      if (position >= 0) options.move(item, position);
    });
    list.addEventListener("dragend", finish);
  };

  // A small button of a row (move up, move down, skip, remove): its label for screen readers
  // names the row, and "data-focus" lets a redrawn list give the focus back to its twin.
  RP.rowButton = function rowButton(text, label, focusKey, onClick) {
    const button = RP.el("button", "small", text);
    button.type = "button";
    button.setAttribute("aria-label", label);
    button.title = label;
    button.dataset.focus = focusKey;
    button.addEventListener("click", onClick);
    return button;
  };
})();
