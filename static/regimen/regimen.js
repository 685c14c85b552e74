/* Regimen staff pages. The Content-Security-Policy allows no inline style
   or script, so positions that depend on the data (the schedule timeline's
   bands and dots) come as data-left / data-width percentages and are set
   here through the DOM, which the policy permits. */
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-left]").forEach(function (el) {
    el.style.left = parseFloat(el.dataset.left) + "%";
    if (el.dataset.width !== undefined) {
      el.style.width = parseFloat(el.dataset.width) + "%";
    }
  });
  // "My day" opens at the first visit rather than at opening time (issue 24).
  var grid = document.querySelector("[data-scroll-to-first]");
  var first = grid && !window.location.hash && grid.querySelector("td.booked");
  if (first) {
    var row = first.closest("tr");
    window.scrollTo({ top: Math.max(0, row.getBoundingClientRect().top + window.scrollY - 80) });
  }
});
