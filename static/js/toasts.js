// Toasts (templates/_message.html, _error.html): each can be dismissed, and goes by itself after
// a while so it does not cover the page's controls for long; never while the shopper points at
// it or has focus in it. Errors stay longer than successes. A file, because the CSP allows no
// inline script.
(function () {
  "use strict";
  var SUCCESS_MS = 6000;
  var ERROR_MS = 12000;
  var RETRY_MS = 2000;

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

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-toast-dismiss]");
    if (button) dismiss(button.closest("[data-toast]"));
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var toast = document.activeElement && document.activeElement.closest("[data-toast]");
    if (toast) dismiss(toast);
  });

  document.addEventListener("DOMContentLoaded", function () {
    scheduleAll();
    var toasts = document.getElementById("toasts");
    if (toasts) new MutationObserver(scheduleAll).observe(toasts, { childList: true, subtree: true });
  });
})();
