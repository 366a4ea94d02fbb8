// The line page's keys (templates/admin/labeling/line/change_form.html): A approve, J or N
// next line, R reject (focus the reason), E edit and approve (focus the text), Esc leaves a
// field. Keys are read by position (event.code), so they work under an Arabic or Turkish
// layout too; they do nothing while the moderator types in a field.
(function () {
  "use strict";
  const workbench = document.getElementById("workbench");
  if (!workbench) return;

  function focusField(id) {
    const field = document.getElementById(id);
    if (!field) return false;
    field.focus();
    if (field.select) field.select();
    return true;
  }

  function submitForm(id) {
    const form = document.getElementById(id);
    if (!form) return false;
    form.requestSubmit();
    return true;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    const target = event.target;
    if (target.closest && target.closest("input, textarea, select, [contenteditable]")) {
      if (event.key === "Escape") target.blur();
      return;
    }
    let handled = false;
    switch (event.code) {
      case "KeyA":
        handled = submitForm("approve-form");
        break;
      case "KeyJ":
      case "KeyN": {
        const next = document.getElementById("next-link");
        if (next) {
          window.location.assign(next.href);
          handled = true;
        }
        break;
      }
      case "KeyR":
        handled = focusField("id_reason");
        break;
      case "KeyE":
        handled = focusField("id_text");
        break;
    }
    if (handled) event.preventDefault();
  });
})();
