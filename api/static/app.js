// The results page: job list with live progress, upload, and one job's results.
// Plain DOM code; every user-visible string from the server goes through textContent.
"use strict";

const CSRF_HEADER = { "X-Highlights-Request": "1" };
const ACTIVE = new Set(["queued", "running"]);
const PAGE_SIZE = 20;

const state = {
  info: null,
  offset: 0,
  pollTimer: null,
  jobId: null,
  job: null,
  clips: [],
  transcript: [],
  resultsLoadedFor: null,
};

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    // CSSOM, not a style attribute: the page's CSP forbids inline style attributes.
    else if (name === "style") Object.assign(node.style, value);
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

function clock(seconds) {
  if (seconds === null || seconds === undefined || isNaN(seconds)) return "-";
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

function bytes(n) {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

function when(iso) {
  if (!iso) return "-";
  return new Date(iso).toLocaleString();
}

async function api(path, options = {}) {
  const response = await fetch(path, {
    credentials: "same-origin",
    ...options,
    headers: { Accept: "application/json", ...CSRF_HEADER, ...(options.headers || {}) },
  });
  if (response.status === 401) {
    window.location.reload(); // the session expired: the server shows the login form
    throw new Error("not logged in");
  }
  if (!response.ok) {
    let detail = `${response.status} ${response.statusText}`;
    try { detail = (await response.json()).detail || detail; } catch (_) { /* not JSON */ }
    throw new Error(detail);
  }
  return response.status === 204 ? null : response.json();
}

function showError(message) {
  const box = $("page-error");
  box.textContent = message || "";
  box.hidden = !message;
}

function stopPolling() {
  if (state.pollTimer) clearTimeout(state.pollTimer);
  state.pollTimer = null;
}

function poll(fn, ms) {
  stopPolling();
  state.pollTimer = setTimeout(fn, ms);
}

// -- routing ------------------------------------------------------------------------

function route() {
  stopPolling();
  showError("");
  const match = /^#job=(.+)$/.exec(window.location.hash);
  $("list-view").hidden = Boolean(match);
  $("job-view").hidden = !match;
  if (match) {
    openJob(decodeURIComponent(match[1]));
  } else {
    state.jobId = null;
    loadJobs();
  }
}

// -- job list -----------------------------------------------------------------------

function badge(status) {
  return el("span", { class: `badge ${status}`, text: status });
}

function progressCell(job) {
  if (job.status === "completed") return el("span", { class: "muted", text: "done" });
  if (job.status === "failed") {
    return el("span", { class: "error small", text: job.error_message || "failed" });
  }
  const eta = job.eta_seconds !== null && job.eta_seconds !== undefined ? ` · ETA ${clock(job.eta_seconds)}` : "";
  return el("div", {},
    el("div", { class: "bar small" }, el("div", { class: "bar-fill", style: { width: `${job.progress_percent}%` } })),
    el("span", { class: "muted small", text: `${job.progress_percent.toFixed(0)}% · ${job.current_stage || "waiting"}${eta}` }));
}

async function loadJobs() {
  const status = $("status-filter").value;
  const query = new URLSearchParams({ limit: PAGE_SIZE, offset: state.offset });
  if (status) query.set("status", status);
  let page;
  try {
    page = await api(`/jobs?${query}`);
  } catch (err) {
    showError(`Could not load jobs: ${err.message}`);
    poll(loadJobs, 5000);
    return;
  }
  showError("");
  const body = $("jobs-body");
  body.replaceChildren(...page.items.map((job) => el("tr", { "data-job-id": job.job_id },
    el("td", {}, el("a", { href: `#job=${encodeURIComponent(job.job_id)}`, text: job.filename }),
      el("div", { class: "muted small", text: job.video_duration ? clock(job.video_duration) : bytes(job.file_size) })),
    el("td", {}, badge(job.status)),
    el("td", {}, progressCell(job)),
    el("td", { class: "muted small", text: when(job.created_at) }))));
  $("jobs-empty").hidden = page.items.length > 0;
  $("prev-page").disabled = state.offset === 0;
  $("next-page").disabled = page.next_offset === null;
  $("page-info").textContent = page.total ? `${page.offset + 1}-${page.offset + page.items.length} of ${page.total}` : "";
  const busy = page.items.some((job) => ACTIVE.has(job.status));
  if (!state.jobId) poll(loadJobs, busy ? 1500 : 10000);
}

// -- upload -------------------------------------------------------------------------

function uploadForm(event) {
  event.preventDefault();
  const form = $("upload-form");
  const file = $("upload-file").files[0];
  const status = $("upload-status");
  if (!file) { status.textContent = "Choose a file first."; return; }
  if (state.info && file.size > state.info.max_upload_bytes) {
    status.textContent = `${file.name} is ${bytes(file.size)}, over the limit of ${bytes(state.info.max_upload_bytes)}.`;
    return;
  }
  // Options go before the file so the server can check them without waiting for it.
  const data = new FormData();
  for (const name of ["clips", "format", "min_len", "max_len"]) {
    const value = form.elements[name].value;
    if (value !== "") data.append(name, value);
  }
  if (form.elements.burn_captions.checked) data.append("burn_captions", "true");
  data.append("file", file, file.name);

  const xhr = new XMLHttpRequest();
  const bar = $("upload-progress");
  const button = $("upload-button");
  xhr.open("POST", "/jobs");
  xhr.setRequestHeader("X-Highlights-Request", "1");
  xhr.setRequestHeader("Accept", "application/json");
  xhr.upload.addEventListener("progress", (e) => {
    if (e.lengthComputable) {
      bar.value = (100 * e.loaded) / e.total;
      status.textContent = `Uploading ${bytes(e.loaded)} of ${bytes(e.total)}`;
    }
  });
  xhr.addEventListener("load", () => {
    button.disabled = false;
    bar.hidden = true;
    let body = {};
    try { body = JSON.parse(xhr.responseText); } catch (_) { /* not JSON */ }
    if (xhr.status === 202) {
      status.textContent = "Uploaded: processing started.";
      form.reset();
      $("upload-file-label").textContent = "Choose a recording (video or audio)";
      window.location.hash = `job=${encodeURIComponent(body.job_id)}`;
    } else {
      status.textContent = `Upload refused: ${body.detail || xhr.status}`;
    }
  });
  xhr.addEventListener("error", () => {
    button.disabled = false;
    bar.hidden = true;
    status.textContent = "The upload failed (connection lost or refused by the server).";
  });
  button.disabled = true;
  bar.hidden = false;
  bar.value = 0;
  status.textContent = "Starting upload...";
  xhr.send(data);
}

// -- one job ------------------------------------------------------------------------

async function openJob(jobId) {
  if (state.jobId !== jobId) {
    state.jobId = jobId;
    state.resultsLoadedFor = null;
    state.clips = [];
    state.transcript = [];
    for (const id of ["lecture-card", "clips-card", "transcript-card"]) $(id).hidden = true;
    $("clips").replaceChildren();
    $("transcript").replaceChildren();
    $("timeline-body").replaceChildren();
    $("job-title").textContent = "Loading...";
  }
  await refreshJob();
}

function renderJobHeader(job) {
  $("job-title").textContent = job.filename;
  const status = $("job-status");
  status.className = `badge ${job.status}`;
  status.textContent = job.status;
  $("job-bar-fill").style.width = `${job.progress_percent}%`;
  const parts = [`${job.progress_percent.toFixed(0)}%`];
  if (job.current_stage) parts.push(job.current_stage.replace(/_/g, " "));
  if (job.progress_message) parts.push(job.progress_message);
  if (ACTIVE.has(job.status) && job.eta_seconds !== null) parts.push(`ETA ${clock(job.eta_seconds)}`);
  if (job.video_duration) parts.push(`lecture ${clock(job.video_duration)}`);
  $("job-progress-text").textContent = parts.join(" · ");
  $("job-error").hidden = !job.error_message;
  $("job-error").textContent = job.error_message || "";
  $("retry-button").hidden = job.status !== "failed";
}

async function refreshJob() {
  const jobId = state.jobId;
  let job;
  try {
    job = await api(`/jobs/${encodeURIComponent(jobId)}`);
  } catch (err) {
    if (state.jobId !== jobId) return;
    showError(`Could not load the job: ${err.message}`);
    $("job-title").textContent = "";
    return;
  }
  if (state.jobId !== jobId) return;
  state.job = job;
  renderJobHeader(job);
  await loadTimeline(jobId);
  if (job.status === "completed" && state.resultsLoadedFor !== jobId) {
    state.resultsLoadedFor = jobId;
    await loadResults(job);
  }
  if (ACTIVE.has(job.status)) poll(refreshJob, 1500);
}

async function loadTimeline(jobId) {
  const timeline = await api(`/jobs/${encodeURIComponent(jobId)}/timeline`);
  $("timeline-body").replaceChildren(...timeline.items.map((row) => el("tr", { class: row.status },
    el("td", { class: "muted small", text: new Date(row.created_at).toLocaleTimeString() }),
    el("td", { text: row.stage.replace(/_/g, " ") }),
    el("td", {}, badge(row.status)),
    el("td", { text: row.duration_seconds === null ? "-" : `${row.duration_seconds.toFixed(1)} s` }),
    el("td", { class: row.error_message ? "error small" : "muted small", text: row.error_message || row.agent_name || "" }))));
}

async function loadResults(job) {
  const id = encodeURIComponent(job.job_id);
  const [clips, segments, transcript] = await Promise.all([
    api(`/jobs/${id}/clips`), api(`/jobs/${id}/segments`), api(`/jobs/${id}/transcript?format=json`),
  ]);
  state.clips = clips.items;
  state.transcript = transcript.segments;
  renderLecture(job, segments);
  renderClips(clips.items);
  renderTranscript();
}

// Lecture player with the topic segments on a bar below it.
function renderLecture(job, segments) {
  const card = $("lecture-card");
  const player = $("lecture-player");
  const duration = segments.video_duration || job.video_duration || 0;
  card.hidden = !(job.source_url || segments.items.length);
  player.hidden = !job.source_url;
  if (job.source_url) player.src = job.source_url;
  const bar = $("topic-bar");
  bar.replaceChildren();
  $("topic-list").replaceChildren();
  if (!duration) return;
  segments.items.forEach((segment, index) => {
    const left = (100 * segment.start_time) / duration;
    const width = Math.max(0.4, (100 * (segment.end_time - segment.start_time)) / duration);
    const block = el("button", {
      type: "button",
      class: `topic hue-${index % 6}${segment.clip_id ? " has-clip" : ""}`,
      style: { left: `${left}%`, width: `${width}%`, opacity: String(0.45 + 0.55 * segment.importance_score) },
      title: `${segment.topic} (${clock(segment.start_time)}-${clock(segment.end_time)}, importance ${segment.importance_score.toFixed(2)})`,
      onclick: () => seekLecture(segment.start_time),
    }, el("span", { text: segment.topic }));
    bar.append(block);
    $("topic-list").append(el("li", {},
      el("span", { class: `swatch hue-${index % 6}` }),
      el("button", { type: "button", class: "link", text: `${clock(segment.start_time)} ${segment.topic}`, onclick: () => seekLecture(segment.start_time) }),
      el("span", { class: "muted small", text: ` importance ${segment.importance_score.toFixed(2)}${segment.clip_id ? " · clip" : ""}` })));
  });
  player.ontimeupdate = () => {
    $("topic-cursor").style.left = `${(100 * player.currentTime) / duration}%`;
  };
}

function seekLecture(seconds) {
  const player = $("lecture-player");
  if (player.hidden || !player.src) return;
  player.currentTime = seconds;
  player.play().catch(() => { /* autoplay may be blocked; the seek still happened */ });
  player.scrollIntoView({ behavior: "smooth", block: "center" });
}

function renderClips(clips) {
  $("clips-card").hidden = false;
  const box = $("clips");
  if (!clips.length) {
    box.replaceChildren(el("p", { class: "muted", text: "No clips were chosen for this lecture." }));
    return;
  }
  box.replaceChildren(...clips.map((clip) => {
    const video = el("video", {
      controls: true, preload: "metadata", poster: clip.thumbnail_url, src: clip.video_url,
      "data-clip-id": clip.clip_id,
    });
    if (clip.subtitles_vtt_url) {
      const track = el("track", { kind: "subtitles", srclang: "en", label: "Subtitles", src: clip.subtitles_vtt_url, default: true });
      video.append(track);
      // `default` picks the track; make sure it is showing even if the browser hesitates.
      video.addEventListener("loadedmetadata", () => {
        if (video.textTracks.length) video.textTracks[0].mode = "showing";
      });
    }
    const links = el("div", { class: "clip-links small" });
    if (clip.video_url) links.append(el("a", { href: clip.video_url, download: "", text: "MP4" }));
    if (clip.subtitles_srt_url) links.append(el("a", { href: clip.subtitles_srt_url, download: "", text: "SRT" }));
    if (clip.subtitles_vtt_url) links.append(el("a", { href: clip.subtitles_vtt_url, download: "", text: "VTT" }));
    const score = clip.importance_score === null ? "" : ` · score ${clip.importance_score.toFixed(2)}`;
    return el("article", { class: "clip", id: `clip-${clip.clip_id}` },
      video,
      el("h3", {}, el("span", { class: "rank", text: `#${clip.rank ?? "-"}` }), document.createTextNode(` ${clip.title}`)),
      el("p", { class: "muted small", text: `${clock(clip.start_time)}-${clock(clip.end_time)} (${Math.round(clip.duration)} s)${score}${clip.topic && clip.topic !== clip.title ? ` · ${clip.topic}` : ""}` }),
      links);
  }));
}

function clipAt(seconds) {
  return state.clips.find((clip) => seconds >= clip.start_time && seconds < clip.end_time);
}

function playInClip(clip, seconds) {
  const video = document.querySelector(`video[data-clip-id="${CSS.escape(clip.clip_id)}"]`);
  if (!video) return;
  video.currentTime = Math.max(0, seconds - clip.start_time);
  video.play().catch(() => { /* autoplay may be blocked */ });
  video.scrollIntoView({ behavior: "smooth", block: "center" });
}

function highlighted(text, needle) {
  if (!needle) return [document.createTextNode(text)];
  const parts = [];
  const lower = text.toLowerCase();
  let from = 0;
  for (let at = lower.indexOf(needle); at !== -1; at = lower.indexOf(needle, from)) {
    parts.push(document.createTextNode(text.slice(from, at)), el("mark", { text: text.slice(at, at + needle.length) }));
    from = at + needle.length;
  }
  parts.push(document.createTextNode(text.slice(from)));
  return parts;
}

function renderTranscript() {
  $("transcript-card").hidden = state.transcript.length === 0;
  const needle = $("transcript-filter").value.trim().toLowerCase();
  const lines = state.transcript.filter((line) => !needle || line.text.toLowerCase().includes(needle));
  $("transcript").replaceChildren(...lines.map((line) => {
    const clip = clipAt(line.start_time);
    return el("li", { "data-start": line.start_time },
      el("button", { type: "button", class: "time link", text: clock(line.start_time), onclick: () => seekLecture(line.start_time) }),
      el("span", { class: "line-text", onclick: () => (clip && $("lecture-player").hidden ? playInClip(clip, line.start_time) : seekLecture(line.start_time)) }, ...highlighted(line.text, needle)),
      clip ? el("button", { type: "button", class: "in-clip link", title: `Play in clip #${clip.rank}: ${clip.title}`, text: `\u25B6 #${clip.rank}`, onclick: () => playInClip(clip, line.start_time) }) : null);
  }));
  $("transcript-empty").hidden = lines.length > 0 || state.transcript.length === 0;
}

// Slide text is searched on the server (OCR'd slides live in the object store); the
// hits sit above the transcript lines and jump the player to the slide.
let slideSearchTimer = null;
function scheduleSlideSearch() {
  clearTimeout(slideSearchTimer);
  // Hits of the previous query must not linger (or be clicked) while the new one is asked.
  $("slide-hits").replaceChildren();
  $("slide-hits").hidden = true;
  slideSearchTimer = setTimeout(searchSlides, 250);
}

async function searchSlides() {
  const query = $("transcript-filter").value.trim();
  const list = $("slide-hits");
  if (!query || !state.jobId) { list.replaceChildren(); list.hidden = true; return; }
  let result;
  try {
    result = await api(`/jobs/${encodeURIComponent(state.jobId)}/search?q=${encodeURIComponent(query)}&limit=50`);
  } catch (err) {
    list.hidden = true;
    return;
  }
  if ($("transcript-filter").value.trim() !== query) return;  // the user typed on
  const hits = result.hits.filter((hit) => hit.source === "slide");
  list.replaceChildren(...hits.map((hit) => el("li", { "data-start": hit.start_time },
    el("button", { type: "button", class: "time link", text: clock(hit.start_time), onclick: () => seekLecture(hit.start_time) }),
    el("span", { class: "badge slide", text: "slide" }),
    el("span", { class: "line-text", title: hit.topic || "", onclick: () => seekLecture(hit.start_time) }, ...highlighted(hit.text, query.toLowerCase())))));
  list.hidden = hits.length === 0;
  $("transcript-empty").hidden = hits.length > 0 || $("transcript").children.length > 0 || state.transcript.length === 0;
}

// -- actions ------------------------------------------------------------------------

async function retryJob() {
  try {
    await api(`/jobs/${encodeURIComponent(state.jobId)}/retry`, { method: "POST" });
    state.resultsLoadedFor = null;
    await refreshJob();
  } catch (err) {
    showError(`Retry refused: ${err.message}`);
  }
}

async function deleteJob() {
  if (!window.confirm("Delete this job, its clips and its files?")) return;
  try {
    await api(`/jobs/${encodeURIComponent(state.jobId)}`, { method: "DELETE" });
    window.location.hash = "";
  } catch (err) {
    showError(`Delete refused: ${err.message}`);
  }
}

async function init() {
  $("upload-form").addEventListener("submit", uploadForm);
  $("upload-file").addEventListener("change", () => {
    const file = $("upload-file").files[0];
    $("upload-file-label").textContent = file ? `${file.name} (${bytes(file.size)})` : "Choose a recording (video or audio)";
  });
  $("status-filter").addEventListener("change", () => { state.offset = 0; loadJobs(); });
  $("prev-page").addEventListener("click", () => { state.offset = Math.max(0, state.offset - PAGE_SIZE); loadJobs(); });
  $("next-page").addEventListener("click", () => { state.offset += PAGE_SIZE; loadJobs(); });
  $("transcript-filter").addEventListener("input", () => { renderTranscript(); scheduleSlideSearch(); });
  $("retry-button").addEventListener("click", retryJob);
  $("delete-button").addEventListener("click", deleteJob);
  window.addEventListener("hashchange", route);
  try {
    state.info = await api("/info");
    const d = state.info.defaults;
    $("opt-clips").placeholder = d.clips;
    $("opt-min").placeholder = d.min_len;
    $("opt-max").placeholder = d.max_len;
  } catch (err) {
    showError(`Could not reach the server: ${err.message}`);
  }
  route();
}

document.addEventListener("DOMContentLoaded", init);
