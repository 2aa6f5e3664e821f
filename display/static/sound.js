// Waiting-room sound: announcements queued and played one at a time, never overlapping.
// The station's audio (chime + phrase, `audio_url`) through one <audio> element; the browser's
// own voice (`speech`) where the station makes no audio or its audio cannot be played.
// Browsers play sound only after a tap: the first time, a button asks for one; the display
// remembers it (localStorage) and asks again only when the browser refuses.
(function () {
  "use strict";
  var KEY = "clinicq.display.sound";
  var GAP_MS = 500, MAX_QUEUE = 60, STUCK_MS = 30000;
  // a twentieth of a second of silence: played on the tap, it unlocks the audio element
  var SILENCE = "data:audio/wav;base64,UklGRrQBAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YZABAACAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICA";

  function Sound(options) {
    this.o = options;  // {repeat, volume, engine, onState(on), onStart(item)}
    this.queue = [];
    this.busy = false;
    this.on = localStorage.getItem(KEY) === "on";
    this.stats = {played: 0, failed: 0, last_error: null};
    this.player = new Audio();
    this.player.preload = "auto";
    this.timer = null;
  }

  Sound.prototype.enable = function () {
    var self = this;
    this.player.src = SILENCE;
    return this.player.play().then(function () {
      localStorage.setItem(KEY, "on");
      self.setOn(true);
      self.next();
    }, function (err) { self.fail(err); self.setOn(false); });
  };

  Sound.prototype.setOn = function (value) {
    this.on = value;
    if (this.o.onState) this.o.onState(value);
  };

  Sound.prototype.fail = function (err) {
    this.stats.failed++;
    this.stats.last_error = String(err && (err.name || err.message) || err).slice(0, 200);
  };

  // one announcement: {announcement, number, counter}; a recall is a new one, played again
  Sound.prototype.add = function (item) {
    if (!item.announcement) return;
    this.queue.push(item);
    if (this.queue.length > MAX_QUEUE) this.queue.splice(0, this.queue.length - MAX_QUEUE);
    this.next();
  };

  Sound.prototype.next = function () {
    if (this.busy || !this.on || !this.queue.length) return;
    var item = this.queue.shift(), self = this;
    this.busy = true;
    if (this.o.onStart) this.o.onStart(item);
    var times = Math.max(1, this.o.repeat || 1), done = false;
    function finish(ok) {
      if (done) return;
      done = true;
      clearTimeout(self.timer);
      if (ok) self.stats.played++;
      setTimeout(function () { self.busy = false; self.next(); }, GAP_MS);
    }
    this.timer = setTimeout(function () { self.fail("stuck"); finish(false); }, STUCK_MS * times);
    var a = item.announcement;
    if (a.audio_url && this.o.engine !== "browser") this.playAudio(a.audio_url, times, finish, a);
    else this.speak(a, times, finish);
  };

  Sound.prototype.playAudio = function (url, times, finish, a) {
    var p = this.player, self = this;
    p.onended = function () {
      if (--times > 0) { p.currentTime = 0; setTimeout(function () { p.play().catch(onerror); }, GAP_MS); }
      else finish(true);
    };
    function onerror(err) {
      p.onended = p.onerror = null;
      if (err && err.name === "NotAllowedError") {
        // the browser wants a tap again: keep the announcement, ask for it
        self.queue.unshift({announcement: a});
        self.busy = false;
        clearTimeout(self.timer);
        self.fail(err);
        self.setOn(false);
        return;
      }
      self.fail(err || "audio error");
      self.speak(a, times, finish);  // the station's audio failed: the browser's voice
    }
    p.onerror = function () { onerror(p.error && p.error.message || "audio error"); };
    p.volume = this.o.volume === undefined ? 1 : this.o.volume;
    p.src = url;
    p.play().catch(onerror);
  };

  Sound.prototype.speak = function (a, times, finish) {
    var synth = window.speechSynthesis, self = this;
    if (!synth || !window.SpeechSynthesisUtterance) { finish(false); return; }
    var parts = a.speech && a.speech.length ? a.speech : [{text: a.text, lang: a.lang}];
    var list = [];
    for (var i = 0; i < times; i++) list = list.concat(parts);
    (function one() {
      var part = list.shift();
      if (!part) { finish(true); return; }
      var u = new SpeechSynthesisUtterance(part.text);
      u.lang = part.lang === "zh" ? "zh-CN" : part.lang;
      u.rate = 0.9;
      u.volume = self.o.volume === undefined ? 1 : self.o.volume;
      u.onend = one;
      u.onerror = function (e) { self.fail(e.error || "speech error"); one(); };
      synth.speak(u);
    })();
  };

  window.ClinicqSound = Sound;
})();
