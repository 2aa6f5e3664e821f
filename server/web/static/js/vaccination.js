// Nurse console, vaccination: the screening questions at a screening desk, the vaccination
// panel (booked vaccine and dose, 三查七对 checklist, site, route, the trace code as a
// keyboard-wedge scanner types it, Enter records the dose), and the residents in observation
// (minutes left, an adverse reaction, leaving early). console.js calls Vaccination.render.
(function () {
  "use strict";
  var C = Clinicq.pageData(), T = C.strings, V = C.vaccination, el = Clinicq.el, api = Clinicq.api;
  var headers = {"X-CSRF-Token": C.csrf};
  var panel = document.getElementById("vax");
  if (!panel) return;
  var questions = [], vaccines = {}, shownFor = null, live = null, atDesk = null, shown = false;

  api("GET", "/api/v1/screening/questions").then(function (r) {
    if (r.ok) questions = r.data.questions;
  });
  api("GET", "/api/v1/vaccines").then(function (r) {
    if (r.ok) r.data.vaccines.forEach(function (v) { vaccines[v.code] = v; });
  });

  function say(text, isError) {
    var m = document.getElementById("vax-message");
    m.textContent = text || "";
    m.className = "message" + (isError ? " error" : "");
  }
  function errorText(data) {
    var e = (data && data.error) || {};
    return C.lang === "en" ? (e.message || T.error) : (e.message_zh || e.message || T.error);
  }
  function post(ticket, action, body) {
    say("");
    return api("POST", "/api/v1/tickets/" + encodeURIComponent(ticket.id) + "/" + action, body, headers)
      .then(function (r) { if (!r.ok) say(errorText(r.data), true); return r; });
  }
  function vaccineName(code) {
    var v = vaccines[code];
    return v ? (C.lang === "en" ? v.name_en || v.name : v.name) : code;
  }
  function options(id, pairs) {  // [[id, label], ...], the first one chosen
    return el("select", {id: id}, pairs.map(function (p) {
      return el("option", {value: p[0], text: p[1]});
    }));
  }

  function screening(t) {
    var rows = questions.map(function (q) {
      var yes = el("input", {type: "radio", name: "q-" + q.id, value: "yes"});
      var no = el("input", {type: "radio", name: "q-" + q.id, value: "no"});
      return el("li", {}, [el("span", {text: C.lang === "en" ? q.en : q.zh}),
        el("label", {}, [yes, document.createTextNode(V.yes)]),
        el("label", {}, [no, document.createTextNode(V.no)])]);
    });
    var save = el("button", {type: "button", "class": "primary", text: V.save_answers});
    save.addEventListener("click", function () {
      var answers = {};
      questions.forEach(function (q) {
        var picked = panel.querySelector('input[name="q-' + q.id + '"]:checked');
        if (picked) answers[q.id] = picked.value === "yes";
      });
      post(t, "screening", {answers: answers}).then(function (r) {
        if (r.ok) say(r.data.flagged ? V.flagged : V.screened);
      });
    });
    return [el("h2", {text: V.screening}), el("ol", {"class": "questions"}, rows), save];
  }

  function doctor(t) {
    var yes = (t.screening_yes || []).map(function (id) {
      var q = questions.find(function (x) { return x.id === id; });
      return el("li", {text: q ? (C.lang === "en" ? q.en : q.zh) : id});
    });
    var out = [el("p", {"class": "flag", text: V.needs_doctor}), el("ul", {}, yes)];
    if (C.role === "doctor") {  // clearing and deferring are a doctor's
      var reason = el("input", {id: "vax-reason", maxlength: "200", placeholder: V.reason});
      var clear = el("button", {type: "button", text: V.clear});
      var defer = el("button", {type: "button", text: V.defer});
      clear.addEventListener("click", function () { post(t, "clear", {reason: reason.value || V.cleared_default}); });
      defer.addEventListener("click", function () {
        if (reason.value.trim()) post(t, "defer", {reason: reason.value});
        else say(V.reason_needed, true);
      });
      out.push(el("p", {"class": "doctor"}, [reason, clear, defer]));
    }
    return out;
  }

  function vaccination(t) {
    var booked = t.vaccine || {};
    var facts = el("p", {"class": "booked"}, [
      el("b", {text: booked.product ? vaccineName(booked.product) : V.no_vaccine_booked}),
      el("span", {text: booked.dose ? " · " + V.dose.replace("{n}", booked.dose) : ""}),
      el("span", {text: (t.name || t.name_masked) ? " · " + (t.name || t.name_masked) : ""}),
      el("span", {"class": "age", text: " · " + (t.age === null || t.age === undefined ? V.age_unknown : V.age.replace("{n}", t.age))})]);
    var checks = V.checklist.map(function (c) {
      return el("label", {"class": "check"}, [el("input", {type: "checkbox", "data-check": c[0]}),
        document.createTextNode(c[1])]);
    });
    var code = el("input", {id: "trace-code", inputmode: "numeric", autocomplete: "off",
                            maxlength: "40", placeholder: V.scan_trace, "aria-label": V.scan_trace});
    var record = function () {
      var checklist = {};
      panel.querySelectorAll("input[data-check]").forEach(function (b) { checklist[b.getAttribute("data-check")] = b.checked; });
      // refused here or by the station, the code stays selected: the next scan replaces it
      if (Object.keys(checklist).some(function (k) { return !checklist[k]; })) { say(V.tick_all, true); code.select(); return; }
      post(t, "vaccinate", {trace_code: code.value.trim(), site: document.getElementById("vax-site").value,
                            route: document.getElementById("vax-route").value, checklist: checklist})
        .then(function (r) {
          if (r.ok) say(r.data.number + " · " + V.recorded);
          else { code.select(); }
        });
    };
    code.addEventListener("keydown", function (ev) {  // a wedge scanner ends the code with Enter
      if (ev.key === "Enter") { ev.preventDefault(); record(); }
    });
    var go = el("button", {type: "button", "class": "primary", text: V.record});
    go.addEventListener("click", record);
    return [el("h2", {text: V.vaccination}), facts, el("div", {"class": "checklist"}, checks),
      el("p", {"class": "where"}, [el("label", {text: V.site, "for": "vax-site"}), options("vax-site", V.sites),
        el("label", {text: V.route, "for": "vax-route"}), options("vax-route", V.routes)]),
      el("p", {"class": "trace"}, [code, go])];
  }

  function observation(q) {
    var rows = q.observing().map(function (o) {
      var react = el("button", {type: "button", text: V.reaction});
      var leave = el("button", {type: "button", text: V.leave_early});
      react.addEventListener("click", function () { reactionForm(o); });
      leave.addEventListener("click", function () {
        var why = window.prompt(V.leave_reason);
        if (why) post(o, "leave-early", {reason: why});
      });
      var left = o.minutes_left === null ? "" : o.minutes_left === 0 ? V.may_leave : V.minutes_left.replace("{n}", o.minutes_left);
      return el("tr", {"data-ticket": o.id}, [el("td", {"class": "num", text: o.number}),
        el("td", {text: left}), el("td", {}, [react, leave])]);
    });
    if (!rows.length) rows = [el("tr", {}, [el("td", {colspan: "3", "class": "empty", text: V.nobody_observing})])];
    return [el("h2", {text: V.observation}), el("table", {"class": "observing"}, [el("tbody", {}, rows)])];
  }

  function reactionForm(o) {
    var box = document.getElementById("vax-reaction");
    var symptoms = V.symptoms.map(function (s) {
      return el("label", {"class": "check"}, [el("input", {type: "checkbox", "data-symptom": s[0]}),
        document.createTextNode(s[1])]);
    });
    var severity = options("reaction-severity", V.severities);
    var action = el("input", {id: "reaction-action", maxlength: "200", placeholder: V.action_taken});
    var note = el("input", {id: "reaction-note", maxlength: "500", placeholder: V.note});
    var save = el("button", {type: "button", "class": "primary", text: V.save_reaction});
    save.addEventListener("click", function () {
      var picked = Array.prototype.map.call(box.querySelectorAll("input[data-symptom]:checked"),
        function (b) { return b.getAttribute("data-symptom"); });
      post(o, "reaction", {symptoms: picked, severity: severity.value, action: action.value, note: note.value})
        .then(function (r) { if (r.ok) { box.replaceChildren(); say(o.number + " · " + V.reaction_saved); } });
    });
    box.replaceChildren(el("h3", {text: o.number + " · " + V.reaction}), el("div", {}, symptoms),
      el("p", {}, [severity, action, note, save]));
  }

  // Redraw the desk's part only when the ticket at this counter changes, so ticks and a
  // half-typed trace code survive the live updates; the observation list redraws each time.
  // `show`: the counter serves a vaccination stage; elsewhere the panel stays hidden
  function render(q, t, show) {
    live = q;
    atDesk = t;
    shown = show !== false;
    panel.hidden = !shown;
    if (!shown) { shownFor = null; return; }
    var key = t ? t.id + ":" + t.stage + ":" + t.status + ":" + t.flagged + ":" + t.cleared : null;
    var desk = document.getElementById("vax-desk");
    if (key !== shownFor) {
      shownFor = key;
      var parts = [];
      if (t && t.status === "serving" && t.stage === "screening") parts = screening(t);
      if (t && t.flagged && !t.cleared) parts = parts.concat(doctor(t));
      else if (t && t.status === "serving" && t.stage === "vaccination") parts = vaccination(t);
      desk.replaceChildren.apply(desk, parts);
      var code = document.getElementById("trace-code");
      if (code) code.focus();
    }
    var obs = document.getElementById("vax-observing");
    obs.replaceChildren.apply(obs, observation(q));
    panel.hidden = false;
  }
  setInterval(function () { if (live && shown) render(live, atDesk, true); }, 15000);  // minutes left

  // A wedge scanner types into whatever has the focus, and a nurse who has just ticked the
  // checks has it on a checkbox: a digit typed outside any text field goes to the trace code
  // field while the desk shows one (its Enter then records the dose there).
  document.addEventListener("keydown", function (ev) {
    var code = document.getElementById("trace-code"), target = ev.target;
    if (!code || target === code || ev.ctrlKey || ev.metaKey || ev.altKey || !/^[0-9]$/.test(ev.key)) return;
    var type = (target.getAttribute && target.getAttribute("type") || "").toLowerCase();
    if (target.tagName === "TEXTAREA" || target.tagName === "SELECT" || target.isContentEditable ||
        (target.tagName === "INPUT" && ["checkbox", "radio", "button", "submit"].indexOf(type) < 0)) return;
    ev.preventDefault();
    code.focus();
    code.setRangeText(ev.key, code.selectionStart, code.selectionEnd, "end");
  }, true);

  window.Vaccination = {render: render};
})();
