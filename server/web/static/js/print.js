// The printable daily summary (admin/reports_print.html): its Print button.
(function () {
  "use strict";
  var button = document.getElementById("print");
  if (button) button.addEventListener("click", function () { window.print(); });
})();
