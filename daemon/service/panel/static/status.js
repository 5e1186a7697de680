// The status page, live: waits for the status document to change (long poll of /v1/events),
// then fetches the page's changing part again from the daemon (which says everything in words).
"use strict";
(() => {
  const live = document.getElementById("live");
  if (!live) return;
  let version = Number(live.dataset.version || -1);
  let shown = live.innerHTML;
  const LEAST_GAP_MS = 1000; // a busy sync changes its progress many times a second

  function showButtons() {
    const state = live.querySelector("[data-state]");
    const paused = state && state.dataset.state === "paused";
    const confirm = state && state.dataset.confirm === "yes";
    document.querySelectorAll("[data-show-if], [data-show-unless]").forEach((button) => {
      const when = button.dataset.showIf || button.dataset.showUnless;
      const on = when === "paused" ? paused : confirm;
      button.hidden = button.dataset.showIf ? !on : on;
    });
  }

  async function refresh() {
    const response = await fetch("/status/live", { credentials: "same-origin" });
    if (!response.ok) throw new Error(response.statusText);
    const html = await response.text();
    if (html !== shown) {
      // Keep the log scrolled as the reader left it.
      const log = live.querySelector("pre.log");
      const atEnd = !log || log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
      live.innerHTML = html;
      shown = html;
      const fresh = live.querySelector("pre.log");
      if (fresh && atEnd) fresh.scrollTop = fresh.scrollHeight;
      showButtons();
    }
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  async function follow() {
    for (;;) {
      const started = Date.now();
      try {
        const doc = await congsync.api("GET", `/v1/events?since=${version}&timeout=25`);
        if (typeof doc.version === "number" && doc.version !== version) {
          version = doc.version;
          await refresh();
        }
      } catch (error) {
        // The daemon restarts or stopped: try again in a while, quietly.
        await sleep(5000);
      }
      const gap = LEAST_GAP_MS - (Date.now() - started);
      if (gap > 0) await sleep(gap);
    }
  }

  // The buttons' answers take effect at once; the next event shows them.
  const log = live.querySelector("pre.log");
  if (log) log.scrollTop = log.scrollHeight;
  showButtons();
  follow();
})();
