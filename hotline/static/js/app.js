/* 12345 热线工单系统: small page behaviours (no framework; htmx does the requests). */
(function () {
  "use strict";

  /* One search rule for the pickers (categories, units): letters match the start of a word of the
     option's pinyin key (data-pinyin: full pinyin and initials, tickets/pinyin.py), so "ts" finds
     停水 but not the "ts" inside "qtsx"; anything else (Chinese, codes) is a substring of the text. */
  window.hotlineMatches = function (option, term) {
    if (/^[a-z]+$/.test(term)) {
      return (" " + (option.dataset.pinyin || "")).indexOf(" " + term) !== -1;
    }
    var hay = ((option.dataset.search || "") + " " + (option.dataset.label || "")).toLowerCase();
    return hay.indexOf(term) !== -1 || hay.replace(/—/g, "").indexOf(term) !== -1;
  };

  // --- Searchable category picker (Chinese text, code, pinyin initials) -----------------------
  function initCombo(root) {
    var input = root.querySelector('[role="combobox"]');
    var hidden = root.querySelector('input[type="hidden"]');
    var list = root.querySelector('[role="listbox"]');
    var options = Array.prototype.slice.call(list.querySelectorAll('[role="option"]'));
    var active = -1;

    function visible() { return options.filter(function (o) { return !o.hidden; }); }
    function open() { list.hidden = false; input.setAttribute("aria-expanded", "true"); }
    function close() { list.hidden = true; input.setAttribute("aria-expanded", "false"); }
    function highlight(i) {
      var vis = visible();
      options.forEach(function (o) { o.classList.remove("active"); o.removeAttribute("aria-selected"); });
      if (!vis.length) { active = -1; input.removeAttribute("aria-activedescendant"); return; }
      active = Math.max(0, Math.min(i, vis.length - 1));
      vis[active].classList.add("active");
      vis[active].setAttribute("aria-selected", "true");
      input.setAttribute("aria-activedescendant", vis[active].id);
      vis[active].scrollIntoView({ block: "nearest" });
    }
    function filter() {
      var terms = input.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
      options.forEach(function (o) {
        o.hidden = !terms.every(function (t) { return window.hotlineMatches(o, t); });
      });
      open();
      highlight(0);
    }
    function choose(option) {
      hidden.value = option.dataset.code;
      input.value = option.dataset.label;
      close();
      document.body.dispatchEvent(new CustomEvent("category-picked", { bubbles: true }));
    }
    input.addEventListener("input", function () { hidden.value = ""; filter(); });
    input.addEventListener("focus", function () { if (!hidden.value) { filter(); } });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
    input.addEventListener("keydown", function (e) {
      if (e.key === "ArrowDown") { e.preventDefault(); if (list.hidden) { filter(); } else { highlight(active + 1); } }
      else if (e.key === "ArrowUp") { e.preventDefault(); highlight(active - 1); }
      else if (e.key === "Enter" && !e.ctrlKey) {
        var vis = visible();
        if (!list.hidden && vis[active]) { e.preventDefault(); e.stopPropagation(); choose(vis[active]); focusNext(input); }
        else if (hidden.value) { e.preventDefault(); e.stopPropagation(); focusNext(input); }
      } else if (e.key === "Escape") { close(); }
    });
    list.addEventListener("mousedown", function (e) {
      var li = e.target.closest('[role="option"]');
      if (li) { e.preventDefault(); choose(li); }
    });
  }

  // --- Enter moves to the next field in call-centre forms; Ctrl+Enter submits -----------------
  function fields(form) {
    return Array.prototype.slice.call(form.querySelectorAll("input, select, textarea, button"))
      .filter(function (el) { return el.type !== "hidden" && !el.disabled && el.offsetParent !== null; });
  }
  function focusNext(el) {
    var form = el.form || el.closest("form");
    if (!form) { return; }
    var all = fields(form);
    var i = all.indexOf(el);
    if (i >= 0 && all[i + 1]) { all[i + 1].focus(); }
  }
  document.addEventListener("keydown", function (e) {
    var form = e.target.closest && e.target.closest("form[data-enter-advances]");
    if (!form || e.key !== "Enter") { return; }
    if (e.ctrlKey || e.metaKey) { e.preventDefault(); form.requestSubmit(); return; }
    var t = e.target;
    if (t.tagName === "INPUT" && ["text", "tel", "search", "number", "checkbox", "radio", "date"].indexOf(t.type) !== -1) {
      e.preventDefault();
      focusNext(t);
    } else if (t.tagName === "SELECT") {
      e.preventDefault();
      focusNext(t);
    }
  });

  // --- Call timer, and the caller's number copied into the "log a call" forms ---------------
  var started = Date.now();
  function elapsed() { return Math.round((Date.now() - started) / 1000); }
  function initTimer(el) {
    setInterval(function () {
      var s = elapsed();
      el.textContent = String(Math.floor(s / 60)).padStart(2, "0") + ":" + String(s % 60).padStart(2, "0");
    }, 1000);
  }
  document.addEventListener("submit", function (e) {
    var form = e.target;
    var d = form.querySelector('input[name="duration_seconds"]');
    if (d && document.getElementById("call-timer")) { d.value = elapsed(); }
    if (form.hasAttribute("data-copy-phone")) {
      var phone = document.getElementById("id_caller_phone");
      var target = form.querySelector('input[name="caller_phone"]');
      if (phone && target && !target.value) { target.value = phone.value; }
    }
  });

  // --- Knowledge base: use an earlier answer (协调办理) ---------------------------------------
  function syncReply(form) {
    var coordinated = form.querySelector('input[name="handling_mode"][value="coordinated"]');
    var reply = form.querySelector(".reply-field");
    if (coordinated && reply) { reply.hidden = !coordinated.checked; }
  }
  document.addEventListener("click", function (e) {
    var btn = e.target.closest && e.target.closest("[data-use-answer]");
    if (!btn) { return; }
    var form = document.getElementById("call-form");
    var mode = form.querySelector('input[name="handling_mode"][value="coordinated"]');
    mode.checked = true;
    syncReply(form);
    var reply = form.querySelector('textarea[name="reply_text"]');
    reply.value = btn.getAttribute("data-use-answer");
    reply.focus();
  });
  document.addEventListener("change", function (e) {
    if (e.target.name === "handling_mode" && e.target.form) { syncReply(e.target.form); }
  });

  // --- Action panels on the ticket page: open one, focus its first field -----------------------
  document.addEventListener("toggle", function (e) {
    var d = e.target;
    if (d.tagName === "DETAILS" && d.open && d.classList.contains("action")) {
      var first = d.querySelector("input:not([type=hidden]), select, textarea");
      if (first) { first.focus(); }
    }
  }, true);

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-combo]"), initCombo);
    var timer = document.getElementById("call-timer");
    if (timer) { initTimer(timer); }
    var callForm = document.getElementById("call-form");
    if (callForm) { syncReply(callForm); }
    var firstError = document.querySelector(".has-error input:not([type=hidden]), .has-error select, .has-error textarea");
    if (firstError) { firstError.focus(); }
    else { var auto = document.querySelector("[data-autofocus]"); if (auto) { auto.focus(); } }
  });
})();

