// The filing table without page reloads: add a row, move rows up and down, mark deletions.
// Everything here has a no-JS path: the "新增一列" button saves and adds a blank row, the
// 順序 numbers reorder, the 刪除 checkbox removes. No inline scripts (CSP).
(function () {
  "use strict";
  const form = document.getElementById("offer-form");
  if (!form) return;
  form.classList.add("js");
  const body = document.getElementById("offer-rows");
  const template = document.getElementById("offer-row-template");
  const total = form.querySelector('input[name$="-TOTAL_FORMS"]');
  const live = document.getElementById("offer-live");

  function rows() {
    return Array.from(body.querySelectorAll("tr[data-offer-row]"));
  }

  function announce(text) {
    live.textContent = "";
    window.setTimeout(() => { live.textContent = text; }, 50);
  }

  function renumber() {
    rows().forEach((row, i) => {
      row.querySelectorAll("[data-row-number]").forEach((el) => { el.textContent = String(i + 1); });
      const order = row.querySelector('input[name$="-ORDER"]');
      if (order) order.value = String(i + 1);
      const up = row.querySelector("[data-move=up]");
      const down = row.querySelector("[data-move=down]");
      if (up) up.setAttribute("aria-label", `第 ${i + 1} 列上移`);
      if (down) down.setAttribute("aria-label", `第 ${i + 1} 列下移`);
    });
  }

  function moveButton(direction, label) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "btn";
    b.dataset.move = direction;
    b.textContent = label;
    return b;
  }

  function enhance(row) {
    // the arrows replace the typed order number, which is still submitted
    const order = row.querySelector('input[name$="-ORDER"]');
    if (order) order.type = "hidden";
    const slot = row.querySelector("[data-row-move]");
    if (slot && !slot.childElementCount) {
      slot.append(moveButton("up", "↑"), moveButton("down", "↓"));
    }
    const del = row.querySelector('input[name$="-DELETE"]');
    if (del) {
      del.addEventListener("change", () => row.classList.toggle("is-deleted", del.checked));
      row.classList.toggle("is-deleted", del.checked);
    }
  }

  body.addEventListener("click", (event) => {
    const button = event.target.closest("[data-move]");
    if (!button) return;
    const row = button.closest("tr");
    if (button.dataset.move === "up" && row.previousElementSibling) {
      body.insertBefore(row, row.previousElementSibling);
    } else if (button.dataset.move === "down" && row.nextElementSibling) {
      body.insertBefore(row.nextElementSibling, row);
    } else {
      announce("已經在最" + (button.dataset.move === "up" ? "上" : "下") + "面");
      return;
    }
    renumber();
    button.focus();
    announce(`已移到第 ${rows().indexOf(row) + 1} 列`);
  });

  form.querySelector("[data-add-row]").addEventListener("click", (event) => {
    event.preventDefault();
    const index = Number(total.value);
    const html = template.innerHTML.replace(/__prefix__/g, String(index));
    body.insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
    const row = rows()[rows().length - 1];
    enhance(row);
    renumber();
    const first = row.querySelector("td select, td input");
    if (first) first.focus();
    announce(`已新增第 ${rows().length} 列`);
  });

  rows().forEach(enhance);
  renumber();
  const summary = document.getElementById("error-summary");
  if (summary) summary.focus();
})();
