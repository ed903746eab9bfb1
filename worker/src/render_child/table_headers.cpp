#include "render_child/table_headers.h"

namespace enconvert::render_child {

const char* const kRepeatTableHeadersFunction = R"JS(
const repeatTableHeaders = (pageHeight) => {
  if (!(pageHeight > 0)) return 0;
  // Print places content a little lower than the screen does (lines pushed
  // over earlier page breaks): keep this much of each page in reserve.
  const reserve = Math.min(48, pageHeight * 0.03);
  const sy = window.scrollY;
  const dropIds = (el) => {
    el.removeAttribute('id');
    for (const e of el.querySelectorAll('[id]')) e.removeAttribute('id');
    return el;
  };
  let added = 0;
  const tables = [...document.querySelectorAll('table')].filter(
      (t) => !(t.parentElement && t.parentElement.closest('table')));
  for (const table of tables) {
    const head = table.tHead;
    if (!head || !head.rows.length) continue;
    const tr = table.getBoundingClientRect();
    if (tr.height < 1) continue;
    const top = tr.top + sy, bottom = tr.bottom + sy;
    let page = Math.floor(top / pageHeight);
    const headHeight = head.getBoundingClientRect().height;
    if (headHeight <= 0 || headHeight > pageHeight / 3) continue;
    const rows = [];
    for (const body of table.tBodies) rows.push(...body.rows);
    if (!rows.length) continue;
    // Header and first row below the page's end: the whole table moves on.
    const first = rows[0].getBoundingClientRect();
    let offset = 0;
    if (first.bottom + sy > (page + 1) * pageHeight - reserve &&
        first.height + headHeight < pageHeight - reserve && top > page * pageHeight + 1) {
      table.style.setProperty('break-before', 'page');
      offset = (page + 1) * pageHeight - top;
      page += 1;
    }
    if (Math.floor((bottom + offset) / pageHeight) === page) continue;
    const breaks = [];
    for (let i = 0; i < rows.length; ++i) {
      const r = rows[i].getBoundingClientRect();
      const rowTop = r.top + sy + offset, rowBottom = r.bottom + sy + offset;
      if (rowBottom <= (page + 1) * pageHeight - reserve) continue;
      if (i === 0 || r.height > pageHeight - headHeight - 2 * reserve) break;
      ++page;
      breaks.push(i);
      offset += page * pageHeight + headHeight - rowTop;
    }
    if (!breaks.length) continue;
    // Columns as wide as in the whole table, in every piece.
    let widths = null;
    for (const row of [...head.rows, ...rows]) {
      const cells = [...row.cells];
      if (cells.every((c) => c.colSpan === 1) && (!widths || cells.length > widths.length))
        widths = cells.map((c) => c.getBoundingClientRect().width);
    }
    // A table with its own columns keeps them, in every piece.
    const ownColumns = [...table.children].filter(
        (c) => c.localName === 'colgroup' || c.localName === 'col');
    const fix = (t) => {
      t.style.setProperty('width', tr.width + 'px');
      if (ownColumns.length) {
        if (t !== table)
          for (const c of [...ownColumns].reverse()) t.insertBefore(c.cloneNode(true), t.firstChild);
        return;
      }
      if (!widths) return;
      t.style.setProperty('table-layout', 'fixed');
      const group = document.createElement('colgroup');
      for (const w of widths) {
        const col = document.createElement('col');
        col.style.setProperty('width', w + 'px');
        group.appendChild(col);
      }
      t.insertBefore(group, t.firstChild);
    };
    const pieces = [];
    for (let b = 0; b < breaks.length; ++b) {
      const piece = dropIds(table.cloneNode(false));
      piece.style.setProperty('break-before', 'page');
      piece.style.setProperty('margin-top', '0');
      piece.appendChild(dropIds(head.cloneNode(true)));
      let body = null, source = null;
      const end = b + 1 < breaks.length ? breaks[b + 1] : rows.length;
      for (let i = breaks[b]; i < end; ++i) {
        if (rows[i].parentElement !== source) {
          source = rows[i].parentElement;
          body = piece.appendChild(dropIds(source.cloneNode(false)));
        }
        body.appendChild(rows[i]);
      }
      pieces.push(piece);
    }
    if (table.tFoot) pieces[pieces.length - 1].appendChild(table.tFoot);
    for (const t of [table, ...pieces]) fix(t);
    table.style.setProperty('margin-bottom', '0');
    let after = table;
    for (const piece of pieces) {
      after.after(piece);
      after = piece;
    }
    added += pieces.length;
  }
  return added;
};
)JS";

}  // namespace enconvert::render_child
