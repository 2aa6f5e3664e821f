// Admin services and counters page: the layout as two tables; a dialog edits one service or
// counter; the server validates the whole layout and names every setting it refuses, shown
// beside its field. Saved changes reach every open page at once (Socket.IO `layout`).
(function () {
  "use strict";
  var A = Clinicq.pageData(), T = A.strings, el = Clinicq.el, say = window.AdminForms.say;
  var H = window.AdminForms.H;
  var current = null;  // the layout last loaded
  var NUMBERS = ["walkin_capacity", "booked_per_walkin", "early_minutes", "grace_minutes",
                 "recall_limit", "default_service_minutes"];

  function words(e) { return (A.lang === "en" ? e.message : e.message_zh) || e.message || ""; }
  function stageWords(stages) {
    return stages.length ? stages.map(function (s) { return T["stage_" + s] || s; }).join(" → ") : T.one_stage;
  }
  function serviceName(code) {
    var s = (current.services.filter(function (x) { return x.code === code; })[0]);
    return s ? (A.lang === "en" ? s.name_en : s.name) : code;
  }

  function render() {
    var tbody = document.getElementById("services");
    tbody.textContent = "";
    current.services.forEach(function (s) {
      var hours = s.opens || s.closes ? (s.opens || "00:00") + "–" + (s.closes || "24:00") : T.all_day;
      var walk = s.walkins ? hours + (s.walkin_capacity ? " · " + T.per_day.replace("{n}", s.walkin_capacity) : "") : T.booked_only;
      tbody.appendChild(el("tr", {}, [
        el("td", {}, [el("strong", {text: A.lang === "en" ? s.name_en : s.name}), el("br"),
                      el("span", {"class": "sub", text: s.code + " · " + (A.lang === "en" ? s.name : s.name_en)})]),
        el("td", {"class": "prefix", text: s.prefix}),
        el("td", {text: stageWords(s.stages)}),
        el("td", {text: walk}),
        el("td", {text: T.windows.replace("{early}", s.early_minutes).replace("{grace}", s.grace_minutes)}),
        el("td", {text: String(current.open[s.code] || 0)}),
        el("td", {"class": "actions"}, [
          button(T.edit, function () { editService(s); }, T.edit_named.replace("{name}", s.name)),
          button(T.remove, function () { remove("services", s.code, s.name); }, T.remove_named.replace("{name}", s.name), "danger")]),
      ]));
    });
    var ctbody = document.getElementById("counters");
    ctbody.textContent = "";
    current.counters.forEach(function (c) {
      var serves = c.services.map(serviceName).join("、") + (c.stages.length ? " (" + stageWords(c.stages) + ")" : "");
      ctbody.appendChild(el("tr", {}, [
        el("td", {}, [el("strong", {text: A.lang === "en" ? c.name_en : c.name}), el("br"),
                      el("span", {"class": "sub", text: c.id})]),
        el("td", {text: serves}),
        el("td", {text: c.spoken || "—"}),
        el("td", {"class": "actions"}, [
          button(T.edit, function () { editCounter(c); }, T.edit_named.replace("{name}", c.name)),
          button(T.remove, function () { remove("counters", c.id, c.name); }, T.remove_named.replace("{name}", c.name), "danger")]),
      ]));
    });
  }

  function button(text, onclick, label, cls) {
    var b = el("button", {type: "button", text: text, "aria-label": label, "class": cls || ""});
    b.addEventListener("click", onclick);
    return b;
  }

  function load() {
    return Clinicq.api("GET", "/api/v1/admin/layout").then(function (r) {
      if (r.ok) { current = r.data; render(); } else say(words(r.data.error || {}), true);
    });
  }

  function clearErrors(form) {
    form.querySelectorAll("[data-error]").forEach(function (n) { n.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(function (n) { n.removeAttribute("aria-invalid"); });
  }
  function showErrors(form, error) {
    var general = form.querySelector("[data-error=_]");
    general.textContent = words(error);
    var first = null;
    (error.fields || []).forEach(function (f) {
      var slot = form.querySelector("[data-error=" + f.field + "]");
      if (!slot || (f.subject && f.subject !== form.dataset.subject)) {
        general.appendChild(el("span", {"class": "more", text: " " + words(f)}));
        return;
      }
      slot.textContent = words(f);
      var input = form.querySelector("[name=" + f.field + "]");
      if (input) { input.setAttribute("aria-invalid", "true"); first = first || input; }
    });
    (first || form.querySelector("input:not([readonly])")).focus();
  }

  function checked(form, name) {
    return Array.prototype.map.call(form.querySelectorAll("input[name=" + name + "]:checked"), function (i) { return i.value; });
  }
  function setChecked(form, name, values) {
    form.querySelectorAll("input[name=" + name + "]").forEach(function (i) { i.checked = values.indexOf(i.value) >= 0; });
  }

  var sDialog = document.getElementById("service-dialog"), sForm = document.getElementById("service-form");
  var editing = null;
  function editService(s) {
    editing = s;
    clearErrors(sForm);
    var blank = {code: "", prefix: "", name: "", name_en: "", stages: [], walkins: true, opens: "", closes: "",
                 walkin_capacity: 0, booked_per_walkin: 2, early_minutes: 60, grace_minutes: 15, recall_limit: 2,
                 default_service_minutes: 5};
    var v = s || blank;
    document.getElementById("service-form-title").textContent = s ? T.edit_named.replace("{name}", s.name) : T.new_service;
    ["code", "prefix", "name", "name_en", "opens", "closes"].concat(NUMBERS).forEach(function (k) { sForm[k].value = v[k]; });
    sForm.code.readOnly = !!s;
    sForm.walkins.checked = v.walkins;
    setChecked(sForm, "stages", v.stages);
    sForm.dataset.subject = v.code;
    sDialog.showModal();
    (s ? sForm.name : sForm.code).focus();
  }
  sForm.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var body = Object.assign({}, editing || {});
    ["code", "prefix", "name", "name_en", "opens", "closes"].forEach(function (k) { body[k] = sForm[k].value.trim(); });
    if (!body.prefix) body.prefix = body.code;
    if (!body.name_en) body.name_en = body.code;
    NUMBERS.forEach(function (k) {
      var raw = sForm[k].value.trim();
      body[k] = raw === "" ? null : Number(raw);
    });
    body.walkins = sForm.walkins.checked;
    body.stages = checked(sForm, "stages");
    if (!body.code) { clearErrors(sForm); sForm.querySelector("[data-error=code]").textContent = T.required; sForm.code.focus(); return; }
    sForm.dataset.subject = body.code;
    save("PUT", "/api/v1/admin/services/" + encodeURIComponent(body.code), body, sForm, sDialog, body.name);
  });

  var cDialog = document.getElementById("counter-dialog"), cForm = document.getElementById("counter-form");
  var editingCounter = null;
  function editCounter(c) {
    editingCounter = c;
    clearErrors(cForm);
    var v = c || {id: "", name: "", name_en: "", spoken: "", services: [], stages: []};
    document.getElementById("counter-form-title").textContent = c ? T.edit_named.replace("{name}", c.name) : T.new_counter;
    var box = document.getElementById("counter-services");
    box.querySelectorAll("label").forEach(function (n) { n.remove(); });
    current.services.forEach(function (s) {
      var input = el("input", {type: "checkbox", name: "services", value: s.code});
      box.insertBefore(el("label", {}, [input, document.createTextNode(" " + serviceName(s.code))]),
                       box.querySelector("[data-error]"));
    });
    ["id", "name", "name_en", "spoken"].forEach(function (k) { cForm[k].value = v[k]; });
    cForm.id.readOnly = !!c;
    setChecked(cForm, "services", v.services);
    setChecked(cForm, "stages", v.stages);
    cForm.dataset.subject = v.id;
    cDialog.showModal();
    (c ? cForm.name : cForm.id).focus();
  }
  cForm.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var body = Object.assign({}, editingCounter || {});
    ["id", "name", "name_en", "spoken"].forEach(function (k) { body[k] = cForm[k].value.trim(); });
    if (!body.name_en) body.name_en = body.id;
    body.services = checked(cForm, "services");
    body.stages = checked(cForm, "stages");
    if (!body.id) { clearErrors(cForm); cForm.querySelector("[data-error=id]").textContent = T.required; cForm.id.focus(); return; }
    cForm.dataset.subject = body.id;
    save("PUT", "/api/v1/admin/counters/" + encodeURIComponent(body.id), body, cForm, cDialog, body.name);
  });

  function save(method, path, body, form, dialog, name) {
    Object.keys(body).forEach(function (k) { if (body[k] === null) delete body[k]; });
    clearErrors(form);
    Clinicq.api(method, path, body, H).then(function (r) {
      if (r.ok) {
        dialog.close();
        current = r.data;
        render();
        say(T.saved.replace("{name}", name));
      } else showErrors(form, r.data.error || {});
    });
  }

  function remove(part, id, name) {
    if (!window.confirm(T.confirm_remove.replace("{name}", name))) return;
    Clinicq.api("DELETE", "/api/v1/admin/" + part + "/" + encodeURIComponent(id), undefined, H).then(function (r) {
      if (r.ok) { current = r.data; render(); say(T.removed.replace("{name}", name)); return; }
      var e = r.data.error || {};
      say([words(e)].concat((e.fields || []).map(words)).join(" "), true);
    });
  }

  document.querySelectorAll("[data-close]").forEach(function (b) {
    b.addEventListener("click", function () { b.closest("dialog").close(); });
  });
  document.getElementById("add-service").addEventListener("click", function () { editService(null); });
  document.getElementById("add-counter").addEventListener("click", function () { editCounter(null); });
  load();
  // another administrator saved a service or counter: the tables show it (an open dialog keeps
  // what is being typed)
  window.AdminForms.live(["layout"], load);
})();
