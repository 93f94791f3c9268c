// The trainee's play screen: polls the session state, draws the queue and the case card,
// sends decisions and steps, searches the handbook. Hand-written, no libraries; every text a
// person reads goes through _() (messages.js), or comes from the server in their language.
(function () {
  "use strict";
  const root = document.getElementById("play");
  if (!root) return;
  const sid = root.dataset.session;
  const csrf = document.body.dataset.csrf;
  const paced = parseFloat(root.dataset.pace || "0") > 0;
  const $ = (id) => document.getElementById(id);
  let state = null;
  let selected = null;
  let busy = false;

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  async function call(method, path, body) {
    const opts = { method, headers: { "Accept": "application/json" }, credentials: "same-origin" };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.headers["X-CSRF-Token"] = csrf;
      opts.body = JSON.stringify(body);
    }
    const r = await fetch(path, opts);
    let data = null;
    try { data = await r.json(); } catch (e) { data = { error: _("the server sent no reply ({status})", { status: r.status }) }; }
    if (!r.ok) throw new Error(data.error || _("refused ({status})", { status: r.status }));
    return data;
  }

  function status(text, isError) {
    const s = $("status");
    s.textContent = text || "";
    s.className = "status" + (isError ? " error" : "");
  }

  function drawSteps() {
    const box = $("steps");
    if (paced || box.childElementCount || !state) return;
    const next = el("button", { type: "button", id: "next-card" }, _("Next report ▸"));
    next.addEventListener("click", () => step(null));
    box.appendChild(next);
    for (const m of state.steps) {
      const b = el("button", { type: "button", "data-minutes": m }, _("+{n} min", { n: m }));
      b.addEventListener("click", () => step(m));
      box.appendChild(b);
    }
  }

  function drawQueue() {
    const ul = $("queue");
    ul.replaceChildren();
    $("queue-count").textContent = state.pending.length;
    for (const card of state.pending) {
      const li = el("li", { "data-card": card.id });
      const b = el("button", { type: "button", class: "card-pick" });
      b.textContent = (card.channel_label || card.kind_label || card.kind) + " · " + (card.description || card.id);
      if (selected === card.id) li.className = "selected";
      b.addEventListener("click", () => { selected = card.id; draw(); });
      li.appendChild(b);
      ul.appendChild(li);
    }
  }

  // A card's options are its actions, each with the fields it takes (kind choice, bool or
  // case); the form is drawn from them and the server checks every value again.
  function fieldInput(spec) {
    let input;
    if (spec.kind === "choice") {
      input = el("select", { name: spec.name });
      if (!spec.required || spec.default === null || spec.default === undefined)
        input.appendChild(el("option", { value: "" }, "—"));
      (spec.choices || []).forEach((c, i) => {
        const o = el("option", { value: String(c) }, (spec.choice_labels || [])[i] || String(c));
        if (spec.default !== null && String(spec.default) === String(c)) o.selected = true;
        input.appendChild(o);
      });
    } else if (spec.kind === "bool") {
      input = el("input", { name: spec.name, type: "checkbox" });
      input.checked = spec.default === true;
    } else {
      input = el("input", { name: spec.name, type: "number", min: "0", step: "1" });
      if (spec.default !== null && spec.default !== undefined) input.value = String(spec.default);
    }
    input.dataset.kind = spec.kind;
    if (spec.required) input.required = true;
    return input;
  }

  function valuesOf(box) {
    const fields = {};
    box.querySelectorAll("select, input").forEach((i) => {
      if (i.dataset.kind === "bool") fields[i.name] = i.checked;
      else if (i.dataset.kind === "case") { if (i.value !== "") fields[i.name] = parseInt(i.value, 10); }
      else if (i.value !== "") fields[i.name] = i.value;
    });
    return fields;
  }

  function drawCard() {
    const card = state.pending.find((c) => c.id === selected);
    $("card-empty").hidden = !!card;
    $("card-fields").hidden = !card;
    $("decision").hidden = !card;
    if (!card) $("decision-actions").dataset.card = "";
    const marker = document.getElementById("case-marker");
    document.querySelectorAll("#grid-map .grid.hit").forEach((r) => r.classList.remove("hit"));
    if (!card) { if (marker) { marker.setAttribute("cx", -100); marker.setAttribute("cy", -100); } return; }
    const dl = $("card-fields");
    dl.replaceChildren();
    const minute = (t) => {
      if (t === null || t === undefined) return null;
      const m = Math.round(t), day = Math.floor(m / 1440), hm = m % 1440;
      const text = String(Math.floor(hm / 60)).padStart(2, "0") + ":" + String(hm % 60).padStart(2, "0");
      const left = Math.round(t - state.now);
      return (day ? _("day {n}", { n: day + 1 }) + " " : "") + text +
        (t > state.now ? " (" + _("in {n} min", { n: left }) + ")" :
         left < 0 ? " (" + _("{n} min ago", { n: -left }) + ")" : "");
    };
    const yesNo = (v) => (v === true ? _("yes") : v === false ? _("no") : v);
    const shown = [[_("Step"), card.kind_label], [_("Case"), card.case_id], [_("Channel"), card.channel_label],
                   [_("Received"), minute(card.received_at)], [_("Due"), minute(card.due_at)],
                   [_("Description"), card.description], [_("Grid"), card.grid_code],
                   [_("Community"), card.community],
                   [_("Reported as"), [card.claimed_subclass, card.claimed_subclass_name].filter(Boolean).join(" ")],
                   [_("Department"), card.department_label], [_("Returned by"), card.returned_from_label],
                   [_("Verified"), yesNo(card.verified)], [_("Check passed"), yesNo(card.check_passed)],
                   [_("Deadline"), minute(card.deadline)], [_("Open case here"), card.open_case]];
    for (const [k, v] of shown) {
      if (v === null || v === undefined || v === "") continue;
      dl.appendChild(el("dt", {}, k));
      dl.appendChild(el("dd", {}, v));
    }
    const rect = card.grid_code ? document.getElementById("g-" + card.grid_code) : null;
    if (rect) rect.classList.add("hit");
    if (marker) {
      const cell = parseFloat(document.getElementById("grid-map").dataset.cell || "14");
      let cx = null, cy = null;
      if (typeof card.x === "number" && typeof card.y === "number") { cx = card.x * cell; cy = card.y * cell; }
      else if (rect) { cx = parseFloat(rect.getAttribute("x")) + cell / 2; cy = parseFloat(rect.getAttribute("y")) + cell / 2; }
      if (cx !== null) { marker.setAttribute("cx", cx); marker.setAttribute("cy", cy); }
    }
    const box = $("decision-actions");
    if (box.dataset.card !== card.id) {
      box.dataset.card = card.id;
      box.replaceChildren();
      for (const opt of card.options || []) {
        const fs = el("fieldset", { class: "option", "data-action": opt.action });
        fs.appendChild(el("legend", {}, opt.label || opt.action));
        for (const spec of opt.fields || []) {
          const label = el("label", {}, (spec.label || spec.name) + " ");
          label.appendChild(fieldInput(spec));
          fs.appendChild(label);
        }
        const b = el("button", { type: "button", "data-action": opt.action }, opt.action_label || opt.action);
        b.addEventListener("click", () => decide(card.id, opt.action, valuesOf(fs)));
        fs.appendChild(b);
        box.appendChild(fs);
      }
      $("decision-error").hidden = true;
    }
  }

  function draw() {
    if (!state) return;
    $("clock").textContent = state.clock;
    drawSteps();
    if (state.finished) {
      status(_("The exercise window has closed: opening your feedback…"));
      window.location.assign("/sessions/" + sid + "/result");
      return;
    }
    if (selected && !state.pending.some((c) => c.id === selected)) selected = null;
    drawQueue();
    drawCard();
  }

  async function refresh() {
    if (busy) return;
    try { state = await call("GET", "/api/sessions/" + sid + "/state"); draw(); }
    catch (e) { status(e.message, true); }
  }

  async function step(minutes) {
    busy = true;
    try { state = await call("POST", "/api/sessions/" + sid + "/step", { minutes }); status(""); draw(); }
    catch (e) { status(e.message, true); }
    finally { busy = false; }
  }

  async function decide(cardId, action, fields) {
    busy = true;
    try {
      const card = state.pending.find((c) => c.id === cardId);
      state = await call("POST", "/api/sessions/" + sid + "/decisions", { card_id: cardId, action, fields });
      status(_("Recorded: {action}, case {case}", { action: (state.acknowledged || {}).action_label || action,
                                                    case: card ? card.case_id : cardId }));
      selected = null;
      draw();
    } catch (e) {
      const p = $("decision-error");
      p.textContent = e.message;
      p.hidden = false;
    } finally { busy = false; }
  }

  $("handbook-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const q = $("handbook-q").value;
    const ol = $("handbook-results");
    try {
      const data = await call("GET", "/api/sessions/" + sid + "/handbook?q=" + encodeURIComponent(q));
      ol.replaceChildren();
      if (!data.results.length) ol.appendChild(el("li", {}, _("nothing matches “{q}”", { q })));
      for (const r of data.results) {
        const li = el("li");
        li.appendChild(el("strong", {}, r.code + " " + r.title));
        li.appendChild(el("div", {}, _("department: {department} · {urgency} · limit {limit}",
                                       { department: r.department_label, urgency: r.urgency_label, limit: r.time_limit })));
        li.appendChild(el("div", { class: "hint" }, _("file when: {criterion}", { criterion: r.filing_criterion })));
        li.appendChild(el("div", { class: "hint" }, _("close when: {criterion}", { criterion: r.closing_criterion })));
        ol.appendChild(li);
      }
    } catch (e) { status(e.message, true); }
  });

  refresh();
  setInterval(refresh, paced ? 1000 : 4000);
})();
