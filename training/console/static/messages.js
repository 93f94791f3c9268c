// The page's messages in its language: the server puts the JSON catalogue of the console's
// scripts (every text they mark with _()) in <script id="messages">; _() looks a text up
// there, falling back to the English text, and fills in {name} fields.
(function () {
  "use strict";
  let messages = {};
  const data = document.getElementById("messages");
  if (data) {
    try { messages = JSON.parse(data.textContent); } catch (e) { messages = {}; }
  }
  window._ = function (text, fields) {
    let out = Object.prototype.hasOwnProperty.call(messages, text) ? messages[text] : text;
    for (const [k, v] of Object.entries(fields || {})) out = out.split("{" + k + "}").join(String(v));
    return out;
  };
})();
