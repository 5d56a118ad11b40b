// The knowledge-base entry editor: checks the draft as staff type (the
// server runs the same check as `trolyso kb check`) and inserts
// commune-profile placeholders. Everything shown is set with textContent.
"use strict";
(function () {
  const form = document.getElementById("draft-form");
  if (!form) return;
  const status = document.getElementById("check-status");
  const problems = document.getElementById("problems");
  const suggestions = document.getElementById("suggestions");
  const preview = document.getElementById("preview");
  const body = document.getElementById("f-body");
  let timer = null;
  let seq = 0;

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(check, 400);
  }

  async function check() {
    const my = ++seq;
    const data = new FormData(form);
    try {
      const res = await fetch("/admin/hoidap/draft/check", { method: "POST", body: data, credentials: "same-origin" });
      if (!res.ok) return;
      const result = await res.json();
      if (my === seq) show(result);
    } catch (e) {
      // Offline: the Kiểm tra button still works.
    }
  }

  function mark(list) {
    form.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
    list.forEach(function (p) {
      if (p.warning || !p.field) return;
      const el = form.elements.namedItem(p.field);
      if (el && el.setAttribute) el.setAttribute("aria-invalid", "true");
    });
  }

  function show(r) {
    status.className = r.ok ? "ok" : "err";
    status.textContent = r.ok
      ? "✓ Hợp lệ như khi chạy trolyso kb check: có thể xuất bản thành " + r.file + (r.replaces ? " (thay tệp đang có, bản cũ được giữ lại)" : "") + (r.replaces_province ? " (thay mục cùng mã của tỉnh, chỉ cho xã này)" : "") + "."
      : "Còn " + r.problems.length + " vấn đề (kiểm tra như trolyso kb check):";
    problems.replaceChildren();
    r.problems.forEach(function (p) {
      const li = document.createElement("li");
      li.className = p.warning ? "late" : "err";
      li.dataset.field = p.field || "";
      li.textContent = p.message + " ";
      const raw = document.createElement("span");
      raw.className = "muted";
      raw.textContent = "(" + p.raw + ")";
      li.appendChild(raw);
      problems.appendChild(li);
    });
    suggestions.replaceChildren();
    (r.suggestions || []).forEach(function (s) {
      const li = document.createElement("li");
      li.textContent = s.message + " ";
      if (s.index >= 0) {
        const b = document.createElement("button");
        b.type = "submit";
        b.name = "action";
        b.value = "ph:" + s.index;
        b.textContent = "Thay bằng " + s.placeholder;
        li.appendChild(b);
      }
      suggestions.appendChild(li);
    });
    preview.textContent = r.content;
    mark(r.problems);
  }

  function insert(text) {
    const s = body.selectionStart, e = body.selectionEnd;
    body.value = body.value.slice(0, s) + text + body.value.slice(e);
    body.selectionStart = body.selectionEnd = s + text.length;
    body.focus();
    schedule();
  }

  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
  document.querySelectorAll("button.ph").forEach(function (b) {
    b.addEventListener("click", function () { insert(b.dataset.ph); });
  });
  // Fields named in the problems the page was drawn with.
  const initial = [];
  problems.querySelectorAll("li").forEach(function (li) {
    if (!li.classList.contains("late")) initial.push({ field: li.dataset.field, warning: false });
  });
  mark(initial);
})();
