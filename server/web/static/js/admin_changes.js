// Admin change history: the ledger newest first, each row said in words ("demo-admin added
// nurse 王芳 (wangfang)"), paged back with "Older changes".
(function () {
  "use strict";
  var F = window.AdminForms, T = F.T, el = Clinicq.el;
  var PAGE = 50, pages = [null];  // the `before` of each page shown, the first is the newest
  var names = {};  // username -> full name: "王芳 added …" reads better than "wangfang added …"

  function role(r) { return T["role_" + r] || r; }
  function kind(k) { return T["kind_" + k] || k; }

  function words(c) {
    var d = c.detail || {}, template = T["did_" + c.action.replace(".", "_")];
    if (!template) return c.action + " " + c.subject;
    // a service or counter: added or removed whole, or changed setting by setting
    var entry = d.added || d.removed, name = entry ? entry.name :
      (Array.isArray(d.name) ? d.name[1] : d.display_name || d.name || c.subject);
    var settings = Object.keys(d).filter(function (k) { return Array.isArray(d[k]) && d[k].length === 2; })
      .map(function (k) { return k + ": " + JSON.stringify(d[k][0]) + " → " + JSON.stringify(d[k][1]); }).join("; ");
    return F.fill(template, {user: names[c.user] || c.user, role: role(d.role), name: name, settings: settings,
                             username: c.subject, text: d.text || "", was: d.was || "",
                             kind: kind(d.kind), until: d.until ? F.fill(T.until_time, {time: F.when(d.until)}) : T.until_removed});
  }

  function show(before) {
    var q = "?limit=" + PAGE + (before ? "&before=" + before : "");
    Clinicq.api("GET", "/api/v1/admin/changes" + q).then(function (r) {
      if (!r.ok) { F.say(F.errorText(r), true); return; }
      var body = document.getElementById("changes");
      body.replaceChildren.apply(body, r.data.changes.map(function (c) {
        return el("tr", {"data-seq": String(c.seq), "data-action": c.action}, [
          el("td", {"class": "when", text: F.when(c.at)}),
          el("td", {"class": "what", text: words(c)})]);
      }));
      document.getElementById("empty").hidden = r.data.changes.length > 0;
      var older = document.getElementById("older");
      older.hidden = r.data.next_before === null;
      older.onclick = function () { pages.push(r.data.next_before); show(r.data.next_before); };
      document.getElementById("newest").hidden = pages.length < 2;
    });
  }
  function loadNames() {
    return Clinicq.api("GET", "/api/v1/admin/staff").then(function (r) {
      if (r.ok) r.data.staff.forEach(function (u) { names[u.username] = u.display_name; });
    });
  }
  document.getElementById("newest").addEventListener("click", function () { pages = [null]; show(null); });
  loadNames().then(function () { show(null); });
  // a change by anyone: the newest page shows it (an older page stays where the reader is)
  F.live(null, function (what) {
    (what === "staff" ? loadNames() : Promise.resolve()).then(function () {
      if (pages.length < 2) show(null);
    });
  });
})();
