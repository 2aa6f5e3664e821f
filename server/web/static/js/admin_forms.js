// The admin pages' forms: a page message, a refusal's words in the page's language, and a
// field's error shown next to that field (the API names it in error.field).
(function () {
  "use strict";
  var A = Clinicq.pageData(), T = A.strings;
  var message = document.getElementById("message");

  function say(text, bad) {
    message.textContent = text;
    message.className = "message page-message" + (bad ? " error" : "");
  }
  function errorText(r) {
    var e = (r.data && r.data.error) || {};
    return (A.lang === "en" ? e.message : e.message_zh) || e.message || T.failed;
  }
  // the form's <p id="{prefix}-{field}-error"> for each field, and the input's aria-invalid
  function clear(form, prefix) {
    form.querySelectorAll(".field-error").forEach(function (p) { p.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(function (i) { i.removeAttribute("aria-invalid"); });
  }
  function fieldError(form, prefix, field, text) {
    var p = document.getElementById(prefix + "-" + field + "-error");
    var input = document.getElementById(prefix + "-" + field);
    if (!p) return false;
    p.textContent = text;
    if (input) { input.setAttribute("aria-invalid", "true"); input.focus(); }
    return true;
  }
  // a refusal: next to its field when it names one of this form's, else as the page message
  function refused(form, prefix, r, fieldOf) {
    var e = (r.data && r.data.error) || {};
    var field = e.field || (fieldOf && fieldOf[e.code]);
    // a field's own rule reads better than "'password' is not valid"
    var text = (/^field_/.test(e.code || "") && T["field_" + field]) || errorText(r);
    if (!(field && fieldError(form, prefix, field, text))) say(text, true);
  }
  function when(iso) { return iso ? iso.slice(0, 10) + " " + iso.slice(11, 16) : ""; }
  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, k) { return values[k] === undefined ? "?" : values[k]; });
  }

  // Another administrator changed this page's kind of thing (or this one did, in another tab):
  // the server says `admin {what}` and the page loads its list again, with no polling. After a
  // lost connection it loads again too, in case a change fell into the gap. `whats`: the kinds
  // this page shows, or null for every kind (the change history).
  function live(whats, reload) {
    var socket = io({auth: {source: "admin"}, transports: ["websocket", "polling"],
                     reconnectionDelayMax: 5000});
    var connectedBefore = false;
    socket.on("connect", function () {
      document.body.dataset.live = "on";
      if (connectedBefore) reload();
      connectedBefore = true;
    });
    socket.on("disconnect", function (reason) {
      document.body.dataset.live = "off";
      if (reason === "io server disconnect") setTimeout(function () { socket.connect(); }, 1000);
    });
    socket.on("admin", function (m) {
      if (!whats || whats.indexOf(m && m.what) >= 0) reload(m.what);
    });
    return socket;
  }

  window.AdminForms = {H: {"X-CSRF-Token": A.csrf}, T: T, say: say, errorText: errorText,
                       clear: clear, fieldError: fieldError, refused: refused, when: when,
                       fill: fill, live: live};
})();
