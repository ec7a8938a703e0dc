// Keyboard and focus for the review page. No inline scripts: the page's CSP allows this file only.
// Ctrl+Enter or Ctrl+S: save. Ctrl+Shift+→ / ←: next / previous student (saving first when
// something was typed). Ctrl+Shift+↓ / ↑, or j / k outside a text box: next / previous item.
(function () {
  "use strict";
  const form = document.getElementById("review-form");
  if (!form) { return; }
  const go = document.getElementById("go");
  const items = Array.from(document.querySelectorAll("[data-item]"));
  let dirty = false;
  let current = -1;

  form.addEventListener("input", function () { dirty = true; });
  form.addEventListener("submit", function () { dirty = false; });
  window.addEventListener("beforeunload", function (event) {
    if (dirty) { event.preventDefault(); event.returnValue = ""; }
  });

  function submit(where) {
    go.value = where;
    dirty = false;
    form.submit();
  }

  function showCells(item) {
    document.querySelectorAll(".cell.pointed").forEach(function (el) { el.classList.remove("pointed"); });
    const cells = (item.dataset.cells || "").split(" ").filter(Boolean);
    cells.forEach(function (n) {
      const cell = document.getElementById("md-" + n);
      if (cell) { cell.classList.add("pointed"); }
    });
    const first = cells.length ? document.getElementById("md-" + cells[0]) : null;
    if (first) { first.scrollIntoView({block: "start"}); }
  }

  function select(index) {
    if (!items.length) { return; }
    current = (index + items.length) % items.length;
    const item = items[current];
    const details = item.closest("details");
    if (details) { details.open = true; }
    items.forEach(function (el) { el.classList.remove("current"); });
    item.classList.add("current");
    item.scrollIntoView({block: "nearest"});
    const box = item.querySelector("input.points");
    if (box) { box.focus(); box.select(); }
    showCells(item);
  }

  items.forEach(function (item, index) {
    item.addEventListener("focusin", function () {
      if (current !== index) {
        current = index;
        items.forEach(function (el) { el.classList.remove("current"); });
        item.classList.add("current");
        showCells(item);
      }
    });
  });

  function move(direction) {
    const link = document.getElementById(direction > 0 ? "next-student" : "prev-student");
    if (!link) { return; }
    if (dirty) { submit(direction > 0 ? "next" : "prev"); } else { window.location.href = link.href; }
  }

  document.addEventListener("keydown", function (event) {
    const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(event.target.tagName);
    const key = event.key;
    if (event.ctrlKey && (key === "Enter" || key === "s" || key === "S") && !event.shiftKey) {
      event.preventDefault();
      submit("stay");
    } else if (event.ctrlKey && event.shiftKey && (key === "ArrowRight" || key === "ArrowLeft")) {
      event.preventDefault();
      move(key === "ArrowRight" ? 1 : -1);
    } else if (event.ctrlKey && event.shiftKey && (key === "ArrowDown" || key === "ArrowUp")) {
      event.preventDefault();
      select(current + (key === "ArrowDown" ? 1 : -1));
    } else if (!typing && !event.ctrlKey && !event.altKey && !event.metaKey) {
      if (key === "j" || key === "k") { event.preventDefault(); select(current + (key === "j" ? 1 : -1)); }
      else if (key === "n" || key === "p") { event.preventDefault(); move(key === "n" ? 1 : -1); }
    }
  });

  const firstOpen = items.findIndex(function (el) { return !el.classList.contains("done"); });
  if (!document.getElementById("problems")) { select(firstOpen >= 0 ? firstOpen : 0); }
})();
