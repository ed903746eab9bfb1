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
// first. Then the page is measured as it will print: laid out at the print
// width with its print styles on and its screen-only styles off (the media
// lists of its style sheets are swapped print <-> screen for the
// measurement and restored after), so links and headings hidden in print
// are known and the rest are measured roughly where they print. Their
// exact place is read from the printed PDF afterwards (pdf/mark_placer.h):
// here we collect what to look for. Rules of cross-origin style sheets
// cannot be read (CSSOM), so only their own media list is swapped.
const char* const kPreparePrintScript = R"JS(
for (const img of document.querySelectorAll('img[loading="lazy"]')) img.loading = 'eager';
const MAX_ITEMS = 20000, MAX_TEXT = 1000, MAX_TARGET_TEXT = 48;
// The links' URLs, copied through JSON into the renderer: a hostile page's
// 20,000 links of 20 KB each took the renderer child past 1.8 GB. A URL
// longer than 64 Ki characters gets no link (servers refuse far shorter
// ones), and links are taken in document order while their URLs add up to
// at most 4 Mi characters: one that no longer fits gets none. Headings are
// taken all the same.
const MAX_HREF = 65536;
let hrefBudget = 4 * 1048576;
// A link's boxes (one per line it wraps over) each become an annotation:
// a link wrapped around 2,000 lines of tiny inline blocks, nested eight
// deep with a 60 KB URL, made 16,000 annotations and 1.9 GB in the
// renderer. A link keeps its first 256 boxes, and links are taken while
// their boxes add up to at most 100,000 (pdf/marks.h holds the same bounds).
const MAX_LINK_BOXES = 256;
let boxesLeft = 100000;
// The texts to look for travel the same way: 20,000 links of 1,000
// characters made a reply of 20 Mi characters (120 MB when they were
// control characters). Link, heading and target texts are taken in
// document order while they add up to at most 2 Mi characters; past that
// a link is placed where it was measured (as an image link is), a heading
// is left out of the outline and a target is placed by its box alone.
let textLeft = 2 * 1048576;
const take = (s) => {
  if (s.length > textLeft) return '';
  textLeft -= s.length;
  return s;
};
const swaps = [];
const swapMedia = (list) => {
  if (!list) return;
  const text = list.mediaText;
  if (!text) return;
  const swapped = text.replace(/(^|[^\w-])(print|screen)(?![\w-])/gi,
      (m, pre, word) => pre + (word.toLowerCase() === 'print' ? 'screen' : 'print'));
  if (swapped === text) return;
  try { list.mediaText = swapped; swaps.push([list, text]); } catch (e) {}
};
const visitRules = (rules, depth) => {
  if (!rules || depth > 16) return;
  for (const rule of rules) {
    // @media and @import rules; an imported sheet's media list is its
    // @import rule's, swapped once here.
    if (rule.media) swapMedia(rule.media);
    if (rule.styleSheet) {
      let inner = null;
      try { inner = rule.styleSheet.cssRules; } catch (e) {}
      visitRules(inner, depth + 1);
    }
    let nested = null;
    try { nested = rule.cssRules; } catch (e) {}
    if (nested) visitRules(nested, depth + 1);
  }
};
const sheets = [...document.styleSheets, ...(document.adoptedStyleSheets || [])];
for (const sheet of sheets) {
  swapMedia(sheet.media);
  let rules = null;
  try { rules = sheet.cssRules; } catch (e) {}
  visitRules(rules, 0);
}
const root = document.documentElement;
const savedStyle = root.getAttribute('style');
root.style.setProperty('width', width + 'px', 'important');
root.style.setProperty('max-width', width + 'px', 'important');
// Long tables become one table a page, each with its header
// (table_headers.h; defined before this script when printing pages).
if (typeof repeatTableHeaders === 'function') repeatTableHeaders(pageHeight);

const sx = window.scrollX, sy = window.scrollY;
const box = (r) => ({x: r.left + sx, y: r.top + sy, w: r.width, h: r.height});
// Lone surrogates (a page's own, or half an emoji left by a cut) would make
// the JSON of these facts unreadable to the worker, and the PDF would get
// no links, outline or metadata at all: they are replaced, or dropped.
// Control characters are never printed (so never found in the PDF) and
// cost six bytes each in JSON: dropped.
const clean = (s) => (s || '').replace(/[\u0000-\u0008\u000e-\u001f\u007f-\u009f]/g, '')
    .replace(/\s+/g, ' ').trim().toWellFormed();
