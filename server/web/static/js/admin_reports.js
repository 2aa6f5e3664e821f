// Admin reports page: one summary (GET /api/v1/reports/summary) for the chosen days, drawn as
// charts (Chart.js, served by the station) with the same figures in a table under each, and a
// CSV link per table. Names go into the page as text, never as HTML.
(function () {
  "use strict";
  var A = Clinicq.pageData(), T = A.strings, L = A.labels, el = Clinicq.el;
  var form = document.getElementById("range-form");
  var message = document.getElementById("range-message");
  var charts = {};
  // high-contrast colours that stay apart for the colour-blind (Okabe-Ito)
  var C = {green: "#009E73", blue: "#0072B2", orange: "#E69F00", red: "#D55E00",
           purple: "#CC79A7", sky: "#56B4E9", grey: "#555555"};
  Chart.defaults.font.size = 15;
  Chart.defaults.color = "#222";
  Chart.defaults.animation = false;  // a report is read, not watched

  function say(text, bad) { message.textContent = text; message.className = "message" + (bad ? " error" : ""); }
  function errorText(r) {
    var e = (r.data && r.data.error) || {};
    return (A.lang === "en" ? e.message : e.message_zh) || e.message || T.failed;
  }
  function num(v) { return v === null || v === undefined ? "—" : String(v); }
  function service(code) { return L.services[code] || code; }
  function stage(s) { return s ? (L.stages[s] || s) : ""; }
  function counter(id) { return L.counters[id] || id; }
  function serviceStage(r) { return service(r.service) + (r.stage ? " · " + stage(r.stage) : ""); }
  function hour(h) { return (h < 10 ? "0" : "") + h + ":00"; }
  function dayLabel(d) { return d.slice(5); }

  function table(id, head, rows) {
    var t = document.getElementById(id + "-table");
    t.textContent = "";
    t.appendChild(el("thead", {}, [el("tr", {}, head.map(function (h, i) {
      return el("th", {scope: "col", "class": i ? "num" : "", text: h});
    }))]));
    var body = rows.length ? rows.map(function (r) {
      return el("tr", {}, r.map(function (c, i) { return el("td", {"class": i ? "num" : "", text: num(c)}); }));
    }) : [el("tr", {}, [el("td", {colspan: String(head.length), text: T.none})])];
    t.appendChild(el("tbody", {}, body));
  }

  function draw(id, type, labels, datasets, options) {
    if (charts[id]) charts[id].destroy();
    var canvas = document.getElementById(id + "-chart");
    charts[id] = new Chart(canvas, {
      type: type, data: {labels: labels, datasets: datasets},
      options: Object.assign({responsive: true, maintainAspectRatio: false,
                              plugins: {legend: {position: "bottom"}},
                              scales: {y: {beginAtZero: true}}}, options || {})
    });
    canvas.dataset.drawn = String(labels.length);
    // nothing to draw (no vaccinations in the days chosen): no empty axes, the table says so
    canvas.parentNode.hidden = !labels.length;
  }
  function bars(label, data, color, extra) {
    // a day or a counter alone is one bar, not a wall across the chart
    return Object.assign({label: label, data: data, backgroundColor: color, borderColor: color,
                          maxBarThickness: 96}, extra || {});
  }
  var whole = {precision: 0};  // counts of people: no 2.5 on the axis
  var stacked = {scales: {x: {stacked: true}, y: {stacked: true, beginAtZero: true, ticks: whole}}};
  var minutes = {scales: {y: {beginAtZero: true, title: {display: true, text: T.minutes}}}};

  function render(s) {
    var t = s.totals;
    var totals = document.getElementById("totals");
    totals.textContent = "";
    [[T.arrivals, t.arrivals], [T.booked, t.booked], [T.walkin, t.walkin], [T.no_show, t.no_show],
     [T.wait_median, t.wait.median, true], [T.wait_p90, t.wait.p90, true],
     [T.error_median, t.estimate_error.median, true]].forEach(function (p) {
      var unit = p[2] && p[1] !== null ? el("small", {text: " " + T.minutes}) : null;
      totals.appendChild(el("div", {}, [el("dt", {text: p[0]}),
                                        el("dd", {}, [document.createTextNode(num(p[1])), unit])]));
    });
    var days = s.days, hours = s.hours;
    function counts(rows, key, fmt) {
      return rows.map(function (r) { return [fmt(r[key]), r.arrivals, r.booked, r.walkin, r.late, r.no_show, r.cancelled]; });
    }
    var countHead = [T.arrivals, T.booked, T.walkin, T.late, T.no_show, T.cancelled];
    draw("arrivals_day", "bar", days.map(function (d) { return dayLabel(d.day); }), [
      bars(T.booked, days.map(function (d) { return d.booked; }), C.blue),
      bars(T.walkin, days.map(function (d) { return d.walkin; }), C.orange),
      bars(T.no_show, days.map(function (d) { return d.no_show; }), C.red, {stack: "gone"})], stacked);
    table("arrivals_day", [T.day].concat(countHead), counts(days, "day", String));
    draw("arrivals_hour", "bar", hours.map(function (h) { return hour(h.hour); }), [
      bars(T.booked, hours.map(function (h) { return h.booked; }), C.blue),
      bars(T.walkin, hours.map(function (h) { return h.walkin; }), C.orange),
      bars(T.no_show, hours.map(function (h) { return h.no_show; }), C.red, {stack: "gone"})], stacked);
    table("arrivals_hour", [T.hour].concat(countHead), counts(hours, "hour", hour));

    function waits(id, rows, key, fmt) {
      draw(id, "bar", rows.map(function (r) { return key === "day" ? dayLabel(r.day) : hour(r.hour); }), [
        bars(T.median, rows.map(function (r) { return r.wait.median; }), C.green),
        bars(T.p90, rows.map(function (r) { return r.wait.p90; }), C.purple)], minutes);
      table(id, [key === "day" ? T.day : T.hour, T.n, T.median, T.p90, T.mean], rows.map(function (r) {
        return [fmt(r[key]), r.wait.n, r.wait.median, r.wait.p90, r.wait.mean];
      }));
    }
    waits("waits_day", days, "day", String);
    waits("waits_hour", hours, "hour", hour);

    draw("estimate", "bar", days.map(function (d) { return dayLabel(d.day); }), [
      bars(T.median, days.map(function (d) { return d.estimate_error.median; }), C.green),
      bars(T.p90, days.map(function (d) { return d.estimate_error.p90; }), C.purple),
      bars(T.bias, days.map(function (d) { return d.estimate_error.bias; }), C.grey)],
      {scales: {y: {title: {display: true, text: T.minutes}}}});
    table("estimate", [T.day, T.n, T.median, T.p90, T.bias], days.map(function (d) {
      var e = d.estimate_error; return [d.day, e.n, e.median, e.p90, e.bias];
    }));

    var st = s.service_times;
    draw("service_times", "bar", st.map(serviceStage), [
      bars(T.median, st.map(function (r) { return r.median; }), C.green),
      bars(T.p90, st.map(function (r) { return r.p90; }), C.purple)], minutes);
    table("service_times", [T.service, T.stage, T.n, T.median, T.p90, T.mean], st.map(function (r) {
      return [service(r.service), stage(r.stage) || T.all_stages, r.n, r.median, r.p90, r.mean];
    }));

    var cs = s.counters;
    draw("counters", "bar", cs.map(function (c) { return counter(c.counter); }), [
      bars(T.served, cs.map(function (c) { return c.served; }), C.blue)],
      {scales: {y: {beginAtZero: true, ticks: whole}}});
    table("counters", [T.counter, T.served, T.median, T.mean], cs.map(function (c) {
      return [counter(c.counter), c.served, c.service_time.median, c.service_time.mean];
    }));

    var doses = {};  // the range's doses by product and dose
    s.vaccinations.forEach(function (v) {
      var name = (A.lang === "en" ? v.name_en : v.name) || v.product;
      var key = name + " · " + T.dose_n.replace("{n}", v.dose === null ? "?" : v.dose);
      doses[key] = (doses[key] || 0) + v.n;
    });
    var keys = Object.keys(doses).sort();
    draw("vaccinations", "bar", keys, [bars(T.doses, keys.map(function (k) { return doses[k]; }), C.sky)],
         {indexAxis: "y", scales: {x: {beginAtZero: true, ticks: {precision: 0}}}});
    table("vaccinations", [T.day, T.product, T.dose, T.doses], s.vaccinations.map(function (v) {
      return [v.day, (A.lang === "en" ? v.name_en : v.name) || v.product, v.dose, v.n];
    }));
  }

  function load() {
    var from = form.from.value, to = form.to.value;
    var q = "from=" + encodeURIComponent(from) + "&to=" + encodeURIComponent(to);
    document.querySelectorAll("a[data-table]").forEach(function (a) {
      a.href = "/api/v1/reports/" + a.dataset.table + ".csv?" + q;
    });
    document.getElementById("print-link").href = "/admin/reports/print?day=" + encodeURIComponent(to);
    say(T.loading);
    Clinicq.api("GET", "/api/v1/reports/summary?" + q).then(function (r) {
      if (!r.ok) { say(errorText(r), true); return; }
      render(r.data);
      say(T.shown.replace("{from}", r.data.from).replace("{to}", r.data.to));
      document.body.dataset.report = r.data.from + "/" + r.data.to;
    });
  }

  form.addEventListener("submit", function (ev) { ev.preventDefault(); load(); });
  form.querySelectorAll("button[data-days]").forEach(function (b) {
    b.addEventListener("click", function () {
      var end = new Date(A.today + "T12:00:00Z");
      var start = new Date(end.getTime() - (Number(b.dataset.days) - 1) * 86400000);
      form.from.value = start.toISOString().slice(0, 10);
      form.to.value = A.today;
      load();
    });
  });
  load();
})();
