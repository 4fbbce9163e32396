/* The staff calendar grid: WAI-ARIA grid keyboard, and moving a booking (drag or keyboard).
 *
 * Grid: one tab stop (roving tabindex). The arrow keys move between every
 * cell: up/down through a column's bookings, free times and time off in time
 * order (and up into the column's heading), left/right to the neighbouring
 * column at the nearest time. Home/End go to the first/last column at that
 * time, Ctrl+Home/Ctrl+End to the first/last cell. Enter follows the cell's
 * link: opens the booking, or books the free time.
 *
 * Move (reception): focus a booking and press M; Enter on a free time then
 * goes to the booking's move page with the new time filled in (Escape
 * cancels). Or drag the booking onto a free time. The move page is the
 * confirm step and applies the same checks as any move. Without JavaScript
 * every cell is an ordinary link in the tab order.
 */
(function () {
  "use strict";
  var cal = document.querySelector(".cal");  // the cells; the ARIA grid (.cal-aria) owns them by id
  if (!cal) return;
  var live = document.getElementById("cal-live");
  var canMove = Boolean(cal.dataset.moveUrl);
  var moving = null;

  function say(text) { if (live) live.textContent = text; }

  // Every focusable thing in a cell or column heading, with its column and row.
  function items() {
    return Array.prototype.slice.call(cal.querySelectorAll("[data-col] a, [data-col][tabindex]"));
  }
  function cellOf(item) { return item.closest("[data-col]"); }
  function colOf(item) { return parseInt(cellOf(item).dataset.col, 10); }
  function rowOf(item) { return parseInt(cellOf(item).dataset.row, 10); }

  function columnItems(col) {
    return items().filter(function (item) { return colOf(item) === col; }).sort(function (a, b) {
      return rowOf(a) - rowOf(b);  // stable: DOM order within a row (a heading's two links)
    });
  }
  function columnNumbers() {
    var seen = {};
    items().forEach(function (item) { seen[colOf(item)] = true; });
    return Object.keys(seen).map(Number).sort(function (a, b) { return a - b; });
  }
  function nearest(list, row) {
    var best = null;
    list.forEach(function (item) {
      if (rowOf(item) < 0 && row >= 0) return;  // across the body, not up into headings
      if (best === null || Math.abs(rowOf(item) - row) < Math.abs(rowOf(best) - row)) best = item;
    });
    return best || list[0] || null;
  }

  function focusItem(item) {
    if (!item) return;
    items().forEach(function (other) { other.setAttribute("tabindex", other === item ? "0" : "-1"); });
    item.focus();
  }

  // The single tab stop: the first cell of the body (a booking or free time), else the first heading link.
  (function initRoving() {
    var all = items();
    var first = all.filter(function (item) { return rowOf(item) >= 0; })
      .sort(function (a, b) { return colOf(a) - colOf(b) || rowOf(a) - rowOf(b); })[0] || all[0];
    all.forEach(function (item) { item.setAttribute("tabindex", item === first ? "0" : "-1"); });
  })();
  cal.addEventListener("focusin", function (event) {
    var item = event.target;
    if (items().indexOf(item) >= 0 && item.getAttribute("tabindex") !== "0") {
      items().forEach(function (other) { other.setAttribute("tabindex", other === item ? "0" : "-1"); });
    }
  });

  function moveUrl(bookingId, free) {
    var link = new URL(free.getAttribute("href"), window.location.href);
    var query = new URLSearchParams({
      practitioner: link.searchParams.get("practitioner") || "",
      start: link.searchParams.get("start") || ""
    });
    return cal.dataset.moveUrl.replace("987654321", bookingId) + "?" + query.toString();
  }

  function startMove(block) {
    moving = block;
    block.classList.add("is-moving");
    cal.classList.add("moving");
    var frees = columnItems(colOf(block)).filter(function (item) { return item.classList.contains("free"); });
    var first = nearest(frees, rowOf(block)) || cal.querySelector(".free");
    say("Moving " + block.querySelector(".bk-name").textContent + ". Choose a free time with the arrow keys, Enter to move there, Escape to cancel.");
    focusItem(first);
  }

  function endMove(refocus) {
    if (!moving) return;
    var block = moving;
    moving = null;
    block.classList.remove("is-moving");
    cal.classList.remove("moving");
    if (refocus) { focusItem(block); say("Move cancelled."); }
  }

  function target(item, event) {
    var col = colOf(item);
    var row = rowOf(item);
    var cols = columnNumbers();
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      var list = columnItems(col);
      var i = list.indexOf(item) + (event.key === "ArrowDown" ? 1 : -1);
      return list[Math.max(0, Math.min(list.length - 1, i))];
    }
    if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
      var j = cols.indexOf(col) + (event.key === "ArrowRight" ? 1 : -1);
      return j >= 0 && j < cols.length ? nearest(columnItems(cols[j]), row) : item;
    }
    if (event.key === "Home" || event.key === "End") {
      var edge = columnItems(event.key === "Home" ? cols[0] : cols[cols.length - 1]);
      if (event.ctrlKey) {
        var body = edge.filter(function (other) { return rowOf(other) >= 0; });
        return event.key === "Home" ? (body[0] || edge[0]) : edge[edge.length - 1];
      }
      return nearest(edge, row);
    }
    return null;
  }

  cal.addEventListener("keydown", function (event) {
    var item = event.target;
    if (items().indexOf(item) < 0) return;
    if (canMove && !moving && (event.key === "m" || event.key === "M") && item.matches(".bk[data-movable]")) {
      event.preventDefault();
      startMove(item);
      return;
    }
    if (moving && event.key === "Escape") {
      event.preventDefault();
      endMove(true);
      return;
    }
    if (moving && event.key === "Enter") {
      event.preventDefault();
      if (item.classList.contains("free")) {
        window.location.assign(moveUrl(moving.dataset.booking, item));
      } else {
        say("That is not a free time. Choose a free time, or press Escape.");
      }
      return;
    }
    var next = target(item, event);
    if (next) {
      event.preventDefault();
      focusItem(next);
    }
  });

  if (!canMove) return;

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
