// station_bookings.html: a click in a booking code's field selects the whole code (ready to copy).
(function () {
  "use strict";
  document.addEventListener("click", function (e) {
    if (e.target.matches && e.target.matches("input[data-select]")) e.target.select();
  });
})();
