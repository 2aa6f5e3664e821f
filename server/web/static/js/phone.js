// The phone page (phone.html): its ticket, live over a bare WebSocket; the page's data comes
// in the #page-data JSON element (strict CSP: no inline script).
(function () {
  "use strict";
  var P = JSON.parse(document.getElementById("page-data").textContent);
  var T = P.strings, me = P.start.ticket, seq = P.start.seq;
  var mpp = P.start.minutes_per_position || 0, was = me.status, ws = null, delay = 1000;
  function $(id) { return document.getElementById(id); }
  function fill(s, k, v) { return s.replace("{" + k + "}", v); }
  function render() {
    var called = me.status === "called";
    $("stage").textContent = me.stage && T[me.stage] ? "· " + T[me.stage] : "";
    $("status").textContent = called ? T.called : (T[me.status] || me.status);
    var facts = "";
    if (called || me.status === "serving") facts = fill(T.go_to, "counter", P.counters[me.counter] || me.counter || "");
    else if (me.status === "waiting" && me.position) {
      facts = me.position === 1 ? T.next : fill(T.ahead, "n", me.position - 1);
      if (me.eta_minutes) facts += " · " + fill(T.minutes, "n", me.eta_minutes);
    }
    $("facts").textContent = facts;
    $("card").className = "card" + (called ? " called" : "") + (me.status === "done" || me.status === "released" ? " done" : "");
    document.title = me.number + (called ? " · " + T.called : "");
    var now = new Date();
    $("updated").textContent = fill(T.updated, "time", ("0" + now.getHours()).slice(-2) + ":" + ("0" + now.getMinutes()).slice(-2));
    if (called && (was !== "called" || me._recalled)) {
      if (navigator.vibrate) navigator.vibrate([400, 150, 400, 150, 400]);
    }
    me._recalled = false;
    was = me.status;
  }
  function start(s) {
    seq = s.seq; me = s.ticket; mpp = s.minutes_per_position || mpp; render();
  }
  function delta(m) {
    if (m.seq <= seq) return;
    if (m.seq !== seq + 1) { send('42["resync"]'); seq = m.seq; return; }
    seq = m.seq;
    if (m.ticket.id === me.id) { me = m.ticket; me._recalled = m.type === "ticket.recalled"; }
    var q = m.queues[me.service];
    if (q && me.status === "waiting") {
      var ahead = 0, found = false;
      for (var i = 0; i < q.order.length; i++) {
        if (q.order[i] === me.id) { found = true; break; }
        if (q.stages[i] === me.stage) ahead++;
      }
      mpp = q.minutes_per_position || mpp;
      if (found) { me.position = ahead + 1; me.eta_minutes = Math.ceil(me.position * mpp); }
    }
    render();
  }
  function send(s) { if (ws && ws.readyState === 1) ws.send(s); }
  // Socket.IO 5 over Engine.IO 4, WebSocket only: a few lines instead of a 47 kB client
  function connect() {
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/socket.io/?EIO=4&transport=websocket";
    try { ws = new WebSocket(url); } catch (e) { retry(); return; }
    ws.onmessage = function (e) {
      var d = e.data;
      if (d === "2") { send("3"); return; }
      if (d.charAt(0) === "0") { send("40" + JSON.stringify({ticket: P.code})); return; }
      if (d.slice(0, 2) === "40") { delay = 1000; $("conn").hidden = true; return; }
      if (d.slice(0, 2) === "44") { ws.close(); return; }
      if (d.slice(0, 2) === "42") {
        var msg = JSON.parse(d.slice(2));
        if (msg[0] === "ticket") start(msg[1]);
        else if (msg[0] === "phone") delta(msg[1]);
      }
    };
    ws.onclose = function () { ws = null; $("conn").textContent = T.offline; $("conn").hidden = false; retry(); };
  }
  function retry() { setTimeout(connect, delay); delay = Math.min(delay * 2, 15000); }
  render();
  connect();
})();
