// Small conveniences only: every page works without this file.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // Ask before a form that cannot be undone (cancel, no-show, delete).
  // A form whose server would ask the same question learns the answer (data-confirmed-value).
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) {
        event.preventDefault();
        return;
      }
      for (const answer of form.querySelectorAll("input[data-confirmed-value]")) {
        answer.value = answer.dataset.confirmedValue;
      }
    });
  }

  // Choosing a service fills in its length.
  for (const select of document.querySelectorAll("select[data-sets-duration]")) {
    select.addEventListener("change", () => {
      const option = select.selectedOptions[0];
      const input = document.getElementById(select.dataset.setsDuration);
      if (input && option && option.dataset.duration) input.value = option.dataset.duration;
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

// --- the day view: move a booking by drag, or with the keyboard ------------------------------
// A booking's Move handle is a link to its move form. Dragged (mouse, pen or finger), the
// booking follows the pointer in steps of 15 minutes and across resources; focused, Space
// picks it up, the arrow keys move it, Enter moves it there and Escape puts it back. Either
// way the hidden form posts the new start and resource; the server checks the slot as any
// move (a refusal or a question comes back on the booking's page).
document.addEventListener("DOMContentLoaded", () => {
  const grid = document.querySelector(".day-grid[data-day-start]");
  const form = document.getElementById("day-move-form");
  if (!grid || !form) return;
  const STEP = 15;
  const dayStart = Number(grid.dataset.dayStart);
  const first = Number(grid.dataset.first);
  const last = Number(grid.dataset.last);
  const columns = [...grid.querySelectorAll(".column-body[data-resource-id]")];
  const status = document.getElementById("day-move-status");
  const clock = new Intl.DateTimeFormat("en-GB", {
    timeZone: grid.dataset.zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  });
  const at = (top) => clock.format(new Date(dayStart + top * 60000));
  const ppm = () => columns[0].getBoundingClientRect().height / (last - first);
  const announce = (text) => { if (status) status.textContent = text; };
  const columnAt = (x) => columns.find((c) => {
    const box = c.getBoundingClientRect();
    return x >= box.left && x < box.right;
  });

  for (const slot of grid.querySelectorAll("li[data-booking-id]")) {
    const handle = slot.querySelector("[data-move-handle]");
    const when = slot.querySelector(".when");
    const minutes = Number(slot.dataset.minutes);
    const origin = {
      column: slot.closest(".column-body"), top: Number(slot.dataset.top),
      style: slot.getAttribute("style"), parent: slot.parentElement, text: when.textContent,
    };
    let target = null;
    let dragged = false;

    const clamp = (top) => Math.min(Math.max(top, first), Math.max(first, last - minutes));
    const snap = (top) => clamp(Math.round(top / STEP) * STEP);
    const describe = () => `${at(target.top)} to ${at(target.top + minutes)} on ${target.column.dataset.resourceName}`;

    function place(column, top) {
      target = { column, top };
      if (slot.parentElement !== column.querySelector(".day-items")) {
        column.querySelector(".day-items").appendChild(slot);
      }
      slot.style.setProperty("--top", top - first);
      slot.style.setProperty("--lane", 0);
      slot.style.setProperty("--lanes", 1);
      when.textContent = `${at(top)}–${at(top + minutes)}`;
    }
    function putBack(message) {
      origin.parent.appendChild(slot);
      slot.setAttribute("style", origin.style);
      when.textContent = origin.text;
      slot.classList.remove("carried");
      target = null;
      if (message) announce(message);
    }
    function drop() {
      const same = target.column === origin.column && target.top === origin.top;
      if (same) return putBack("Put back where it was.");
      announce(`Moving to ${describe()}…`);
      form.action = slot.dataset.moveUrl;
      form.elements.start_time.value = new Date(dayStart + target.top * 60000)
        .toISOString().replace(".000Z", "Z");
      form.elements.move_resource_id.value = target.column.dataset.resourceId;
      form.submit();
    }

    // Listened for on the window: the booking changes column while it is carried, and an
    // element taken out of the page loses its pointer capture.
    handle.addEventListener("pointerdown", (down) => {
      if (down.button !== 0) return;
      down.preventDefault();
      dragged = false;
      const onMove = (move) => {
        if (move.pointerId !== down.pointerId) return;
        const dy = move.clientY - down.clientY;
        const column = columnAt(move.clientX) || (target || origin).column;
        if (!dragged && Math.abs(dy) < 4 && column === origin.column) return;
        dragged = true;
        slot.classList.add("carried");
        place(column, snap(origin.top + dy / ppm()));
      };
      const onEnd = (end) => {
        if (end.pointerId !== down.pointerId) return;
        window.removeEventListener("pointermove", onMove);
        window.removeEventListener("pointerup", onEnd);
        window.removeEventListener("pointercancel", onEnd);
        if (!dragged) return;
        if (end.type === "pointercancel") putBack("Move cancelled.");
        else drop();
      };
      window.addEventListener("pointermove", onMove);
      window.addEventListener("pointerup", onEnd);
      window.addEventListener("pointercancel", onEnd);
    });
    handle.addEventListener("click", (event) => {
      if (dragged) event.preventDefault(); // a drag is not a click on the link
      dragged = false;
    });

    handle.addEventListener("keydown", (event) => {
      const carried = target !== null;
      if (!carried) {
        if (event.key !== " ") return; // Enter follows the link to the move form
        event.preventDefault();
        slot.classList.add("carried");
        place(origin.column, origin.top);
        announce(`Picked up ${slot.dataset.label}, ${describe()}. Arrow keys move it, Enter moves it there, Escape puts it back.`);
        return;
      }
      const index = columns.indexOf(target.column);
      const moves = {
        ArrowUp: () => place(target.column, clamp(target.top - STEP)),
        ArrowDown: () => place(target.column, clamp(target.top + STEP)),
        ArrowLeft: () => place(columns[Math.max(0, index - 1)], target.top),
        ArrowRight: () => place(columns[Math.min(columns.length - 1, index + 1)], target.top),
      };
      if (moves[event.key]) {
        event.preventDefault();
        moves[event.key]();
        handle.focus(); // moving it to another column took the focus away
        announce(describe());
      } else if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        drop();
      } else if (event.key === "Escape") {
        event.preventDefault();
        putBack("Put back where it was.");
        handle.focus();
      }
    });
  }
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
