/* trace-request page: draws the waterfall from the embedded JSON. Data is only ever
   written with textContent, never parsed as HTML: every string came from a request. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function load(id) {
    var node = document.getElementById(id);
    try { return node ? JSON.parse(node.textContent) : null; } catch (e) { return null; }
  }
  var trace = load("trace-data");
  var view = load("trace-view");
  if (!trace || !view) { return; }

  var spans = trace.spans;
  var extent = Math.max(view.extent_ns, 1);
  var wf = document.getElementById("wf");
  var tip = document.getElementById("tip");
  var detail = document.getElementById("step-detail");
  var stepButtons = Array.prototype.slice.call(document.querySelectorAll("#steps button[data-step]"));
  var rows = [];
  var pinned = null;
  var focused = null;
  // controls, bidi overrides and zero-width characters: shown as nothing
  var HIDDEN = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;

  function clean(value) {
    var text = typeof value === "string" ? value : JSON.stringify(value);
    return String(text === undefined ? value : text).replace(HIDDEN, "");
  }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = clean(text); }
    return node;
  }
  function pct(ns) { return (100 * ns / extent).toFixed(4) + "%"; }
  function stepName(n) {
    for (var k = 0; k < view.steps.length; k++) { if (view.steps[k].step === n) { return view.steps[k].name; } }
    return "";
  }
  function ms(ns) {
    var v = ns / 1e6;
    return (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(3)) + "ms";
  }
  function niceStep(x) {
    var p = Math.pow(10, Math.floor(Math.log10(x)));
    var m = x / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  }

  // -- groups: by lane (the sequence diagram's lifelines), by step, or the plain tree
  function groups(mode) {
    var out = [];
    var at = {};
    function add(key, label, reached) { at[key] = { label: label, reached: reached, rows: [] }; out.push(at[key]); }
    if (mode === "lane") {
      view.lanes.forEach(function (lane, k) { add(k, lane.name, lane.reached); });
    } else if (mode === "step") {
      view.steps.forEach(function (s) { add(s.step, s.step + " · " + s.name, true); });
    } else {
      add(0, "all spans, in call order", true);
    }
    view.spans.forEach(function (v) {
      var key = mode === "lane" ? v.lane : mode === "step" ? spans[v.i].step : 0;
      if (!at[key]) { add(key, String(key), true); }
      at[key].rows.push(v);
    });
    return out.filter(function (g) { return g.rows.length > 0 || !g.reached; });
  }

  function axis() {
    var row = el("div", "axis");
    row.appendChild(el("div", "label", "span"));
    var track = el("div", "track");
    var step = niceStep(extent / 6);
    for (var t = 0; t <= extent + 1; t += step) {
      var tick = el("span", "tick", t === 0 ? "0" : ms(t));
      tick.style.left = pct(t);
      track.appendChild(tick);
    }
    row.appendChild(track);
    row.appendChild(el("div", "dur", "dur"));
    return row;
  }

  function drawRow(v, base) {
    var s = spans[v.i];
    var row = el("div", "row");
    row.setAttribute("data-step", String(s.step));
    row.setAttribute("data-phase", clean(s.phase));
    var label = el("div", "label", s.name);
    label.style.paddingLeft = (0.9 * (v.depth - base)).toFixed(1) + "em";
    label.title = clean(s.name);
    var track = el("div", "track");
    var bar = el("button", "bar phase-" + clean(s.phase));
    bar.type = "button";
    bar.id = "span-" + v.i;
    bar.setAttribute("data-span", String(v.i));
    bar.setAttribute("aria-label", clean(s.name) + ", step " + s.step + ", " + v.dur);
    bar.style.left = pct(v.t);
    bar.style.width = pct(v.d);
    if (v.error) { bar.classList.add("error"); }
    if (v.d > 0) {
      v.own_iv.forEach(function (iv) {
        var o = el("span", "o");
        o.style.left = (100 * (iv[0] - v.t) / v.d).toFixed(3) + "%";
        o.style.width = (100 * (iv[1] - iv[0]) / v.d).toFixed(3) + "%";
        bar.appendChild(o);
      });
    }
    bar.addEventListener("mouseenter", function () { if (pinned === null) { show(v, bar); } });
    bar.addEventListener("mouseleave", function () { if (pinned === null) { hide(); } });
    bar.addEventListener("focus", function () { if (pinned === null) { show(v, bar); } });
    bar.addEventListener("blur", function () { if (pinned === null) { hide(); } });
    bar.addEventListener("click", function () { pin(pinned === bar ? null : bar, v); });
    track.appendChild(bar);
    row.appendChild(label);
    row.appendChild(track);
    row.appendChild(el("div", "dur", v.dur));
    rows.push(row);
    return row;
  }

  function draw(mode) {
    hide();
    pinned = null;
    rows = [];
    wf.textContent = "";
    if (view.response_ns !== null) { wf.style.setProperty("--resp", pct(view.response_ns)); }
    wf.appendChild(axis());
    groups(mode).forEach(function (g) {
      var head = el("div", "group", g.label + (g.reached ? "" : " · not reached"));
      if (!g.reached) { head.classList.add("unreached"); }
      wf.appendChild(head);
      var base = Math.min.apply(null, g.rows.map(function (v) { return v.depth; }).concat([99]));
      g.rows.forEach(function (v) { wf.appendChild(drawRow(v, mode === "tree" ? 0 : base)); });
    });
    applyFocus();
  }

  // -- the tooltip: everything about one span
  function show(v, anchor) {
    var s = spans[v.i];
    tip.textContent = "";
    tip.appendChild(el("div", "name", s.name));
    var dl = el("dl");
    function item(key, value) { dl.appendChild(el("dt", null, key)); dl.appendChild(el("dd", null, value)); }
    item("phase", s.phase);
    item("step", s.step + " · " + stepName(s.step));
    item("lane", (view.lanes[v.lane] || { name: "?" }).name);
    item("start", "+" + v.start + " ms");
    item("duration", v.dur);
    item("own time", v.own);
    item("status", s.status + (v.error ? " · " + v.error : ""));
    var keys = Object.keys(s.attributes || {}).sort();
    if (keys.length) { dl.appendChild(el("div", "sep")); }
    keys.forEach(function (k) { item(k, s.attributes[k]); });
    (s.events || []).forEach(function (e, j) {
      var a = e.attributes || {};
      var what = a["exception.type"] ? a["exception.type"] + ": " + clean(a["exception.message"] || "") : "";
      item("event +" + (v.events[j] || "?"), e.name + (what ? " · " + what : ""));
    });
    tip.appendChild(dl);
    tip.hidden = false;
    var r = anchor.getBoundingClientRect();
    var width = tip.offsetWidth;
    var left = Math.min(Math.max(8, r.left), document.documentElement.clientWidth - width - 8);
    tip.style.left = (left + window.scrollX) + "px";
    tip.style.top = (r.bottom + window.scrollY + 6) + "px";
  }
  function hide() { tip.hidden = true; }
  function pin(bar, v) {
    if (pinned) { pinned.classList.remove("pinned"); }
    pinned = bar;
    if (bar) { bar.classList.add("pinned"); show(v, bar); } else { hide(); }
  }

  // -- step focus: highlight one step's spans, say what it did
  function applyFocus() {
    wf.classList.toggle("focusing", focused !== null);
    rows.forEach(function (row) { row.classList.toggle("hit", Number(row.getAttribute("data-step")) === focused); });
    stepButtons.forEach(function (b) { b.setAttribute("aria-pressed", String(Number(b.getAttribute("data-step")) === focused)); });
    detail.textContent = "";
    detail.hidden = focused === null;
    var s = view.steps.filter(function (x) { return x.step === focused; })[0];
    if (!s) { return; }
    detail.appendChild(el("h3", null, "Step " + s.step + " · " + s.name));
    detail.appendChild(el("p", "own", "own time " + s.own + " · " + s.spans + (s.spans === 1 ? " span" : " spans")));
    detail.appendChild(el("p", "role", s.role));
    detail.appendChild(el("p", "text", (s.happened ? "" : "did not run: ") + s.text));
  }
  stepButtons.forEach(function (b) {
    b.addEventListener("click", function () {
      var n = Number(b.getAttribute("data-step"));
      focused = focused === n ? null : n;
      applyFocus();
    });
  });

  // -- findings: the blamed span's name jumps to its bar
  Array.prototype.forEach.call(document.querySelectorAll("a.blame[data-span]"), function (a) {
    a.addEventListener("click", function (event) {
      var bar = document.getElementById("span-" + a.getAttribute("data-span"));
      if (!bar) { return; }
      event.preventDefault();
      bar.scrollIntoView({ block: "center" });
      bar.parentNode.parentNode.classList.add("flash");
      bar.focus();
      var v = view.spans.filter(function (x) { return "span-" + x.i === bar.id; })[0];
      pin(bar, v);
    });
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { pin(null); focused = null; applyFocus(); }
  });

  var controls = document.getElementById("controls");
  var select = el("select");
  select.id = "group-by";
  [["lane", "lane"], ["step", "step"], ["tree", "call tree"]].forEach(function (o) {
    var opt = el("option", null, o[1]);
    opt.value = o[0];
    select.appendChild(opt);
  });
  var label = el("label", null, "group by");
  label.appendChild(select);
  controls.appendChild(label);
  select.addEventListener("change", function () { draw(select.value); });
  draw("lane");
})();
