// The Setup page: provider presets, browsing the server's folders, Test connection, Save,
// and the organizer's congregation-wide settings. Every answer is a sentence from the daemon.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const form = $("setup-form");
  if (!form) return;

  function say(box, text, kind) {
    box.textContent = text;
    box.className = "notice" + (kind ? " " + kind : "");
    box.hidden = !text;
    if (text) box.scrollIntoView({ block: "nearest" });
  }

  // The form's answers; disabled fields (set by the congregation) are left out.
  function answers() {
    const data = {};
    for (const element of form.elements) {
      if (!element.name || element.disabled) continue;
      data[element.name] = element.value;
    }
    return data;
  }

  async function busy(button, work) {
    button.disabled = true;
    try { await work(); } finally { button.disabled = false; }
  }

  // -- role: organizer-only parts ----------------------------------------------------------------
  const role = $("role");
  function showRole() {
    for (const part of document.querySelectorAll(".organizer-only")) {
      part.hidden = role.value !== "organizer";
    }
  }
  role.addEventListener("change", showRole);
  showRole();

  // -- providers -----------------------------------------------------------------------------------
  const url = $("url");
  const username = $("username");
  const providersButton = $("providers-button");
  const providers = $("providers");
  const note = $("provider-note");
  let browseRoot = "";

  function fillUser() {
    if (username.value && url.value.includes("USER")) {
      url.value = url.value.replace("USER", username.value);
    }
  }

  providersButton.addEventListener("click", () => {
    const open = providers.hidden;
    providers.hidden = !open;
    providersButton.setAttribute("aria-expanded", String(open));
    if (open) providers.querySelector("button").focus();
  });
  providers.addEventListener("click", (event) => {
    const preset = event.target.closest("[data-provider]");
    if (!preset) return;
    url.value = preset.dataset.url;
    browseRoot = preset.dataset.root;
    fillUser();
    providers.hidden = true;
    providersButton.setAttribute("aria-expanded", "false");
    note.textContent = preset.dataset.note;
    note.hidden = !preset.dataset.note;
    url.focus();
    // The first placeholder left is selected, so that typing replaces it.
    const match = url.value.match(/HOST|USER|PORT/);
    if (match) url.setSelectionRange(match.index, match.index + match[0].length);
  });
  username.addEventListener("change", fillUser);

  // -- folder browser ------------------------------------------------------------------------------
  const folder = $("folder");
  const browser = $("browser");
  const browseButton = $("browse-button");
  const where = $("browser-where");
  const list = $("browser-list");
  const verdict = $("folder-verdict");
  const result = $("setup-result");
  const browseResult = $("browse-result");
  let here = { folder: "", parent: null };

  function show(look) {
    here = look;
    where.textContent = "/" + look.folder;
    list.replaceChildren();
    for (const name of look.subfolders) {
      const item = document.createElement("li");
      const open = document.createElement("button");
      open.type = "button";
      open.className = "link folder";
      open.textContent = name;
      open.dataset.path = look.folder ? look.folder + "/" + name : name;
      item.append(open);
      list.append(item);
    }
    $("browser-empty").hidden = look.subfolders.length > 0;
    $("browser-up").disabled = look.parent === null;
    verdict.textContent = look.verdict;
    verdict.className = look.congregation_folder ? "ready" : "muted";
  }

  // Shows the folder `path` (or `fallback`, should `path` not exist); the box opens only once
  // the server answered, and a refusal is said next to the Browse… button.
  async function go(path, fallback) {
    try {
      show(await congsync.api("POST", "/setup/folders", { ...answers(), path, fallback }));
    } catch (error) {
      say(browseResult, error.message, "error");
      return;
    }
    say(browseResult, "");
    browser.hidden = false;
    browseButton.setAttribute("aria-expanded", "true");
    const first = list.querySelector("button");
    (first || $("browser-use")).focus();
  }

  browseButton.addEventListener("click", () => busy(browseButton, async () => {
    // The typed folder; the account's root (where its files start) when none is typed or it
    // does not exist.
    const typed = folder.value.trim().replace(/^\/+|\/+$/g, "");
    await go(typed || browseRoot, browseRoot);
  }));
  list.addEventListener("click", (event) => {
    const open = event.target.closest("button[data-path]");
    if (open) go(open.dataset.path);
  });
  $("browser-up").addEventListener("click", () => { if (here.parent !== null) go(here.parent); });
  $("browser-use").addEventListener("click", () => {
    folder.value = here.folder;
    browser.hidden = true;
    browseButton.setAttribute("aria-expanded", "false");
    folder.focus();
  });
  $("browser-create").addEventListener("click", (event) => busy(event.target, async () => {
    try {
      const look = await congsync.api("POST", "/setup/folders/new",
        { ...answers(), path: here.folder, name: $("new-folder").value });
      $("new-folder").value = "";
      show(look);
      say(browseResult, look.message, "ok");
    } catch (error) {
      say(browseResult, error.message, "error");
    }
  }));

  // -- test and save ---------------------------------------------------------------------------------
  $("test-button").addEventListener("click", (event) => busy(event.target, async () => {
    say(result, "…");
    try {
      const answer = await congsync.api("POST", "/setup/test", answers());
      verdict.textContent = answer.verdict;
      say(result, answer.message, "ok");
    } catch (error) {
      say(result, error.message, "error");
    }
  }));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy($("save-button"), async () => {
      say(result, "…");
      try {
        const answer = await congsync.api("POST", "/setup/save", answers());
        $("password").value = "";
        verdict.textContent = answer.verdict;
        say(result, answer.message, "ok");
      } catch (error) {
        say(result, error.message, "error");
      }
    });
  });

  // -- congregation-wide settings (organizers) ------------------------------------------------------
  const congregation = $("congregation-form");
  if (congregation) {
    congregation.addEventListener("submit", (event) => {
      event.preventDefault();
      const box = $("congregation-result");
      busy($("congregation-save"), async () => {
        const settings = {};
        for (const row of congregation.querySelectorAll("tr[data-setting]")) {
          settings[row.dataset.setting] = {
            value: row.querySelector("[data-value]").value,
            enforce: row.querySelector("[data-enforce]").checked,
          };
        }
        try {
          const answer = await congsync.api("POST", "/setup/congregation", { settings });
          say(box, answer.message, "ok");
        } catch (error) {
          say(box, error.message, "error");
        }
      });
    });
  }
})();
