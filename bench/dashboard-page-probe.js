// Injected into the dashboard by bench/dashboard.ts before its own scripts: records when each
// push row first appears in the DOM (Date.now(), to compare with commit times) and every long task.
(() => {
  const probe = { firstRow: 0, longTasks: [], seen: {} };
  window.probe = probe;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) probe.longTasks.push([entry.startTime, entry.duration]);
  }).observe({ type: 'longtask', buffered: true });
  new MutationObserver((mutations) => {
    for (const mutation of mutations) {
      for (const node of mutation.addedNodes) {
        if (!(node instanceof HTMLElement)) continue;
        for (const row of [node, ...node.querySelectorAll('article[data-push-id]')]) {
          const id = row.getAttribute('data-push-id');
          if (id === null) continue;
          probe.firstRow ||= performance.now();
          probe.seen[id] ??= Date.now();
        }
      }
    }
  }).observe(document, { childList: true, subtree: true });
})();
