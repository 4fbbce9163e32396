/* Reception's calendar: move a booking by dragging it onto a free time, or by keyboard.
 *
 * Keyboard: focus a booking and press M; the free times become the way to
 * choose (arrow keys move between them: up/down in a column, left/right to
 * the neighbouring column); Enter picks one, Escape cancels. Either way the
 * browser goes to the booking's move page with the new time filled in: that
 * page is the confirm step and applies the same checks as any move.
 * Without JavaScript the free times book and the booking page moves.
 */
(function () {
  "use strict";
  var cal = document.querySelector(".cal[data-move-url]");
  if (!cal) return;
  var live = document.getElementById("cal-live");
  var moving = null;

  function say(text) { if (live) live.textContent = text; }

  function moveUrl(bookingId, free) {
    var link = new URL(free.getAttribute("href"), window.location.href);
    var query = new URLSearchParams({
      practitioner: link.searchParams.get("practitioner") || "",
      start: link.searchParams.get("start") || ""
    });
    return cal.dataset.moveUrl.replace("987654321", bookingId) + "?" + query.toString();
  }

  function row(el) { return parseInt(el.style.getPropertyValue("--s"), 10) || 0; }

  function freeCells(col) { return Array.prototype.slice.call(col.querySelectorAll(".free")); }

  function columns() { return Array.prototype.slice.call(cal.querySelectorAll(".cal-col")); }

  function nearestFree(col, targetRow) {
    var best = null;
    freeCells(col).forEach(function (cell) {
      if (best === null || Math.abs(row(cell) - targetRow) < Math.abs(row(best) - targetRow)) best = cell;
    });
    return best;
  }

  function startMove(block) {
    moving = block;
    block.classList.add("is-moving");
    cal.classList.add("moving");
    var first = nearestFree(block.closest(".cal-col"), row(block)) || cal.querySelector(".free");
    say("Moving " + block.querySelector(".bk-name").textContent + ". Choose a free time with the arrow keys, Enter to move there, Escape to cancel.");
    if (first) first.focus();
  }

  function endMove(refocus) {
    if (!moving) return;
    var block = moving;
    moving = null;
    block.classList.remove("is-moving");
    cal.classList.remove("moving");
    if (refocus) { block.focus(); say("Move cancelled."); }
  }

  cal.addEventListener("keydown", function (event) {
    var block = event.target.closest(".bk[data-movable]");
    if (block && !moving && (event.key === "m" || event.key === "M")) {
      event.preventDefault();
      startMove(block);
      return;
    }
    var free = event.target.closest(".free");
    if (!free) return;
    var col = free.closest(".cal-col");
    var next = null;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      var cells = freeCells(col);
      var i = cells.indexOf(free) + (event.key === "ArrowDown" ? 1 : -1);
      next = cells[Math.max(0, Math.min(cells.length - 1, i))];
    } else if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
      var cols = columns();
      var j = cols.indexOf(col) + (event.key === "ArrowRight" ? 1 : -1);
      while (j >= 0 && j < cols.length && !next) {
        next = nearestFree(cols[j], row(free));
        j += event.key === "ArrowRight" ? 1 : -1;
      }
    } else if (event.key === "Escape" && moving) {
      event.preventDefault();
      endMove(true);
      return;
    } else if (event.key === "Enter" && moving) {
      event.preventDefault();
      window.location.assign(moveUrl(moving.dataset.booking, free));
      return;
    }
    if (next) {
      event.preventDefault();
      next.focus();
    }
  });

  cal.addEventListener("dragstart", function (event) {
    var block = event.target.closest(".bk[data-movable]");
    if (!block) return;
    event.dataTransfer.setData("text/plain", block.dataset.booking);
    event.dataTransfer.effectAllowed = "move";
    cal.classList.add("moving");
  });
  cal.addEventListener("dragend", function () { cal.classList.remove("moving"); });
  cal.addEventListener("dragover", function (event) {
    if (event.target.closest(".free")) {
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
    }
  });
  cal.addEventListener("drop", function (event) {
    var free = event.target.closest(".free");
    var id = event.dataTransfer.getData("text/plain");
    if (!free || !id) return;
    event.preventDefault();
    window.location.assign(moveUrl(id, free));
  });

  Array.prototype.forEach.call(cal.querySelectorAll(".bk[data-movable]"), function (block) {
    block.setAttribute("draggable", "true");
  });
})();
