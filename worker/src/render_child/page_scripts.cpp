#include "render_child/page_scripts.h"

namespace enconvert::render_child {

const char* const kWaitForSelectorScript = R"JS(
let found;
try { found = document.querySelector(selector); } catch (e) { return "invalid"; }
const deadline = Date.now() + timeout;
while (!found) {
  if (Date.now() >= deadline) return "timeout";
  await new Promise(resolve => setTimeout(resolve, 25));
  found = document.querySelector(selector);
}
return "found";
)JS";

// Bounded: after a script navigation WebCore refuses (location =
// "file:///…" while the page loads) fonts.ready never settles, and the job
// would wait for its deadline; 5 s is the network-quiet cap's bound too.
const char* const kFontsReadyScript = R"JS(
if (document.fonts && document.fonts.ready)
    await Promise.race([document.fonts.ready, new Promise(done => setTimeout(done, 5000))]);
return document.title;
)JS";

// Lazy images inside the printed area would print empty: load them eagerly
// first. Links are measured at the print width because printing re-flows
// the page at that width.
const char* const kPreparePrintScript = R"JS(
for (const img of document.querySelectorAll('img[loading="lazy"]')) img.loading = 'eager';
const style = document.createElement('style');
style.textContent = '@media print { html { zoom: ' + zoom + ' !important; } }';
(document.head || document.documentElement).appendChild(style);
const root = document.documentElement;
const saved = root.style.cssText;
root.style.setProperty('width', width + 'px', 'important');
root.style.setProperty('max-width', width + 'px', 'important');
const links = [];
for (const a of document.querySelectorAll('a[href], area[href]')) {
  const href = a.href;
  if (!/^(https?|mailto|tel|ftp):/i.test(href)) continue;
  // Links within the document would need named destinations: not written.
  if (a.hash && href.split('#')[0] === location.href.split('#')[0]) continue;
  for (const r of a.getClientRects()) {
    if (r.width < 1 || r.height < 1) continue;
    links.push({href, x: r.left + window.scrollX, y: r.top + window.scrollY, w: r.width, h: r.height});
  }
}
const height = Math.max(root.scrollHeight, document.body ? document.body.scrollHeight : 0);
root.style.cssText = saved;
return JSON.stringify({height, links});
)JS";

}  // namespace enconvert::render_child
