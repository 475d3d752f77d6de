// Hands the console its admin API address and secret (or, on a team server, its address and
// name): `window.__MUSTER__`, set before any of the console's scripts run (Tauri
// initialization script, main frame only). The contract is in docs/admin-api.md, "Desktop
// shell". __MUSTER_INJECTED__ and __MUSTER_LAUNCH__ are
// replaced by the shell with JSON literals.
(function () {
  // Only the app's own pages get the secret, never a page the window was navigated to.
  if (location.origin !== "tauri://localhost" && location.origin !== "http://tauri.localhost") {
    return;
  }
  var launch = __MUSTER_LAUNCH__;
  var KEY = "muster.desktop.handoff";
  var muster = __MUSTER_INJECTED__;
  // After set_server_address the injected values are stale; a reload must see the new ones.
  try {
    var saved = JSON.parse(sessionStorage.getItem(KEY) || "null");
    if (saved && saved.launch === launch) muster = saved.muster;
  } catch (e) {}

  muster.setServerAddress = function (addr) {
    return window.__TAURI_INTERNALS__
      .invoke("set_server_address", { addr: String(addr) })
      .then(function (h) {
        var m = window.__MUSTER__;
        delete m.startup_error;
        m.api = h.api;
        m.secret = h.secret;
        m.scim_base = h.scim_base;
        try {
          sessionStorage.setItem(KEY, JSON.stringify({ launch: launch, muster: h }));
        } catch (e) {}
        return h;
      });
  };
  // Puts the window on another server ("local" or a remembered URL). The caller reloads; the
  // reload finds the new handoff here (the injected one is for the server at launch).
  muster.switchServer = function (id) {
    return window.__TAURI_INTERNALS__
      .invoke("switch_server", { id: String(id) })
      .then(function (h) {
        try {
          sessionStorage.setItem(KEY, JSON.stringify({ launch: launch, muster: h }));
        } catch (e) {}
        return h;
      });
  };
  window.__MUSTER__ = muster;

  if (!muster.startup_error) return;

  // Fallback for a console that does not render startup errors itself (it marks its own
  // screen with data-testid="startup-error"): a minimal form to pick another port.
  function fallback() {
    var err = window.__MUSTER__.startup_error;
    if (!err || document.querySelector('[data-testid="startup-error"]')) return;
    var box = document.createElement("div");
    box.setAttribute("data-testid", "desktop-startup-fallback");
    box.style.cssText =
      "position:fixed;inset:0;z-index:2147483647;background:#fff;color:#111;" +
      "font:14px system-ui,sans-serif;padding:48px;";
    var h = document.createElement("h1");
    h.style.cssText = "font-size:20px;margin:0 0 12px";
    var p = document.createElement("p");
    var port = err.addr ? Number(String(err.addr).split(":").pop()) : 8737;
    if (err.kind === "addr_in_use") {
      h.textContent = "Port " + port + " is in use";
      p.textContent =
        "Another program is listening on " + err.addr + ". Pick another port; " +
        "identity providers must then be updated with the new SCIM URL.";
    } else {
      h.textContent = "Muster's server did not start";
      p.textContent = err.message || err.kind;
    }
    var input = document.createElement("input");
    input.type = "number";
    input.min = "1024";
    input.max = "65535";
    input.value = String(port + 1);
    input.setAttribute("data-testid", "desktop-port-input");
    input.setAttribute("aria-label", "Port");
    input.style.cssText = "width:8em;padding:6px;font:inherit;margin-right:8px";
    var button = document.createElement("button");
    button.textContent = "Use this port";
    button.setAttribute("data-testid", "desktop-port-submit");
    button.style.cssText = "padding:6px 14px;font:inherit";
    var status = document.createElement("p");
    status.style.color = "#b00020";
    button.onclick = function () {
      status.textContent = "";
      window.__MUSTER__.setServerAddress("127.0.0.1:" + input.value).then(
        function () { location.reload(); },
        function (e) { status.textContent = (e && e.message) || String(e); }
      );
    };
    box.append(h, p, input, button, status);
    document.body.appendChild(box);
  }
  window.addEventListener("load", function () { setTimeout(fallback, 1500); });
})();
