// The cart's keyboard and quantity behaviour (a file, because the CSP allows no inline script).
// - A quantity typed but not yet applied would let the checkout button pay the old amount: the
//   button waits until the cart answers (its answer re-renders the cart with a fresh button).
// - After a swap, focus stays on the control acted on (htmx restores it by id) or, when that
//   control is gone with its line, moves to the same place in the list, else the heading.
//   This happens on afterSwap, in the same task as the swap: waiting for the settle would leave
//   focus on <body> for a moment, long enough for a screen reader to start again at the top.
(function () {
  "use strict";
  var QUANTITY = "#page-cart input[name='quantity']";
  var acted = null;

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("#main [data-row]"));
  }

  document.addEventListener("input", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches(QUANTITY)) return;
    var checkout = document.getElementById("checkout");
    var wait = document.getElementById("checkout-wait");
    if (checkout) checkout.disabled = true;
    if (wait) wait.classList.remove("hidden");
  });

  document.addEventListener("htmx:beforeRequest", function () {
    var element = document.activeElement;
    if (!element || element === document.body || !element.closest("#main")) {
      acted = null;
      return;
    }
    var row = element.closest("[data-row]");
    acted = { id: element.id, index: row ? rows().indexOf(row) : -1 };
  });

  document.addEventListener("htmx:afterSwap", function () {
    var was = acted;
    acted = null;
    if (!was) return;
    var focused = document.activeElement;
    if (focused && focused !== document.body && focused.isConnected) return;
    var target = was.id ? document.getElementById(was.id) : null;
    if (!target && was.index >= 0) {
      var left = rows();
      var row = left[Math.min(was.index, left.length - 1)];
      target = row ? row.querySelector("input:not([type=hidden]), button") : null;
    }
    if (!target) target = document.querySelector("#main h1");
    if (target) target.focus();
  });
})();
