// Line editor: keyboard-only work (Enter saves, Ctrl+Enter confirms, Alt+Up/Down moves),
// and the seconds spent on the line, sent with the form.
(function () {
  "use strict";
  var form = document.getElementById("line-form");
  if (!form) return;
  var text = form.querySelector("textarea[name=text]");
  var seconds = form.querySelector("input[name=seconds]");
  var started = Date.now();
  var submitted = false;

  function submitWith(buttonId) {
    var button = document.getElementById(buttonId);
    if (!button || submitted) return;  // a double Enter must not post twice
    submitted = true;
    seconds.value = ((Date.now() - started) / 1000).toFixed(1);
    if (form.requestSubmit) form.requestSubmit(button); else button.click();
  }

  form.addEventListener("submit", function () {
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

  document.addEventListener("keydown", function (event) {
    if (!event.altKey || event.ctrlKey || event.metaKey) return;
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

  // Put the caret at the end of the text so typing continues the line. Not on a touch
  // screen: focusing there opens the phone's own keyboard over the Ottoman one.
  if (!(window.matchMedia && window.matchMedia("(pointer: coarse)").matches)) {
    text.focus();
    var end = text.value.length;
    text.setSelectionRange(end, end);
  }
})();
