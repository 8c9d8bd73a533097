// The what-if result page while the replay runs: ask the server every 2 seconds whether it has
// finished (showing its progress meanwhile), then offer the result. Replaces a timed <meta http-equiv="refresh">, which reloads
// the page under a screen reader's cursor (WCAG 2.2.1). Without JavaScript the page says to
// reload it.
(() => {
  "use strict";
  const pending = document.querySelector("[data-whatif-pending]");
  if (!pending) return;
  const tick = async () => {
    try {
      const response = await fetch(window.location.href, { headers: { Accept: "text/html" } });
      const html = await response.text();
      if (response.ok && !html.includes("data-whatif-pending")) {
        const link = document.createElement("a");
        link.href = window.location.href;
        link.textContent = "顯示試算結果";
        pending.textContent = "試算完成。";
        pending.append(link);
        return;
      }
      // still running: show how far it got (VMs compared of all VMs)
      const fresh = new DOMParser().parseFromString(html, "text/html");
      const now = fresh.querySelector("[data-whatif-pending]");
      if (response.ok && now) pending.replaceChildren(...now.childNodes);
    } catch (e) {
      // the network hiccuped: try again below
    }
    window.setTimeout(tick, 2000);
  };
  window.setTimeout(tick, 2000);
})();
