// Dockyard's small, hand-written enhancements: live logs, live status, typed confirmations.
// Every page works without it; this only makes waiting pleasant.
"use strict";

const csrf = () => document.querySelector('meta[name="csrf-token"]').content;

function wsUrl(path) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${path}`;
}

// A log panel that keeps up with new lines unless the reader has scrolled up, then offers to jump back.
class LogView {
  constructor(pre, jump) {
    this.pre = pre;
    this.jump = jump;
    this.follow = true;
    pre.addEventListener("scroll", () => {
      this.follow = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 8;
      if (jump) jump.classList.toggle("shown", !this.follow);
    });
    if (jump) jump.addEventListener("click", () => { this.follow = true; this.scroll(); jump.classList.remove("shown"); });
  }
  append(text, className) {
    const line = document.createElement("span");
    line.textContent = text + "\n";
    if (className) line.className = className;
    this.pre.append(line);
    if (this.follow) this.scroll();
  }
  scroll() { this.pre.scrollTop = this.pre.scrollHeight; }
}

// Build log: `data-build-log="/api/v1/apps/NAME/deployments/ID/logs/ws"`; resumes by line offset.
function buildLog(pre) {
  const view = new LogView(pre, document.getElementById(pre.dataset.jump));
  const status = document.getElementById(pre.dataset.status);
  let offset = Number(pre.dataset.offset || 0);
  let ended = false;
  let retries = 0;
  const connect = () => {
    const socket = new WebSocket(wsUrl(`${pre.dataset.buildLog}?offset=${offset}`));
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      retries = 0;
      if (message.type === "line") {
        offset = message.offset;
        const phase = /^(-----> |=+> |Step \d+)/.test(message.text);
        const error = /^( !|!!|ERROR|error:)/.test(message.text);
        view.append(message.text, phase ? "phase" : error ? "err" : "");
      } else if (message.type === "status" && status) {
        setBadge(status, message.status);
      } else if (message.type === "end") {
        ended = true;
        if (status) setBadge(status, message.status);
        // The page around the log (reason, buttons) changes with the outcome: show the final one.
        if (pre.dataset.reloadOnEnd !== undefined) setTimeout(() => location.reload(), 600);
      }
    };
    socket.onclose = (event) => {
      if (ended || event.code === 1000 || event.code >= 4400) return;
      if (retries++ < 30) setTimeout(connect, Math.min(500 * retries, 5000));
    };
  };
  connect();
}

// Runtime logs: `data-runtime-log="/api/v1/apps/NAME/logs/ws"`, filtered by process and by text. The lines
// the page came with stay; `data-since` (the time of the last of them) makes the tail go on after them.
function runtimeLog(pre) {
  const view = new LogView(pre, document.getElementById(pre.dataset.jump));
  const filter = document.getElementById(pre.dataset.filter);
  let since = pre.dataset.since || null;
  let socket = null;
  const matches = (text) => !filter || !filter.value || text.toLowerCase().includes(filter.value.toLowerCase());
  const lines = pre.textContent.split("\n").filter((line) => line !== "");
  view.scroll();
  const redraw = () => {
    pre.textContent = "";
    for (const line of lines) if (matches(line)) view.append(line);
  };
  if (filter) filter.addEventListener("input", redraw);
  const connect = () => {
    const query = since ? `?since=${encodeURIComponent(since)}` : "";
    const process = pre.dataset.process ? `${query ? "&" : "?"}process=${encodeURIComponent(pre.dataset.process)}` : "";
    socket = new WebSocket(wsUrl(`${pre.dataset.runtimeLog}${query}${process}`));
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.type !== "line") return;
      since = message.time;
      const text = `${message.source} | ${message.text}`;
      lines.push(text);
      if (lines.length > 5000) lines.shift();
      if (matches(text)) view.append(text);
    };
    socket.onclose = (event) => {
      if (event.code < 4400) setTimeout(connect, 2000);
    };
  };
  connect();
}

function setBadge(element, status) {
  element.textContent = status;
  element.className = `badge badge-${status}`;
}

// `data-refresh="/path/fragment" data-every="3"`: replace the element's content from the server.
function refresher(element) {
  const every = Number(element.dataset.every || 3) * 1000;
  const tick = async () => {
    if (!document.hidden) {
      try {
        const response = await fetch(element.dataset.refresh, { headers: { "X-Requested-With": "fetch" } });
        if (response.redirected) {
          location.reload(); // signed out meanwhile: let the page itself go to sign-in
          return;
        }
        if (response.ok) {
          // Compared as the browser serializes both, so an unchanged panel is left alone (focus, screen readers).
          const fresh = document.createElement("div");
          fresh.innerHTML = await response.text();
          if (fresh.innerHTML !== element.innerHTML) element.innerHTML = fresh.innerHTML;
        }
      } catch (_) { /* the next tick retries */ }
    }
    setTimeout(tick, every);
  };
  setTimeout(tick, every);
}

// `<form data-confirm-typed="NAME">`: its submit button stays disabled until NAME is typed in its input.
function typedConfirmation(form) {
  const input = form.querySelector("input[name=confirm]");
  const button = form.querySelector("button[type=submit]");
  const check = () => { button.disabled = input.value.trim() !== form.dataset.confirmTyped; };
  input.addEventListener("input", check);
  check();
}

// `<button data-confirm="Roll back to #12?">`: ask before submitting.
function confirmButton(button) {
  button.addEventListener("click", (event) => {
    if (!window.confirm(button.dataset.confirm)) event.preventDefault();
  });
}

// `<button data-reveal="/apps/NAME/env/KEY/reveal" data-target="ID">`: fetch a secret on demand (POST + CSRF).
function revealButton(button) {
  button.addEventListener("click", async () => {
    const target = document.getElementById(button.dataset.target);
    const response = await fetch(button.dataset.reveal, { method: "POST", headers: { "X-CSRF-Token": csrf() } });
    target.textContent = response.ok ? await response.text() : "could not reveal: reload the page";
    button.hidden = true;
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-build-log]").forEach(buildLog);
  document.querySelectorAll("[data-runtime-log]").forEach(runtimeLog);
  document.querySelectorAll("[data-refresh]").forEach(refresher);
  document.querySelectorAll("form[data-confirm-typed]").forEach(typedConfirmation);
  document.querySelectorAll("[data-confirm]").forEach(confirmButton);
  document.querySelectorAll("[data-reveal]").forEach(revealButton);
});
