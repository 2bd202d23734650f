// Toasts (templates/_message.html, _error.html): each can be dismissed, and goes by itself after
// a while so it does not cover the page's controls for long; never while the shopper points at
// it or has focus in it. Errors stay longer than successes. A file, because the CSP allows no
// inline script.
(function () {
  "use strict";
  var SUCCESS_MS = 6000;
  var ERROR_MS = 12000;
  var RETRY_MS = 2000;
  // Room kept between the form and the toasts, in pixels.
  var GAP = 8;
  // The form the shopper submitted last, and its id to find it again once an answer has
  // replaced it (a refused quantity re-renders the form in place).
  var submitted = null;

  function dismiss(toast) {
    if (toast && toast.parentNode) toast.parentNode.removeChild(toast);
  }

  function busy(toast) {
    return toast.matches(":hover") || toast.contains(document.activeElement);
  }

  function schedule(toast, delay) {
    if (toast.dataset.toastTimer) return;
    toast.dataset.toastTimer = "1";
    var tick = function () {
      if (!toast.isConnected) return;
      if (busy(toast)) {
        window.setTimeout(tick, RETRY_MS);
      } else {
        dismiss(toast);
      }
    };
    window.setTimeout(tick, delay);
  }

  function scheduleAll() {
    document.querySelectorAll("#messages [data-toast]").forEach(function (toast) {
      schedule(toast, SUCCESS_MS);
    });
    document.querySelectorAll("#alerts [data-toast]").forEach(function (toast) {
      schedule(toast, ERROR_MS);
    });
  }

  // What the toasts are about: the form just submitted, else (a page rendered with an error)
  // the first refused field's form.
  function subject() {
    if (submitted && !submitted.element.isConnected) {
      submitted.element = submitted.id && document.getElementById(submitted.id);
    }
    if (submitted && submitted.element) return submitted.element;
    var refused = document.querySelector('#main [aria-invalid="true"]');
    return refused && (refused.closest("form") || refused);
  }

  // Feedback must never hide what it is about. The toasts are fixed at the bottom of the
  // viewport, where (on a phone above all) the form just used may well be: the toast would hide
  // the field and its message, and its background would sit under the form's text. So while
  // toasts are shown the page gets room at its bottom as tall as they are (so it can always
  // scroll far enough), and a form they cover is scrolled just clear of them. At once, not
  // smoothly: nothing moves more than needed, for those who prefer reduced motion too.
  function keepClear() {
    var toasts = Array.prototype.slice.call(document.querySelectorAll("#toasts [data-toast]"));
    var boxes = toasts.map(function (toast) { return toast.getBoundingClientRect(); });
    var top = Math.min.apply(null, boxes.map(function (box) { return box.top; }));
    document.body.style.paddingBottom = toasts.length ? window.innerHeight - top + GAP + "px" : "";
    var element = subject();
    if (!element) return;
    var form = element.getBoundingClientRect();
    var overlap = 0;
    boxes.forEach(function (toast) {
      var covers = toast.left < form.right && form.left < toast.right &&
        toast.top < form.bottom + GAP && form.top < toast.bottom;
      if (covers) overlap = Math.max(overlap, form.bottom + GAP - toast.top);
    });
    if (overlap > 0) window.scrollBy(0, overlap);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-toast-dismiss]");
    if (button) dismiss(button.closest("[data-toast]"));
  });

  // Esc dismisses the toast focus is in, else the newest one on the page.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var inside = document.activeElement && document.activeElement.closest("[data-toast]");
    var all = document.querySelectorAll("#toasts [data-toast]");
    var toast = inside || all[all.length - 1];
    if (!toast) return;
    var wasInside = Boolean(inside);
    dismiss(toast);
    if (wasInside) document.getElementById("main").focus();
  });

  // Capture: seen whoever handles the submission (htmx or the browser).
  document.addEventListener("submit", function (event) {
    submitted = { element: event.target, id: event.target.id };
  }, true);

  // Once an answer has settled, the re-rendered form and its toast are both in place.
  document.addEventListener("htmx:afterSettle", keepClear);

  document.addEventListener("DOMContentLoaded", function () {
    scheduleAll();
    keepClear();
    var toasts = document.getElementById("toasts");
    if (!toasts) return;
    new MutationObserver(function () {
      scheduleAll();
      keepClear();
    }).observe(toasts, { childList: true, subtree: true });
  });
})();
