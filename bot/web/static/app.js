// trolyso web chat. Replies arrive as HTML already escaped by the server;
// everything the user types is shown with textContent.
"use strict";
(function () {
  const log = document.getElementById("log");
  const form = document.getElementById("ask");
  const input = document.getElementById("q");
  const send = document.getElementById("send");

  function addUser(text) {
    const div = document.createElement("div");
    div.className = "msg user";
    div.textContent = text;
    log.appendChild(div);
    scrollToEnd();
  }

  function addBot(reply) {
    const div = document.createElement("div");
    div.className = "msg bot band-" + (reply.band || "");
    const body = document.createElement("div");
    body.className = "body";
    body.innerHTML = reply.html; // server-rendered, escaped Markdown
    div.appendChild(body);
    (reply.buttons || []).forEach(function (row) {
      const r = document.createElement("div");
      r.className = "row";
      row.forEach(function (b) {
        let el;
        if (b.url) {
          el = document.createElement("a");
          el.href = b.url;
          el.target = "_blank";
          el.rel = "noopener noreferrer";
        } else {
          el = document.createElement("button");
          el.type = "button";
          el.addEventListener("click", function () {
            if (busy) return;
            if (b.payload !== "m") choose(div, el); // the menu button is no choice
            addUser(b.label);
            post({ payload: b.payload });
          });
        }
        el.className = "choice";
        el.textContent = b.label;
        if (b.payload) el.dataset.payload = b.payload;
        r.appendChild(el);
      });
      div.appendChild(r);
    });
    log.appendChild(div);
    showStart(div);
  }

  // choose marks the tapped button of a message as the chosen one (a
  // rating, a survey answer, a topic): it stays marked, the others of the
  // message lose the mark, so a changed rating moves it.
  function choose(msg, el) {
    msg.querySelectorAll(".choice.chosen").forEach(function (c) {
      c.classList.remove("chosen");
      c.removeAttribute("aria-pressed");
    });
    el.classList.add("chosen");
    el.setAttribute("aria-pressed", "true");
  }

  function addError(text) {
    const div = document.createElement("div");
    div.className = "msg bot error";
    div.textContent = text;
    log.appendChild(div);
    showStart(div);
  }

  function scrollToEnd() { window.scrollTo(0, document.body.scrollHeight); }

  // showStart scrolls so that a new reply is read from its start: the
  // resident's question just above it at the top of the screen. A reply
  // that fits below the question leaves the page at its end (the browser
  // stops scrolling there).
  function showStart(div) {
    let anchor = div;
    const prev = div.previousElementSibling;
    if (prev && prev.classList.contains("user")) anchor = prev;
    const top = anchor.getBoundingClientRect().top + window.scrollY - 8;
    window.scrollTo(0, Math.max(0, top));
  }

  let busy = false;
  async function post(body) {
    if (busy) return;
    busy = true;
    send.disabled = true;
    try {
      const res = await fetch("api/message", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
        credentials: "same-origin",
      });
      const data = await res.json().catch(function () { return null; });
      if (!res.ok || !data) {
        addError((data && data.error) || "Xin lỗi, hệ thống đang bận. Bạn thử lại sau nhé.");
      } else {
        addBot(data);
        if (data.band === "handoff") pollStaff();
      }
    } catch (e) {
      addError("Không kết nối được. Bạn kiểm tra mạng rồi thử lại nhé.");
    } finally {
      busy = false;
      send.disabled = false;
    }
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    addUser(text);
    input.value = "";
    post({ text: text });
  });
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey) {
      ev.preventDefault();
      form.requestSubmit();
    }
  });
  // Messages from commune staff (a conversation opened with "Hỏi cán bộ
  // xã") are fetched when the page opens and every few seconds while the
  // conversation is open; the session cookie identifies the resident.
  let polling = null;
  async function pollStaff() {
    if (polling) return;
    polling = true;
    let open = false;
    try {
      const res = await fetch("api/staff", { credentials: "same-origin" });
      const data = await res.json().catch(function () { return null; });
      if (res.ok && data) {
        (data.messages || []).forEach(function (m) {
          addBot(m);
          log.lastElementChild.classList.add("staff");
        });
        open = !!data.open;
      }
    } catch (e) {
      open = true; // try again: the network may be back
    } finally {
      polling = open ? setTimeout(function () { polling = null; pollStaff(); }, 8000) : null;
    }
  }

  document.getElementById("menu").addEventListener("click", function () { post({ payload: "m" }); });
  document.getElementById("staff").addEventListener("click", function () {
    addUser("🙋 Hỏi cán bộ xã");
    post({ text: "/canbo" });
  });
  document.getElementById("survey").addEventListener("click", function () { post({ text: "/danhgia" }); });

  fetch("api/welcome", { credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(addBot)
    .catch(function () { addError("Không tải được lời chào. Bạn vẫn có thể gõ câu hỏi."); })
    .then(pollStaff);
})();
