// The viewer's script: tooltips for the bars, and a self-test (open the page with #selftest)
// that hovers the first witness bar (or the first bar) and records what it saw in the page.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("data").textContent);
  var tip = document.getElementById("tooltip");

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function describe(op) {
    var rows = [
      "<b>" + esc(op.desc) + "</b>",
      "process p" + op.process + (op.line ? " · line " + op.line : ""),
      "call    " + op.call + " ns",
      "return  " + (op.ret === null ? "never" : op.ret + " ns"),
      "args    " + esc(op.args),
      "result  " + esc(op.result),
      "status  " + esc(op.status),
    ];
    if (op.step) {
      rows.push("step    " + op.step.n + (op.step.effect ? "" : " (as a no-op)") + " of the " +
                (op.step.complete ? "linearization" : "longest linearizable prefix"));
      rows.push("state   " + esc(op.step.before) + " → " + esc(op.step.after));
    } else {
      rows.push("<span class=\"dim\">not in the (longest) linearization found</span>");
    }
    if (op.witness) rows.push("<span class=\"w\">in the witness of the violation</span>");
    return rows.join("<br>");
  }

  function show(bar, x, y) {
    var op = data.ops[Number(bar.getAttribute("data-op"))];
    if (!op) return;
    tip.innerHTML = describe(op);
    tip.style.display = "block";
    var left = Math.min(x + 14, window.innerWidth - tip.offsetWidth - 8);
    tip.style.left = Math.max(4, left) + "px";
    tip.style.top = Math.max(4, y + 14) + "px";
    bar.classList.add("hover");
  }

  function hide(bar) {
    tip.style.display = "none";
    if (bar) bar.classList.remove("hover");
  }

  document.addEventListener("mouseover", function (e) {
    var t = e.target;
    if (t && t.classList && t.classList.contains("bar") && t.hasAttribute("data-op")) {
      show(t, e.clientX, e.clientY);
    }
  });
  document.addEventListener("mouseout", function (e) {
    var t = e.target;
    if (t && t.classList && t.classList.contains("bar")) hide(t);
  });

  function selftest() {
    var bars = document.querySelectorAll("rect.bar[data-op]");
    var witness = document.querySelectorAll("rect.bar.witness[data-op]");
    var target = witness[0] || bars[0];
    var shown = false;
    if (target) {
      var r = target.getBoundingClientRect();
      target.scrollIntoView({ block: "center", inline: "center" });
      r = target.getBoundingClientRect();
      target.dispatchEvent(new MouseEvent("mouseover", {
        bubbles: true, clientX: r.left + r.width / 2, clientY: r.top + r.height / 2,
      }));
      shown = tip.style.display === "block" && tip.textContent.indexOf("call") >= 0;
    }
    var out = document.createElement("p");
    out.id = "selftest-result";
    out.hidden = true; // read from the DOM by the browser test; kept out of screenshots
    out.textContent = "SELFTEST bars=" + bars.length + " witness=" + witness.length +
      " tooltip=" + (shown ? "visible" : "hidden") + " text=" +
      tip.textContent.replace(/\s+/g, " ").slice(0, 200);
    document.body.appendChild(out);
  }

  if (window.location.hash === "#selftest") selftest();
})();
