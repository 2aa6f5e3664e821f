// Kiosk screen: a keyboard-wedge scanner types into the input (Enter submits); walk-in buttons;
// the result in large type. Its device token comes from the URL fragment (#token=...).
(function () {
  "use strict";
  var K = window.KIOSK, T = K.strings, api = Clinicq.api;
  var token = Clinicq.deviceToken("kiosk");
  var input = document.getElementById("code");
  var idle = document.getElementById("idle"), result = document.getElementById("result");
  var timer = null, busy = false;
  var conn = document.getElementById("conn");

  function banner(text) { conn.textContent = text || ""; conn.hidden = !text; }
  if (!token) banner(T.no_token);

  function headers() { return {"Authorization": "Bearer " + token}; }

  function show(r, fallbackEnglish) {
    idle.hidden = true;
    result.hidden = false;
    var ok = r.ok && r.data && r.data.number;
    document.getElementById("result-ok").hidden = !ok;
    document.getElementById("result-error").hidden = !!ok;
    if (ok) {
      var t = r.data;
      document.getElementById("r-number").textContent = t.number;
      document.getElementById("r-service").textContent = K.names[t.service] || t.service;
      document.getElementById("r-position").textContent = T.position + " " + (t.position || "-");
      document.getElementById("r-eta").textContent = T.eta + " " + (t.eta_minutes || 0) + " " + T.minutes;
      var note = r.status === 200 ? T.again : (t.late ? T.late : T.keep);
      // a notice from the kiosk agent (the printer failed): both languages, the number stays
      if (r.notice) note = r.notice.message_zh + " / " + r.notice.message;
      document.getElementById("r-note").textContent = note;
      document.getElementById("r-note").className = r.notice ? "note warn" : "note";
    } else {
      var e = (r.data && r.data.error) || {};
      document.getElementById("r-error").textContent = e.message_zh || T.scan_again;
      document.getElementById("r-error-en").textContent = e.message || fallbackEnglish || "";
      if (r.status === 0) banner(T.offline);
    }
    clearTimeout(timer);
    timer = setTimeout(reset, ok ? 20000 : 12000);
  }

  function reset() {
    result.hidden = true;
    idle.hidden = false;
    input.value = "";
    input.focus();
  }

  function submit(path, body) {
    if (busy) return;
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
  document.querySelectorAll("button.walkin").forEach(function (b) {
    b.addEventListener("click", function () {
      submit("/api/v1/tickets", {service: b.getAttribute("data-service")});
    });
  });
  document.getElementById("done").addEventListener("click", reset);
  // the scanner types wherever the focus is: keep it on the input
  document.addEventListener("click", function () { if (!result.hidden) return; input.focus(); });
  input.addEventListener("blur", function () { setTimeout(function () { if (result.hidden) input.focus(); }, 50); });

  var live = new Clinicq.LiveQueue({
    auth: {token: token},
    onConnection: function (up) { banner(up ? "" : T.offline); },
    onChange: function (q, m) {
      // results the kiosk agent (scanner at this kiosk) obtained are pushed to this screen
    },
  });
  live.socket.on("kiosk.result", function (r) { show(r); });
})();