const cut = (s, n) => s.length > n ? s.slice(0, n).replace(/[\uD800-\uDBFF]$/, '') : s;
const shown = (el) => {
  if (!el || !el.getClientRects().length) return false;
  const v = getComputedStyle(el).visibility;
  return v !== 'hidden' && v !== 'collapse';
};
// Boxes that lie wholly above or left of the document never print.
const onSheet = (r) => r.width >= 1 && r.height >= 1 && r.right + sx > 0 && r.bottom + sy > 0;
const SKIP = new Set(['script', 'style', 'noscript', 'template', 'title']);

// The first printed text at or after a #fragment's target (a heading, or
// the paragraph after an empty anchor), within one block so it reads in
// the PDF as it does here, and where it starts.
const targets = [], targetIndex = new Map();
const blockOf = (el) => {
  while (el && el !== root && getComputedStyle(el).display.startsWith('inline')) el = el.parentElement;
  return el;
};
const textFrom = (el) => {
  const walker = document.createTreeWalker(document.body || root, NodeFilter.SHOW_TEXT);
  walker.currentNode = el;
  let text = '', first = null, block = null;
  for (let n = walker.nextNode(), seen = 0;
       n && seen < 200 && text.replace(/\s/g, '').length < MAX_TARGET_TEXT;
       n = walker.nextNode(), ++seen) {
    const parent = n.parentElement;
    if (!parent || SKIP.has(parent.localName) || !clean(n.data) || !shown(parent)) continue;
    if (!first) {
      first = n;
      block = blockOf(parent);
    } else if (blockOf(parent) !== block) {
      break;
    }
    // In preformatted text, runs of spaces and line ends are laid out as
    // gaps, and poppler may read what follows a gap in another order
    // (aligned columns of a grammar or a table in <pre> come back as
    // blocks): the target's text ends at its first gap.
    if (/^(pre|break-spaces)/.test(getComputedStyle(parent).whiteSpace)) {
      const lead = n.data.match(/^\s*/)[0];
      if (text.trim() && /\s{2,}|\n/.test(lead)) break;
      const gap = n.data.slice(lead.length).search(/\s{2,}|\n/);
      if (gap >= 0) {
        text += ' ' + n.data.slice(0, lead.length + gap);
        break;
      }
    }
    text += ' ' + n.data;
  }
  let at = null;
  if (first) {
    const range = document.createRange();
    range.selectNodeContents(first);
    const r = range.getClientRects()[0];
    if (r) at = box(r);
  }
  return {text: cut(clean(text), 200), at};
};
// The first <a name=...> of each name, gathered in one pass when first
// needed: getElementsByName walks the whole document on every call, and a
// page with tens of thousands of #links to missing targets took minutes.
let anchorsByName = null;
const anchorNamed = (name) => {
  if (!anchorsByName) {
    anchorsByName = new Map();
    for (const a of document.querySelectorAll('a[name]')) {
      const n = a.getAttribute('name');
      if (a.namespaceURI === 'http://www.w3.org/1999/xhtml' && !anchorsByName.has(n))
        anchorsByName.set(n, a);
    }
  }
  return anchorsByName.get(name) || null;
};
const targetOf = (fragment) => {
  if (targetIndex.has(fragment)) return targetIndex.get(fragment);
  let decoded = fragment;
  try { decoded = decodeURIComponent(fragment); } catch (e) {}
  let el = document.getElementById(fragment) || document.getElementById(decoded);
  if (!el) el = anchorNamed(decoded);
  let index = -1;
  if (!el && (decoded === '' || decoded.toLowerCase() === 'top')) {
    index = targets.push({top: true}) - 1;  // as browsers scroll: the top
  } else if (el && el.getClientRects().length) {  // else hidden in print
    const found = textFrom(el);
    const own = el.getClientRects()[0];
    const at = own ? box(own) : found.at;
    const text = take(found.text);
    if (at && (text || own)) index = targets.push({text, box: at}) - 1;
  }
  targetIndex.set(fragment, index);
  return index;
};

