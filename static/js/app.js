// Glue only: show htmx errors and HX-Trigger toasts, print. No inline scripts (CSP).
(function () {
  "use strict";
  function toast(text, bad) {
    var box = document.getElementById("toasts");
    if (!box) return;
    var el = document.createElement("div");
    el.className = "toast" + (bad ? " bad" : "");
    el.setAttribute("role", bad ? "alert" : "status");
    el.textContent = text;
    box.appendChild(el);
    setTimeout(function () { el.remove(); }, bad ? 10000 : 5000);
  }
  // htmx 2 does not swap 4xx/5xx: tell the person what happened instead of doing nothing.
  document.addEventListener("htmx:responseError", function (evt) {
    var xhr = evt.detail.xhr, doc = new DOMParser().parseFromString(xhr.responseText || "", "text/html");
    var msg = doc.querySelector(".error-page p");
    toast(msg ? msg.textContent : "The request failed (" + xhr.status + "). Try again.", true);
  });
  document.addEventListener("htmx:sendError", function () {
    toast("Orderdeck cannot be reached. Check your connection and try again.", true);
  });
  // Focus after a swap that took the focused control away (a submitted form, a clicked card,
  // an opened form): the same control if it came back, else the first field in error, else
  // the first heading of what came in. htmx itself focuses an [autofocus] field. A poll that
  // leaves the focus alone changes nothing.
  var focusedId = null;
  document.addEventListener("htmx:beforeSwap", function () {
    var active = document.activeElement;
    focusedId = active && active !== document.body ? active.id || null : null;
  });
  document.addEventListener("htmx:afterSettle", function (evt) {
    var active = document.activeElement;
    if (active && active !== document.body && active.isConnected) return;
    // A poll (told by its request: afterSettle fires on the new content, which may poll no
    // more): the same control back in focus if it had it, nothing more.
    if (evt.detail.xhr && evt.detail.xhr.orderdeckPoll) {
      var again = focusedId && document.getElementById(focusedId);
      if (again) again.focus();
      return;
    }
    var target = evt.detail.target;
    var scope = target && target.isConnected ? target :
      (target && target.id && document.getElementById(target.id)) || document.getElementById("main");
    if (!scope) return;
    var el = (focusedId && document.getElementById(focusedId)) ||
      scope.querySelector("[aria-invalid=true], .has-error input, .has-error select, .error[role=alert]") ||
      scope.querySelector("h1, h2");
    if (!el) return;
    if (!el.matches("input, select, textarea, button, a[href]") && !el.hasAttribute("tabindex")) {
      el.setAttribute("tabindex", "-1");
    }
    el.focus();
  });
  // Loading: what a person asked for is marked busy (dimmed after a moment) and a bar runs at
  // the top until the answer is in. Polls stay quiet.
  function polling(evt) {
    return /every/.test((evt.detail.elt && evt.detail.elt.getAttribute("hx-trigger")) || "");
  }
  // Polls rest while the tab is hidden (a trigger filter would need eval, which the CSP
  // forbids), and look at once when it is shown again: elements that poll also listen for
  // "wake". A poll never swaps a list from under a field being typed in (the Stock page's
  // on-hand inputs): it is skipped, and the next poll brings the change.
  document.addEventListener("htmx:beforeRequest", function (evt) {
    if (!polling(evt)) return;
    if (document.visibilityState === "hidden") evt.preventDefault();
    else if (evt.detail.xhr) evt.detail.xhr.orderdeckPoll = true;
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState !== "visible" || !window.htmx) return;
    document.querySelectorAll("[hx-trigger*='wake']").forEach(function (el) {
      window.htmx.trigger(el, "wake");
    });
  });
  function editing(scope) {
    var active = document.activeElement;
    if (active && scope.contains(active) &&
        active.matches("input:not([type=checkbox]), select, textarea")) return true;
    return Array.prototype.some.call(scope.querySelectorAll("input, textarea"), function (el) {
      // A ticked box (orders chosen for printing) is a choice in progress too.
      if (el.type === "checkbox") return el.checked !== el.defaultChecked;
      return el.type !== "hidden" && el.value !== el.defaultValue;
    });
  }
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var target = evt.detail.target;
    if (polling(evt) && target && editing(target)) evt.detail.shouldSwap = false;
  });
  document.addEventListener("htmx:beforeRequest", function (evt) {
    if (polling(evt)) return;
    if (evt.detail.target) evt.detail.target.setAttribute("aria-busy", "true");
    document.body.classList.add("is-loading");
  });
  document.addEventListener("htmx:afterRequest", function (evt) {
    if (polling(evt)) return;
    if (evt.detail.target) evt.detail.target.removeAttribute("aria-busy");
    document.body.classList.remove("is-loading");
  });
  // Printing: the Print button of a packing slip or pick list; "tick every order on this
  // page" ticks the boxes of the form it names.
  document.addEventListener("click", function (evt) {
    if (evt.target.closest && evt.target.closest("[data-print]")) window.print();
  });
  document.addEventListener("change", function (evt) {
    var all = evt.target;
    if (!all.matches || !all.matches("input[data-tick-all]")) return;
    document.querySelectorAll("input[type=checkbox][name=order][form='" +
        all.getAttribute("data-tick-all") + "']").forEach(function (box) {
      box.checked = all.checked;
    });
  });
  document.body && document.body.addEventListener("toast", function (evt) {
    toast(evt.detail && evt.detail.value ? evt.detail.value : String(evt.detail || ""), false);
  });
})();
