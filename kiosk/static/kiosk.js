// Kiosk screen: a keyboard-wedge scanner types into the input (Enter submits); walk-in buttons;
// the result in large type. Its device token comes from the URL fragment (#token=...).
(function () {
  "use strict";
  var K = Clinicq.pageData(), T = K.strings, api = Clinicq.api;
  var token = Clinicq.deviceToken("kiosk");
  var input = document.getElementById("code");
  var idle = document.getElementById("idle"), result = document.getElementById("result");
  var timer = null, busy = false, tick = null;
  var conn = document.getElementById("conn"), english = K.lang === "en";
  var priority = document.getElementById("priority"), chosen = null;

  function banner(text) { conn.textContent = text || ""; conn.hidden = !text; }
  // without a token this kiosk is not paired: say so, not "cannot reach the server"
  if (!token) {
    idle.hidden = true;
    document.getElementById("unpaired").hidden = false;
  }

  function headers() { return {"Authorization": "Bearer " + token}; }

  // Screening (预检) right after a vaccination booking checks in: one question at a time, large
  // yes and no; "not sure" leaves them to the nurse at the screening desk.
  var questions = [], screen = document.getElementById("screen"), asking = null;
  if (token) api("GET", "/api/v1/screening/questions", undefined, headers()).then(function (r) {
    if (r.ok) questions = r.data.questions;
  });
  function askNext() {
    var q = questions[asking.index];
    document.getElementById("q-progress").textContent = "(" + (asking.index + 1) + " / " + questions.length + ")";
    document.getElementById("q-text").textContent = q.zh;
    document.getElementById("q-text-en").textContent = q.en;
    clearTimeout(timer);
    clearInterval(tick);
    timer = setTimeout(reset, 60000);  // walked away: the desk asks
  }
  function screenFor(r) {
    asking = {ticket: r.data, shown: r, index: 0, answers: {}};
    result.hidden = true;
    screen.hidden = false;
    askNext();
  }
  function answer(value) {
    var q = questions[asking.index];
    asking.answers[q.id] = value;
    asking.index += 1;
    if (asking.index < questions.length) { askNext(); return; }
    var done = asking;
    asking = null;
    api("POST", "/api/v1/tickets/" + encodeURIComponent(done.ticket.id) + "/screening",
        {answers: done.answers}, headers()).then(function (r) {
      screen.hidden = true;
      // every answer no: the ticket went on to the vaccination queue, past the screening desk
      var told = !r.ok ? T.ask_desk : r.data.flagged ? T.see_doctor
        : r.data.stage === "vaccination" ? T.to_vaccination : T.screened;
      // the ticket as it is now: its position and wait in the queue it went on to
      var now = r.ok && r.data && r.data.number ?
        {ok: true, status: done.shown.status, data: r.data, notice: done.shown.notice} : done.shown;
      showTicket(now, told);
    });
  }
  document.getElementById("q-yes").addEventListener("click", function () { answer(true); });
  document.getElementById("q-no").addEventListener("click", function () { answer(false); });
  document.getElementById("q-skip").addEventListener("click", function () {
    var done = asking;
    asking = null;
    screen.hidden = true;
    showTicket(done.shown, T.ask_desk);
  });

  function show(r, fallbackEnglish) {
    if (asking) return;  // a resident is answering; a push for this kiosk waits its turn
    var t = r.data || {};
    if (r.ok && r.status === 201 && t.stage === "screening" && t.status === "waiting" && questions.length) {
      idle.hidden = true;
      screenFor(r);
      return;
    }
    showTicket(r, null, fallbackEnglish);
  }

  function showTicket(r, told, fallbackEnglish) {
    idle.hidden = true;
    screen.hidden = true;
    result.hidden = false;
    var ok = r.ok && r.data && r.data.number;
    document.getElementById("result-ok").hidden = !ok;
    document.getElementById("result-error").hidden = !!ok;
    if (ok) {
      var t = r.data;
      // a booked resident sees it is theirs: masked name and slot
      var who = document.getElementById("r-who");
      document.getElementById("r-name").textContent = t.name_masked || "";
      document.getElementById("r-slot").textContent = t.slot ? T.slot + " " + t.slot : "";
      who.hidden = !(t.name_masked || t.slot);
      document.getElementById("r-number").textContent = t.number;
      document.getElementById("r-service").textContent = K.names[t.service] || t.service;
      document.getElementById("r-position").textContent = T.position + " " + (t.position || "-");
      document.getElementById("r-eta").textContent = t.eta_minutes ?
        T.eta + " " + t.eta_minutes + " " + T.minutes : T.no_wait;
      var note = r.status === 200 ? T.again : (t.late ? T.late : T.keep);
      // a notice from the kiosk agent (the printer failed): both languages, the number stays
      if (told) note = told;
      if (r.notice) note = english ? r.notice.message : r.notice.message_zh + " / " + r.notice.message;
      document.getElementById("r-note").textContent = note;
      document.getElementById("r-note").className = r.notice ? "note warn" : "note";
    } else {
      var e = (r.data && r.data.error) || {};
      // English mode is English throughout; in Chinese the English words follow below
      var zh = e.message_zh || T.scan_again, en = e.message || fallbackEnglish || "";
      document.getElementById("r-error").textContent = english ? (en || zh) : zh;
      document.getElementById("r-error-en").textContent = english ? "" : en;
      if (r.status === 0) banner(T.offline);
    }
    countdown(ok ? 20 : 15);
  }

  // back to the attract screen by itself, saying when
  function countdown(seconds) {
    var left = seconds, box = document.getElementById("countdown");
    clearTimeout(timer);
    clearInterval(tick);
    function say() { box.textContent = T.countdown.replace("{seconds}", left); }
    say();
    tick = setInterval(function () { left -= 1; if (left <= 0) reset(); else say(); }, 1000);
  }

  function reset() {
    clearTimeout(timer);
    clearInterval(tick);
    asking = null;
    chosen = null;
    priority.hidden = true;
    screen.hidden = true;
    result.hidden = true;
    idle.hidden = !token;
    input.value = "";
    input.focus();
  }

  function submit(path, body) {
    if (busy || !token) return;  // five taps in a second: one ticket
    busy = true;
    api("POST", path, body, headers()).then(function (r) {
      busy = false;
      if (r.status !== 0 && live.connected) banner("");
      show(r);
    });
  }

  document.getElementById("scan-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var code = input.value;
    input.value = "";
    if (code.trim()) submit("/api/v1/checkins", {code: code});
  });
  // a walk-in number: first the optional priority choice (70+, disabled, pregnant)
  document.querySelectorAll("button.walkin").forEach(function (b) {
    b.addEventListener("click", function () {
      if (busy) return;
      chosen = b.getAttribute("data-service");
      // the walk-in tap's echo (a second tap of the same finger) must not pick a choice:
      // the choices take taps after a moment
      var prios = document.querySelectorAll("button.prio");
      prios.forEach(function (p) { p.disabled = true; });
      setTimeout(function () { prios.forEach(function (p) { p.disabled = false; }); }, 600);
      idle.hidden = true;
      priority.hidden = false;
      clearTimeout(timer);
      timer = setTimeout(reset, 30000);
    });
  });
  document.querySelectorAll("button.prio").forEach(function (b) {
    b.addEventListener("click", function () {
      if (chosen === null) return;  // taps after the first: already asked
      var service = chosen;
      chosen = null;
      priority.hidden = true;
      submit("/api/v1/tickets", {service: service, priority: b.getAttribute("data-priority") === "1"});
    });
  });
  document.querySelectorAll("[data-back]").forEach(function (b) { b.addEventListener("click", reset); });
  document.getElementById("done").addEventListener("click", reset);
  // the scanner types wherever the focus is: keep it on the input
  function scanning() { return result.hidden && screen.hidden && priority.hidden && !idle.hidden; }
  document.addEventListener("click", function () { if (scanning()) input.focus(); });
  input.addEventListener("blur", function () { setTimeout(function () { if (scanning()) input.focus(); }, 50); });

  if (!token) return;
  var live = new Clinicq.LiveQueue({
    // new services or counters: reload, but never under a resident's hands
    onLayout: function () {
      var wait = setInterval(function () {
        if (scanning()) { clearInterval(wait); window.location.reload(); }
      }, 1000);
    },
    auth: {token: token},
    onConnection: function (up) { banner(up ? "" : T.offline); },
    onChange: function (q, m) {
      // results the kiosk agent (scanner at this kiosk) obtained are pushed to this screen
      if (!m) notices(q.state.notices || []);
    },
    onNotices: notices,
  });
  // community notices, posted by the station's administrator, scroll along the bottom
  function notices(list) {
    var box = document.getElementById("ticker"), text = document.getElementById("ticker-text");
    var english = K.lang === "en";
    text.textContent = "";
    list.forEach(function (n) {
      text.appendChild(Clinicq.el("span", {text: english && n.text_en ? n.text_en : n.text}));
    });
    box.hidden = !list.length;
  }
  live.socket.on("kiosk.result", function (r) { show(r); });
})();
