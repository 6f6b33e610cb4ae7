// salesflow: draw the Plotly figures the server sends as JSON, after page load and HTMX swaps.
// Figures arrive in <script type="application/json" data-plot> (data, never code).
(function () {
  "use strict";
  function draw(root) {
    if (!window.Plotly) { return; }
    root.querySelectorAll('script[type="application/json"][data-plot]').forEach(function (tag) {
      var box = tag.parentElement;
      if (box.dataset.drawn) { return; }
      var fig = JSON.parse(tag.textContent);
      box.dataset.drawn = "1";
      window.Plotly.newPlot(box, fig.data, fig.layout, {
        responsive: true, displaylogo: false,
        modeBarButtonsToRemove: ["lasso2d", "select2d"]
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    draw(document);
    if (window.htmx) { window.htmx.onLoad(function (el) { draw(el); }); }
  });
  // The navigation's "More" menu is a <details>: it works without this; Escape or a click
  // elsewhere closes it, as people expect of a menu.
  function closeMenus(except) {
    document.querySelectorAll("details.more[open]").forEach(function (menu) {
      if (menu !== except) { menu.open = false; }
    });
  }
  document.addEventListener("keydown", function (e) {
    var menu = e.target.closest && e.target.closest("details.more[open]");
    if (e.key === "Escape" && menu) {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });
  document.addEventListener("click", function (e) {
    closeMenus(e.target.closest && e.target.closest("details.more"));
  });
  // Ctrl/Cmd+Enter submits the form you are typing in.
  document.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && e.target.form) {
      e.target.form.requestSubmit();
    }
  });
})();
