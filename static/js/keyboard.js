/*
 * Ottoman keyboard: on-screen keys, and a toggle that turns the physical keyboard into an
 * Ottoman one, for the textareas where people transcribe lines.
 *
 * Hand-written, no build step, ES2017. The only global is window.OttomanKeyboard.
 *
 * The map is labeling/keyboard.json (its "_doc" key explains it). The template puts it in
 *   <script type="application/json" id="ottoman-keyboard-map">...</script>
 * (Django: {{ keyboard_map|json_script:"ottoman-keyboard-map" }}), and marks each textarea:
 *   <textarea data-ottoman-keyboard
 *             data-keyboard-container="ID of an empty element for the on-screen keys"
 *             data-keyboard-toggle="ID of an <input type=checkbox>, the physical toggle">
 * Both data-keyboard-* attributes are optional: without a container there are no on-screen
 * keys, without a checkbox the toggle lives only on the shortcut. On DOMContentLoaded every
 * such textarea is attached; OttomanKeyboard.attach(textarea, container, {toggle}) does the same
 * by hand and returns a handle (see attach below).
 *
 * Toggle shortcut: Alt+K (Option+K on a Mac), pressed in the textarea. Ctrl+Shift+K was
 * rejected because it opens Firefox's web console; no major browser uses Alt+K. The container
 * carries it as data-shortcut and the checkbox as aria-keyshortcuts. The toggle's state is kept
 * in localStorage, so it survives going from line to line.
 */
