// Polls the document's status while files are being split into pages or pages are being
// read; updates the counters and badges, offers the pages prepared since, reloads when done.
(function () {
  "use strict";
  var box = document.getElementById("ocr-progress");
  if (!box || box.dataset.pending === "0") return;
  var url = box.dataset.statusUrl;
  var shown = parseInt(box.dataset.pages, 10) || 0;
  var bar = document.getElementById("ocr-bar");
  var read = box.querySelector(".pages-read");
  var newPages = box.querySelector(".new-pages");
  function tick() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (s) {
        bar.max = Math.max(s.pages, 1);
        bar.value = s.pages_read;
        read.textContent = s.pages_read;
        var toSplit = box.querySelector(".pages-to-split");
        if (toSplit && s.pages_to_split === 0) toSplit.hidden = true;
        if (newPages && s.pages > shown) newPages.hidden = false;
        Object.keys(s.page_states).forEach(function (id) {
          var badge = document.querySelector('[data-page="' + id + '"] .status');
          if (badge) {
            badge.textContent = s.page_states[id].label;
            badge.className = "status status-" + s.page_states[id].status;
          }
        });
        if (s.pending === 0) window.location.reload();
        else window.setTimeout(tick, 1500);
      })
      .catch(function () { window.setTimeout(tick, 5000); });
  }
  window.setTimeout(tick, 1000);
})();