// An <area>'s box: its shape's bounds on the image that uses its map.
const areaBoxes = (area) => {
  const map = area.closest('map');
  if (!map || !map.name) return [];
  const img = document.querySelector('img[usemap="#' + CSS.escape(map.name) + '"]');
  if (!shown(img)) return [];
  const r = img.getBoundingClientRect();
  const c = (area.coords || '').split(/[\s,]+/).filter(Boolean).map(Number);
  const shape = (area.shape || 'rect').toLowerCase();
  let x0 = 0, y0 = 0, x1 = r.width, y1 = r.height;
  if ((shape === 'rect' || shape === 'rectangle') && c.length >= 4) {
    [x0, y0, x1, y1] = [Math.min(c[0], c[2]), Math.min(c[1], c[3]), Math.max(c[0], c[2]), Math.max(c[1], c[3])];
  } else if ((shape === 'circle' || shape === 'circ') && c.length >= 3) {
    [x0, y0, x1, y1] = [c[0] - c[2], c[1] - c[2], c[0] + c[2], c[1] + c[2]];
  } else if ((shape === 'poly' || shape === 'polygon') && c.length >= 6) {
    const xs = c.filter((v, i) => i % 2 === 0), ys = c.filter((v, i) => i % 2 === 1);
    [x0, y0, x1, y1] = [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
  } else if (shape !== 'default') {
    return [];
  }
  if (c.some(v => !isFinite(v))) return [];
  x0 = Math.max(0, x0); y0 = Math.max(0, y0); x1 = Math.min(r.width, x1); y1 = Math.min(r.height, y1);
  if (x1 - x0 < 1 || y1 - y0 < 1) return [];
  return [{x: r.left + sx + x0, y: r.top + sy + y0, w: x1 - x0, h: y1 - y0}];
};

const here = location.href.split('#')[0];
const items = [];
// A heading: h1-h6, or any element with role="heading" (its aria-level,
// 2 when absent, as ARIA says): both are headings to Chromium's outline.
const headingLevel = (el) => {
  if (el.getAttribute('role') === 'heading') {
    const level = parseInt(el.getAttribute('aria-level'), 10);
    return level >= 1 ? Math.min(level, 6) : 2;
  }
  const name = el.localName;
  return name.length === 2 && name[0] === 'h' && name[1] >= '1' && name[1] <= '6' ? Number(name[1]) : 0;
};
for (const el of document.querySelectorAll(
         'a[href], area[href], h1, h2, h3, h4, h5, h6, [role=heading]')) {
  if (items.length >= MAX_ITEMS) break;
  const name = el.localName;
  const level = headingLevel(el);
  if (level) {
    if (!shown(el)) continue;
    const r = [...el.getClientRects()].find(onSheet);
    const text = r ? take(cut(clean(el.innerText), 500)) : '';
    if (text) items.push({kind: 'heading', level, text, boxes: [box(r)]});
    continue;
  }
  const href = el.href;
  if (typeof href !== 'string') continue;  // an SVG <a>
  const hash = href.indexOf('#');
  const internal = hash >= 0 && href.slice(0, hash) === here;
  if (!internal && !/^(https?|mailto|tel|ftp):/i.test(href)) continue;
  if (href.length > MAX_HREF || href.length > hrefBudget) continue;
  let boxes;
  if (name === 'area') {
    boxes = areaBoxes(el);
  } else {
    if (!shown(el)) continue;
    boxes = [...el.getClientRects()].filter(onSheet).slice(0, MAX_LINK_BOXES).map(box);
  }
  if (!boxes.length || boxes.length > boxesLeft) continue;
  const link = {kind: 'link', href, text: '', boxes};
  if (internal) {
    link.target = targetOf(href.slice(hash + 1));
    if (link.target < 0) continue;  // nothing there to jump to
  }
  // Taken last: a link left out spends none of the text budget.
  if (name !== 'area') link.text = take(cut(clean(el.innerText), MAX_TEXT));
  hrefBudget -= href.length;
  boxesLeft -= boxes.length;
  items.push(link);
}
const meta = (name) => {
  const m = document.querySelector('meta[name="' + name + '" i][content]');
  return m ? cut(clean(m.content), 1000) : '';
};
// height first: single_page reads it alone, on the main loop
// (facts_height in link_layout.h), without parsing the rest.
const facts = {
  height: Math.max(root.scrollHeight, document.body ? document.body.scrollHeight : 0),
  items, targets,
  meta: {title: cut(clean(document.title), 1000), author: meta('author'),
         subject: meta('description'), keywords: meta('keywords')},
};
if (savedStyle === null) root.removeAttribute('style'); else root.setAttribute('style', savedStyle);
for (const [list, text] of swaps.reverse()) {
  try { list.mediaText = text; } catch (e) {}
}
// Added last, so the swap above never turns it on for the screen.
const style = document.createElement('style');
style.textContent = '@media print { html { zoom: ' + zoom + ' !important; } }';
(document.head || root).appendChild(style);
return JSON.stringify(facts);
)JS";

}  // namespace enconvert::render_child
