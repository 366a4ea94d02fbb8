// Line editor: keyboard-only work (Enter saves, Ctrl+Enter confirms, Alt+Up/Down moves),
// and the seconds spent on the line, sent with the form.
//
// Save → next line without a page load. While the person types, the script fetches the next
// line's page and decodes its crop (the form's data-prefetch-page / data-prefetch-crop). Enter
// sends the form with fetch asking for JSON; the answer names the next line and carries the
// person's new progress, and the script puts the fetched copy of that page in place of <main>
// and moves the address with history.pushState. Whatever else comes back (a refused text: the
// page again with its error; the page that says the document is done) is shown as a full page
// would show it. If the site cannot be reached, the text stays in the box with a message, and
// Enter tries again. The labelling queue (data-in-place, no copy to fetch ahead: the next line
// is only claimed on the save) sends its form the same way and shows the page the save leads to. Without fetch (or with window.ottomanFullReload set, as the latency bench
// does to measure the plain form), the form is sent the ordinary way.
(function () {
  "use strict";
  var PREFETCH_MAX_AGE_MS = 5 * 60 * 1000;  // older than this, the copy may be stale
  var prefetched = null;  // {url, at, html: Promise<string|null>}
  var form, text, seconds, started, submitted;

  function fastPath() {
    return !!(form && (form.dataset.prefetchPage !== undefined || form.dataset.inPlace !== undefined) &&
      window.fetch && window.DOMParser && window.history && history.pushState &&
      !window.ottomanFullReload);
  }

  function fetchPage(url) {
    return fetch(url, {credentials: "same-origin", headers: {Accept: "text/html"}})
      .then(function (response) { return response.ok ? response.text() : null; })
      .catch(function () { return null; });
  }

  function prefetch() {
    var url = form.dataset.prefetchPage;
    var crop = form.dataset.prefetchCrop;
    if (crop) {
      var image = new Image();
      image.src = crop;
      if (image.decode) image.decode().catch(function () {});
    }
    if (!url || form.dataset.inPlace !== undefined || !fastPath()) return;
    prefetched = {url: url, at: Date.now(), html: fetchPage(url)};
  }

  function pageFor(url) {
    var fresh = prefetched && prefetched.url === url &&
      Date.now() - prefetched.at < PREFETCH_MAX_AGE_MS;
    var html = fresh ? prefetched.html : fetchPage(url);
    return html.then(function (got) { return got === null && fresh ? fetchPage(url) : got; });
  }

  function show(html, url, progressHtml) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var main = doc.getElementById("main");
    if (!main) { window.location.assign(url); return; }
    if (progressHtml) {
      var block = main.querySelector("#line-progress-block");
      if (block) block.outerHTML = progressHtml;
    }
    document.title = doc.title;
    document.getElementById("main").replaceWith(document.adoptNode(main));
    if (url && url !== window.location.pathname + window.location.search) {
      history.pushState({lineEditor: true}, "", url);
    }
    if (window.OttomanKeyboard) window.OttomanKeyboard.autoAttach(main);
    if (window.CropZoom) window.CropZoom.attach(main);
    setUp();
  }

  function fail(message) {
    submitted = false;
    var status = document.getElementById("line-save-status");
    if (!status) {
      status = document.createElement("p");
      status.id = "line-save-status";
      status.setAttribute("role", "alert");
      status.className = "message error";
      form.insertBefore(status, form.querySelector(".buttons"));
    }
    status.textContent = message;
  }

  function send(button) {
    var body = new FormData(form);
    body.set(button.name, button.value);
    var busy = document.getElementById("line-save-status");
    if (busy) busy.remove();
    fetch(window.location.pathname + window.location.search, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: {Accept: form.dataset.inPlace !== undefined ? "text/html" : "application/json"},
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (response.ok && type.indexOf("application/json") === 0) {
        return response.json().then(function (saved) {
          if (!saved.next) { window.location.assign(saved.location); return null; }
          return pageFor(saved.next).then(function (html) {
            if (html === null) window.location.assign(saved.next);
            else show(html, saved.next, saved.progress_html);
          });
        });
      }
      // The page again (a refused text with its reason), or an error page: shown as it came.
      return response.text().then(function (html) {
        if (type.indexOf("text/html") === 0 && response.status < 500) show(html, response.url);
        else fail(form.dataset.offline);
      });
    }).catch(function () { fail(form.dataset.offline); });
  }

  function submitWith(buttonId) {
    var button = document.getElementById(buttonId);
    if (!button || submitted) return;  // a double Enter must not post twice
    submitted = true;
    seconds.value = ((Date.now() - started) / 1000).toFixed(1);
    if (fastPath()) send(button);
    else if (form.requestSubmit) form.requestSubmit(button);
    else button.click();
  }

  function setUp() {
    form = document.getElementById("line-form");
    if (!form) return;
    text = form.querySelector("textarea[name=text]");
    seconds = form.querySelector("input[name=seconds]");
    started = Date.now();
    submitted = false;

    form.addEventListener("submit", function (event) {
      // A click on Save or Confirm: the same fast path as Enter, where there is one.
      if (fastPath() && event.submitter && !submitted) {
        event.preventDefault();
        submitWith(event.submitter.id);
        return;
      }
      submitted = true;
      seconds.value = ((Date.now() - started) / 1000).toFixed(1);
    });

    text.addEventListener("keydown", function (event) {
      if (event.key !== "Enter" || event.isComposing || event.shiftKey || event.altKey) return;
      event.preventDefault();
      submitWith(event.ctrlKey || event.metaKey ? "confirm-button" : "save-button");
    });

    // In the labeling queue: Alt+S picks a skip reason, Enter there skips.
    var skipReason = document.getElementById("skip-reason");
    if (skipReason) {
      skipReason.addEventListener("keydown", function (event) {
        if (event.key !== "Enter") return;
        event.preventDefault();
        submitWith("skip-button");
      });
    }

    prefetch();

    // Put the caret at the end of the text so typing continues the line. Not on a touch
    // screen: focusing there opens the phone's own keyboard over the Ottoman one.
    if (!(window.matchMedia && window.matchMedia("(pointer: coarse)").matches)) {
      text.focus();
      var end = text.value.length;
      text.setSelectionRange(end, end);
    }
  }

  document.addEventListener("keydown", function (event) {
    if (!event.altKey || event.ctrlKey || event.metaKey || !form) return;
    var skipReason = document.getElementById("skip-reason");
    if (skipReason && (event.key === "s" || event.key === "S" || event.code === "KeyS")) {
      event.preventDefault();
      skipReason.focus();
      return;
    }
    var target = null;
    if (event.key === "ArrowUp") target = document.getElementById("previous-line");
    if (event.key === "ArrowDown") target = document.getElementById("next-line");
    if (target) {
      event.preventDefault();
      window.location.href = target.href;
    }
  });

  // Coming back from the browser's back/forward cache: the form may be sent again.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      submitted = false;
      started = Date.now();
    }
  });

  // Back or forward across lines shown in place: load the line the address names.
  window.addEventListener("popstate", function () { window.location.reload(); });

  setUp();
})();
