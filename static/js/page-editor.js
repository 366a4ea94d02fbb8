// Page editor: the scan in OpenSeadragon (zoom, pan, pinch) with the page's line boxes drawn on
// an SVG layer kept in page pixels. Select, draw, move, resize, split, merge, delete, reorder,
// turn highlighted ink into a line or dismiss it, undo. Every change is one POST; the server
// answers with the page's whole state, which is drawn again. Without JavaScript the static scan
// and the list the template renders stay.
(function () {
  "use strict";
  var root = document.getElementById("page-editor");
  if (!root || !window.OpenSeadragon || !window.fetch) return;
  var OSD = window.OpenSeadragon;
  var SVG_NS = "http://www.w3.org/2000/svg";
  var T = document.getElementById("pe-strings").dataset;
  var stateUrl = root.dataset.stateUrl;
  var editUrl = root.dataset.editUrl;
  var csrf = root.dataset.csrf;
  var pool = root.dataset.pool === "1";
  var viewerEl = document.getElementById("pe-viewer");
  var list = document.getElementById("line-list");
  var missing = document.getElementById("pe-missing");
  var hint = document.getElementById("pe-hint");
  var messageEl = document.getElementById("pe-message");
  var errorEl = document.getElementById("pe-error");
  var toolbar = root.querySelector(".pe-toolbar");
  var EDGES = ["whole", "top", "right", "bottom", "left"];
  var NUDGE_SAVE_MS = 700;
  var POLL_MS = 1500;
  var MIN_BOX = 4;

  var state = null; // the server's last answer
  var selected = null; // {kind: "line" | "band", id}
  var mode = "idle"; // "idle" | "draw" | "split"
  var gesture = null; // a drag on the scan in progress
  var lastGesture = null; // the drag just released (OpenSeadragon's drag-end comes after)
  var draft = null; // {lineId (null: a new box), box}: a box changed here, not yet saved
  var edge = 0; // index in EDGES: what the arrow keys move
  var nudgeTimer = null;
  var pollTimer = null;
  var busy = false;
  var generation = 0; // bumps on every POST; a poll started before one is stale
  var viewer = null;
  var svg = null;
  var layer = null;
  var scale = 1; // screen pixels per page pixel
  var origin = { x: 0, y: 0 }; // where page pixel (0, 0) is, in viewer pixels
  var imageFactor = 1; // image pixels per page pixel

  function fmt(template, n) {
    return template.replace("{n}", String(n));
  }

  function el(tag, attrs, text) {
    var node = tag.indexOf("svg:") === 0
      ? document.createElementNS(SVG_NS, tag.slice(4))
      : document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (attrs[key] !== null && attrs[key] !== undefined) node.setAttribute(key, attrs[key]);
    });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // ---- state -------------------------------------------------------------------------------

  function lines() {
    return state ? state.lines : [];
  }

  function lineById(id) {
    return lines().find(function (ln) { return ln.id === id; }) || null;
  }

  function bandById(id) {
    return state ? state.bands.find(function (b) { return b.id === id; }) || null : null;
  }

  function selectedLine() {
    return selected && selected.kind === "line" ? lineById(selected.id) : null;
  }

  function selectedBand() {
    return selected && selected.kind === "band" ? bandById(selected.id) : null;
  }

  function boxOf(line) {
    return draft && draft.lineId === line.id ? draft.box : line.box;
  }

  function editable() {
    return Boolean(state && state.page.editable);
  }

  function nextLine(line) {
    var index = lines().indexOf(line);
    return index >= 0 ? lines()[index + 1] || null : null;
  }

  // ---- talking to the server ---------------------------------------------------------------

  function say(text) {
    messageEl.textContent = text || "";
  }

  function showError(text) {
    errorEl.textContent = text || "";
    errorEl.hidden = !text;
  }

  function fetchState() {
    var started = generation;
    return fetch(stateUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) return Promise.reject(response.status);
        return response.json();
      })
      .then(function (data) {
        if (started !== generation || busy) return; // a change answered meanwhile: it is newer
        applyState(data);
      });
  }

  function schedulePoll() {
    clearTimeout(pollTimer);
    pollTimer = null;
    var reading = state.page.reading || lines().some(function (ln) { return ln.reading; });
    if (reading) {
      pollTimer = setTimeout(function () {
        fetchState().catch(function () { schedulePoll(); });
      }, POLL_MS);
    }
  }

  function post(action, body) {
    if (busy) return Promise.resolve(false);
    busy = true;
    generation += 1;
    clearTimeout(pollTimer);
    showError("");
    say(T.saving);
    root.setAttribute("aria-busy", "true");
    updateToolbar();
    return fetch(editUrl + action + "/", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body || {}),
    })
      .then(function (response) {
        return response.json().catch(function () { return null; }).then(function (data) {
          return { status: response.status, ok: response.ok, data: data };
        });
      })
      .then(function (answer) {
        busy = false;
        root.removeAttribute("aria-busy");
        if (!answer.ok) {
          say("");
          var text = answer.data && answer.data.error;
          if (answer.status === 403) text = text || T.signedOut;
          if (answer.status === 404) text = text || T.gone;
          showError(text || T.failed);
          draft = null;
          render();
          return false;
        }
        draft = null;
        if (answer.data.selected !== undefined && answer.data.selected !== null) {
          selected = { kind: "line", id: answer.data.selected };
          edge = 0;
        }
        applyState(answer.data);
        say(answer.data.message);
        return true;
      })
      .catch(function () {
        busy = false;
        root.removeAttribute("aria-busy");
        say("");
        showError(T.network);
        draft = null;
        render();
        return false;
      });
  }

  function applyState(data) {
    state = data;
    if (selected && selected.kind === "line" && !lineById(selected.id)) selected = null;
    if (selected && selected.kind === "band" && !bandById(selected.id)) selected = null;
    if (draft && draft.lineId !== null && !lineById(draft.lineId)) draft = null;
    if (!editable()) setMode("idle");
    render();
    schedulePoll();
  }

  // ---- drawing the state -------------------------------------------------------------------

  function render() {
    renderStatus();
    renderMissing();
    renderList();
    renderBoxes();
    updateToolbar();
  }

  function renderStatus() {
    var badge = document.getElementById("page-status");
    badge.textContent = state.page.status_label;
    badge.className = "status status-" + state.page.status;
    var error = document.getElementById("page-error");
    error.textContent = state.page.error;
    error.hidden = !state.page.error;
    if (!editable()) {
      hint.hidden = false;
      hint.textContent = T.locked;
    } else if (mode === "idle") {
      hint.hidden = true;
    }
  }

  function renderMissing() {
    var bands = state.bands;
    missing.hidden = !state.missing_label;
    missing.querySelector(".pe-missing-label").textContent = state.missing_label;
    var ul = missing.querySelector(".pe-band-list");
    ul.textContent = "";
    bands.forEach(function (band, index) {
      var name = fmt(T.band, index + 1);
      var li = el("li", { "class": "pe-band-item" + (isSelected("band", band.id) ? " selected" : "") });
      var labelId = "pe-band-name-" + band.id;
      var show = el("button", { type: "button", "class": "link", id: labelId }, name);
      show.addEventListener("click", function () { select("band", band.id, true); });
      var add = el("button", { type: "button", "aria-describedby": labelId }, T.makeLine);
      add.disabled = !editable() || busy;
      add.addEventListener("click", function () { post("add", { band: band.id }); });
      var dismiss = el("button", { type: "button", "aria-describedby": labelId }, T.notText);
      dismiss.disabled = !editable() || busy;
      dismiss.addEventListener("click", function () { post("dismiss", { band: band.id }); });
      li.append(show, add, dismiss);
      ul.append(li);
    });
  }

  function isSelected(kind, id) {
    return Boolean(selected && selected.kind === kind && selected.id === id);
  }

  function renderList() {
    var hadFocus = list.contains(document.activeElement);
    list.textContent = "";
    list.classList.add("pe-list");
    if (!lines().length) {
      list.append(el("li", { "class": "empty" }, T.noLines));
      return;
    }
    var current = selectedLine() || lines()[0];
    lines().forEach(function (ln) {
      var chosen = isSelected("line", ln.id);
      var li = el("li", {
        "class": "pe-row" + (chosen ? " selected" : "") + (ln.mine ? " done" : ""),
        "data-line-id": ln.id,
      });
      var pick = el("button", {
        type: "button",
        "class": "line-pick",
        "aria-pressed": chosen ? "true" : "false",
        tabindex: ln === current ? "0" : "-1",
      });
      pick.append(el("span", { "class": "line-no" }, String(ln.order)));
      if (ln.reading) {
        pick.append(el("span", { "class": "pe-reading" }, T.beingRead));
      } else {
        pick.append(el("span", { "class": "prediction", dir: "rtl", lang: "ota", title: ln.text_label }, ln.text));
      }
      var notes = el("span", { "class": "pe-notes" });
      if (!ln.reading) {
        notes.append(el("span", { "class": "confidence", title: T.confidence }, Math.round(ln.confidence) + "%"));
      }
      if (ln.mine) notes.append(el("span", { "class": "badge" }, T.read));
      if (ln.box_changed) notes.append(el("span", { "class": "pe-box-changed" }, T.boxChanged));
      if (pool) notes.append(el("span", { "class": "status status-" + ln.status }, ln.status_label));
      pick.append(notes);
      pick.addEventListener("click", function () { select("line", ln.id, true); });
      var open = el("a", {
        href: ln.url,
        "class": "line-open",
        "aria-label": fmt(T.openLine, ln.order),
        tabindex: ln === current ? "0" : "-1",
      }, T.open);
      li.append(pick, open);
      list.append(li);
    });
    if (hadFocus) focusRow(current);
  }

  function focusRow(line) {
    var button = line && list.querySelector('[data-line-id="' + line.id + '"] .line-pick');
    if (button) button.focus();
  }

  function renderBoxes() {
    if (!layer) return;
    layer.textContent = "";
    state.bands.forEach(function (band) {
      var g = el("svg:g", { "class": "pe-band" + (isSelected("band", band.id) ? " selected" : "") });
      g.append(rect(band.box, "pe-band-rect"));
      layer.append(g);
    });
    var labels = el("svg:g", { "class": "pe-labels" });
    lines().forEach(function (ln) {
      var box = boxOf(ln);
      var classes = ["pe-box"];
      if (ln.mine) classes.push("mine");
      if (ln.box_changed) classes.push("changed");
      if (ln.reading) classes.push("reading");
      if (isSelected("line", ln.id)) classes.push("selected");
      var g = el("svg:g", { "class": classes.join(" "), "data-line-id": ln.id });
      g.append(rect(box, "pe-box-rect line-box"));
      layer.append(g);
      labels.append(el("svg:text", {
        "class": "pe-number",
        x: box[2],
        y: box[1],
        "text-anchor": "end",
        "data-line-id": ln.id,
      }, String(ln.order)));
    });
    layer.append(labels);
    var line = selectedLine();
    if (line && editable()) drawHandles(boxOf(line));
    if (draft && draft.lineId === null) layer.append(rect(draft.box, "pe-draft"));
    if (mode === "split" && line) layer.append(el("svg:line", { "class": "pe-cut", id: "pe-cut" }));
    sync();
  }

  function rect(box, cls) {
    return el("svg:rect", {
      "class": cls,
      x: box[0],
      y: box[1],
      width: Math.max(box[2] - box[0], 0),
      height: Math.max(box[3] - box[1], 0),
    });
  }

  function drawHandles(box) {
    var g = el("svg:g", { "class": "pe-handles" });
    var active = EDGES[edge];
    if (active !== "whole") {
      var at = {
        top: [box[0], box[1], box[2], box[1]],
        right: [box[2], box[1], box[2], box[3]],
        bottom: [box[0], box[3], box[2], box[3]],
        left: [box[0], box[1], box[0], box[3]],
      }[active];
      g.append(el("svg:line", { "class": "pe-active-edge", x1: at[0], y1: at[1], x2: at[2], y2: at[3] }));
    }
    var mx = (box[0] + box[2]) / 2;
    var my = (box[1] + box[3]) / 2;
    [[box[0], box[1]], [mx, box[1]], [box[2], box[1]], [box[2], my],
      [box[2], box[3]], [mx, box[3]], [box[0], box[3]], [box[0], my]].forEach(function (p) {
      g.append(el("svg:circle", { "class": "pe-handle", cx: p[0], cy: p[1], r: 1 }));
    });
    layer.append(g);
  }

  // Keeps the layer on the image: page pixels to viewer pixels, at the current zoom and pan.
  function sync() {
    if (!viewer || !svg || !viewer.world.getItemCount()) return;
    var item = viewer.world.getItemAt(0);
    var size = item.getContentSize();
    imageFactor = size.x / state.page.width;
    var p0 = item.imageToViewerElementCoordinates(new OSD.Point(0, 0));
    var p1 = item.imageToViewerElementCoordinates(new OSD.Point(size.x, 0));
    scale = (p1.x - p0.x) / state.page.width;
    origin = { x: p0.x, y: p0.y };
    layer.setAttribute("transform", "translate(" + p0.x + " " + p0.y + ") scale(" + scale + ")");
    var labels = layer.querySelector(".pe-labels");
    if (labels) {
      labels.setAttribute("font-size", String(14 / scale));
      labels.setAttribute("transform", "translate(" + (-4 / scale) + " " + (14 / scale) + ")");
    }
    var touch = window.matchMedia("(pointer: coarse)").matches;
    layer.querySelectorAll(".pe-handle").forEach(function (h) {
      h.setAttribute("r", String((touch ? 9 : 6) / scale));
    });
    var hatch = svg.querySelector("#pe-hatch");
    hatch.setAttribute("width", String(10 / scale));
    hatch.setAttribute("height", String(10 / scale));
    hatch.querySelector("line").setAttribute("y2", String(10 / scale));
  }

  // ---- the toolbar -------------------------------------------------------------------------

  function button(act) {
    return toolbar.querySelector('[data-act="' + act + '"]');
  }

  function updateToolbar() {
    if (!state) return;
    var line = selectedLine();
    var band = selectedBand();
    var can = editable() && !busy;
    var index = line ? lines().indexOf(line) : -1;
    button("draw").disabled = !can;
    button("draw").setAttribute("aria-pressed", mode === "draw" ? "true" : "false");
    button("split").disabled = !(can && line);
    button("split").setAttribute("aria-pressed", mode === "split" ? "true" : "false");
    button("merge").disabled = !(can && line && nextLine(line));
    button("delete").disabled = !(can && line);
    button("up").disabled = !(can && line && index > 0);
    button("down").disabled = !(can && line && index < lines().length - 1);
    button("band-add").disabled = !(can && band);
    button("band-dismiss").disabled = !(can && band);
    root.querySelector(".pe-band-actions").hidden = !band;
    var undo = button("undo");
    undo.textContent = state.page.undo ? state.page.undo.label : T.undo;
    undo.disabled = !(can && state.page.undo);
  }

  function setMode(next) {
    mode = next;
    if (next === "draw") {
      hint.textContent = T.drawHint;
      hint.hidden = false;
      viewerEl.classList.add("drawing");
    } else if (next === "split") {
      hint.textContent = T.splitHint;
      hint.hidden = false;
      viewerEl.classList.remove("drawing");
    } else {
      hint.hidden = editable() || !state;
      viewerEl.classList.remove("drawing");
    }
    if (state) {
      renderBoxes();
      updateToolbar();
    }
  }

  function select(kind, id, reveal) {
    flushNudge();
    selected = id === null ? null : { kind: kind, id: id };
    edge = 0;
    if (mode === "split" && kind !== "line") setMode("idle");
    render();
    if (selected) {
      var item = kind === "line" ? lineById(id) : bandById(id);
      say(fmt(kind === "line" ? T.selected : T.bandSelected,
        kind === "line" ? item.order : state.bands.indexOf(item) + 1));
      if (reveal) revealBox(item.box);
    }
  }

  function revealBox(box) {
    if (!viewer || !viewer.world.getItemCount()) return;
    var item = viewer.world.getItemAt(0);
    var r = item.imageToViewportRectangle(
      box[0] * imageFactor, box[1] * imageFactor,
      (box[2] - box[0]) * imageFactor, (box[3] - box[1]) * imageFactor
    );
    var view = viewer.viewport.getBounds();
    var centre = r.getCenter();
    var inside = centre.x >= view.x && centre.x <= view.x + view.width &&
      centre.y >= view.y && centre.y <= view.y + view.height;
    if (!inside) viewer.viewport.panTo(centre);
  }

  function splitAt(line, point) {
    var box = boxOf(line);
    var heights = lines().map(function (ln) { return ln.box[3] - ln.box[1]; }).sort(function (a, b) { return a - b; });
    var median = heights[Math.floor(heights.length / 2)] || 1;
    // A box about one line high can only hold words side by side; a taller one, lines stacked.
    var stacked = box[3] - box[1] > 1.5 * median || box[3] - box[1] >= box[2] - box[0];
    var at;
    if (stacked) {
      at = point ? point.y : (box[1] + box[3]) / 2;
      at = Math.round(Math.min(Math.max(at, box[1] + 1), box[3] - 1));
      return post("split", { line: line.id, axis: "y", at: at });
    }
    at = point ? point.x : (box[0] + box[2]) / 2;
    at = Math.round(Math.min(Math.max(at, box[0] + 1), box[2] - 1));
    return post("split", { line: line.id, axis: "x", at: at });
  }

  function deleteSelected() {
    var line = selectedLine();
    if (!line || !editable() || busy) return;
    if (!window.confirm(fmt(T.confirmDelete, line.order))) return;
    post("delete", { line: line.id });
  }

  function reorder(line, step) {
    var ids = lines().map(function (ln) { return ln.id; });
    var index = ids.indexOf(line.id);
    var other = index + step;
    if (index < 0 || other < 0 || other >= ids.length) return;
    ids[index] = ids[other];
    ids[other] = line.id;
    post("order", { lines: ids });
  }

  function undo() {
    if (!state || !state.page.undo || !editable()) return;
    flushNudge(true);
    post("undo", {});
  }

  toolbar.addEventListener("click", function (event) {
    var target = event.target.closest("button[data-act]");
    if (!target || target.disabled) return;
    var act = target.dataset.act;
    var line = selectedLine();
    var band = selectedBand();
    if (act === "zoom-in" && viewer) viewer.viewport.zoomBy(1.5);
    if (act === "zoom-out" && viewer) viewer.viewport.zoomBy(1 / 1.5);
    if ((act === "zoom-in" || act === "zoom-out") && viewer) viewer.viewport.applyConstraints();
    if (act === "fit" && viewer) viewer.viewport.goHome();
    if (act === "draw") setMode(mode === "draw" ? "idle" : "draw");
    if (act === "split" && line) {
      if (mode === "split") {
        setMode("idle");
        splitAt(line, null);
      } else {
        setMode("split");
      }
    }
    if (act === "merge" && line && nextLine(line)) post("merge", { line: line.id, "with": nextLine(line).id });
    if (act === "delete") deleteSelected();
    if (act === "up" && line) reorder(line, -1);
    if (act === "down" && line) reorder(line, 1);
    if (act === "band-add" && band) post("add", { band: band.id });
    if (act === "band-dismiss" && band) post("dismiss", { band: band.id });
    if (act === "undo") undo();
  });

  // ---- the list from the keyboard ----------------------------------------------------------

  list.addEventListener("keydown", function (event) {
    if (!state || !event.target.closest(".pe-row")) return;
    var row = event.target.closest(".pe-row");
    var line = lineById(Number(row.dataset.lineId));
    var index = lines().indexOf(line);
    var target = null;
    if (event.key === "ArrowDown") target = lines()[index + 1];
    else if (event.key === "ArrowUp") target = lines()[index - 1];
    else if (event.key === "Home") target = lines()[0];
    else if (event.key === "End") target = lines()[lines().length - 1];
    else if (event.key === "Delete" && isSelected("line", line.id)) {
      event.preventDefault();
      deleteSelected();
      return;
    } else return;
    event.preventDefault();
    if (target) {
      select("line", target.id, true);
      focusRow(target);
    }
  });

  // ---- keyboard on the scan ----------------------------------------------------------------

  function nudge(dx, dy) {
    var line = selectedLine();
    if (!line || !editable() || busy) return false;
    var box = boxOf(line).slice();
    var which = EDGES[edge];
    if (which === "whole") {
      box = [box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy];
    } else if (which === "top" && dy) box[1] += dy;
    else if (which === "bottom" && dy) box[3] += dy;
    else if (which === "left" && dx) box[0] += dx;
    else if (which === "right" && dx) box[2] += dx;
    else return true; // the other axis: nothing to move, but the key is still ours
    box = clampBox(box);
    if (box[2] - box[0] < MIN_BOX || box[3] - box[1] < MIN_BOX) return true;
    draft = { lineId: line.id, box: box };
    renderBoxes();
    clearTimeout(nudgeTimer);
    nudgeTimer = setTimeout(function () { flushNudge(); }, NUDGE_SAVE_MS);
    return true;
  }

  // Saves nudged keys now; with `drop`, forgets them instead (undo right after nudging).
  function flushNudge(drop) {
    if (!nudgeTimer) return;
    clearTimeout(nudgeTimer);
    nudgeTimer = null;
    if (!draft || draft.lineId === null) return;
    if (drop) {
      draft = null;
      return;
    }
    post("move", { line: draft.lineId, box: draft.box });
  }

  function clampBox(box) {
    var w = state.page.width;
    var h = state.page.height;
    var l = Math.max(0, Math.min(box[0], box[2]));
    var r = Math.min(w, Math.max(box[0], box[2]));
    var t = Math.max(0, Math.min(box[1], box[3]));
    var b = Math.min(h, Math.max(box[1], box[3]));
    return [Math.round(l), Math.round(t), Math.round(r), Math.round(b)];
  }

  viewerEl.addEventListener("keydown", function (event) {
    if (!state || event.altKey || event.metaKey || (event.ctrlKey && event.key.toLowerCase() !== "z")) return;
    var step = event.shiftKey ? 10 : 1;
    var handled = false;
    var line = selectedLine();
    var key = event.key;
    if (key.indexOf("Arrow") === 0 && line && editable()) {
      handled = nudge(
        key === "ArrowLeft" ? -step : key === "ArrowRight" ? step : 0,
        key === "ArrowUp" ? -step : key === "ArrowDown" ? step : 0
      );
    } else if ((key === "e" || key === "E") && line) {
      edge = (edge + 1) % EDGES.length;
      say(T["edge" + EDGES[edge].charAt(0).toUpperCase() + EDGES[edge].slice(1)]);
      renderBoxes();
      handled = true;
    } else if ((key === "d" || key === "D") && editable()) {
      setMode(mode === "draw" ? "idle" : "draw");
      handled = true;
    } else if ((key === "s" || key === "S") && line && editable()) {
      if (mode === "split") {
        setMode("idle");
        splitAt(line, null);
      } else {
        setMode("split");
      }
      handled = true;
    } else if ((key === "Delete" || key === "Backspace") && line) {
      deleteSelected();
      handled = true;
    } else if (key === "Escape") {
      if (mode !== "idle") setMode("idle");
      else if (selected) select(null, null, false);
      handled = true;
    } else if (key === "0") {
      if (viewer) viewer.viewport.goHome();
      handled = true;
    }
    if (handled) {
      event.preventDefault();
      event.stopPropagation(); // OpenSeadragon's own keys (arrows pan) stay for the rest
    }
  }, true);

  root.parentNode.addEventListener("keydown", function (event) {
    if ((event.ctrlKey || event.metaKey) && !event.shiftKey && event.key.toLowerCase() === "z") {
      var field = event.target.closest("input, textarea, select");
      if (field) return;
      event.preventDefault();
      undo();
    }
  });

  // ---- the pointer on the scan (mouse, pen and touch alike, through OpenSeadragon) ----------

  function toPage(position) {
    return {
      x: (position.x - origin.x) / scale,
      y: (position.y - origin.y) / scale,
    };
  }

  function within(box, p) {
    return p.x >= box[0] && p.x <= box[2] && p.y >= box[1] && p.y <= box[3];
  }

  // The edges of the box under the pointer, within a finger's or a mouse's reach on screen.
  function edgesNear(box, position, reach) {
    var sx = function (x) { return origin.x + x * scale; };
    var sy = function (y) { return origin.y + y * scale; };
    var l = sx(box[0]), t = sy(box[1]), r = sx(box[2]), b = sy(box[3]);
    var x = position.x, y = position.y;
    if (x < l - reach || x > r + reach || y < t - reach || y > b + reach) return null;
    var inside = x > l && x < r && y > t && y < b;
    // Inside a thin box the reach shrinks, so that a press in its middle still moves it.
    var reachX = inside ? Math.min(reach, (r - l) / 4) : reach;
    var reachY = inside ? Math.min(reach, (b - t) / 4) : reach;
    var found = {};
    if (Math.abs(x - l) <= reachX && Math.abs(x - l) <= Math.abs(x - r)) found.left = true;
    else if (Math.abs(x - r) <= reachX) found.right = true;
    if (Math.abs(y - t) <= reachY && Math.abs(y - t) <= Math.abs(y - b)) found.top = true;
    else if (Math.abs(y - b) <= reachY) found.bottom = true;
    return Object.keys(found).length ? found : null;
  }

  function hit(point) {
    // The smallest box under the point wins, so a box inside another can still be picked.
    var best = null;
    var area = Infinity;
    lines().forEach(function (ln) {
      var box = boxOf(ln);
      var a = (box[2] - box[0]) * (box[3] - box[1]);
      if (within(box, point) && a < area) {
        best = { kind: "line", id: ln.id };
        area = a;
      }
    });
    if (best) return best;
    var band = state.bands.find(function (bd) { return within(bd.box, point); });
    return band ? { kind: "band", id: band.id } : null;
  }

  function reachFor(event) {
    return event.pointerType === "touch" ? 22 : 10;
  }

  function onPress(event) {
    if (!state || !editable() || busy) return;
    var point = toPage(event.position);
    if (mode === "draw") {
      gesture = { kind: "draw", start: point };
      draft = { lineId: null, box: clampBox([point.x, point.y, point.x, point.y]) };
      return;
    }
    var line = selectedLine();
    if (mode !== "idle" || !line) return;
    var box = boxOf(line);
    var edges = edgesNear(box, event.position, reachFor(event));
    if (edges) gesture = { kind: "resize", edges: edges, start: point, box: box.slice(), line: line.id };
    else if (within(box, point)) gesture = { kind: "move", start: point, box: box.slice(), line: line.id };
  }

  function onDrag(event) {
    if (!gesture) return;
    event.preventDefaultAction = true; // no panning while a box is drawn or moved
    var point = toPage(event.position);
    var dx = point.x - gesture.start.x;
    var dy = point.y - gesture.start.y;
    var b = gesture.box;
    if (gesture.kind === "draw") {
      draft = { lineId: null, box: clampBox([gesture.start.x, gesture.start.y, point.x, point.y]) };
    } else if (gesture.kind === "move") {
      var w = b[2] - b[0];
      var h = b[3] - b[1];
      var left = Math.min(Math.max(b[0] + dx, 0), state.page.width - w);
      var top = Math.min(Math.max(b[1] + dy, 0), state.page.height - h);
      draft = { lineId: gesture.line, box: [Math.round(left), Math.round(top), Math.round(left + w), Math.round(top + h)] };
    } else {
      var e = gesture.edges;
      draft = {
        lineId: gesture.line,
        box: clampBox([
          e.left ? b[0] + dx : b[0],
          e.top ? b[1] + dy : b[1],
          e.right ? b[2] + dx : b[2],
          e.bottom ? b[3] + dy : b[3],
        ]),
      };
    }
    gesture.dragged = true;
    renderBoxes();
  }

  function onRelease() {
    if (!gesture) return;
    var done = gesture;
    gesture = null;
    lastGesture = done;
    if (!done.dragged || !draft) {
      if (done.kind === "draw") draft = null;
      return;
    }
    var box = draft.box;
    if (box[2] - box[0] < MIN_BOX || box[3] - box[1] < MIN_BOX) {
      draft = null;
      renderBoxes();
      if (done.kind === "draw") showError(T.tooSmall);
      return;
    }
    if (done.kind === "draw") {
      setMode("idle");
      post("add", { box: box });
    } else if (box.join() !== done.box.join()) {
      clearTimeout(nudgeTimer);
      nudgeTimer = null;
      post("move", { line: done.line, box: box });
    } else {
      draft = null;
    }
  }

  function onClick(event) {
    event.preventDefaultAction = true; // a click selects; it does not zoom
    if (!state || !event.quick || gesture) return;
    var point = toPage(event.position);
    var line = selectedLine();
    if (mode === "split" && line) {
      if (within(boxOf(line), point)) {
        setMode("idle");
        splitAt(line, point);
      }
      return;
    }
    if (mode === "draw") return;
    var found = hit(point);
    if (found) {
      if (!isSelected(found.kind, found.id)) select(found.kind, found.id, false);
    } else if (selected) {
      select(null, null, false);
    }
  }

  function onMove(event) {
    var cut = document.getElementById("pe-cut");
    var line = selectedLine();
    if (!cut || !line) return;
    var box = boxOf(line);
    var point = toPage(event.position);
    if (!within(box, point)) {
      cut.setAttribute("visibility", "hidden");
      return;
    }
    cut.setAttribute("visibility", "visible");
    var heights = lines().map(function (ln) { return ln.box[3] - ln.box[1]; }).sort(function (a, b) { return a - b; });
    var median = heights[Math.floor(heights.length / 2)] || 1;
    var stacked = box[3] - box[1] > 1.5 * median || box[3] - box[1] >= box[2] - box[0];
    if (stacked) {
      cut.setAttribute("x1", box[0]); cut.setAttribute("x2", box[2]);
      cut.setAttribute("y1", point.y); cut.setAttribute("y2", point.y);
    } else {
      cut.setAttribute("x1", point.x); cut.setAttribute("x2", point.x);
      cut.setAttribute("y1", box[1]); cut.setAttribute("y2", box[3]);
    }
  }

  // ---- start -------------------------------------------------------------------------------

  // As high as the page at the viewer's width, within most of the window: no empty band under a
  // wide page, no scan taller than the screen.
  function fitHeight() {
    var ideal = viewerEl.clientWidth * state.page.height / Math.max(state.page.width, 1);
    var most = window.innerHeight * (window.innerWidth < 640 ? 0.62 : 0.75);
    viewerEl.style.height = Math.round(Math.max(Math.min(ideal, most), 240)) + "px";
  }

  // The scaled preview first, the full scan only once the person zooms in past it.
  function tileSource() {
    var full = { type: "image", url: root.dataset.imageUrl };
    if (!root.dataset.previewUrl) return full;
    return {
      type: "legacy-image-pyramid",
      levels: [
        { url: root.dataset.previewUrl, width: Number(root.dataset.previewWidth),
          height: Number(root.dataset.previewHeight) },
        { url: root.dataset.imageUrl, width: state.page.width, height: state.page.height },
      ],
    };
  }

  function startViewer() {
    fitHeight();
    window.addEventListener("resize", fitHeight);
    viewer = OSD({
      element: viewerEl,
      tileSources: tileSource(),
      drawer: "canvas",
      showNavigationControl: false,
      gestureSettingsMouse: { clickToZoom: false, dblClickToZoom: true },
      gestureSettingsTouch: { clickToZoom: false, dblClickToZoom: true, pinchToZoom: true },
      gestureSettingsPen: { clickToZoom: false },
      visibilityRatio: 0.2,
      minZoomImageRatio: 0.5,
      maxZoomPixelRatio: 8,
      zoomPerScroll: 1.25,
      animationTime: 0.3,
      preserveImageSizeOnResize: true,
    });
    svg = el("svg:svg", { "class": "pe-layer", "aria-hidden": "true" });
    var defs = el("svg:defs");
    var hatch = el("svg:pattern", {
      id: "pe-hatch", patternUnits: "userSpaceOnUse", width: 10, height: 10, patternTransform: "rotate(45)",
    });
    hatch.append(el("svg:line", { x1: 0, y1: 0, x2: 0, y2: 10, "class": "pe-hatch-line" }));
    defs.append(hatch);
    svg.append(defs);
    layer = el("svg:g", { "class": "pe-page" });
    svg.append(layer);
    viewer.canvas.append(svg);
    viewer.addHandler("open", function () {
      renderBoxes();
      viewerEl.dataset.ready = "1";
    });
    viewer.addHandler("update-viewport", sync);
    viewer.addHandler("canvas-press", onPress);
    viewer.addHandler("canvas-drag", onDrag);
    viewer.addHandler("canvas-drag-end", function (event) {
      // After a box was drawn or moved, no flick: the scan stays where the finger left it.
      if (gesture || lastGesture) event.preventDefaultAction = true;
      lastGesture = null;
    });
    viewer.addHandler("canvas-release", onRelease);
    viewer.addHandler("canvas-click", onClick);
    viewer.canvas.addEventListener("pointermove", function (event) {
      var bounds = viewer.canvas.getBoundingClientRect();
      onMove({ position: { x: event.clientX - bounds.left, y: event.clientY - bounds.top } });
    });
    // The scan's keyboard focus is OpenSeadragon's canvas (its own keys zoom and pan there).
    ["aria-label", "aria-describedby"].forEach(function (name) {
      viewer.canvas.setAttribute(name, viewerEl.getAttribute(name));
      viewerEl.removeAttribute(name);
    });
    viewer.canvas.id = "pe-canvas";
  }

  fetchState()
    .then(function () {
      if (!state) return;
      // Gone rather than hidden: its boxes would be a second, stale set under the same names.
      document.getElementById("static-scan").remove();
      root.hidden = false;
      document.getElementById("page-layout").classList.add("pe-on");
      startViewer();
      render();
    })
    .catch(function () {
      // The static scan and list stay: the page is still usable to open lines.
    });
})();
