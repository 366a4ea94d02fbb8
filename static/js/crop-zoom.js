// The line image, whole and small on a phone, opens enlarged in a full-screen view: panned by
// finger (native scrolling, starting at the right end, where a right-to-left line begins) or by
// mouse drag, zoomed by pinch, by the + and − buttons or keys, closed by Close, Escape or a tap
// outside the image; the focus then goes back to the image.
//
// The markup is templates/labeling/_crop_zoom.html, right after <img id="line-crop">; this turns
// the image into the button that opens it. The line editor puts the next line's <main> in place
// of the old one without a page load (line-editor.js) and attaches it with
// window.CropZoom.attach(main), as it does the keyboard.
(function () {
  "use strict";
  var MIN_SCALE = 0.25;
  var MAX_SCALE = 8;
  var STEP = 1.5;
  var READING_HEIGHT = 96; // px: a line shown less high than this is enlarged to it at first
  var current = null; // the attached view's handle: {opener, noteStickyHeight, observer}

  // The sticky image on phones must not hide what the browser scrolls to (the focused text
  // field's caret): scrolling keeps clear of its height (site.css, scroll-padding-top).
  function noteStickyHeight() {
    if (!current || !current.opener.isConnected) return;
    var opener = current.opener;
    var sticky = getComputedStyle(opener).position === "sticky";
    var height = sticky ? Math.ceil(opener.getBoundingClientRect().height) : 0;
    document.documentElement.style.setProperty("--crop-sticky-height", height + "px");
  }

  function attach(root) {
    var scope = root || document;
    var dialog = scope.querySelector("#crop-zoom");
    var crop = scope.querySelector("#line-crop");
    if (!dialog || !crop || typeof dialog.showModal !== "function") return null;
    if (crop.parentNode.classList.contains("crop-open")) return current;
    var view = dialog.querySelector(".crop-zoom-view");
    var scale = 1;
    var pinch = null;
    var drag = null;
    var dragged = false;

    // The image as a button: Enter, Space, a click or a tap open the view.
    var opener = document.createElement("button");
    opener.type = "button";
    opener.className = "crop-open";
    opener.setAttribute("aria-haspopup", "dialog");
    opener.setAttribute("aria-controls", dialog.id);
    opener.setAttribute("aria-label", dialog.dataset.openLabel || crop.alt);
    crop.parentNode.insertBefore(opener, crop);
    opener.appendChild(crop);
    var hint = scope.querySelector("#crop-zoom-hint");
    if (hint) hint.hidden = false;

    var image = crop.cloneNode(false);
    image.removeAttribute("id");
    image.className = "crop-zoom-image";
    image.draggable = false;
    view.appendChild(image);

    if (current && current.observer) current.observer.disconnect();
    current = { opener: opener, observer: null };
    if (window.ResizeObserver) {
      current.observer = new ResizeObserver(noteStickyHeight);
      current.observer.observe(opener);
    }
    noteStickyHeight();

    function natural() {
      return { width: crop.naturalWidth || 1, height: crop.naturalHeight || 1 };
    }

    function size(next) {
      var px = natural();
      scale = Math.min(MAX_SCALE, Math.max(MIN_SCALE, next));
      image.style.width = Math.round(px.width * scale) + "px";
      image.style.height = Math.round(px.height * scale) + "px";
    }

    // Change the scale keeping the image point under (x, y) on the screen where it is.
    function zoom(next, x, y) {
      var box = view.getBoundingClientRect();
      var px = x === undefined ? box.left + view.clientWidth / 2 : x;
      var py = y === undefined ? box.top + view.clientHeight / 2 : y;
      var shown = image.getBoundingClientRect();
      var fx = shown.width ? (px - shown.left) / shown.width : 1;
      var fy = shown.height ? (py - shown.top) / shown.height : 0.5;
      size(next);
      var after = image.getBoundingClientRect();
      view.scrollLeft += after.left + fx * after.width - px;
      view.scrollTop += after.top + fy * after.height - py;
    }

    function open() {
      image.src = crop.currentSrc || crop.src;
      size(Math.max(1, Math.min(3, READING_HEIGHT / natural().height)));
      dialog.showModal();
      view.focus({ preventScroll: true });
      view.scrollLeft = view.scrollWidth; // the right end: where the line begins
      view.scrollTop = Math.max(0, (view.scrollHeight - view.clientHeight) / 2);
    }

    opener.addEventListener("click", function () {
      if (crop.complete) open();
      else crop.addEventListener("load", open, { once: true });
    });

    dialog.addEventListener("close", function () {
      pinch = null;
      drag = null;
      if (opener.isConnected) opener.focus();
    });

    dialog.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (button && dialog.contains(button)) {
        var act = button.dataset.zoom;
        if (act === "in") zoom(scale * STEP);
        else if (act === "out") zoom(scale / STEP);
        else if (act === "close") dialog.close();
        return;
      }
      if (event.target === image || dragged) return;
      // The view's blank space beside an image narrower than it is outside too; its scroll
      // bars are not.
      if (
        event.target === view &&
        (event.offsetX > view.clientWidth || event.offsetY > view.clientHeight)
      ) {
        return;
      }
      dialog.close();
    });

    dialog.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.key === "+" || event.key === "=") zoom(scale * STEP);
      else if (event.key === "-" || event.key === "−") zoom(scale / STEP);
      else return;
      event.preventDefault();
    });

    // A mouse drags the image as a finger does (fingers scroll the view natively).
    view.addEventListener("pointerdown", function (event) {
      dragged = false;
      if (event.pointerType !== "mouse" || event.button !== 0) return;
      drag = { x: event.clientX, y: event.clientY, left: view.scrollLeft, top: view.scrollTop };
    });
    view.addEventListener("pointermove", function (event) {
      if (!drag) return;
      var dx = event.clientX - drag.x;
      var dy = event.clientY - drag.y;
      if (!dragged && Math.abs(dx) + Math.abs(dy) < 4) return;
      if (!dragged) view.setPointerCapture(event.pointerId);
      dragged = true;
      view.scrollLeft = drag.left - dx;
      view.scrollTop = drag.top - dy;
    });
    function endDrag() {
      drag = null;
    }
    view.addEventListener("pointerup", endDrag);
    view.addEventListener("pointercancel", endDrag);

    // Two fingers: the view's touch-action leaves pinching to this, so only the image grows,
    // never the page under the view (which would push the Close button off the screen).
    function spread(touches) {
      return Math.hypot(
        touches[0].clientX - touches[1].clientX,
        touches[0].clientY - touches[1].clientY
      );
    }
    view.addEventListener(
      "touchstart",
      function (event) {
        if (event.touches.length === 2) pinch = { spread: spread(event.touches) || 1, scale: scale };
      },
      { passive: true }
    );
    view.addEventListener(
      "touchmove",
      function (event) {
        if (!pinch || event.touches.length !== 2) return;
        event.preventDefault();
        var a = event.touches[0];
        var b = event.touches[1];
        zoom(
          (pinch.scale * spread(event.touches)) / pinch.spread,
          (a.clientX + b.clientX) / 2,
          (a.clientY + b.clientY) / 2
        );
      },
      { passive: false }
    );
    function endPinch(event) {
      if (event.touches.length < 2) pinch = null;
    }
    view.addEventListener("touchend", endPinch);
    view.addEventListener("touchcancel", endPinch);

    return current;
  }

  window.addEventListener("resize", noteStickyHeight);
  window.CropZoom = { attach: attach };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      attach(document);
    });
  } else {
    attach(document);
  }
})();
