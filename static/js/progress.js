// Polls the document's status while files are being split into pages or pages are being
// read: updates counters, badges and each file's progress; shows the pages once the files
// are split; reloads when everything is read.
(function () {
  "use strict";
  var box = document.getElementById("ocr-progress");
  if (!box || box.dataset.pending === "0") return;
  var url = box.dataset.statusUrl;
  var shown = parseInt(box.dataset.pages, 10) || 0;
  var bar = document.getElementById("ocr-bar");
  var read = box.querySelector(".pages-read");
  var newPages = box.querySelector(".new-pages");

  function badge(element, state) {
    if (!element) return;
    element.textContent = state.label;
    element.className = "status status-" + state.status;
  }

  function tick() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (s) {
        bar.max = Math.max(s.pages, 1);
        bar.value = s.pages_read;
        read.textContent = s.pages_read;
        box.querySelector(".pages-total").textContent = s.pages;
        var toSplit = box.querySelector(".pages-to-split");
        if (toSplit) {
          toSplit.textContent = " · " + s.pages_to_split_label;
          toSplit.hidden = s.pages_to_split === 0;
        }
        Object.keys(s.source_states).forEach(function (id) {
          var item = document.querySelector('[data-source="' + id + '"]');
          if (!item) return;
          var state = s.source_states[id];
          badge(item.querySelector(".status"), state);
          item.querySelector(".source-progress").textContent = state.progress;
          var progress = item.querySelector("progress");
          if (progress) progress.value = state.pages_done;
        });
        Object.keys(s.page_states).forEach(function (id) {
          badge(document.querySelector('[data-page="' + id + '"] .status'), s.page_states[id]);
        });
        // Every file is split: show the pages (once); every page is read: show the lines.
        if (s.pending === 0 || (s.pages_to_split === 0 && s.pages > shown)) {
          window.location.reload();
          return;
        }
        if (newPages && s.pages > shown) newPages.hidden = false;
        window.setTimeout(tick, 1500);
      })
      .catch(function () { window.setTimeout(tick, 5000); });
  }
  window.setTimeout(tick, 1000);
})();
