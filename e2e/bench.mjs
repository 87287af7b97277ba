// Throughput benchmark (not a test): `cargo xtask bench`. The same uploads through the page in
// headless Chromium, through a bare one-XHR-per-file page (the browser's ceiling), with Uppy 6.3
// through the README's glue (small files only), and with curl
// (same signer, same fields, same S3 server), alternating, in rounds. Prints MiB/s and ratios, for
// one 256 MiB file and for 100 files of 64 KiB picked at once, and the browser's memory during the
// big upload (it must not grow with the file). BENCH_ROUNDS (default 3) and BENCH_CASES
// (`big,small`) narrow it down. The S3 server is local-s3, or radosgw with UPLOADER_S3=radosgw
// (`cargo xtask bench radosgw`). BENCH_BARE_PROGRESS=1 gives the bare page an upload progress
// listener (that does nothing), the ceiling for a page that shows progress: against radosgw,
// where the S3 server competes for the CPU, Chromium's own progress events cost about a tenth of
// a big upload's speed. The `many` case picks 10,000 small files at once (BENCH_MANY changes the
// count) and reports the time to the first row, the longest main-thread task after it (the
// page must stay responsive: under 100 ms), the JS heap, that every object landed, and how long
// "Clear finished" takes to empty the list (and its longest task). The
// `multipart` case (not in the default set; BENCH_MULTIPART_MIB, default 1024) uploads one big
// file through the page as a multipart upload with part checksums (MD5 in WASM) and without, through
// the page as one POST, through Uppy 6.3 as one POST (the README's glue, with and without the
// file's MD5), and with curl as one POST, alternating, with the CPU seconds each cost (the
// machine's and each process group's, `cpu.mjs`), Chromium's memory and the page's long tasks;
// BENCH_MODES picks some of them. BENCH_PAGE_CONFIG adds config.json fields for the page (e.g.
// '{"checksums":false}'); BENCH_TIMEOUT_MS (default 600000) bounds one upload.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BROWSER, Stack, rows, uppyLoader, uppyWithReadmeGlue } from './stack.mjs';
import { chromiumResident, cpuSince, cpuSnapshot } from './cpu.mjs';

const MIB = 1024 * 1024;
const ROUNDS = Number(process.env.BENCH_ROUNDS || 3);
const dir = mkdtempSync(join(tmpdir(), 'uploader-bench-'));

// A page with nothing but the upload: sign, then one XHR per file, all at once.
const BARE = `<!doctype html><meta charset="utf-8"><input type="file" multiple>
<script type="module">
const signer = (await (await fetch('config.json')).json()).signerUrl;
document.querySelector('input').onchange = async (e) => {
  const files = [...e.target.files];
  window.started = performance.now();
  await Promise.all(files.map(async (file) => {
    const signed = await (await fetch(signer + '/sign', { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ filename: file.name, contentType: file.type || 'application/octet-stream', size: file.size }) })).json();
    const form = new FormData();
    for (const [k, v] of Object.entries(signed.fields)) form.append(k, v);
    form.append('file', file);
    await new Promise((resolve, reject) => { const x = new XMLHttpRequest(); x.open('POST', signed.url); if (window.PROGRESS) x.upload.onprogress = (e) => { window.last = e.loaded; };
      x.onload = () => x.status === 201 ? resolve() : reject(x.status); x.onerror = reject; x.send(form); });
  }));
  window.finished = performance.now();
};
</script>`;

function files(prefix, count, size) {
  const folder = join(dir, prefix);
  mkdirSync(folder, { recursive: true });
  return Array.from({ length: count }, (_, i) => {
    const path = join(folder, `${prefix}-${i}.bin`);
    writeFileSync(path, randomBytes(size));
    return path;
  });
}

/// `config`: config.json fields for this run only (else the stack's).
async function viaPage(stack, paths, config) {
  const saved = stack.pageConfig;
  if (config) stack.pageConfig = config;
  try {
    return await pageRun(stack, paths);
  } finally {
    stack.pageConfig = saved;
  }
}

