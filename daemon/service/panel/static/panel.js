// congsync's panel: sends the page's CSRF token with every change, shows answers as sentences.
"use strict";
const congsync = (() => {
  const csrf = () => document.querySelector('meta[name="csrf-token"]').content;

  function notice(text, kind) {
    const box = document.getElementById("notice");
    if (!box) return;
    box.textContent = text;
    box.className = "notice" + (kind ? " " + kind : "");
    box.hidden = !text;
    // The answer may be far from the button that asked (a long page, 200 % zoom).
    if (text) box.scrollIntoView({ block: "nearest" });
  }

  async function api(method, path, body) {
    const options = { method, headers: { "X-CSRF-Token": csrf() }, credentials: "same-origin" };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(path, options);
    let data = {};
    try { data = await response.json(); } catch (e) { data = {}; }
    if (!response.ok) {
      const error = new Error(data.error || response.statusText);
      error.status = response.status;
      throw error;
    }
    return data;
  }

  // Streams a File as the request body (never read into memory); progress 0..1.
  function upload(path, file, onProgress) {
    return new Promise((resolve, reject) => {
      const request = new XMLHttpRequest();
      request.open("PUT", path);
      request.setRequestHeader("X-CSRF-Token", csrf());
      request.setRequestHeader("Content-Type", "application/octet-stream");
      request.upload.onprogress = (event) => {
        if (event.lengthComputable && onProgress) onProgress(event.loaded / event.total);
      };
      request.onload = () => {
        let data = {};
        try { data = JSON.parse(request.responseText); } catch (e) { data = {}; }
        if (request.status >= 200 && request.status < 300) resolve(data);
        else reject(new Error(data.error || request.statusText));
      };
      request.onerror = () => reject(new Error("The upload was interrupted."));
      request.send(file);
    });
  }

  // Buttons and forms declare what they do: data-action="POST /v1/sync" (JSON body from
  // data-body), answered with a notice; data-reload reloads the page afterwards.
  document.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-action]");
    if (!button) return;
    event.preventDefault();
    const [method, path] = button.dataset.action.split(" ");
    button.disabled = true;
    try {
      const answer = await api(method, path, button.dataset.body ? JSON.parse(button.dataset.body) : {});
      notice(answer.message || button.dataset.done || "", "ok");
      if (button.dataset.reload !== undefined) setTimeout(() => location.reload(), 400);
    } catch (error) {
      notice(error.message, "error");
    } finally {
      button.disabled = false;
    }
  });

  return { api, upload, notice };
})();
