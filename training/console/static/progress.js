// The instructor's class page: refresh the progress table every few seconds.
(function () {
  "use strict";
  const table = document.getElementById("progress");
  if (!table) return;
  const cid = table.dataset.class;
  function cell(text, cls) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    return td;
  }
  async function refresh() {
    const r = await fetch("/api/classes/" + cid + "/progress", { headers: { "Accept": "application/json" }, credentials: "same-origin" });
    if (!r.ok) return;
    const data = await r.json();
    const body = table.tBodies[0];
    body.replaceChildren();
    for (const p of data.sessions) {
      const tr = document.createElement("tr");
      tr.dataset.session = p.session_id;
      tr.append(cell(p.trainee), cell(p.exercise_id), cell(Math.round(p.sim_now), "num"),
                cell(p.decisions, "num"), cell(p.finished ? _("finished") : _("playing")),
                cell(p.score === null ? "" : p.score.toFixed(1) + " (" + p.letter + ")"));
      const td = document.createElement("td");
      if (p.finished) {
        const a = document.createElement("a");
        a.href = "/sessions/" + p.session_id + "/result";
        a.dataset.link = "feedback";
        a.textContent = _("feedback");
        td.appendChild(a);
      }
      tr.appendChild(td);
      body.appendChild(tr);
    }
  }
  setInterval(refresh, 5000);
})();
