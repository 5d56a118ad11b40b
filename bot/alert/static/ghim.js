// Pins the commune's current disaster warnings at the top of the web chat
// (loaded by the chat page). The warning's HTML is rendered and escaped by
// the server, like the chat's replies.
"use strict";
(function () {
  var box = null;

  function render(pins) {
    if (box) {
      box.remove();
      box = null;
    }
    if (!pins || !pins.length) return;
    box = document.createElement("section");
    box.id = "ghim";
    box.setAttribute("role", "alert");
    pins.forEach(function (p) {
      var art = document.createElement("article");
      var h = document.createElement("strong");
      h.textContent = p.heading + ": " + p.title;
      art.appendChild(h);
      var body = document.createElement("div");
      body.innerHTML = p.html; // server-rendered, escaped Markdown
      art.appendChild(body);
      var until = document.createElement("p");
      until.className = "ghim-han";
      until.textContent = "Hiệu lực đến " + p.until;
      art.appendChild(until);
      if (p.link) {
        var a = document.createElement("a");
        a.href = p.link;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        a.textContent = "Xem chi tiết";
        art.appendChild(a);
      }
      box.appendChild(art);
    });
    var all = document.createElement("a");
    all.href = "canhbao";
    all.className = "ghim-tat-ca";
    all.textContent = "Xem tất cả cảnh báo";
    box.appendChild(all);
    document.body.insertBefore(box, document.body.firstChild);
  }

  function load() {
    fetch("canhbao/ghim.json", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { pins: [] }; })
      .then(function (d) { render(d.pins); })
      .catch(function () {});
  }

  var css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = "canhbao/ghim.css";
  document.head.appendChild(css);
  load();
  setInterval(load, 120000);
})();
