// Live queue model shared by the console, display and kiosk pages.
// A snapshot (`state`) on connect, then `event` deltas numbered by `seq`. Any gap, and every
// reconnect, asks for the snapshot again: correctness never depends on a delta arriving.
(function () {
  "use strict";

  function LiveQueue(options) {
    this.options = options;
    this.state = null;
    this.tickets = {};
    this.seq = -1;
    this.connected = false;
    var self = this;
    var socket = io({auth: options.auth || {}, transports: ["websocket", "polling"],
                     reconnectionDelayMax: 5000});
    this.socket = socket;
    socket.on("connect", function () { self.setConnected(true); });
    socket.on("disconnect", function (reason) {
      self.setConnected(false);
      // the server closed it (a revoked device, a restart): socket.io does not come back by
      // itself then; try once more, and a refusal says "not paired"
      if (reason === "io server disconnect") setTimeout(function () { socket.connect(); }, 1000);
    });
    socket.on("connect_error", function (err) {
      self.setConnected(false);
      // only the server's own refusal (a connect handler that said no) means "not paired";
      // a transport error (network down, server restarting) is just "offline"
      if (options.onRefused && err && err.type !== "TransportError" &&
          /rejected by server/.test(err.message || "")) options.onRefused(err.message);
    });
    socket.on("state", function (snapshot) { self.applySnapshot(snapshot); });
    socket.on("event", function (message) { self.applyEvent(message); });
    socket.on("counters", function (message) { self.applyCounters(message); });
    // community notices changed (the display's and the kiosk's ticker)
    // an administrator changed the services or counters: the page loads them anew (a page
    // with a resident in front of it says when: `onLayout` reloads once it is free)
    socket.on("layout", function () {
      if (options.onLayout) options.onLayout(); else window.location.reload();
    });
    socket.on("notices", function (data) {
      if (self.state) self.state.notices = data.notices;
      if (options.onNotices) options.onNotices(data.notices);
    });
  }

  LiveQueue.prototype.setConnected = function (value) {
    this.connected = value;
    if (this.options.onConnection) this.options.onConnection(value);
  };

  // The station sends one snapshot per 2 s to a connection; one asked for too soon is answered
  // `rate_limited` with `retry_after`, and asked for again then (one waiting request at most).
  LiveQueue.prototype.resync = function () {
    if (this.resyncTimer) return;
    var self = this;
    this.socket.emit("resync", function (answer) {
      if (!answer || answer.ok || !answer.retry_after || self.resyncTimer) return;
      self.resyncTimer = setTimeout(function () {
        self.resyncTimer = null;
        self.resync();
      }, Math.ceil(answer.retry_after * 1000) + 50);
    });
  };

  LiveQueue.prototype.applySnapshot = function (snapshot) {
    this.state = snapshot;
    this.seq = snapshot.seq;
    this.learnClock(snapshot.now);
    snapshot.observing = snapshot.observing || [];
    this.tickets = {};
    var self = this;
    snapshot.services.forEach(function (s) {
      s.order = s.tickets.map(function (t) { self.tickets[t.id] = t; return t.id; });
    });
    snapshot.counters.forEach(function (c) { if (c.ticket) self.tickets[c.ticket.id] = c.ticket; });
    this.render(null);
  };

  LiveQueue.prototype.applyEvent = function (m) {
    if (this.state === null || m.seq <= this.seq) return;   // already in the snapshot
    if (m.seq !== this.seq + 1) { this.resync(); return; }  // a delta was lost
    this.seq = m.seq;
    this.state.seq = m.seq;
    this.learnClock(m.at);
    var t = m.ticket;
    this.tickets[t.id] = t;
    // tickets in observation: kept in the ticket's own order of ending, from the server's times
    this.state.observing = this.state.observing.filter(function (o) { return o.id !== t.id; });
    if (t.status === "observing") this.state.observing.push(t);
    var self = this;
    this.state.services.forEach(function (s) {
      var q = m.queues[s.code];
      if (!q) return;
      s.order = q.order;
      s.waiting = q.waiting;
      s.eta_minutes = q.eta_minutes;
      s.minutes_per_position = q.minutes_per_position;
    });
    this.state.counters.forEach(function (c) {
      var active = t.status === "called" || t.status === "serving";
      if (active && t.counter === c.id) c.ticket = t;
      else if (c.ticket && c.ticket.id === t.id) c.ticket = null;
    });
    if (m.type === "ticket.called" || m.type === "ticket.recalled") {
      this.state.recent_calls.unshift({ticket_id: t.id, number: t.number, counter: m.counter,
                                       at: m.at, name_masked: t.name_masked});
      this.state.recent_calls = this.state.recent_calls.slice(0, 20);
    } else if (m.type === "ticket.restored" && t.status === "waiting") {
      this.state.recent_calls = this.state.recent_calls.filter(function (c) {
        return c.ticket_id !== t.id;
      });
    }
    this.render(m);
  };

  // A counter went on a break or came back: which counters are paused and the estimates that
  // changed with them. Sent in order with the deltas, so it belongs right after the delta of its
  // `seq`; otherwise one was lost, and the snapshot says all.
  LiveQueue.prototype.applyCounters = function (m) {
    if (this.state === null) return;
    if (m.seq !== this.seq) { this.resync(); return; }
    var paused = {};
    m.counters.forEach(function (c) { paused[c.id] = c.paused; });
    this.state.counters.forEach(function (c) { c.paused = !!paused[c.id]; });
    this.state.services.forEach(function (s) {
      var q = m.queues[s.code];
      if (!q) return;
      s.order = q.order;
      s.waiting = q.waiting;
      s.eta_minutes = q.eta_minutes;
      s.minutes_per_position = q.minutes_per_position;
      s.open_counters = q.open_counters;
    });
    this.render({type: "counters"});
  };

  // The station's clock as this browser sees it: the station's time in the last message plus
  // the time elapsed here since, measured on the monotonic clock. A TV whose clock is minutes
  // off, or is set while the page runs, still counts observation down right; each snapshot
  // and delta (on every reconnect too) refreshes it.
  function elapsed() { return window.performance && performance.now ? performance.now() : Date.now(); }

  LiveQueue.prototype.learnClock = function (serverIso) {
    var t = serverIso ? Date.parse(serverIso) : NaN;
    if (!isNaN(t)) this.clockBase = {server: t, here: elapsed()};
  };

  LiveQueue.prototype.serverNow = function () {
    var b = this.clockBase;
    return b ? b.server + (elapsed() - b.here) : Date.now();
  };

  // Tickets in observation, soonest to leave first, each with the whole minutes left
  // (rounded up, 0 when its time is over and the station has not released it yet).
  LiveQueue.prototype.observing = function () {
    var now = this.serverNow();
    return (this.state ? this.state.observing : []).map(function (t) {
      var ends = t.observation_ends_at ? Date.parse(t.observation_ends_at) : NaN;
      var left = isNaN(ends) ? null : Math.max(0, Math.ceil((ends - now) / 60000));
      return Object.assign({}, t, {minutes_left: left, ends: isNaN(ends) ? Infinity : ends});
    }).sort(function (a, b) { return a.ends - b.ends || (a.number < b.number ? -1 : 1); });
  };

  LiveQueue.prototype.waiting = function (code) {
    var s = this.service(code);
    if (!s) return [];
    var self = this;
    return s.order.map(function (id, i) {
      var t = self.tickets[id];
      return t ? Object.assign({}, t, {position: i + 1,
        eta_minutes: Math.ceil((i + 1) * (s.minutes_per_position || 0))}) : null;
    }).filter(Boolean);
  };

  LiveQueue.prototype.service = function (code) {
    return (this.state && this.state.services.find(function (s) { return s.code === code; })) || null;
  };

  LiveQueue.prototype.counter = function (id) {
    return (this.state && this.state.counters.find(function (c) { return c.id === id; })) || null;
  };

  LiveQueue.prototype.render = function (message) {
    if (this.options.onChange) this.options.onChange(this, message);
  };

  // Token for device pages: from the URL fragment (never sent to the server), kept locally.
  function deviceToken(kind) {
    var m = /token=([^&]+)/.exec(window.location.hash || "");
    var key = "clinicq." + kind + ".token";
    if (m) {
      localStorage.setItem(key, decodeURIComponent(m[1]));
      history.replaceState(null, "", window.location.pathname + window.location.search);
    }
    return localStorage.getItem(key);
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];   // names go in as text, never HTML
      else if (k === "class") node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }

  function api(method, path, body, headers) {
    var h = Object.assign({"Content-Type": "application/json"}, headers || {});
    return fetch(path, {method: method, headers: h, credentials: "same-origin",
                        body: body === undefined ? undefined : JSON.stringify(body)})
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (data) {
          return {status: r.status, ok: r.ok, data: data};
        });
      }, function () {
        // the words come with the page (the catalog's error.offline): the server cannot say them now
        return {status: 0, ok: false, data: data("clinicq-unreachable")};
      });
  }

  // A page's data comes in a <script type="application/json"> element (never run, so the strict
  // CSP holds: no inline script); read once, the same object for every script of the page.
  var cache = {};
  function data(id) {
    if (!(id in cache)) {
      var node = document.getElementById(id);
      cache[id] = node ? JSON.parse(node.textContent) : null;
    }
    return cache[id];
  }
  function pageData() { return data("page-data"); }

  window.Clinicq = {LiveQueue: LiveQueue, deviceToken: deviceToken, el: el, api: api,
                    data: data, pageData: pageData};
})();
