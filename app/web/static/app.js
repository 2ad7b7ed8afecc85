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

  // A refused form: move focus to the reason, so keyboard and screen reader users hear it.
  const summary = document.querySelector("[data-focus-on-load]");
  if (summary) summary.focus();
});