async function pageRun(stack, paths) {
  const page = await stack.open();
  // Timing from the first row to the last "done", counted from the mutations themselves so the
  // measuring costs next to nothing (no query of the whole list per change).
  await page.evaluate((expected) => {
    let done = 0;
    new MutationObserver((records) => {
      for (const r of records) {
        if (!window.started && r.type === 'childList' && r.addedNodes.length) window.started = performance.now();
        if (r.type !== 'attributes') continue;
        const status = r.target.dataset.status;
        if (status === 'done' && r.oldValue !== 'done') done += 1;
        if (status === 'failed' || status === 'refused') window.stopped = true;
      }
      if (done >= expected && !window.finished) window.finished = performance.now();
    }).observe(document.querySelector('.files'), {
      subtree: true, childList: true, attributes: true, attributeFilter: ['data-status'], attributeOldValue: true,
    });
    // The longest main-thread task while it uploads (Chromium reports long tasks).
    window.longTasks = [];
    new PerformanceObserver(list => { for (const e of list.getEntries()) window.longTasks.push([e.startTime, e.duration]); })
      .observe({ type: 'longtask' });
  }, paths.length);
  const idle = sampleMemory().stop();
  const memory = sampleMemory();
  const cpu = cpuSnapshot();
  await page.setInputFiles('input[type=file]', paths);
  // Waiting reads two variables per frame: polling the rows themselves (as the tests do) would
  // cost the page's main thread a few hundred ms on 100 files, which the bare page does not pay.
  await page.waitForFunction(() => window.finished || window.stopped, null, { timeout: Number(process.env.BENCH_TIMEOUT_MS || 600000) })
    .catch(async (error) => { throw new Error(`${error.message}; the rows: ${JSON.stringify(await rows(page))}`); });
  const bad = (await rows(page)).filter(r => r.status !== 'done');
  if (bad.length) throw new Error(`the page did not upload: ${JSON.stringify(bad)}`);
  // Long tasks (over 50 ms): how many, the longest, and when it began (ms after the first row).
  const { ms, longest } = await page.evaluate(() => {
    const [at, duration] = window.longTasks.reduce((a, b) => (b[1] > a[1] ? b : a), [0, 0]);
    return { ms: window.finished - window.started, longest: { count: window.longTasks.length, duration, at: at - window.started } };
  });
  const used = cpuSince(cpu);
  const peak = memory.stop();
  await page.context().close();
  return { ms, peak, idle, cpu: used, longest };
}

async function viaBare(stack, paths) {
  const context = await stack.browser.newContext();
  const page = await context.newPage();
  await page.goto(stack.pageUrl + 'bare.html');
  if (process.env.BENCH_BARE_PROGRESS) await page.evaluate(() => { window.PROGRESS = true; });
  await page.setInputFiles('input[type=file]', paths);
  await page.waitForFunction(() => window.finished, null, { timeout: 600000 });
  const ms = await page.evaluate(() => window.finished - window.started);
  await context.close();
  return { ms };
}

/// Uppy 6.3 with the README's glue (`uppyWithReadmeGlue`), as the e2e suite runs it: the uploader
/// people would pick instead, on the same signer.
/// `uppy-bench-nomd5.html` runs the glue without the file's MD5.
async function uppyPage(stack) {
  if (stack.extraPages['uppy-bench.html']) return;
  stack.extraPages['uppy.js'] = await uppyWithReadmeGlue();
  stack.extraPages['uppy-nomd5.js'] = await uppyWithReadmeGlue({ md5: false });
  const page = script => `<!doctype html><meta charset="utf-8"><input type="file" multiple>${uppyLoader(script)}
<script type="module">
document.querySelector('input').onchange = async (e) => {
  window.started = performance.now();
  window.uppy.addFiles([...e.target.files].map(f => ({ name: f.name, type: f.type || 'application/octet-stream', data: f })));
  const result = await window.uppy.upload();
  window.failed = result.failed.map(f => String(f.error));
  window.finished = performance.now();
};
</script>`;
  stack.extraPages['uppy-bench.html'] = page('uppy.js');
  stack.extraPages['uppy-bench-nomd5.html'] = page('uppy-nomd5.js');
}

