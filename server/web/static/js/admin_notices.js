// Admin notices page: the notices the display's and the kiosk's ticker show now, removing one
// (confirmed), and posting one in Chinese and English for a number of minutes. Another
// administrator's post or removal shows at once (`admin {what: "notices"}`), and a notice
// drops off the list when its time is up.
(function () {
  "use strict";
  var F = window.AdminForms, T = F.T, H = F.H, el = Clinicq.el;
  var form = document.getElementById("post-form");

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    F.clear(form);
    var body = {text: form.text.value.trim(), text_en: form.text_en.value.trim()};
    var minutes = form.minutes.value.trim();
    if (!body.text) { F.fieldError(form, "post", "text", T.need_text); return; }
    if (minutes) {
      if (!/^[0-9]+$/.test(minutes) || +minutes < 1 || +minutes > 44640) {
        F.fieldError(form, "post", "minutes", T.bad_minutes); return;
      }
      body.minutes = +minutes;
    }
    Clinicq.api("POST", "/api/v1/notices", body, H).then(function (r) {
      if (r.status === 201) { F.say(F.fill(T.posted, {text: r.data.text})); form.reset(); refresh(); }
      else F.refused(form, "post", r);
    });
  });

  function remove(n) {
    if (!window.confirm(F.fill(T.confirm_remove, {text: n.text}))) return;
    Clinicq.api("DELETE", "/api/v1/notices/" + encodeURIComponent(n.id), undefined, H).then(function (r) {
      F.say(r.ok ? F.fill(T.removed, {text: n.text}) : F.errorText(r), !r.ok);
      refresh();
    });
  }

  function row(n) {
    var button = el("button", {type: "button", "class": "danger", text: T.remove,
                               "aria-label": T.remove + " " + n.text});
    button.addEventListener("click", function () { remove(n); });
    return el("tr", {"data-notice": n.id}, [
      el("td", {"class": "text", text: n.text}), el("td", {lang: "en", text: n.text_en || "—"}),
      el("td", {"class": "when", text: F.when(n.posted_at)}),
      el("td", {"class": "when", text: n.until ? F.when(n.until) : T.until_removed}),
      el("td", {"class": "actions"}, [button])]);
  }

  // load again when the soonest notice's time is up (this PC's clock may be off a little:
  // at least 5 s apart, and the list the station answers is the truth)
  var expiry = null;
  function whenDue(notices) {
    clearTimeout(expiry);
    var ends = notices.map(function (n) { return n.until ? Date.parse(n.until) : NaN; })
      .filter(function (t) { return !isNaN(t); });
    if (!ends.length) return;
    var wait = Math.min(Math.max(Math.min.apply(null, ends) - Date.now() + 1000, 5000), 3600000);
    expiry = setTimeout(refresh, wait);
  }

  function refresh() {
    Clinicq.api("GET", "/api/v1/notices").then(function (r) {
      if (!r.ok) { F.say(F.errorText(r), true); return; }
      var body = document.getElementById("notices");
      body.replaceChildren.apply(body, r.data.notices.slice().reverse().map(row));
      document.getElementById("none").hidden = r.data.notices.length > 0;
      whenDue(r.data.notices);
    });
  }
  refresh();
  F.live(["notices"], refresh);
})();
