/* The week of all practitioners: move a booking to another day or practitioner.
 *
 * Drag a booking onto another cell (a practitioner's day), or focus it, press
 * M, choose the cell with the arrow keys (left/right: day, up/down:
 * practitioner) and press Enter; Escape cancels. The browser goes to the
 * booking's move page with that practitioner, that day and the same time
 * filled in: the page is the confirm step (change the time there) and applies
 * the same checks as any move. Without JavaScript each booking links to its page.
 */
(function () {
  "use strict";
  var table = document.querySelector(".week-all[data-move-url]");
  if (!table) return;
  var live = document.getElementById("cal-live");
  var moving = null;

  function say(text) { if (live) live.textContent = text; }
  function cells() { return Array.prototype.slice.call(table.querySelectorAll("td[data-day]")); }

  function moveUrl(block, cell) {
    var query = new URLSearchParams({
      practitioner: cell.dataset.practitioner, date: cell.dataset.day, time: block.dataset.time
    });
    return table.dataset.moveUrl.replace("987654321", block.dataset.booking) + "?" + query.toString();
  }

  function endMove(refocus) {
    if (!moving) return;
    var block = moving;
    moving = null;
    table.classList.remove("moving");
    block.classList.remove("is-moving");
    cells().forEach(function (cell) { cell.removeAttribute("tabindex"); });
    if (refocus) { block.focus(); say("Move cancelled."); }
  }

  function startMove(block) {
    moving = block;
    table.classList.add("moving");
    block.classList.add("is-moving");
    cells().forEach(function (cell) { cell.setAttribute("tabindex", "-1"); });
    var cell = block.closest("td");
    say("Moving " + block.querySelector(".bk-name").textContent + ". Choose a day with the arrow keys, Enter to move there, Escape to cancel.");
    cell.focus();
  }

  function neighbour(cell, key) {
    var row = cell.parentElement;
    var rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr"));
    var inRow = Array.prototype.slice.call(row.querySelectorAll("td[data-day]"));
    var i = inRow.indexOf(cell);
    if (key === "ArrowLeft" || key === "ArrowRight") {
      return inRow[Math.max(0, Math.min(inRow.length - 1, i + (key === "ArrowRight" ? 1 : -1)))];
    }
    var r = rows.indexOf(row) + (key === "ArrowDown" ? 1 : -1);
    if (r < 0 || r >= rows.length) return cell;
    return rows[r].querySelectorAll("td[data-day]")[i] || cell;
  }

  table.addEventListener("keydown", function (event) {
    var block = event.target.closest(".wa-bk[data-movable]");
    if (block && !moving && (event.key === "m" || event.key === "M")) {
      event.preventDefault();
      startMove(block);
      return;
    }
    if (!moving) return;
    var cell = event.target.closest("td[data-day]");
    if (event.key === "Escape") {
      event.preventDefault();
      endMove(true);
    } else if (event.key === "Enter" && cell) {
      event.preventDefault();
      window.location.assign(moveUrl(moving, cell));
    } else if (cell && ["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown"].indexOf(event.key) >= 0) {
      event.preventDefault();
      var next = neighbour(cell, event.key);
      next.focus();
      say(next.dataset.label);
    }
  });

  table.addEventListener("dragstart", function (event) {
    var block = event.target.closest(".wa-bk[data-movable]");
    if (!block) return;
    event.dataTransfer.setData("text/plain", block.dataset.booking);
    event.dataTransfer.effectAllowed = "move";
    table.classList.add("moving");
  });
  table.addEventListener("dragend", function () { table.classList.remove("moving"); });
  table.addEventListener("dragover", function (event) {
    if (event.target.closest("td[data-day]")) {
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
    }
  });
  table.addEventListener("drop", function (event) {
    var cell = event.target.closest("td[data-day]");
    var id = event.dataTransfer.getData("text/plain");
    var block = id && table.querySelector('.wa-bk[data-booking="' + id + '"]');
    if (!cell || !block) return;
    event.preventDefault();
    window.location.assign(moveUrl(block, cell));
  });

  Array.prototype.forEach.call(table.querySelectorAll(".wa-bk[data-movable]"), function (block) {
    block.setAttribute("draggable", "true");
  });
})();