async function viaUppy(stack, paths, { md5 = true } = {}) {
  await uppyPage(stack);
  const context = await stack.browser.newContext();
  const page = await context.newPage();
  await page.goto(stack.pageUrl + (md5 ? 'uppy-bench.html' : 'uppy-bench-nomd5.html'));
  await page.waitForFunction(() => window.uppy);
  const cpu = cpuSnapshot();
  await page.setInputFiles('input[type=file]', paths);
  await page.waitForFunction(() => window.finished, null, { timeout: 600000 });
  const { ms, failed } = await page.evaluate(() => ({ ms: window.finished - window.started, failed: window.failed }));
  const used = cpuSince(cpu);
  if (failed.length) throw new Error(`Uppy did not upload: ${failed.slice(0, 3).join('; ')}`);
  await context.close();
  return { ms, cpu: used };
}

async function viaCurl(stack, paths, parallel) {
  const cpu = cpuSnapshot();
  const started = performance.now();
  const queue = [...paths];
  const worker = async () => {
    for (let path; (path = queue.shift()); ) {
      const signed = await (await fetch(`${stack.signerUrl}/sign`, { method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ filename: path.split('/').at(-1), contentType: 'application/octet-stream', size: statSync(path).size }) })).json();
      const args = ['-s', '-o', '/dev/null', '-w', '%{http_code}'];
      for (const [k, v] of Object.entries(signed.fields)) args.push('--form-string', `${k}=${v}`);
      args.push('-F', `file=@${path};type=application/octet-stream`, signed.url);
      const [status, errors, code] = await new Promise(resolve => {
        const curl = spawn('curl', args);
        let out = '';
        let err = '';
        curl.stdout.on('data', d => { out += d; });
        curl.stderr.on('data', d => { err += d; });
        curl.on('close', code => resolve([out, err, code]));
      });
      if (status !== '201') throw new Error(`curl upload answered ${status} (exit ${code}) ${errors}`);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return { ms: performance.now() - started, cpu: cpuSince(cpu) };
}

