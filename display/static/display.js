// Waiting-room display: each counter's current call, the next numbers and waits per service,
// recent calls; a new call is highlighted and spoken. Reconnects and resyncs by itself.
(function () {
  "use strict";
  var D = window.DISPLAY, T = D.strings, el = Clinicq.el;
  var token = Clinicq.deviceToken("display");
  var conn = document.getElementById("conn");
  var flashTimer = null;
  if (!token) { conn.textContent = T.no_token; conn.hidden = false; }

  // the station's time, whatever time zone the TV's browser was set up with
  var timeFormat = new Intl.DateTimeFormat("zh-CN", {timeZone: D.timezone, hour: "2-digit",
                                                     minute: "2-digit", hour12: false});
  function clock() {
    document.getElementById("clock").textContent = timeFormat.format(new Date());
  }
  clock();
  setInterval(clock, 10000);

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
    if (m && (m.type === "ticket.called" || m.type === "ticket.recalled")) announce(m);
  }

  function announce(m) {
    var f = document.getElementById("flash");
    f.textContent = "";
    f.appendChild(el("span", {"class": "fnum", text: m.ticket.number}));
    f.appendChild(el("span", {"class": "fto", text: T.please_go + " " + (D.counters[m.counter] || m.counter)}));
    f.hidden = false;
    clearTimeout(flashTimer);
    flashTimer = setTimeout(function () { f.hidden = true; }, 6000);
    var a = m.announcement;
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
