// The render peer: a warm headless Chromium (Debian's /usr/bin/chromium)
// driven by Playwright. C pages in parallel, each: goto(waitUntil
// networkidle) + pdf() (A4, 10 mm margins, backgrounds, 1920x1080 viewport:
// the API's defaults), the bytes written to a file as our stack stores them.
//
//   node chromium_peer.mjs '{"urls":[...],"concurrency":4,"outdir":"/tmp/x"}'
//
// The browser is launched and every page has rendered one URL before the
// clock starts. Prints one JSON line: elapsed_s, cpu_s, sizes[], ms[], errors[].
import { chromium } from 'playwright-core';
import { execSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const cfg = JSON.parse(process.argv[2]);
const { urls, concurrency, outdir } = cfg;
const timeoutMs = 60000;
const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'enconvert-bench-chromium.'));
const hardStop = setTimeout(() => { console.error('peer: hard time limit'); process.exit(3); },
                            (30 + urls.length * 30) * 1000);

const pdfOptions = {
  format: 'A4',
  margin: { top: '10mm', right: '10mm', bottom: '10mm', left: '10mm' },
  printBackground: true,
};

const phases = { goto_ms: [], pdf_ms: [] };

// CPU seconds (user + system) used so far by this process and every live
// descendant (the browser, its renderers, GPU and utility processes), from
// /proc: what the measured section costs, as the bench counts ours.
const clockTicks = Number(execSync('getconf CLK_TCK').toString().trim()) || 100;
function treeCpuSeconds() {
  const procs = new Map();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let stat;
    try { stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8'); } catch { continue; }
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    procs.set(Number(d), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) });
  }
  const children = new Map();
  for (const [pid, p] of procs) {
    if (!children.has(p.ppid)) children.set(p.ppid, []);
    children.get(p.ppid).push(pid);
  }
  let ticks = 0;
  const todo = [process.pid];
  while (todo.length) {
    const pid = todo.pop();
    if (!procs.has(pid)) continue;
    ticks += procs.get(pid).ticks;
    todo.push(...(children.get(pid) || []));
  }
  return ticks / clockTicks;
}

async function convert(page, url, file) {
  const t0 = performance.now();
  await page.goto(url, { waitUntil: 'networkidle', timeout: timeoutMs });
  const t1 = performance.now();
  const pdf = await page.pdf(pdfOptions);
  fs.writeFileSync(file, pdf);
  phases.goto_ms.push(t1 - t0);
  phases.pdf_ms.push(performance.now() - t1);
  return pdf.length;
}

const ctx = await chromium.launchPersistentContext(userDir, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1920, height: 1080 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const pages = [];
  for (let i = 0; i < concurrency; i++) pages.push(await ctx.newPage());
  // Warm-up: every page renders once (not timed).
  await Promise.all(pages.map((p, i) =>
    convert(p, urls[i % urls.length], path.join(outdir, `warm-${i}.pdf`))));

  const sizes = new Array(urls.length).fill(0);
  const ms = new Array(urls.length).fill(0);
  const errors = [];
  phases.goto_ms.length = 0;
  phases.pdf_ms.length = 0;
  let next = 0;
  const cpu0 = treeCpuSeconds();
  const t0 = performance.now();
  await Promise.all(pages.map(async (p) => {
    for (;;) {
      const i = next++;
      if (i >= urls.length) return;
      const s = performance.now();
      try {
        sizes[i] = await convert(p, urls[i], path.join(outdir, `${i}.pdf`));
      } catch (e) {
        errors.push(`${urls[i]}: ${e.message.split('\n')[0]}`);
      }
      ms[i] = performance.now() - s;
    }
  }));
  const elapsed = (performance.now() - t0) / 1000;
  const cpu_s = treeCpuSeconds() - cpu0;
  console.log(JSON.stringify({ elapsed_s: elapsed, cpu_s, sizes, ms, errors, ...phases }));
} finally {
  await ctx.close();
  fs.rmSync(userDir, { recursive: true, force: true });
  clearTimeout(hardStop);
}