/// Peak resident memory of Chromium's processes (the benchmark's is the only Chromium running)
/// while the page uploads, and what they used just before.
function sampleMemory() {
  let peak = 0;
  const sample = () => {
    peak = Math.max(peak, chromiumResident());
  };
  sample();
  const timer = setInterval(sample, 100);
  return { stop: () => { clearInterval(timer); sample(); return peak; } };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/// `withUppy`: Uppy 6.3 goes in the rounds too (the small files, as issue #12 compares them).
async function compare(stack, label, paths, bytes, curlParallel, withUppy = false) {
  const results = { page: [], bare: [], curl: [], uppy: [], memory: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const page = await viaPage(stack, paths);
    results.page.push(page.ms);
    results.memory.push(page.peak);
    results.idle = Math.max(results.idle ?? 0, page.idle);
    results.bare.push((await viaBare(stack, paths)).ms);
    if (withUppy) results.uppy.push((await viaUppy(stack, paths)).ms);
    results.curl.push((await viaCurl(stack, paths, curlParallel)).ms);
  }
  const rate = ms => bytes / MIB / (ms / 1000);
  const [page, bare, curl] = ['page', 'bare', 'curl'].map(k => rate(median(results[k])));
  console.log(`${label} (median of ${ROUNDS} rounds, alternating):`);
  const uppy = withUppy ? rate(median(results.uppy)) : null;
  console.log(`  page ${page.toFixed(1)} MiB/s, bare XHR ${bare.toFixed(1)} MiB/s,${uppy ? ` Uppy 6.3 ${uppy.toFixed(1)} MiB/s,` : ''} curl ${curl.toFixed(1)} MiB/s`);
  console.log(`  page/curl ${(page / curl).toFixed(2)}, bare/curl ${(bare / curl).toFixed(2)}, page/bare ${(page / bare).toFixed(2)}${uppy ? `, page/Uppy ${(page / uppy).toFixed(2)}` : ''}`);
  return { peak: Math.max(...results.memory), idle: results.idle };
}

const stack = await Stack.start({ extraPages: { 'bare.html': BARE }, maxBytes: 4096 * MIB, hook: false });
// BENCH_PAGE_CONFIG: config.json fields for the page (e.g. '{"checksums":false}').
const PAGE_CONFIG = JSON.parse(process.env.BENCH_PAGE_CONFIG || '{}');
stack.pageConfig = PAGE_CONFIG;
const cases = (process.env.BENCH_CASES || 'big,small,many').split(',');

/// 10,000 files picked at once: responsiveness and memory, and all of them stored.
async function many(stack, count) {
  const paths = Array.from({ length: count }, (_, i) => {
    const folder = join(dir, 'many');
    mkdirSync(folder, { recursive: true });
    const path = join(folder, `m-${i}.txt`);
    writeFileSync(path, `file ${i}`);
    return path;
  });
  const before = (await stack.keys()).length;
  const page = await stack.open();
  // Chromium reports long tasks; Firefox and WebKit do not, so there a timer every 20 ms
  // measures how late it ran (how long the main thread was held), which comes to the same.
  await page.evaluate(() => {
    window.longest = 0;
    if (PerformanceObserver.supportedEntryTypes?.includes('longtask')) {
      new PerformanceObserver(list => { for (const e of list.getEntries()) window.longest = Math.max(window.longest, e.duration); })
        .observe({ type: 'longtask' });
    } else {
      let last = performance.now();
      const beat = () => { const now = performance.now(); window.longest = Math.max(window.longest, now - last - 20); last = now; setTimeout(beat, 20); };
      setTimeout(beat, 20);
    }
  });
  const t0 = performance.now();
  await page.setInputFiles('input[type=file]:not([webkitdirectory])', paths);
  await page.waitForSelector('[data-file-name]');
  const firstRow = performance.now() - t0;
  // Long tasks from here on: the first render of the list is allowed to be one.
  await page.evaluate(() => { window.longest = 0; });
  await page.waitForFunction(n => (document.querySelector('.summary .counts')?.textContent || '').includes(`Done ${n}`),
    count, { timeout: 900000, polling: 1000 });
  const all = performance.now() - t0;
  const { longest, heap } = await page.evaluate(() => ({ longest: window.longest, heap: performance.memory?.usedJSHeapSize ?? null }));
  const stored = (await stack.keys()).length - before;
  // Then "Clear finished": every row goes at once (the longest task that takes).
  await page.evaluate(() => { window.longest = 0; });
  const t1 = performance.now();
  await page.getByRole('button', { name: 'Clear finished' }).click();
  await page.waitForFunction(() => !document.querySelector('[data-file-name]'), null, { timeout: 120000, polling: 100 });
  const cleared = performance.now() - t1;
  const clearLongest = await page.evaluate(() => window.longest);
  console.log(`${BROWSER}: ${count} files picked at once: first row after ${firstRow.toFixed(0)} ms, all done after ${(all / 1000).toFixed(1)} s; ` +
    `longest main-thread task after the first row ${longest.toFixed(0)} ms (goal under 100); JS heap ${heap === null ? 'not reported by this browser' : `${(heap / MIB).toFixed(1)} MiB`}; ` +
    `${stored} of ${count} objects stored; Clear finished: list empty after ${cleared.toFixed(0)} ms, longest task ${clearLongest.toFixed(0)} ms`);
  await page.close();
}
/// One big file: the page's multipart upload (checksums on and off) against its single POST, Uppy
/// 6.3's single POST through the README's glue (with the file's MD5 and without) and curl's,
/// alternating, each with the CPU seconds it cost: the whole machine's and each process group's
/// (`cpu.mjs`). The signer is restarted between them with the threshold that decides.
/// BENCH_MODES narrows the modes down (their names as printed, separated by `;`; curl always runs).
async function multipart(stack, mib) {
  const paths = files('huge', 1, 0);
  const path = paths[0];
  const chunk = randomBytes(64 * MIB);
  for (let i = 0; i < mib / 64; i++) writeFileSync(path, chunk.subarray(0, Math.min(64, mib - i * 64) * MIB), { flag: 'a' });
  const bytes = mib * MIB;
  const page = config => stack => viaPage(stack, paths, config);
  const UPPY = 'Uppy 6.3 single POST (README glue, MD5)'; // what the CPU is compared with
  let modes = {
    'multipart, MD5 per part': { threshold: 64 * MIB, run: page({}) },
    'multipart, no checksums': { threshold: 64 * MIB, run: page({ checksums: false }) },
    'single POST': { threshold: bytes, run: page({}) },
    [UPPY]: { threshold: bytes, run: stack => viaUppy(stack, paths) },
    'Uppy 6.3 single POST, no MD5': { threshold: bytes, run: stack => viaUppy(stack, paths, { md5: false }) },
  };
  if (process.env.BENCH_MODES) {
    const wanted = process.env.BENCH_MODES.split(';');
    modes = Object.fromEntries(Object.entries(modes).filter(([label]) => wanted.includes(label)));
  }
  const results = Object.fromEntries([...Object.keys(modes), 'curl'].map(k => [k, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [label, mode] of Object.entries(modes)) {
      if (stack.multipartThreshold !== mode.threshold) {
        stack.multipartThreshold = mode.threshold;
        await stack.stopSigner();
        await stack.startSigner();
      }
      results[label].push(await mode.run(stack));
      await stack.deleteAll();
    }
    results.curl.push(await viaCurl(stack, paths, 1));
    await stack.deleteAll();
  }
  stack.pageConfig = PAGE_CONFIG;
  const rate = ms => bytes / MIB / (ms / 1000);
  const best = rate(Math.min(...results.curl.map(r => r.ms)));
  const fixed = (n, digits = 1) => (n === null || n === undefined ? '-' : n.toFixed(digits));
  console.log(`one file of ${mib} MiB (median of ${ROUNDS} rounds, alternating; curl: one POST, its best round ${best.toFixed(1)} MiB/s);`);
  console.log('CPU: the machine\'s busy CPU seconds during the upload (median), then by process group (median of each)');
  const uppyCpu = results[UPPY]?.length ? median(results[UPPY].map(r => r.cpu.machine)) : null;
  for (const [label, runs] of Object.entries(results)) {
    const speed = rate(median(runs.map(r => r.ms)));
    const machine = median(runs.map(r => r.cpu.machine ?? 0));
    const groups = [...new Set(runs.flatMap(r => Object.keys(r.cpu.groups)))].sort()
      .map(g => `${g} ${fixed(median(runs.map(r => r.cpu.groups[g] ?? 0)))}`).join(', ');
    const mem = runs[0].peak !== undefined
      ? `; Chromium ${(Math.max(...runs.map(r => r.idle)) / MIB).toFixed(0)} MiB idle, peak ${(Math.max(...runs.map(r => r.peak)) / MIB).toFixed(0)} MiB; ` +
        `tasks over 50 ms: ${runs.map(r => (r.longest.count ? `${r.longest.count}, longest ${r.longest.duration.toFixed(0)} ms at ${(r.longest.at / 1000).toFixed(1)} s` : 'none')).join(' / ')}`
      : '';
    const vsUppy = uppyCpu ? ` (${(machine / uppyCpu).toFixed(2)}x Uppy's POST)` : '';
    console.log(`  ${label}: ${speed.toFixed(1)} MiB/s (${(speed / best).toFixed(2)} of curl's best); CPU ${fixed(machine)} s${vsUppy} [${groups}]${mem}`);
  }
}

try {
  if (cases.includes('multipart')) await multipart(stack, Number(process.env.BENCH_MULTIPART_MIB || 1024));
  if (cases.includes('big')) {
    const mid = files('mid', 1, 64 * MIB);
    const big = files('big', 1, 256 * MIB);
    const smaller = await compare(stack, 'one file of 64 MiB', mid, 64 * MIB, 1);
    const bigger = await compare(stack, 'one file of 256 MiB', big, 256 * MIB, 1);
    const mb = bytes => (bytes / MIB).toFixed(0);
    console.log(`Chromium's memory (all its processes): ${mb(bigger.idle)} MiB before an upload, ` +
      `peak ${mb(smaller.peak)} MiB while uploading 64 MiB, ${mb(bigger.peak)} MiB while uploading 256 MiB`);
  }
  if (cases.includes('small')) {
    const small = files('small', 100, 64 * 1024);
    await compare(stack, '100 files of 64 KiB picked at once', small, 100 * 64 * 1024, 4, true);
  }
  if (cases.includes('many')) await many(stack, Number(process.env.BENCH_MANY || 10000));
} finally {
  await stack.stop();
  rmSync(dir, { recursive: true, force: true });
}
