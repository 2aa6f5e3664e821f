// Waiting-room display: each counter's current call (a new one flashes), the next numbers,
// waiting count and wait per service, recent calls, the observation board, the notices'
// ticker, a clock; every call spoken in order (sound.js). Reconnects and resyncs by itself,
// and says since when it has had no news. Built for a 12-hour day: every redraw replaces
// what it drew, lists are bounded, one audio element plays everything.
(function () {
  "use strict";
  var D = Clinicq.pageData(), T = D.strings, el = Clinicq.el;
  var token = Clinicq.deviceToken("display");
  var conn = document.getElementById("conn");
  var FRESH_MS = 8000, RECENT = 6;
  var flashTimer = null, freshTimer = null, fresh = {}, lastUpdate = null, connected = false;
  var live = null;
  // no token yet, or the one kept was revoked: show a pairing code until an admin approves it
  function startPairing() {
    var box = document.getElementById("pairing");
    box.hidden = false;
    conn.hidden = true;
    Clinicq.pair("display", {
      onCode: function (code) { document.getElementById("pairing-code").textContent = code; },
      onPaired: function () { window.location.reload(); },
    });
  }
  if (!token) startPairing();

  // the station's time, whatever time zone and time the TV's browser was set up with
  var timeFormat = new Intl.DateTimeFormat("zh-CN", {timeZone: D.timezone, hour: "2-digit",
                                                     minute: "2-digit", hour12: false});
  function hhmm(date) { return timeFormat.format(date); }
  // the station's time (its last message plus time elapsed), not the TV's
  function clock() {
    document.getElementById("clock").textContent =
      hhmm(new Date(live ? live.serverNow() : Date.now()));
  }
  clock();
  setInterval(clock, 5000);

  function counterName(id) { return D.counters[id] || id || ""; }

  function who(t, showNames) {
    return showNames && t && t.name_masked ? t.name_masked : "";
  }

  // sound -----------------------------------------------------------------------------------
  var soundButton = document.getElementById("sound-enable");
  var soundState = document.getElementById("sound-state");
  var sound = new window.ClinicqSound({
    repeat: D.sound.repeat, volume: D.sound.volume, engine: D.sound.engine,
    onState: function (on) {
      soundButton.hidden = on;
      soundState.hidden = false;
      soundState.textContent = on ? T.sound_on : T.sound_off;
      report();
    },
    onStart: function (item) { if (item.number) flash(item.number, item.text); },
  });
  soundButton.hidden = sound.on;
  soundState.hidden = false;
  soundState.textContent = sound.on ? T.sound_on : T.sound_off;
  soundButton.addEventListener("click", function () { sound.enable(); });

  function report() {
    if (!token) return;
    fetch("/api/v1/displays/health", {method: "POST", headers: {
      "Content-Type": "application/json", "Authorization": "Bearer " + token},
      body: JSON.stringify({version: "display-1", sound: sound.on ? "on" : "off",
        engine: D.sound.engine, played: sound.stats.played, failed: sound.stats.failed,
        queued: sound.queue.length, last_error: sound.stats.last_error,
        dom_nodes: document.getElementsByTagName("*").length,
        viewport: window.innerWidth + "x" + window.innerHeight})}).catch(function () {});
  }
  setInterval(report, 30000);
  setTimeout(report, 1000);

  // drawing ----------------------------------------------------------------------------------
  function render(q, m) {
    lastUpdate = new Date();
    var s = q.state, show = s.display.show_masked_names, now = Date.now();
    if (m && m.ticket && m.counter && (m.type === "ticket.called" || m.type === "ticket.recalled"))
      fresh[m.counter] = {id: m.ticket.id, until: now + FRESH_MS};
    var counters = document.getElementById("counters");
    counters.replaceChildren.apply(counters, s.counters.map(function (c) {
      var t = c.ticket, f = fresh[c.id];
      var isFresh = t && f && f.id === t.id && f.until > now;
      // on a break: said in words, so nobody waits for this counter to call (a resident still
      // being served there keeps the number)
      var cls = "counter" + (t ? " active" : "") + (isFresh ? " fresh" : "") + (c.paused ? " paused" : "");
      return el("div", {"class": cls, "data-counter": c.id}, [
        el("span", {"class": "cname", text: counterName(c.id)}),
        el("span", {"class": "cnum", text: t ? t.number : (c.paused ? T.paused : T.idle)}),
        el("span", {"class": "cwho", text: t && c.paused ? T.paused : who(t, show)})]);
    }));
    scheduleFreshEnd();
    var services = document.getElementById("services");
    services.replaceChildren.apply(services, s.services.map(function (svc) {
      var next = q.waiting(svc.code).slice(0, s.display.next_count);
      // every counter of the service on a break: no estimate to promise, say why
      var stats = svc.waiting + " " + T.waiting + (svc.open_counters === 0 ? " · " + T.all_paused :
        svc.waiting ? " · " + T.wait.replace("{n}", svc.eta_minutes) : "");
      return el("div", {"class": "service", "data-service": svc.code}, [
        el("h3", {}, [el("span", {text: D.services[svc.code] || svc.code}),
                      el("span", {"class": "stats", text: stats})]),
        el("p", {"class": "next"}, next.length ? next.map(function (t) { return el("span", {text: t.number}); })
                                               : [el("span", {"class": "none", text: T.nobody})])]);
    }));
    var recent = document.getElementById("recent");
    recent.replaceChildren.apply(recent, s.recent_calls.slice(0, RECENT).map(function (c) {
      return el("li", {}, [el("b", {text: c.number}), el("span", {text: counterName(c.counter)})]);
    }));
    renderObservation(q);
    clock();
    if (m && (m.type === "ticket.called" || m.type === "ticket.recalled")) announce(m, T.please_go + " " + counterName(m.counter));
    if (m && m.type === "observation.released") announce(m, T.released);
    if (!m) renderTicker(s.notices || []);
  }

  function scheduleFreshEnd() {
    // the highlight ends by itself; forget counters whose highlight is over
    var now = Date.now(), soonest = Infinity;
    Object.keys(fresh).forEach(function (k) {
      if (fresh[k].until <= now) delete fresh[k]; else soonest = Math.min(soonest, fresh[k].until);
    });
    clearTimeout(freshTimer);
    if (soonest < Infinity) freshTimer = setTimeout(function () {
      document.querySelectorAll(".counter.fresh").forEach(function (n) {
        var f = fresh[n.getAttribute("data-counter")];
        if (!f || f.until <= Date.now()) n.classList.remove("fresh");
      });
      scheduleFreshEnd();
    }, soonest - now + 20);
  }

  // The observation board: whole minutes left from the station's end times, soonest first,
  // as many as fit on the screen (the rest counted below); redrawn every few seconds.
  var OBS_MAX = 40, watched = null;
  function renderObservation(q) {
    performance.mark("observation-redraw-start");  // User Timing: bench/bench_display.py reads it
    watched = q;
    var all = q.observing(), list = document.getElementById("observing");
    var shown = all.slice(0, OBS_MAX), more = document.getElementById("obs-more");
    document.getElementById("obs-count").textContent = all.length ? "(" + all.length + ")" : "";
    if (!all.length) {
      list.replaceChildren(el("li", {"class": "none", text: T.nobody_observing}));
      more.hidden = true;
      performance.measure("observation-redraw", "observation-redraw-start");
      return;
    }
    list.replaceChildren.apply(list, shown.map(function (t) {
      var due = t.minutes_left === 0;
      var left = t.minutes_left === null ? "" : due ? T.may_leave : T.minutes_left.replace("{n}", t.minutes_left);
      return el("li", {"class": due ? "due" : "", "data-ticket": t.id}, [
        el("b", {text: t.number}), el("span", {text: left})]);
    }));
    // a TV does not scroll: keep the rows that fit above the count line, measured in one
    // layout (reads only, then the writes), so a long list costs one reflow, not one per row
    more.hidden = false;  // measured with room kept for the count line
    more.textContent = T.more.replace("{n}", all.length);
    var bottom = list.parentNode.getBoundingClientRect().bottom;
    var limit = bottom - more.offsetHeight - 12, rows = Array.prototype.slice.call(list.children);
    var kept = rows.length;
    for (var i = 0; i < rows.length; i++) {  // whole rows of two
      if (rows[i].getBoundingClientRect().bottom > limit) { kept = i - (i % 2); break; }
    }
    rows.slice(kept).forEach(function (r) { list.removeChild(r); });
    more.hidden = all.length <= kept;
    more.textContent = T.more.replace("{n}", all.length - kept);
    performance.measure("observation-redraw", "observation-redraw-start");
    // the marks would pile up over a day: keep the last few for the figures
    if (performance.getEntriesByName("observation-redraw").length > 200) {
      performance.clearMarks("observation-redraw-start");
      performance.clearMeasures("observation-redraw");
    }
  }
  setInterval(function () { if (watched) renderObservation(watched); }, 5000);

  // the ticker of community notices: redrawn only when they change (a redraw restarts it)
  var tickerKey = null;
  function renderTicker(notices) {
    var key = JSON.stringify(notices.map(function (n) { return [n.id, n.text, n.text_en]; }));
    if (key === tickerKey) return;
    tickerKey = key;
    var box = document.getElementById("ticker"), text = document.getElementById("ticker-text");
    var english = D.lang === "en";
    text.replaceChildren.apply(text, notices.map(function (n) {
      return el("span", {text: english && n.text_en ? n.text_en : n.text});
    }));
    box.hidden = !notices.length;
    var chars = text.textContent.length;
    text.style.setProperty("--ticker-seconds", Math.max(20, Math.round(chars * 0.35 + 12)) + "s");
  }

  function announce(m, text) {
    var item = {announcement: m.announcement, number: m.ticket.number, text: text};
    if (!sound.on || !m.announcement) flash(item.number, text);  // sound shows it as it plays
    sound.add(item);
  }

  function flash(number, text) {
    var f = document.getElementById("flash");
    f.replaceChildren(el("span", {"class": "fnum", text: number}), el("span", {"class": "fto", text: text}));
    f.hidden = false;
    clearTimeout(flashTimer);
    flashTimer = setTimeout(function () { f.hidden = true; }, 6000);
  }

  function offline() {
    if (!token) return;
    conn.textContent = lastUpdate ? T.offline_since.replace("{time}", hhmm(lastUpdate)) : T.offline;
    conn.hidden = connected;
  }

  live = new Clinicq.LiveQueue({
    auth: {token: token},
    onChange: render,
    onNotices: renderTicker,
    onConnection: function (up) { connected = up; offline(); },
    onRefused: function () {
      if (!token) return;
      localStorage.removeItem("clinicq.display.token");  // revoked or unknown: pair again
      token = null;
      live.socket.disconnect();
      startPairing();
    },
  });
  window.clinicqDisplay = {sound: sound, live: live};  // for the tests and the figures
})();
