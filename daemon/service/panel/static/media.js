// Manage media: files dropped or chosen are streamed to the daemon one by one (never read into
// memory), which publishes each as `congsync media add` does; the page then shows the result.
"use strict";
(() => {
  const words = document.getElementById("messages");
  if (!words) return;
  const say = (template, values) =>
    template.replace(/\{(\w+)\}/g, (whole, key) => (key in values ? values[key] : whole));

  async function send(zone, files) {
    const target = zone.dataset.upload;
    const section = zone.closest("[data-names]");
    const names = new Set(JSON.parse(section.dataset.names || "[]").map((n) => n.toLowerCase()));
    const replace = zone.querySelector("[data-replace]").checked;
    const box = zone.querySelector(".upload-progress");
    const bar = box.querySelector("progress");
    const line = box.querySelector("[data-upload-words]");
    const input = zone.querySelector('input[type="file"]');
    const published = [];
    input.disabled = true;
    box.hidden = false;
    try {
      for (const file of files) {
        if (names.has(file.name.toLowerCase()) && !replace) {
          throw new Error(say(words.dataset.exists, { name: file.name }));
        }
        bar.value = 0;
        line.textContent = say(words.dataset.sending, { name: file.name, percent: 0 });
        const query = new URLSearchParams({ date: target, name: file.name });
        if (replace) query.set("replace", "1");
        try {
          const answer = await congsync.upload(`/media/upload?${query}`, file, (part) => {
            bar.value = part;
            if (part < 1) {
              line.textContent = say(words.dataset.sending, {
                name: file.name, percent: Math.floor(part * 100),
              });
            } else {
              bar.removeAttribute("value"); // the daemon now sends it on to the server
              line.textContent = say(words.dataset.publishing, { name: file.name });
            }
          });
          published.push(answer.message || file.name);
        } catch (error) {
          throw new Error(say(words.dataset.failed, { name: file.name, reason: error.message }));
        }
      }
      congsync.notice(published.join(" "), "ok");
      setTimeout(() => location.reload(), 800);
    } catch (error) {
      if (published.length) congsync.notice(published.join(" ") + " " + error.message, "error");
      else congsync.notice(error.message, "error");
      box.hidden = true;
    } finally {
      input.disabled = false;
      input.value = "";
    }
  }

  document.querySelectorAll("[data-upload]").forEach((zone) => {
    const input = zone.querySelector('input[type="file"]');
    input.addEventListener("change", () => {
      if (input.files.length) send(zone, Array.from(input.files));
    });
    zone.addEventListener("dragover", (event) => {
      event.preventDefault();
      zone.classList.add("over");
    });
    zone.addEventListener("dragleave", () => zone.classList.remove("over"));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      zone.classList.remove("over");
      const files = Array.from(event.dataTransfer.files || []);
      if (files.length) send(zone, files);
    });
  });
})();
