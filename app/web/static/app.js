// Small conveniences only: every page works without this file.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // Ask before a form that cannot be undone (cancel, no-show, delete).
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }

  // Typing another start time picks the "Another time" option.
  for (const input of document.querySelectorAll("input[data-selects]")) {
    input.addEventListener("input", () => {
      const radio = document.getElementById(input.dataset.selects);
      if (radio && input.value) radio.checked = true;
    });
  }

  for (const button of document.querySelectorAll("[data-print]")) {
    button.addEventListener("click", () => window.print());
  }

  // The "now" line moves with the clock while the page stays open.
  const moveNowLines = () => {
    for (const line of document.querySelectorAll(".now-line")) {
      const body = line.closest("[data-day-start]");
      const minute = Math.floor((Date.now() - Number(body.dataset.dayStart)) / 60000);
      if (minute < Number(body.dataset.last)) {
        line.style.setProperty("--top", String(minute - Number(body.dataset.first)));
      }
    }
  };
  setInterval(moveNowLines, 60000);

  for (const box of document.querySelectorAll(".combobox[data-suggest]")) customerPicker(box);

  // A refused form: move focus to the reason, so keyboard and screen reader users hear it.
  const summary = document.querySelector("[data-focus-on-load]");
  if (summary) summary.focus();
});

// The customer type-ahead: suggestions from /customers/suggest as the name or number is typed.
function customerPicker(box) {
  const input = box.querySelector("[role=combobox]");
  const list = box.querySelector("[role=listbox]");
  const hidden = box.querySelector("[data-customer-id]");
  const chosen = box.querySelector("[data-chosen]");
  const fallback = box.querySelector(".matches");
  if (fallback) fallback.hidden = true;
  let active = -1;
  let timer = null;
  let asked = 0;

  const options = () => Array.from(list.querySelectorAll("[role=option]"));
  const close = () => {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  };
  const highlight = (index) => {
    const all = options();
    all.forEach((option, i) => option.setAttribute("aria-selected", String(i === index)));
    active = index;
    if (all[index]) {
      input.setAttribute("aria-activedescendant", all[index].id);
      all[index].scrollIntoView({ block: "nearest" });
    }
  };
  const pick = (option) => {
    hidden.value = option.dataset.id;
    input.value = option.dataset.name;
    chosen.textContent = `Chosen: ${option.textContent}`;
    close();
  };
  const show = (customers) => {
    list.replaceChildren();
    customers.forEach((customer, index) => {
      const option = document.createElement("li");
      option.id = `customer-option-${index}`;
      option.setAttribute("role", "option");
      option.dataset.id = customer.id;
      option.dataset.name = customer.name;
      option.textContent = customer.name + (customer.phone ? ` · ${customer.phone}` : "")
        + (customer.email ? ` · ${customer.email}` : "");
      option.addEventListener("mousedown", (event) => { event.preventDefault(); pick(option); });
      list.append(option);
    });
    if (!customers.length) {
      const none = document.createElement("li");
      none.className = "no-match";
      none.textContent = "No customer matches; type a new customer's name below.";
      list.append(none);
    }
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    highlight(customers.length ? 0 : -1);
  };
  const ask = async () => {
    const typed = input.value.trim();
    if (!typed) { close(); return; }
    const ticket = ++asked;
    const response = await fetch(`${box.dataset.suggest}?q=${encodeURIComponent(typed)}`,
      { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok || ticket !== asked) return; // a newer keystroke asked since
    show(await response.json());
  };

  input.addEventListener("input", () => {
    hidden.value = "";
    chosen.textContent = "";
    clearTimeout(timer);
    timer = setTimeout(ask, 120);
  });
  input.addEventListener("keydown", (event) => {
    const all = options();
    if (event.key === "ArrowDown" && all.length) {
      event.preventDefault();
      if (list.hidden) { list.hidden = false; input.setAttribute("aria-expanded", "true"); }
      highlight((active + 1) % all.length);
    } else if (event.key === "ArrowUp" && all.length) {
      event.preventDefault();
      highlight((active - 1 + all.length) % all.length);
    } else if (event.key === "Enter" && !list.hidden && all[active]) {
      event.preventDefault();
      pick(all[active]);
    } else if (event.key === "Escape") {
      close();
    }
  });
  input.addEventListener("blur", () => setTimeout(close, 100));
}
