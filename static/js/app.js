// Glue only: show htmx errors and HX-Trigger toasts. No inline scripts (CSP).
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
  document.body && document.body.addEventListener("toast", function (evt) {
    toast(evt.detail && evt.detail.value ? evt.detail.value : String(evt.detail || ""), false);
  });
})();
