// Admin staff page: the list of accounts (role, state), adding one, resetting a password
// (in a dialog, never in plain text) and disabling or enabling an account, each confirmed.
(function () {
  "use strict";
  var F = window.AdminForms, T = F.T, H = F.H, el = Clinicq.el;
  var USERNAME = /^[a-z0-9._-]{2,32}$/, PASSWORD_MIN = 8;
  var addForm = document.getElementById("add-form");
  var dialog = document.getElementById("password-dialog"), pwForm = document.getElementById("password-form");
  var resetting = null;

  function role(r) { return T["role_" + r] || r; }
  function who(u) { return u.display_name + " (" + u.username + ")"; }

  // the same rules the API holds, said before sending
  function check(form, prefix, body) {
    var bad = false;
    function fail(field, key) { F.fieldError(form, prefix, field, T[key]); bad = true; }
    if (body.username !== undefined && !USERNAME.test(body.username)) fail("username", "bad_username");
    if (body.display_name !== undefined && !body.display_name.trim()) fail("display_name", "need_name");
    if (body.password.length < PASSWORD_MIN) fail("password", "short_password");
    var first = form.querySelector("[aria-invalid=true]");
    if (first) first.focus();
    return !bad;
  }

  addForm.addEventListener("submit", function (ev) {
    ev.preventDefault();
    F.clear(addForm);
    var body = {username: addForm.username.value.trim(), display_name: addForm.display_name.value.trim(),
                role: addForm.role.value, password: addForm.password.value};
    if (!check(addForm, "add", body)) return;
    Clinicq.api("POST", "/api/v1/admin/staff", body, H).then(function (r) {
      if (r.status === 201) {
        F.say(F.fill(T.added, {role: T["said_" + r.data.user.role], name: who(r.data.user)}));
        addForm.reset();
        refresh();
      } else F.refused(addForm, "add", r, {username_taken: "username"});
    });
  });

  function openReset(u) {
    resetting = u;
    F.clear(pwForm);
    pwForm.reset();
    document.getElementById("password-title").textContent = F.fill(T.reset_title, {name: who(u)});
    dialog.showModal();
    document.getElementById("new-password").focus();
  }
  document.getElementById("password-cancel").addEventListener("click", function () { dialog.close(); });
  pwForm.addEventListener("submit", function (ev) {
    ev.preventDefault();
    F.clear(pwForm);
    var body = {password: pwForm.password.value};
    if (!check(pwForm, "new", body)) return;
    var u = resetting;
    Clinicq.api("POST", "/api/v1/admin/staff/" + encodeURIComponent(u.username) + "/password", body, H)
      .then(function (r) {
        if (r.ok) { dialog.close(); F.say(F.fill(T.password_set, {name: who(u)})); }
        else F.refused(pwForm, "new", r);
      });
  });

  function toggle(u) {
    var disable = !u.disabled;
    if (!window.confirm(F.fill(disable ? T.confirm_disable : T.confirm_enable, {name: who(u)}))) return;
    Clinicq.api("POST", "/api/v1/admin/staff/" + encodeURIComponent(u.username) + (disable ? "/disable" : "/enable"),
                undefined, H).then(function (r) {
      F.say(r.ok ? F.fill(disable ? T.disabled_done : T.enabled_done, {name: who(u)}) : F.errorText(r), !r.ok);
      refresh();
    });
  }

  function row(u) {
    var reset = el("button", {type: "button", "class": "reset", text: T.reset,
                              "aria-label": T.reset + " " + who(u)});
    var onoff = el("button", {type: "button", "class": u.disabled ? "enable" : "danger disable",
                              text: u.disabled ? T.enable : T.disable,
                              "aria-label": (u.disabled ? T.enable : T.disable) + " " + who(u)});
    reset.addEventListener("click", function () { openReset(u); });
    onoff.addEventListener("click", function () { toggle(u); });
    var state = u.disabled ? "disabled" : "active";
    return el("tr", {"data-user": u.username, "class": state}, [
      el("td", {"class": "name", text: u.display_name}), el("td", {text: u.username}),
      el("td", {text: role(u.role)}),
      el("td", {}, [el("span", {"class": "state " + state, text: T[state]})]),
      el("td", {text: F.when(u.created_at).slice(0, 10)}),
      el("td", {"class": "actions"}, [reset, onoff])]);
  }

  function refresh() {
    Clinicq.api("GET", "/api/v1/admin/staff").then(function (r) {
      if (!r.ok) { F.say(F.errorText(r), true); return; }
      var body = document.getElementById("staff");
      body.replaceChildren.apply(body, r.data.staff.map(row));
    });
  }
  refresh();
  F.live(["staff"], refresh);
})();