(function () {
  "use strict";

  const MAP_ELEMENT_ID = "ottoman-keyboard-map";
  const STORAGE_KEY = "ottomanKeyboard.physical";
  const SHORTCUT = "Alt+K";
  const ARABIC_SCRIPT = /[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]/;

  const instances = new WeakMap();
  let cachedMap = null;

  function readMap() {
    if (cachedMap) return cachedMap;
    const element = document.getElementById(MAP_ELEMENT_ID);
    if (!element) return null;
    try {
      cachedMap = JSON.parse(element.textContent);
    } catch (error) {
      console.error("OttomanKeyboard: #" + MAP_ELEMENT_ID + " is not valid JSON", error);
      return null;
    }
    return cachedMap;
  }

  // localStorage throws in some private modes and sandboxed frames; the toggle then simply
  // starts off on every page.
  function loadPhysical() {
    try {
      return window.localStorage.getItem(STORAGE_KEY) === "on";
    } catch (error) {
      return false;
    }
  }

  function savePhysical(on) {
    try {
      window.localStorage.setItem(STORAGE_KEY, on ? "on" : "off");
    } catch (error) {
      /* not remembered; nothing else depends on it */
    }
  }

  function fireInput(textarea, inputType, data) {
    let event;
    try {
      event = new InputEvent("input", { bubbles: true, inputType: inputType, data: data });
    } catch (error) {
      event = document.createEvent("Event");
      event.initEvent("input", true, false);
    }
    textarea.dispatchEvent(event);
  }

  // Replace [start, end) of the textarea's value with `text`, exactly, and leave the caret
  // after it. execCommand is deprecated but is still the only edit that keeps the browser's
  // undo history (Ctrl+Z) and fires "input" itself, so it goes first. Chromium, though, treats
  // the positions on either side of a ZWNJ as one: it inserts after the ZWNJ when the caret is
  // before it, and backspace there eats the ZWNJ. An Ottoman keyboard cannot lose ZWNJs, so
  // every execCommand edit is checked, and undone and redone by hand when it went wrong.
  function edit(textarea, start, end, text, inputType) {
    const before = textarea.value;
    const expected = before.slice(0, start) + text + before.slice(end);
    const caret = start + text.length;
    if (document.activeElement === textarea && typeof document.execCommand === "function") {
      let done = false;
      try {
        textarea.setSelectionRange(start, end);
        done = text
          ? document.execCommand("insertText", false, text)
          : document.execCommand("delete", false);
      } catch (error) {
        done = false;
      }
      if (done && textarea.value === expected && textarea.selectionStart === caret) return;
      if (textarea.value !== before) {
        try {
          document.execCommand("undo", false);
        } catch (error) {
          /* checked just below */
        }
        if (textarea.value !== before) textarea.value = before;
      }
    }
    textarea.setRangeText(text, start, end, "end");
    fireInput(textarea, inputType, text || null);
  }

  function insertText(textarea, text) {
    edit(textarea, textarea.selectionStart, textarea.selectionEnd, text, "insertText");
  }

  // The selection, or one code point before the caret (a surrogate pair counts as one). Not a
  // whole grapheme: a mistyped haraka or izafet hamza should go without its letter.
  function deleteBackward(textarea) {
    const value = textarea.value;
    const end = textarea.selectionEnd;
    let start = textarea.selectionStart;
    if (start === end) {
      if (start === 0) return;
      start -= 1;
      const low = value.charCodeAt(start);
      const high = value.charCodeAt(start - 1);
      if (start > 0 && low >= 0xdc00 && low <= 0xdfff && high >= 0xd800 && high <= 0xdbff) {
        start -= 1;
      }
    }
    edit(textarea, start, end, "", "deleteContentBackward");
  }

  function keysTyping(latin, chords, char) {
    const keys = Object.keys(latin).filter((key) => latin[key] === char);
    Object.keys(chords || {}).forEach((chord) => {
      if (chords[chord] === char) keys.push(chord);
    });
    return keys;
  }

  function renderKey(key, latin, chords) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "ok-key";
    button.setAttribute("aria-label", key.name);
    if (key.action) {
      button.dataset.action = key.action;
    } else {
      button.dataset.char = key.char;
    }
    if (key.wide) {
      button.style.gridColumn = "span " + key.wide;
      button.classList.add("ok-key--wide");
    }
    const typedBy = key.action ? [key.latin] : keysTyping(latin, chords, key.char);
    button.title = typedBy.length ? key.name + " — " + typedBy.join(", ") : key.name;

    const label = document.createElement("span");
    label.className = "ok-key__label";
    label.textContent = key.label;
    if (ARABIC_SCRIPT.test(key.label)) {
      label.lang = "ota";
      label.dir = "rtl";
    } else {
      button.classList.add("ok-key--symbol");
      label.dir = "ltr";
    }
    button.appendChild(label);

    // Only single keys fit in the corner; chords (Shift+Space) are in the title.
    if (key.latin && Array.from(key.latin).length === 1) {
      const hint = document.createElement("span");
      hint.className = "ok-key__hint";
      hint.lang = "tr";
      hint.dir = "ltr";
      hint.setAttribute("aria-hidden", "true");
      hint.textContent = key.latin;
      button.appendChild(hint);
    }
    return button;
  }

  function renderKeyboard(container, map) {
    container.textContent = "";
    container.classList.add("ok-keyboard");
    if (!container.hasAttribute("role")) container.setAttribute("role", "group");
    if (!container.hasAttribute("aria-label")) {
      container.setAttribute("aria-label", "Ottoman keyboard");
    }
    container.dataset.shortcut = SHORTCUT;
    map.layout.forEach((row) => {
      const rowElement = document.createElement("div");
      rowElement.className = "ok-row ok-row--" + row.row;
      rowElement.dir = "rtl";
      row.keys.forEach((key) => rowElement.appendChild(renderKey(key, map.latin, map.chords)));
      container.appendChild(rowElement);
    });
  }

  // With Caps Lock on, event.key is upper case for a plain press; Shift picks the Arabic
  // sibling here, so Caps Lock must not. Turkish casing keeps i/İ and ı/I apart.
  function physicalKey(event) {
    const key = event.key;
    if (key.length !== 1 || !event.getModifierState || !event.getModifierState("CapsLock")) {
      return key;
    }
    return event.shiftKey ? key.toLocaleUpperCase("tr") : key.toLocaleLowerCase("tr");
  }

  function isToggleShortcut(event) {
    return (
      event.altKey &&
      !event.ctrlKey &&
      !event.metaKey &&
      (event.code === "KeyK" || event.key === "k" || event.key === "K")
    );
  }

  /*
   * Attach the keyboard to a textarea. `container` (may be null) receives the on-screen keys;
   * options.toggle is the physical-keyboard checkbox (optional); options.map overrides the map
   * read from #ottoman-keyboard-map. Attaching twice returns the first handle.
   *
   * Returns {textarea, container, shortcut, isPhysical(), setPhysical(on), insert(text),
   * backspace(), detach()}.
   *
   * Focus: a mouse click on a key leaves (or puts) the focus in the textarea. A tap does not
   * focus it, so a phone's own keyboard does not cover the page; the text still goes in at the
   * caret. A key pressed with Enter or Space keeps the focus on the key, for keyboard users.
   */
  function attach(textarea, container, options) {
    if (instances.has(textarea)) return instances.get(textarea);
    const opts = options || {};
    const map = opts.map || readMap();
    if (!map) {
      console.error("OttomanKeyboard: no keyboard map (#" + MAP_ELEMENT_ID + ")");
      return null;
    }
    const toggle = opts.toggle || null;
    const latin = map.latin || {};
    const chords = map.chords || {};
    let physical = loadPhysical();
    let lastPointerType = "mouse";
    // Until the person has put the caret somewhere, keys append rather than go to position 0.
    let caretPlaced = document.activeElement === textarea;

    if (!textarea.hasAttribute("dir")) textarea.dir = "rtl";
    if (!textarea.hasAttribute("lang")) textarea.lang = "ota";

    function showPhysical() {
      if (toggle) toggle.checked = physical;
      textarea.dataset.ottomanPhysical = physical ? "on" : "off";
      if (container) container.dataset.physical = physical ? "on" : "off";
    }

    function setPhysical(on) {
      physical = Boolean(on);
      savePhysical(physical);
      showPhysical();
    }

    function placeCaretIfUntouched() {
      if (caretPlaced) return;
      const end = textarea.value.length;
      textarea.setSelectionRange(end, end);
      caretPlaced = true;
    }

    function insert(text) {
      placeCaretIfUntouched();
      insertText(textarea, text);
    }

    function backspace() {
      placeCaretIfUntouched();
      deleteBackward(textarea);
    }

    function onTextareaFocus() {
      caretPlaced = true;
    }

    function onKeydown(event) {
      if (event.defaultPrevented) return;
      if (isToggleShortcut(event)) {
        event.preventDefault();
        setPhysical(!physical);
        return;
      }
      if (!physical) return;
      // keyCode 229: an IME is handling the key (older Safari and Android do not set
      // isComposing); the composition is the person's, not ours.
      if (event.isComposing || event.keyCode === 229) return;
      if (event.ctrlKey || event.altKey || event.metaKey) return;
      if (event.getModifierState && event.getModifierState("AltGraph")) return;
      let text;
      if (event.key === " " && event.shiftKey) {
        text = chords["Shift+Space"];
      } else {
        const key = physicalKey(event);
        if (Object.prototype.hasOwnProperty.call(latin, key)) text = latin[key];
      }
      if (text === undefined) return;
      event.preventDefault();
      insert(text);
    }

    function onToggleChange() {
      setPhysical(toggle.checked);
    }

    function onPointerDown(event) {
      lastPointerType = event.pointerType || "mouse";
    }

    // Keeps the focus where it is (in the textarea) when a key is pressed with the mouse.
    function onMouseDown(event) {
      if (event.target.closest(".ok-key")) event.preventDefault();
    }

    function onClick(event) {
      const button = event.target.closest(".ok-key");
      if (!button || !container.contains(button)) return;
      const byPointer = event.detail > 0;
      if (byPointer && lastPointerType !== "touch" && document.activeElement !== textarea) {
        placeCaretIfUntouched(); // before focus(), which counts as placing the caret
        textarea.focus({ preventScroll: true });
      }
      if (button.dataset.action === "backspace") {
        backspace();
      } else if (button.dataset.char !== undefined) {
        insert(button.dataset.char);
      }
    }

    textarea.addEventListener("keydown", onKeydown);
    textarea.addEventListener("focus", onTextareaFocus);
    if (toggle) {
      toggle.addEventListener("change", onToggleChange);
      toggle.setAttribute("aria-keyshortcuts", SHORTCUT);
      if (!toggle.title) toggle.title = SHORTCUT;
    }
    if (container) {
      renderKeyboard(container, map);
      container.addEventListener("pointerdown", onPointerDown);
      container.addEventListener("mousedown", onMouseDown);
      container.addEventListener("click", onClick);
    }
    showPhysical();

    const handle = {
      textarea: textarea,
      container: container,
      shortcut: SHORTCUT,
      isPhysical: () => physical,
      setPhysical: setPhysical,
      insert: insert,
      backspace: backspace,
      detach: function () {
        textarea.removeEventListener("keydown", onKeydown);
        textarea.removeEventListener("focus", onTextareaFocus);
        if (toggle) toggle.removeEventListener("change", onToggleChange);
        if (container) {
          container.removeEventListener("pointerdown", onPointerDown);
          container.removeEventListener("mousedown", onMouseDown);
          container.removeEventListener("click", onClick);
          container.textContent = "";
        }
        instances.delete(textarea);
      },
    };
    instances.set(textarea, handle);
    return handle;
  }

  function autoAttach(root) {
    const scope = root || document;
    return Array.from(scope.querySelectorAll("textarea[data-ottoman-keyboard]"))
      .map((textarea) => {
        const containerId = textarea.dataset.keyboardContainer;
        const toggleId = textarea.dataset.keyboardToggle;
        return attach(
          textarea,
          containerId ? document.getElementById(containerId) : null,
          { toggle: toggleId ? document.getElementById(toggleId) : null }
        );
      })
      .filter(Boolean);
  }

  // The same transliteration as labeling.ottoman.latin_to_ottoman, for scripts and tests.
  function transliterate(text, map) {
    const latin = (map || readMap() || {}).latin || {};
    return Array.from(text)
      .map((ch) => (Object.prototype.hasOwnProperty.call(latin, ch) ? latin[ch] : ch))
      .join("");
  }

  window.OttomanKeyboard = {
    attach: attach,
    autoAttach: autoAttach,
    transliterate: transliterate,
    readMap: readMap,
    shortcut: SHORTCUT,
    mapElementId: MAP_ELEMENT_ID,
    storageKey: STORAGE_KEY,
  };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", () => autoAttach());
  } else {
    autoAttach();
  }
})();
