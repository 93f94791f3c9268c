// The trainee's play screen: polls the session state, draws the queue and the case card,
// sends decisions and steps, searches the handbook. Hand-written, no libraries.
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
    try { data = await r.json(); } catch (e) { data = { error: "the server sent no reply (" + r.status + ")" }; }
    if (!r.ok) throw new Error(data.error || ("refused (" + r.status + ")"));
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
    const next = el("button", { type: "button", id: "next-card" }, "Next report ▸");
    next.addEventListener("click", () => step(null));
    box.appendChild(next);
    for (const m of state.steps) {
      const b = el("button", { type: "button", "data-minutes": m }, "+" + m + " min");
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
      b.textContent = (card.channel || card.kind || "report") + " · " + (card.description || card.id);
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
      for (const c of spec.choices || []) {
        const o = el("option", { value: String(c) }, String(c));
        if (spec.default !== null && String(spec.default) === String(c)) o.selected = true;
        input.appendChild(o);
      }
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
      return (day ? "day " + (day + 1) + " " : "") + text +
        (t > state.now ? " (in " + left + " min)" : left < 0 ? " (" + (-left) + " min ago)" : "");
    };
    const shown = [["Step", card.kind], ["Case", card.case_id], ["Channel", card.channel],
                   ["Received", minute(card.received_at)], ["Due", minute(card.due_at)],
                   ["Description", card.description], ["Grid", card.grid_code],
                   ["Community", card.community],
                   ["Reported as", [card.claimed_subclass, card.claimed_subclass_name].filter(Boolean).join(" ")],
                   ["Department", card.department], ["Returned by", card.returned_from],
                   ["Verified", card.verified], ["Check passed", card.check_passed],
                   ["Deadline", minute(card.deadline)], ["Open case here", card.open_case]];
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
        const b = el("button", { type: "button", "data-action": opt.action }, opt.action.replace(/_/g, " "));
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
      status("The exercise window has closed: opening your feedback…");
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
      state = await call("POST", "/api/sessions/" + sid + "/decisions", { card_id: cardId, action, fields });
      status("Recorded: " + action + " on " + cardId);
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
      if (!data.results.length) ol.appendChild(el("li", {}, "nothing matches “" + q + "”"));
      for (const r of data.results) {
        const li = el("li");
        li.appendChild(el("strong", {}, r.code + " " + r.name + (r.name_zh ? " (" + r.name_zh + ")" : "")));
        li.appendChild(el("div", {}, "department: " + r.department + " · " + r.urgency + " · limit " + r.time_limit));
        li.appendChild(el("div", { class: "hint" }, "file when: " + r.filing_criterion));
        li.appendChild(el("div", { class: "hint" }, "close when: " + r.closing_criterion));
        ol.appendChild(li);
      }
    } catch (e) { status(e.message, true); }
  });

  refresh();
  setInterval(refresh, paced ? 1000 : 4000);
})();
