// Nurse console: call, recall, start, complete, no-show, transfer, undo, reprint; live queue view.
(function () {
  "use strict";
  var C = Clinicq.pageData(), T = C.strings, el = Clinicq.el, api = Clinicq.api;

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
  // a console left open overnight: the session ended; say so and offer the login, once
  var rawApi = api;
  api = function (method, path, body, h) {
    return rawApi(method, path, body, h).then(function (r) {
      var code = r.data && r.data.error && r.data.error.code;
      if (r.status === 401 || code === "session_expired" || code === "csrf_invalid") expired();
      return r;
    });
  };
  function expired() {
    if (document.getElementById("expired")) return;
    var go = el("button", {type: "button", "class": "primary", text: T.log_in_again});
    go.addEventListener("click", function () { window.location.reload(); });
    // the words and the button in one white box, over the dimmed console
    var box = el("div", {id: "expired", "class": "expired"}, [
      el("div", {"class": "box", role: "alertdialog", "aria-modal": "true", "aria-labelledby": "expired-text"},
         [el("p", {id: "expired-text", text: T.session_expired}), go])]);
    document.body.appendChild(box);
    // not "reconnecting" as well: logging in again is the one thing to do
    document.getElementById("conn").hidden = true;
    go.focus();
  }
  // the counter: big buttons, the choice remembered by this browser
  var KEY = "clinicq.console.counter";
  var picks = Array.prototype.slice.call(document.querySelectorAll("#counter-picker button"));
  var chosen = localStorage.getItem(KEY);
  if (!picks.some(function (b) { return b.getAttribute("data-counter") === chosen; })) chosen = null;
  function choose(id) {
    chosen = id;
    localStorage.setItem(KEY, id);
    picks.forEach(function (b) { b.setAttribute("aria-pressed", String(b.getAttribute("data-counter") === id)); });
    document.getElementById("counter-picker").classList.remove("unset");
    document.getElementById("held").hidden = true;
    watch();
    render(live);
  }
  // say at which counter this console works; another nurse already there is named, and this
  // nurse may pick another counter or stay (two at one counter is allowed, just not unknowingly)
  var held = document.getElementById("held");
  function watch() {
    if (!chosen || !live || !live.socket) return;
    var asked = chosen;
    live.socket.emit("watch", {counter: asked}, function (reply) {
      var others = (reply && reply.held_by) || [];
      if (asked !== chosen || !others.length) { if (asked === chosen) held.hidden = true; return; }
      var pick = picks.filter(function (b) { return b.getAttribute("data-counter") === asked; })[0];
      document.getElementById("held-text").textContent = held.getAttribute("data-text")
        .replace("{name}", others.map(function (o) { return o.name || o.user; }).join(", "))
        .replace("{counter}", pick ? pick.getAttribute("data-name") : asked);
      held.hidden = false;
    });
  }
  document.getElementById("held-stay").addEventListener("click", function () { held.hidden = true; });
  document.getElementById("held-other").addEventListener("click", function () {
    held.hidden = true;
    chosen = null;
    localStorage.removeItem(KEY);
    picks.forEach(function (b) { b.setAttribute("aria-pressed", "false"); });
    render(live);
    var first = picks[0];
    if (first) first.focus();
  });
  picks.forEach(function (b) {
    b.addEventListener("click", function () { choose(b.getAttribute("data-counter")); });
  });

  picks.forEach(function (b) { b.setAttribute("aria-pressed", String(b.getAttribute("data-counter") === chosen)); });

  function counterId() { return chosen; }
  function current() {
    var c = chosen && live.counter(chosen);
    return c ? c.ticket : null;
  }

  function said(r) {
    return r.data.number + " · " + (T[r.data.status] || r.data.status);
  }
  function post(path, body, done) {
    message("");
    return api("POST", path, body, headers).then(function (r) {
      if (!r.ok) message(errorText(r.data), true);
      else if (done) message(done(r));
      else if (r.data && r.data.number) message(said(r));
      return r;
    });
  }

  function callNext() { if (!chosen) return; post("/api/v1/counters/" + encodeURIComponent(chosen) + "/call-next"); }
  function act(action, service) {
    var t = current();
    if (!t) { message(T.counter_idle, true); return; }
    var body = {counter: chosen};
    if (action === "transfer") body.service = service;
    post("/api/v1/tickets/" + encodeURIComponent(t.id) + "/" + action, body, function (r) {
      // the last recall allowed marks the resident missed: say so, it is not one more call
      if (action === "recall" && r.data.status === "no_show")
        return r.data.number + " · " + T.recall_no_show;
      return said(r);
    });
  }
  function undo() {
    if (!chosen) return;
    post("/api/v1/counters/" + encodeURIComponent(chosen) + "/undo", {}, function (r) {
      var back = r.data.tickets.map(function (t) { return t.number + " " + (T[t.status] || t.status); });
      return back.length ? T.undone + ": " + back.join(", ") : T.nothing_to_undo;
    });
  }
  // any open ticket printed again at a kiosk (the one that issued it, if it is online)
  function reprintTicket(id) {
    message("");
    api("POST", "/api/v1/tickets/" + encodeURIComponent(id) + "/reprint", {}, headers).then(function (r) {
      if (!r.ok) message(errorText(r.data), true);
      else message(r.data.ticket.number + " · " + T.reprint_sent + " (" + (r.data.kiosk_name || r.data.kiosk) + ")");
    });
  }
  function reprint() {
    var t = current();
    if (!t) { message(T.counter_idle, true); return; }
    reprintTicket(t.id);
  }

  // a break: the counter calls nobody and leaves the estimate; Call next ends it
  var pauseButton = document.getElementById("pause");
  function togglePause() {
    if (!chosen) return;
    var me = live.counter(chosen), going = !(me && me.paused);
    post("/api/v1/counters/" + encodeURIComponent(chosen) + (going ? "/pause" : "/resume"), {}, function (r) {
      return r.data.counter.name + " · " + (r.data.counter.paused ? T.paused : T.resumed);
    });
  }
  pauseButton.addEventListener("click", togglePause);

  document.getElementById("call-next").addEventListener("click", callNext);
  document.getElementById("undo").addEventListener("click", undo);
  document.getElementById("reprint").addEventListener("click", reprint);
  document.querySelectorAll("button[data-action]").forEach(function (b) {
    b.addEventListener("click", function () { act(b.getAttribute("data-action")); });
  });
  document.querySelectorAll("button[data-transfer]").forEach(function (b) {
    b.addEventListener("click", function () { act("transfer", b.getAttribute("data-transfer")); });
  });
  document.querySelectorAll("button[data-walkin]").forEach(function (b) {
    b.addEventListener("click", function () {
      post("/api/v1/tickets", {service: b.getAttribute("data-walkin")}, function (r) {
        return r.data.number + " · " + T.walkin_issued;
      });
    });
  });
  document.getElementById("logout").addEventListener("click", function () {
    api("POST", "/api/v1/logout", {}, headers).then(function () { window.location.reload(); });
  });
  var keys = {"r": "recall", "s": "start", "c": "complete", "n": "no-show"};
  document.addEventListener("keydown", function (ev) {
    if (ev.target.tagName === "INPUT" || ev.target.tagName === "SELECT" || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    var k = ev.key.toLowerCase();
    if (ev.key === " " || ev.key === "F1") { ev.preventDefault(); callNext(); }
    else if (k === "u") undo();
    else if (k === "p") reprint();
    else if (k === "t") { var first = document.querySelector("button[data-transfer]:not([disabled])"); if (first) first.focus(); }
    else if (keys[k]) act(keys[k]);
  });

  function marks(t) {
    var out = [];
    if (t.priority) out.push(["priority", T.priority]);
    out.push([t.kind, T[t.kind] || t.kind]);
    if (t.late) out.push(["late", T.late]);
    return out;
  }

  // a button is enabled only when its action can be done now
  var CAN = {recall: ["called"], start: ["called"], "no-show": ["called"],
             complete: ["serving"], transfer: ["serving"]};
  function enable(t, waiting) {
    var status = t ? t.status : null;
    document.querySelectorAll("button[data-action]").forEach(function (b) {
      b.disabled = !chosen || (CAN[b.getAttribute("data-action")] || []).indexOf(status) < 0;
    });
    document.querySelectorAll("button[data-transfer]").forEach(function (b) {
      b.disabled = !chosen || status !== "serving" || (t && b.getAttribute("data-transfer") === t.service);
    });
    document.getElementById("call-next").disabled = !chosen || (!waiting && status !== "serving");
    document.getElementById("reprint").disabled = !t;
    document.getElementById("undo").disabled = !chosen;
  }

  function showPause(me) {
    var paused = !!(me && me.paused);
    pauseButton.disabled = !chosen;
    pauseButton.setAttribute("aria-pressed", String(paused));
    pauseButton.textContent = pauseButton.getAttribute(paused ? "data-resume" : "data-pause");
    document.getElementById("paused-banner").hidden = !paused;
    document.getElementById("current").classList.toggle("paused", paused);
  }

  function render(q) {
    if (!q.state) return;
    var me = chosen ? q.counter(chosen) : null;
    var t = me ? me.ticket : null;
    document.getElementById("counter-picker").classList.toggle("unset", !chosen);
    document.getElementById("current-number").textContent = t ? t.number : "—";
    document.getElementById("current-status").textContent = !chosen ? T.choose_counter :
      t ? (T[t.status] || t.status) + (t.recalls ? " ×" + (t.recalls + 1) : "") : T.counter_idle;
    document.getElementById("current-name").textContent = t ? (t.name || t.name_masked || "") : "";
    showPause(me);
    var rows = [];
    (me ? me.services : []).forEach(function (code) {
      q.waiting(code).forEach(function (w) { rows.push(w); });
    });
    var body = document.getElementById("queue");
    body.textContent = "";
    rows.forEach(function (w) {
      var tags = el("td", {}, marks(w).map(function (m) { return el("span", {"class": "tag " + m[0], text: m[1]}); }));
      var again = el("button", {type: "button", "class": "small", text: T.reprint, "aria-label": T.reprint + " " + w.number});
      again.addEventListener("click", function () { reprintTicket(w.id); });
      body.appendChild(el("tr", {"data-ticket": w.id}, [
        el("td", {"class": "num", text: w.number}), tags,
        el("td", {text: w.slot || ""}), el("td", {text: w.name || w.name_masked || ""}),
        el("td", {text: (w.issued_at || "").slice(11, 16)}), el("td", {}, [again])]));
    });
    if (!rows.length) body.appendChild(el("tr", {}, [el("td", {colspan: "6", "class": "empty", text: T.nothing})]));
    document.getElementById("waiting-count").textContent = "(" + rows.length + ")";
    enable(t, rows.length);
    noShowsSoon(q.state.seq);
    // the vaccination desk only at a counter that serves a vaccination stage
    if (window.Vaccination) window.Vaccination.render(q, t, !!(me && me.stages && me.stages.length));
  }

  // today's no-shows: Restore puts one back into the queue with its number; Reprint
  var noShowSeq = null, noShowTimer = null;
  function noShowsSoon(seq) {
    if (seq === noShowSeq || noShowTimer) return;
    noShowTimer = setTimeout(function () { noShowTimer = null; noShowSeq = seq; showNoShows(); }, 300);
  }
  function showNoShows() {
    api("GET", "/api/v1/no-shows").then(function (r) {
      var out = document.getElementById("noshows");
      if (!r.ok) return;
      out.textContent = "";
      r.data.tickets.forEach(function (m) {
        var back = el("button", {type: "button", "class": "small", text: T.restore, "aria-label": T.restore + " " + m.number});
        back.addEventListener("click", function () {
          post("/api/v1/tickets/" + encodeURIComponent(m.id) + "/restore", {counter: chosen}, function (res) {
            return res.data.number + " · " + T.restored;
          }).then(showNoShows);
        });
        var again = el("button", {type: "button", "class": "small", text: T.reprint, "aria-label": T.reprint + " " + m.number});
        again.addEventListener("click", function () { reprintTicket(m.id); });
        out.appendChild(el("tr", {"data-ticket": m.id}, [el("td", {"class": "num", text: m.number}),
          el("td", {text: m.name || m.name_masked || ""}),
          el("td", {text: (m.finished_at || m.called_at || "").slice(11, 16)}), el("td", {}, [back, again])]));
      });
      if (!r.data.tickets.length) out.appendChild(el("tr", {}, [el("td", {colspan: "4", "class": "empty", text: T.no_no_shows})]));
      document.getElementById("noshow-count").textContent = "(" + r.data.tickets.length + ")";
    });
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
        var who = b.name || b.name_masked || "";
        var tick = el("input", {type: "checkbox", "data-id": b.id, "aria-label": who || b.id});
        tick.disabled = !open;
        tick.addEventListener("change", familyButton);
        // one cell says where the booking stands: its ticket, cancelled, or the button
        var action = b.checked_in ? el("span", {"class": "num", text: b.ticket}) :
          b.status === "cancelled" ? el("span", {"class": "empty", text: T.cancelled}) :
          el("button", {type: "button", text: assist.getAttribute("data-checkin")});
        if (!b.checked_in && b.status !== "cancelled") action.addEventListener("click", function () {
          post("/api/v1/bookings/" + encodeURIComponent(b.id) + "/checkin").then(function (res) {
            if (res.ok) searchBookings();
          });
        });
        out.appendChild(el("tr", {}, [el("td", {}, [tick]), el("td", {"class": "who", text: who}),
          el("td", {text: C.services[b.service] || b.service}),
          el("td", {"class": "slot", text: b.slot || ""}), el("td", {"class": "act"}, [action])]));
      });
      if (!r.data.bookings.length) out.appendChild(el("tr", {}, [el("td", {colspan: "5", "class": "empty", text: assist.getAttribute("data-none")})]));
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
    // the server closed the connection and refuses it again: the session has ended
    onRefused: function () { expired(); },
    onConnection: function (up) {
      document.getElementById("conn").hidden = up || !!document.getElementById("expired");
      if (up) watch();
    },
  });

  // Kiosks' scanner and printer state in one small line; a problem shows in red.
  // alerts of the kiosks (server/device_watch.py): shown while they last, on every console
  var alertBox = document.getElementById("device-alerts"), alerts = {};
  var alertWords = JSON.parse(alertBox.getAttribute("data-labels"));
  function showAlerts() {
    var keys = Object.keys(alerts);
    alertBox.textContent = "";
    keys.forEach(function (k) {
      var a = alerts[k];
      alertBox.appendChild(el("p", {"data-device": a.device, "data-problem": a.problem,
                                    text: "⚠ " + a.name + ": " + (alertWords[a.problem] || a.problem)}));
    });
    alertBox.hidden = keys.length === 0;
  }
  live.socket.on("device_alert", function (a) {
    var key = a.device + " " + a.problem.split("_")[0];
    if (a.active) alerts[key] = a; else delete alerts[key];
    showAlerts();
    showKiosks();
  });
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
