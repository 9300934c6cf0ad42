/* battrace dashboard: draw the charts the server prepared, nothing else. */
(function () {
  "use strict";
  function drawCharts() {
    var charts = document.querySelectorAll(".js-chart");
    if (!charts.length || typeof Plotly === "undefined") {
      return;
    }
    charts.forEach(function (el) {
      var figure = JSON.parse(el.getAttribute("data-figure"));
      Plotly.newPlot(el, figure.data, figure.layout, {
        displaylogo: false,
        responsive: true,
        modeBarButtonsToRemove: ["select2d", "lasso2d"]
      }).then(function () {
        el.setAttribute("data-drawn", "true");
      });
    });
  }
  drawCharts();
})();
