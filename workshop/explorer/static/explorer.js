/* The Durable Explorer's only script: every page works without it, this makes them live.
 *  - [data-live]: the region is fetched again (?partial=live) and swapped in while it changes;
 *    a region holding a form someone is filling in is left alone until they are done.
 *  - a[data-panel]: a cell or an invocation's details open in the side panel without a reload.
 *  - textarea[data-json]: invalid JSON is pointed out and its form cannot be sent.
 *  - select[data-autosubmit]: a filter applies as soon as it is chosen.
 * No framework, nothing fetched from anywhere but this server. */
(function () {
  "use strict";
  var POLL_MS = 1500;

  function busy(region) {
    var active = document.activeElement;
    if (active && region.contains(active) && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName)) return true;
    return region.querySelector("form[data-dirty]") !== null;
  }

  function poll(region) {
    var url = region.getAttribute("data-live");
    var stopped = region.hasAttribute("data-final");
    function tick() {
      if (stopped) return;
      if (busy(region)) { setTimeout(tick, POLL_MS); return; }
      fetch(url, { cache: "no-store", credentials: "same-origin" })
        .then(function (response) {
          if (response.headers.get("X-Explorer-Final")) stopped = true;
          return response.ok ? response.text() : null;
        })
        .then(function (html) {
          if (html !== null && html !== region.getAttribute("data-last") && !busy(region)) {
            region.innerHTML = html;
            region.setAttribute("data-last", html);
            setup(region);
          }
        })
        .catch(function () { /* the stack may be restarting: try again */ })
        .then(function () { if (!stopped) setTimeout(tick, POLL_MS); });
    }
    setTimeout(tick, POLL_MS);
  }

  function checkJson(area) {
    var form = area.form, out = form.querySelector(".json-error"), button = form.querySelector("button[type=submit]");
    var text = area.value.trim(), problem = "";
    if (text !== "") {
      try { JSON.parse(text); } catch (e) { problem = "Not valid JSON: " + e.message; }
    }
    area.setAttribute("aria-invalid", problem ? "true" : "false");
    if (out) out.textContent = problem;
    if (button) button.disabled = problem !== "";
    return problem === "";
  }

  function setup(root) {
    root.querySelectorAll("textarea[data-json]").forEach(function (area) {
      area.addEventListener("input", function () { checkJson(area); });
      checkJson(area);
    });
    root.querySelectorAll("form").forEach(function (form) {
      form.addEventListener("input", function () { form.setAttribute("data-dirty", ""); });
      form.addEventListener("submit", function (event) {
        var area = form.querySelector("textarea[data-json]");
        if (area && !checkJson(area)) event.preventDefault();
      });
    });
    root.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
  }

  function openPanel(link) {
    var panel = document.getElementById("panel");
    if (!panel) return false;
    var href = link.getAttribute("href");
    fetch(href + "&partial=panel", { cache: "no-store", credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        panel.innerHTML = html;
        document.querySelectorAll(".selected").forEach(function (el) { el.classList.remove("selected"); });
        var holder = link.closest("td, th");
        if (holder) holder.classList.add("selected");
        history.replaceState(null, "", href);
      });
    return true;
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-panel]");
    if (link && !event.ctrlKey && !event.metaKey && !event.shiftKey && openPanel(link)) event.preventDefault();
  });

  document.addEventListener("DOMContentLoaded", function () {
    setup(document);
    document.querySelectorAll("[data-live]").forEach(poll);
  });
})();
