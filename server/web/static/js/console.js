// Nurse console: call, recall, start, complete, no-show, transfer, undo, reprint; live queue view.
(function () {
  "use strict";
  var C = window.CONSOLE, T = C.strings, el = Clinicq.el, api = Clinicq.api;

  function message(text, isError) {
    var m = document.getElementById("message");
    if (!m) return;
    m.textContent = text || "";
    m.className = "message" + (isError ? " error" : "");
  }

  function errorText(data) {
    var e = (data && data.error) || {};
    return C.lang === "en" ? (e.message || T.error) : (e.message_zh || e.message || T.error);
  }

  if (!C.loggedIn) {
    document.getElementById("login-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var f = ev.target;
      api("POST", "/api/v1/login", {username: f.username.value, password: f.password.value})
        .then(function (r) {
          if (r.ok) window.location.reload();
          else document.getElementById("login-error").textContent = errorText(r.data);
        });
    });
    return;
  }

  var headers = {"X-CSRF-Token": C.csrf};
  var select = document.getElementById("counter");
  var saved = localStorage.getItem("clinicq.console.counter");
  if (saved && select.querySelector('option[value="' + saved + '"]')) select.value = saved;
  select.addEventListener("change", function () {
    localStorage.setItem("clinicq.console.counter", select.value);
    live.socket.emit("watch", {counter: select.value});
    render(live);
  });

  function counterId() { return select.value; }
  function current() {
    var c = live.counter(counterId());
    return c ? c.ticket : null;
  }

  function post(path, body) {
    message("");
    return api("POST", path, body, headers).then(function (r) {
      if (!r.ok) message(errorText(r.data), true);
      else if (r.data && r.data.number) message(r.data.number + " · " + (T[r.data.status] || r.data.status));
      return r;
    });
  }

  function callNext() { post("/api/v1/counters/" + encodeURIComponent(counterId()) + "/call-next"); }
  function act(action) {
    var t = current();
    if (!t) { message(T.counter_idle, true); return; }
    var body = {counter: counterId()};
    if (action === "transfer") body.service = document.getElementById("transfer-to").value;
    post("/api/v1/tickets/" + encodeURIComponent(t.id) + "/" + action, body);
  }
  function undo() { post("/api/v1/counters/" + encodeURIComponent(counterId()) + "/undo"); }
  // the counter's ticket printed again at a kiosk (the one that issued it, if it is online)
  function reprint() {
    var t = current();
    if (!t) { message(T.counter_idle, true); return; }
    message("");
    api("POST", "/api/v1/tickets/" + encodeURIComponent(t.id) + "/reprint", {}, headers).then(function (r) {
      if (!r.ok) message(errorText(r.data), true);
      else message(r.data.ticket.number + " · " + T.reprint_sent + " (" + (r.data.kiosk_name || r.data.kiosk) + ")");
    });
  }

  document.getElementById("call-next").addEventListener("click", callNext);
  document.getElementById("undo").addEventListener("click", undo);
  document.getElementById("reprint").addEventListener("click", reprint);
  document.querySelectorAll("button[data-action]").forEach(function (b) {
    b.addEventListener("click", function () { act(b.getAttribute("data-action")); });
  });
  document.getElementById("logout").addEventListener("click", function () {
    api("POST", "/api/v1/logout", {}, headers).then(function () { window.location.reload(); });
  });
  var keys = {"r": "recall", "s": "start", "c": "complete", "n": "no-show", "t": "transfer"};
  document.addEventListener("keydown", function (ev) {
    if (ev.target.tagName === "INPUT" || ev.target.tagName === "SELECT" || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    var k = ev.key.toLowerCase();
    if (ev.key === " " || ev.key === "F1") { ev.preventDefault(); callNext(); }
    else if (k === "u") undo();
    else if (k === "p") reprint();
    else if (keys[k]) act(keys[k]);
  });

  function marks(t) {
    var out = [];
    if (t.priority) out.push(["priority", T.priority]);
    out.push([t.kind, T[t.kind] || t.kind]);
    if (t.late) out.push(["late", T.late]);
    return out;
  }

  function render(q) {
    if (!q.state) return;
    var me = q.counter(counterId());
    var t = me ? me.ticket : null;
    document.getElementById("current-number").textContent = t ? t.number : "—";
    document.getElementById("current-status").textContent = t ? (T[t.status] || t.status) + (t.recalls ? " ×" + (t.recalls + 1) : "") : T.counter_idle;
    var rows = [];
    (me ? me.services : []).forEach(function (code) {
      q.waiting(code).forEach(function (w) { rows.push(w); });
    });
    var body = document.getElementById("queue");
    body.textContent = "";
    rows.forEach(function (w) {
      var tags = el("td", {}, marks(w).map(function (m) { return el("span", {"class": "tag " + m[0], text: m[1]}); }));
      body.appendChild(el("tr", {"data-ticket": w.id}, [
        el("td", {"class": "num", text: w.number}), tags,
        el("td", {text: w.slot || ""}), el("td", {text: w.name_masked || ""}),
        el("td", {text: (w.issued_at || "").slice(11, 16)})]));
    });
    if (!rows.length) body.appendChild(el("tr", {}, [el("td", {colspan: "5", "class": "empty", text: T.nothing})]));
    document.getElementById("waiting-count").textContent = "(" + rows.length + ")";
    if (window.Vaccination) window.Vaccination.render(q, t);
  }

  // staff-assisted check-in: find today's booking by name fragment or phone digits
  var assist = document.getElementById("assist");
  function searchBookings(ev) {
    if (ev) ev.preventDefault();
    var q = document.getElementById("assist-q").value.trim();
    if (!q) return;
    api("GET", "/api/v1/bookings?q=" + encodeURIComponent(q)).then(function (r) {
      var out = document.getElementById("assist-results");
      out.textContent = "";
      if (!r.ok) { message(errorText(r.data), true); return; }
      r.data.bookings.forEach(function (b) {
        var open = !b.checked_in && b.status !== "cancelled";
        var tick = el("input", {type: "checkbox", "data-id": b.id, "aria-label": b.name_masked || b.id});
        tick.disabled = !open;
        tick.addEventListener("change", familyButton);
        var action = b.checked_in ? el("span", {"class": "num", text: b.ticket}) :
          el("button", {type: "button", text: assist.getAttribute("data-checkin")});
        if (!b.checked_in && b.status !== "cancelled") action.addEventListener("click", function () {
          post("/api/v1/bookings/" + encodeURIComponent(b.id) + "/checkin").then(function (res) {
            if (res.ok) searchBookings();
          });
        });
        else if (!b.checked_in) action.disabled = true;
        out.appendChild(el("tr", {}, [el("td", {}, [tick]), el("td", {text: b.name_masked || ""}), el("td", {text: b.service}),
          el("td", {text: b.slot || ""}), el("td", {text: T[b.status] || b.status}), el("td", {}, [action])]));
      });
      if (!r.data.bookings.length) out.appendChild(el("tr", {}, [el("td", {colspan: "6", "class": "empty", text: assist.getAttribute("data-none")})]));
      familyButton();
    });
  }
  document.getElementById("assist-form").addEventListener("submit", searchBookings);

  // a parent with several bookings: consecutive numbers, shown together
  function ticked() {
    return Array.prototype.map.call(
      document.querySelectorAll("#assist-results input[type=checkbox]:checked"),
      function (box) { return box.getAttribute("data-id"); });
  }
  function familyButton() { document.getElementById("family-checkin").disabled = ticked().length < 2; }
  document.getElementById("family-checkin").addEventListener("click", function () {
    post("/api/v1/checkins/family", {booking_ids: ticked()}).then(function (r) {
      if (!r.ok) return;
      document.getElementById("family-result").textContent =
        r.data.tickets.map(function (t) { return t.number; }).join("  ");
      searchBookings();
    });
  });

  var live = new Clinicq.LiveQueue({
    onChange: render,
    onConnection: function (up) {
      document.getElementById("conn").hidden = up;
      if (up) live.socket.emit("watch", {counter: counterId()});
    },
  });

  // Kiosks' scanner and printer state in one small line; a problem shows in red.
  var kioskLine = document.getElementById("kiosk-status");
  function showKiosks() {
    if (!kioskLine) return;
    var L = JSON.parse(kioskLine.getAttribute("data-labels"));
    api("GET", "/api/v1/devices/status").then(function (r) {
      if (!r.ok || !r.data.kiosks || !r.data.kiosks.length) { kioskLine.hidden = true; return; }
      kioskLine.textContent = "";
      r.data.kiosks.forEach(function (k) {
        var bad = !k.online || k.scanner !== "ok" || (k.printer !== "ready" && k.printer !== "paper_near_end");
        var text = k.name + ": " + (!k.online ? L.offline :
          L.printer + " " + (L[k.printer] || k.printer || "?") + " · " +
          L.scanner + " " + (L[k.scanner] || k.scanner || "?") +
          (k.held_scans ? " · " + L.held + " " + k.held_scans : ""));
        kioskLine.appendChild(el("span", {"class": "kiosk" + (bad ? " error" : ""), text: text, title: k.printer_detail || ""}));
      });
      kioskLine.hidden = false;
    });
  }
  showKiosks();
  setInterval(showKiosks, 15000);

  // The link with the platform: one line, red when the link is down or events were refused;
  // hidden when no platform is configured. The station works the same either way.
  var syncLine = document.getElementById("sync-status");
  function hhmm(iso) {
    if (!iso) return "—";
    var d = new Date(iso);
    return ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2);
  }
  function showSync() {
    if (!syncLine) return;
    var L = JSON.parse(syncLine.getAttribute("data-labels"));
    api("GET", "/api/v1/sync/status").then(function (r) {
      if (!r.ok || r.data.state === "not_configured") { syncLine.hidden = true; return; }
      var s = r.data, down = !!(s.last_error || s.last_push_error);
      var parts = [L.platform + ": " + (down ? L.error : L.ok),
                   L.pending + " " + s.pending, L.last_push + " " + hhmm(s.last_push_at)];
      if (down && s.next_retry_seconds != null)
        parts.push(L.retry.replace("{s}", Math.round(s.next_retry_seconds)));
      if (s.conflicts) parts.push(L.conflicts + " " + s.conflicts);
      if (s.rejected) parts.push(L.rejected + " " + s.rejected);
      syncLine.textContent = "";
      syncLine.appendChild(el("span", {"class": "kiosk" + (down || s.conflicts || s.rejected ? " error" : ""),
        text: parts.join(" · "), title: s.last_push_error || s.last_error || ""}));
      syncLine.hidden = false;
    });
  }
  showSync();
  setInterval(showSync, 15000);
})();
