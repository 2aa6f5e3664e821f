// Pairing a device that has no token yet (display, kiosk screen): ask the station for a code,
// show it, and poll until an admin approves it on the devices page; then keep the token (like
// a #token=… link would) and start. A code ends after ten minutes: a new one is asked for.
(function () {
  "use strict";

  function pair(kind, options) {
    var stopped = false, timer = null;
    function later(fn, ms) { if (!stopped) timer = setTimeout(fn, ms); }
    function ask() {
      Clinicq.api("POST", "/api/v1/pairing", {kind: kind}).then(function (r) {
        if (r.status === 201) { options.onCode(r.data.code, r.data.expires_at); poll(r.data.poll); }
        else { options.onWaiting && options.onWaiting(r); later(ask, r.status === 429 ? 30000 : 5000); }
      });
    }
    function poll(secret) {
      Clinicq.api("GET", "/api/v1/pairing/" + encodeURIComponent(secret)).then(function (r) {
        if (r.status === 200 && r.data.token) {
          localStorage.setItem("clinicq." + kind + ".token", r.data.token);
          options.onPaired(r.data);
        } else if (r.status === 410) ask();          // expired: a fresh code
        else later(function () { poll(secret); }, 2000);  // pending, or the network blinked
      });
    }
    ask();
    return {stop: function () { stopped = true; clearTimeout(timer); }};
  }

  Clinicq.pair = pair;
})();
