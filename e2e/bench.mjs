// Throughput benchmark (not a test): `cargo xtask bench`. The same uploads through the page in
// headless Chromium, through a bare one-XHR-per-file page (the browser's ceiling), and with curl
// (same signer, same fields, same S3 server), alternating, in rounds. Prints MiB/s and ratios, for
// one 256 MiB file and for 100 files of 64 KiB picked at once, and the browser's memory during the
// big upload (it must not grow with the file).

import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Stack, waitForStatus } from './stack.mjs';

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
    await new Promise((resolve, reject) => { const x = new XMLHttpRequest(); x.open('POST', signed.url);
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

async function viaPage(stack, paths) {
  const page = await stack.open();
  await page.evaluate(() => {
    new MutationObserver(() => {
      const rows = [...document.querySelectorAll('[data-file-name]')];
      if (rows.length && !window.started) window.started = performance.now();
      if (rows.length && rows.every(r => r.dataset.status === 'done') && !window.finished) window.finished = performance.now();
    }).observe(document.body, { subtree: true, childList: true, attributes: true });
  });
  const memory = sampleMemory(stack);
  await page.setInputFiles('input[type=file]', paths);
  await waitForStatus(page, paths.map(p => p.split('/').at(-1)), ['done'], 600000);
  await page.waitForFunction(() => window.finished);
  const ms = await page.evaluate(() => window.finished - window.started);
  const peak = memory.stop();
  await page.context().close();
  return { ms, peak };
}

async function viaBare(stack, paths) {
  const context = await stack.browser.newContext();
  const page = await context.newPage();
  await page.goto(stack.pageUrl + 'bare.html');
  await page.setInputFiles('input[type=file]', paths);
  await page.waitForFunction(() => window.finished, null, { timeout: 600000 });
  const ms = await page.evaluate(() => window.finished - window.started);
  await context.close();
  return { ms };
}

async function viaCurl(stack, paths, parallel) {
  const started = performance.now();
  const queue = [...paths];
  const worker = async () => {
    for (let path; (path = queue.shift()); ) {
      const signed = await (await fetch(`${stack.signerUrl}/sign`, { method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ filename: path.split('/').at(-1), contentType: 'application/octet-stream', size: Number(execFileSync('stat', ['-c', '%s', path]).toString()) }) })).json();
      const args = ['-s', '-o', '/dev/null', '-w', '%{http_code}'];
      for (const [k, v] of Object.entries(signed.fields)) args.push('--form-string', `${k}=${v}`);
      args.push('-F', `file=@${path};type=application/octet-stream`, signed.url);
      const status = await new Promise(resolve => {
        const curl = spawn('curl', args);
        let out = '';
        curl.stdout.on('data', d => { out += d; });
        curl.on('exit', () => resolve(out));
      });
      if (status !== '201') throw new Error(`curl upload answered ${status}`);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return { ms: performance.now() - started };
}

/// Peak resident memory of all of Chromium's processes while the page uploads.
function sampleMemory(stack) {
  const pid = stack.browser.process?.()?.pid;
  let peak = 0;
  const sample = () => {
    try {
      const out = execFileSync('ps', ['-e', '-o', 'pid=,ppid=,rss=']).toString();
      const rows = out.trim().split('\n').map(l => l.trim().split(/\s+/).map(Number));
      const tree = new Set([pid]);
      for (let changed = true; changed;) {
        changed = false;
        for (const [p, pp] of rows) if (tree.has(pp) && !tree.has(p)) { tree.add(p); changed = true; }
      }
      peak = Math.max(peak, rows.filter(([p]) => tree.has(p)).reduce((sum, [, , rss]) => sum + rss, 0));
    } catch { /* ps unavailable: no memory figure */ }
  };
  sample();
  const timer = setInterval(sample, 100);
  return { stop: () => { clearInterval(timer); sample(); return peak * 1024; } };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function compare(stack, label, paths, bytes, curlParallel) {
  const results = { page: [], bare: [], curl: [], memory: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const page = await viaPage(stack, paths);
    results.page.push(page.ms);
    results.memory.push(page.peak);
    results.bare.push((await viaBare(stack, paths)).ms);
    results.curl.push((await viaCurl(stack, paths, curlParallel)).ms);
  }
  const rate = ms => bytes / MIB / (ms / 1000);
  const [page, bare, curl] = ['page', 'bare', 'curl'].map(k => rate(median(results[k])));
  console.log(`${label} (median of ${ROUNDS} rounds, alternating):`);
  console.log(`  page ${page.toFixed(1)} MiB/s, bare XHR ${bare.toFixed(1)} MiB/s, curl ${curl.toFixed(1)} MiB/s`);
  console.log(`  page/curl ${(page / curl).toFixed(2)}, bare/curl ${(bare / curl).toFixed(2)}, page/bare ${(page / bare).toFixed(2)}`);
  return Math.max(...results.memory);
}

const stack = await Stack.start({ extraPages: { 'bare.html': BARE } });
try {
  const big = files('big', 1, 256 * MIB);
  const peak = await compare(stack, 'one file of 256 MiB', big, 256 * MIB, 1);
  console.log(`  Chromium's peak memory during the page's 256 MiB uploads: ${(peak / MIB).toFixed(0)} MiB (all its processes)`);
  const small = files('small', 100, 64 * 1024);
  await compare(stack, '100 files of 64 KiB picked at once', small, 100 * 64 * 1024, 4);
} finally {
  await stack.stop();
  rmSync(dir, { recursive: true, force: true });
}
