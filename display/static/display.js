// Waiting-room display: each counter's current call, the next numbers and waits per service,
// recent calls, the observation board; a new call is highlighted and spoken. Reconnects and
// resyncs by itself.
(function () {
  "use strict";
  var D = window.DISPLAY, T = D.strings, el = Clinicq.el;
  var token = Clinicq.deviceToken("display");
  var conn = document.getElementById("conn");
  var flashTimer = null;
  if (!token) { conn.textContent = T.no_token; conn.hidden = false; }

  // the station's time, whatever time zone and time the TV's browser was set up with
  var timeFormat = new Intl.DateTimeFormat("zh-CN", {timeZone: D.timezone, hour: "2-digit",
                                                     minute: "2-digit", hour12: false});
  function clock() {
    document.getElementById("clock").textContent =
      timeFormat.format(new Date(live ? live.serverNow() : Date.now()));
  }
  clock();
  setInterval(clock, 5000);

  function who(t, showNames) {
    return showNames && t && t.name_masked ? t.name_masked : "";
  }

  function render(q, m) {
    var s = q.state, show = s.display.show_masked_names;
    var counters = document.getElementById("counters");
    counters.textContent = "";
    s.counters.forEach(function (c) {
      var t = c.ticket;
      var fresh = m && m.ticket && t && m.ticket.id === t.id && (m.type === "ticket.called" || m.type === "ticket.recalled");
      counters.appendChild(el("div", {"class": "counter" + (t ? " active" : "") + (fresh ? " fresh" : ""), "data-counter": c.id}, [
        el("span", {"class": "cname", text: D.counters[c.id] || c.id}),
        el("span", {"class": "cnum", text: t ? t.number : T.idle}),
        el("span", {"class": "cwho", text: who(t, show)})]));
    });
    var services = document.getElementById("services");
    services.textContent = "";
    s.services.forEach(function (svc) {
      var next = q.waiting(svc.code).slice(0, s.display.next_count);
      services.appendChild(el("div", {"class": "service", "data-service": svc.code}, [
        el("h3", {text: D.services[svc.code] || svc.code}),
        el("p", {"class": "stats", text: svc.waiting + " " + T.waiting + " · " + T.wait.replace("{n}", svc.eta_minutes)}),
        el("p", {"class": "next"}, next.map(function (t) { return el("span", {text: t.number}); }))]));
    });
    var recent = document.getElementById("recent");
    recent.textContent = "";
    s.recent_calls.slice(0, 6).forEach(function (c) {
      recent.appendChild(el("li", {}, [el("b", {text: c.number}), el("span", {text: " → " + (D.counters[c.counter] || c.counter)})]));
    });
    renderObservation(q);
    clock();
    if (m && (m.type === "ticket.called" || m.type === "ticket.recalled")) announce(m);
    if (m && m.type === "observation.released") released(m);
  }

  // The observation board: whole minutes left from the station's end times, soonest first,
  // as many as fit on the screen (the rest counted below); redrawn every few seconds.
  var OBS_MAX = 40, live = null;
  function renderObservation(q) {
    performance.mark("observation-redraw-start");  // User Timing: bench/bench_display.py reads it
    live = q;
    var all = q.observing(), list = document.getElementById("observing");
    var shown = all.slice(0, OBS_MAX), more = document.getElementById("obs-more");
    document.getElementById("obs-count").textContent = all.length ? "(" + all.length + ")" : "";
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
  }
  setInterval(function () { if (live) renderObservation(live); }, 5000);

  function released(m) {
    flash(m.ticket.number, T.released);
    speak(m.announcement);
  }

  function announce(m) {
    flash(m.ticket.number, T.please_go + " " + (D.counters[m.counter] || m.counter));
    speak(m.announcement);
  }

  function flash(number, text) {
    var f = document.getElementById("flash");
    f.replaceChildren(el("span", {"class": "fnum", text: number}), el("span", {"class": "fto", text: text}));
    f.hidden = false;
    clearTimeout(flashTimer);
    flashTimer = setTimeout(function () { f.hidden = true; }, 6000);
  }

  function speak(a) {
    if (!a) return;
    if (a.audio_url) { new Audio(a.audio_url).play().catch(function () {}); return; }
    if (window.speechSynthesis && window.SpeechSynthesisUtterance) {
      var u = new SpeechSynthesisUtterance(a.text);
      u.lang = a.lang === "zh" ? "zh-CN" : a.lang;
      window.speechSynthesis.speak(u);
    }
  }

  new Clinicq.LiveQueue({
    auth: {token: token},
    onChange: render,
    onConnection: function (up) {
      if (token) { conn.textContent = up ? "" : T.offline; conn.hidden = up; }
    },
    onRefused: function () { if (token) { conn.textContent = T.no_token; conn.hidden = false; } },
  });
})();
