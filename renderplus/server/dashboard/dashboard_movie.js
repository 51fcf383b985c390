// Render+ dashboard: each job's movie (poll key "movie", recipe key "encode"), under its facts:
// waiting, "Encoding movie… 45 %", why it failed, or the movie itself with a download link.
//
// GET /batch/jobs/<id>/movie is private, as frames are, and a <video src> cannot send the token
// header (the token never goes in a URL). So with a token the movie is fetched with it into a
// blob: URL (whole; seeking works in it), and without one (loopback opened with --no-token) the
// video plays the route itself, seeking with Range requests. Browsers play H.264 MP4 and VP9
// WebM, not ProRes or FFV1: those get the download link only. A movie over MAX_BLOB waits for a
// click before it is fetched, so a tab never pulls gigabytes on its own.
"use strict";
(() => {
  const R = window.RenderPlus;
  const PLAYABLE = /\.(mp4|webm)$/i;
  const MAX_BLOB = 512 * 1024 * 1024;
  const shown = new Map();  // job id -> {key, url: blob URL or null}
  const boxes = new Map();  // job id -> the card's movie box

  const route = (jobId) => "/batch/jobs/" + jobId + "/movie";
  const baseName = (path) => String(path || "movie").split(/[\\/]/).pop();

  function size(bytes) {
    const units = ["bytes", "KB", "MB", "GB", "TB"];
    let value = bytes, unit = 0;
    while (value >= 1000 && unit < units.length - 1) { value /= 1000; unit += 1; }
    return (unit ? value.toFixed(1) : String(value)) + " " + units[unit];
  }

  function statusText(movie) {
    switch (movie.status) {
      case "ENCODING": return "Encoding movie… " + R.percent(movie.progress || 0);
      case "FAILED": return "Movie failed: " + (movie.message || "no reason given");
      case "CANCELLED": return "Movie not made: cancelled during its encode";
      default: return "Movie (" + (movie.label || movie.format) + ") after the frames";
    }
  }

  function factsText(movie) {
    const parts = [movie.label || movie.format];
    if (movie.seconds !== null && movie.seconds !== undefined) parts.push(R.duration(movie.seconds));
    if (movie.frames) parts.push(movie.frames + " frames" + (movie.fps ? " at " + movie.fps + " fps" : ""));
    if (movie.sound !== null && movie.sound !== undefined) parts.push(movie.sound ? "sound" : "no sound");
    if (movie.colour) parts.push(movie.colour);
    return parts.join(" · ");
  }

  // What changes the box: a new batch, another status, path or message, a new whole percent.
  function keyOf(movie) {
    if (!movie) return R.state.batchKey + "|none";
    const progress = movie.status === "ENCODING" ? Math.floor(movie.progress || 0) : "";
    return [R.state.batchKey, movie.status, movie.path, progress, movie.message].join("|");
  }

  function update(job) {
    const box = boxes.get(job.id);
    if (!box) return;
    const key = keyOf(job.movie), before = shown.get(job.id);
    if (before && before.key === key) return;
    if (before && before.url) URL.revokeObjectURL(before.url);
    const entry = { key, url: null };
    shown.set(job.id, entry);
    const movie = job.movie;
    box.hidden = !movie;
    box.className = "movie" + (movie ? " " + movie.status : "");
    if (!movie) box.replaceChildren();
    else if (movie.status !== "DONE") box.replaceChildren(R.el("span", "", statusText(movie)));
    else showDone(job.id, movie, box, entry);
  }

  function showDone(jobId, movie, box, entry) {
    const name = baseName(movie.path);
    const line = R.el("div", "movie-line");
    line.append(R.el("strong", "", "Movie"), R.el("span", "", name), R.el("span", "muted", factsText(movie)));
    const link = R.el("a", "movie-download", "Download");
    link.download = name;
    link.href = route(jobId);
    line.append(link);
    const video = PLAYABLE.test(name) ? R.el("video") : null;
    box.replaceChildren(line);
    if (video) {
      video.controls = true;
      video.preload = "metadata";
      video.dataset.src = route(jobId);
      video.title = name;
      box.append(video);
    }
    if (!R.state.token) {  // loopback open: the route itself, streamed with Range requests
      if (video) {
        video.addEventListener("error", () => line.append(R.el("span", "bad", "the movie could not be loaded")));
        video.src = route(jobId);
      }
      return;
    }
    link.addEventListener("click", (event) => {
      if (entry.url) return;
      event.preventDefault();
      fetchMovie(jobId, entry, box).then((url) => { if (url) { link.href = url; link.click(); } });
    });
    if (video) loadAsked(jobId, entry, box, video, link);
  }

  // A movie small enough is fetched at once; a bigger one waits for a click on its button.
  async function loadAsked(jobId, entry, box, video, link) {
    let bytes = 0;
    try {
      const head = await R.api("HEAD", route(jobId));
      bytes = Number(head.headers.get("Content-Length") || 0);
    } catch (e) { /* the GET below says what is wrong */ }
    if (bytes <= MAX_BLOB) { play(jobId, entry, box, video, link); return; }
    const button = R.el("button", "small", "Load the movie (" + size(bytes) + ")");
    button.type = "button";
    button.addEventListener("click", () => { button.remove(); play(jobId, entry, box, video, link); });
    video.before(button);
  }

  async function play(jobId, entry, box, video, link) {
    const url = await fetchMovie(jobId, entry, box);
    if (!url) return;
    link.href = url;
    video.src = url;
  }

  async function fetchMovie(jobId, entry, box) {
    if (entry.url) return entry.url;
    try {
      const response = await R.api("GET", route(jobId));
      if (!response.ok) throw new Error((await R.statusOf(response)).status || String(response.status));
      const url = URL.createObjectURL(await response.blob());
      if (shown.get(jobId) !== entry) { URL.revokeObjectURL(url); return null; }  // replaced meanwhile
      entry.url = url;
      return url;
    } catch (e) {
      box.append(R.el("p", "bad", "The movie could not be loaded: " + e.message));
      return null;
    }
  }

  R.on("job-card", (parts, job) => {
    const box = R.el("div", "movie");
    box.hidden = true;
    parts.notes.before(box);
    parts.movie = box;
    boxes.set(job.id, box);
    shown.delete(job.id);
  });
  R.on("view", (view) => {
    if (!view) return;
    for (const job of view.jobs) update(job);
  });
})();
