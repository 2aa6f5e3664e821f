// Admin devices page: pair a new device by the code it shows, and one live board of every
// kiosk's and display's health and of the platform link. A device paired, renamed or revoked
// by any administrator shows at once (`admin {what: "devices"}`); the health itself (online,
// last report, paper) is read again every 5 s, as it changes with time and not by anyone's hand.
(function () {
  "use strict";
  var A = Clinicq.pageData(), T = A.strings, el = Clinicq.el;
  var H = {"X-CSRF-Token": A.csrf};
  var message = document.getElementById("pair-message");

  function say(text, bad) { message.textContent = text; message.className = "message" + (bad ? " error" : ""); }
  function errorText(r) {
    var e = (r.data && r.data.error) || {};
    return (A.lang === "en" ? e.message : e.message_zh) || e.message || T.unknown;
  }
  var stationNow = null;  // the station's time of the last listing
  function ago(iso) {
    if (!iso) return T.never;
    var ref = stationNow === null ? Date.now() : stationNow;
    var s = Math.max(0, Math.round((ref - Date.parse(iso)) / 1000));
    return s < 120 ? T.ago_s.replace("{n}", s) : T.ago_m.replace("{n}", Math.round(s / 60));
  }
  function word(key) { return T[key] || key || T.unknown; }

  document.getElementById("pair-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var form = ev.target;
    var body = {code: form.code.value, name: form.name.value,
                kind: form.querySelector("input[name=kind]:checked").value};
    Clinicq.api("POST", "/api/v1/devices/pair", body, H).then(function (r) {
      if (r.status === 201) {
        say(T.paired.replace("{name}", r.data.device.name));
        form.reset();
        refresh();
      } else say(errorText(r), true);
    });
  });

  function details(d) {
    var h = d.health || {}, out = [];
    function item(text, bad) { out.push(el("span", {"class": "detail" + (bad ? " bad" : ""), text: text})); }
    if (d.kind === "kiosk") {
      var scanner = (h.scanner || {}).state, printer = (h.printer || {}).state;
      if (scanner) item(T.scanner + ": " + word(scanner), scanner !== "ok");
      if (printer) item(T.printer + ": " + word(printer), printer !== "ready");
      item(T.last_scan + ": " + ago(h.last_scan_at));
      if (h.held_scans) item(T.held + ": " + h.held_scans, true);
    } else if (d.kind === "display") {
      if (h.sound) item(T.sound + ": " + (h.sound === "on" ? T.on : T.off), h.sound !== "on");
      if (h.viewport) item(h.viewport);
    }
    item(T.last_seen + ": " + ago(d.last_seen_at));
    return out;
  }

  function act(d, what) {
    if (what === "revoke") {
      if (!window.confirm(T.confirm_revoke.replace("{name}", d.name))) return;
      Clinicq.api("POST", "/api/v1/devices/" + encodeURIComponent(d.id) + "/revoke", undefined, H)
        .then(function (r) { window.AdminForms.say(r.ok ? T.revoked_done.replace("{name}", d.name) : errorText(r), !r.ok); refresh(); });
    } else {
      var name = window.prompt(T.new_name.replace("{name}", d.name), d.name);
      if (!name) return;
      Clinicq.api("POST", "/api/v1/devices/" + encodeURIComponent(d.id) + "/rename", {name: name}, H)
        .then(function (r) { if (!r.ok) window.AdminForms.say(errorText(r), true); refresh(); });
    }
  }

  function row(d) {
    var state = d.revoked ? "revoked" : d.online ? "online" : "offline";
    var buttons = d.revoked ? [] : [
      el("button", {type: "button", "data-rename": d.id, text: T.rename}),
      el("button", {type: "button", "class": "danger", "data-revoke": d.id, text: T.revoke})];
    var tr = el("tr", {"data-device": d.id, "class": state}, [
      el("td", {text: d.name}), el("td", {text: T[d.kind] || d.kind}),
      el("td", {}, [el("span", {"class": "state " + state, text: T[state]})]),
      el("td", {}, details(d)), el("td", {"class": "actions"}, buttons)]);
    buttons.forEach(function (b) {
      b.addEventListener("click", function () { act(d, b.hasAttribute("data-revoke") ? "revoke" : "rename"); });
    });
    return tr;
  }

  function syncLine(s) {
    var box = document.getElementById("sync");
    if (!s || s.state === "not_configured") { box.textContent = T.platform + ": " + T.not_configured; return; }
    var bad = s.state !== "ok";
    box.replaceChildren(
      el("b", {text: T.platform + ": "}),
      el("span", {"class": bad ? "bad" : "", text: bad ? T.link_down : T.in_step}),
      el("span", {text: " · " + T.last_pull + " " + ago(s.last_pull_at) + " · " + T.last_push + " " +
                        ago(s.last_push_at) + " · " + T.pending + " " + s.pending}));
  }

  function refresh() {
    Clinicq.api("GET", "/api/v1/devices").then(function (r) {
      if (!r.ok) return;
      stationNow = Date.parse(r.data.now);
      var body = document.getElementById("devices");
      body.replaceChildren.apply(body, r.data.devices.map(row));
      document.getElementById("updated").textContent = T.updated.replace("{time}", (r.data.now || "").slice(11, 19));
    });
    Clinicq.api("GET", "/api/v1/sync/status").then(function (r) { if (r.ok) syncLine(r.data); });
  }
  refresh();
  setInterval(refresh, 5000);
  window.AdminForms.live(["devices"], refresh);
})();