/* The dispatch unit picker: a grouped <select> (works without JS) and a search box that narrows
   it by name, full pinyin or initials (the same rule as the category picker). */
function unitPickerFilter(search) {
  var select = document.getElementById(search.getAttribute("data-unit-search"));
  if (!select) { return; }
  var terms = search.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
  var shown = 0;
  var first = null;
  Array.prototype.forEach.call(select.options, function (o) {
    if (!o.value) { o.hidden = terms.length > 0; return; }
    var ok = terms.every(function (t) { return window.hotlineMatches(o, t); });
    o.hidden = !ok;
    if (ok) { shown += 1; if (!first) { first = o; } }
  });
  Array.prototype.forEach.call(select.querySelectorAll("optgroup"), function (g) {
    g.hidden = !Array.prototype.some.call(g.children, function (o) { return !o.hidden; });
  });
  if (terms.length) {
    select.size = Math.max(2, Math.min(10, shown + select.querySelectorAll("optgroup:not([hidden])").length));
    var current = select.options[select.selectedIndex];
    if (first && (!current || current.hidden)) { select.value = first.value; }
  } else {
    select.removeAttribute("size");
  }
  search.setAttribute("aria-description", shown ? "找到 " + shown + " 个单位" : "没有匹配的单位");
}
document.addEventListener("input", function (e) {
  if (e.target.hasAttribute && e.target.hasAttribute("data-unit-search")) { unitPickerFilter(e.target); }
});
document.addEventListener("keydown", function (e) {
  var search = e.target.hasAttribute && e.target.hasAttribute("data-unit-search") ? e.target : null;
  if (!search || (e.key !== "ArrowDown" && e.key !== "Enter")) { return; }
  var select = document.getElementById(search.getAttribute("data-unit-search"));
  if (select) { e.preventDefault(); e.stopPropagation(); select.focus(); }
}, true);

/* Suggested unit chips on the dispatch form. */
document.addEventListener("click", function (e) {
  var chip = e.target.closest && e.target.closest("[data-pick-unit]");
  if (!chip) { return; }
  var form = chip.closest("form");
  var search = form.querySelector("[data-unit-search]");
  if (search && search.value) { search.value = ""; unitPickerFilter(search); }
  var select = form.querySelector('select[name="unit"]');
  if (select) { select.value = chip.getAttribute("data-pick-unit"); select.focus(); }
});

/* Alt+<key> follows the nav link marked data-hotkey (Alt+N: 新来电). */
document.addEventListener("keydown", function (e) {
  if (!e.altKey || e.ctrlKey || e.metaKey || !e.key) { return; }
  var link = document.querySelector('[data-hotkey="' + e.key.toLowerCase() + '"]');
  if (link) { e.preventDefault(); window.location.href = link.href; }
});
