// End-to-end: big files as S3 multipart uploads, through the release page in headless Chromium,
// the signer and the S3 server as real processes on 127.0.0.1 (../stack.mjs). The signer's
// threshold is lowered to 16 MiB so the files stay small enough for CI; parts are 8 MiB, four in
// flight. Runs against local-s3 and, with UPLOADER_S3=radosgw, against Ceph radosgw.

import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, request as httpRequest } from 'node:http';
import { appendFileSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BACKGROUND_TAB, BROWSER, CLOCK_NINE_HOURS_AHEAD, Stack, needs, asleep, rows, throttleUploads, waitForProgress, waitForStatus, test } from '../stack.mjs';

const MIB = 1024 * 1024;
const PART = 8 * MIB;
let stack;
let dir;

function file(name, bytes, mtime) {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  if (mtime) utimesSync(path, mtime, mtime);
  return path;
}

/// Polls `check` (in the test) until it gives a truthy value.
async function waitFor(check, timeout, what) {
  const deadline = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 200));
  }
}

async function row(page, name) {
  return (await rows(page)).find(r => r.name === name);
}

/// Every part PUT the page starts, by part number, and how each ended.
function watchParts(page) {
  const parts = { started: [], finished: [], failed: [] };
  const number = request => Number(new URL(request.url()).searchParams.get('partNumber'));
  page.on('request', r => { if (r.method() === 'PUT') parts.started.push(number(r)); });
  page.on('requestfinished', r => { if (r.method() === 'PUT') parts.finished.push(number(r)); });
  page.on('requestfailed', r => { if (r.method() === 'PUT') parts.failed.push(number(r)); });
  return parts;
}

async function progressOf(page, name) {
  return Number(await page.getAttribute(`[data-file-name="${name}"] [role=progressbar]`, 'aria-valuenow'));
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'uploader-e2e-multipart-'));
  stack = await Stack.start({ maxBytes: 512 * MIB, multipartThreshold: 16 * MIB });
});

after(async () => {
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('M1. a 200 MiB file goes up in parts and arrives byte-identical, with progress on the way', async () => {
  const page = await stack.open();
  const parts = watchParts(page);
  const seen = [];
  const bytes = randomBytes(200 * MIB);
  await page.setInputFiles('input[type=file]', [file('big.bin', bytes)]);
  while (true) {
    const r = await row(page, 'big.bin');
    seen.push(await progressOf(page, 'big.bin'));
    if (['done', 'failed'].includes(r.status)) break;
    await page.waitForTimeout(200);
  }
  const done = await row(page, 'big.bin');
  assert.equal(done.status, 'done', done.error);
  assert.equal(done.attempt, 1);
  assert.match(done.key, /^uploads\/[0-9a-f]{32}\/big\.bin$/);
  assert.ok(bytes.equals(await stack.object(done.key)), 'the stored object differs');
  assert.ok(seen.some(v => v > 0 && v < 100), `no intermediate progress: ${seen}`);
  // 25 parts, each sent once.
  assert.deepEqual([...parts.finished].sort((a, b) => a - b), Array.from({ length: 25 }, (_, i) => i + 1));
  assert.deepEqual(await stack.unfinishedUploads(), []);
  assert.deepEqual(page.errors, []);
});

test('M4. cancel mid-upload: no object and no unfinished multipart upload left', async () => {
  const page = await stack.open();
  await throttleUploads(page, 8 * MIB);
  await page.setInputFiles('input[type=file]', [file('cancel-me.bin', randomBytes(64 * MIB))]);
  await page.waitForFunction(() => Number(document.querySelector('[data-file-name="cancel-me.bin"] [role=progressbar]')?.getAttribute('aria-valuenow')) > 15, null, { timeout: 60000 });
  const key = (await row(page, 'cancel-me.bin')).key;
  assert.ok(key, 'data-key is set once create answered');
  await page.click('[data-file-name="cancel-me.bin"] button:text-is("Cancel")');
  await waitForStatus(page, ['cancel-me.bin'], ['cancelled'], 5000);
  await throttleUploads(page, -1);
  // The abort is sent twice, a second apart (for a part still arriving).
  await page.waitForTimeout(3000);
  assert.equal(await stack.object(key), null);
  const left = await stack.unfinishedUploads();
  assert.deepEqual(left.filter(k => !k.startsWith('uploads/') || k === key), []);
});

test('M2. S3 stopped for 20 s mid-upload: the upload finishes, re-sending at most the parts in flight', async () => {
  const page = await stack.open();
  const parts = watchParts(page);
  await throttleUploads(page, 8 * MIB);
  const bytes = randomBytes(96 * MIB);
  await page.setInputFiles('input[type=file]', [file('outage.bin', bytes)]);
  await page.waitForFunction(() => Number(document.querySelector('[data-file-name="outage.bin"] [role=progressbar]')?.getAttribute('aria-valuenow')) > 20, null, { timeout: 60000 });
  const key = (await row(page, 'outage.bin')).key;
  await stack.stopS3();
  try {
    await page.waitForFunction(() => ['StoreUnreachable', 'Network'].includes(document.querySelector('[data-file-name="outage.bin"]')?.dataset.error), null, { timeout: 20000 });
    await page.waitForTimeout(20000);
    assert.notEqual((await row(page, 'outage.bin')).status, 'failed', 'failed during a 20 s outage');
  } finally {
    await stack.startS3();
  }
  await waitForStatus(page, ['outage.bin'], ['done', 'failed'], 180000);
  const done = await row(page, 'outage.bin');
  assert.equal(done.status, 'done', done.error);
  assert.equal(done.key, key);
  assert.equal(done.attempt, 1);
  assert.ok(bytes.equals(await stack.object(key)));
  // The parts cut off by the outage are the only ones sent again: at most the four in flight.
  const resent = new Set(parts.failed);
  assert.ok(resent.size >= 1 && resent.size <= 4, `parts cut off: ${[...resent]}`);
  const finished = [...parts.finished].sort((a, b) => a - b);
  assert.deepEqual(finished, Array.from({ length: 12 }, (_, i) => i + 1), 'every part stored exactly once');
  await throttleUploads(page, -1);
});

test('M3. reloaded mid-upload: the same file picked again sends only the missing parts; another file of the same name, size and date is not merged', async () => {
  const mtime = new Date('2026-11-30T10:00:00Z');
  const bytes = randomBytes(80 * MIB);
  const path = file('resume.bin', bytes, mtime);
  let page = await stack.open();
  await throttleUploads(page, 16 * MIB);
  await page.setInputFiles('input[type=file]', [path]);
  await page.waitForFunction(() => Number(document.querySelector('[data-file-name="resume.bin"] [role=progressbar]')?.getAttribute('aria-valuenow')) >= 40, null, { timeout: 60000 });
  // Through the stack's proxy (outside Chromium) the page's progress runs ahead of S3 by what
  // the sockets between them hold: the reload comes once S3 holds a part.
  if (BROWSER !== 'chromium') await waitFor(() => stack.partsStored(), 60000, 'a part stored');
  const key = (await row(page, 'resume.bin')).key;
  // A reload: the same tab, the page starts again (leaving is confirmed if the page asks).
  page.on('dialog', d => d.accept());
  await page.reload();
  await page.waitForSelector('[data-file-name="resume.bin"][data-status="unfinished"]', { timeout: 15000 });
  const unfinished = await row(page, 'resume.bin');
  assert.equal(unfinished.key, key);
  assert.match(await page.textContent('[data-file-name="resume.bin"] .reason'), /choose or drop this file again/);
  await page.waitForFunction(() => Number(document.querySelector('[data-file-name="resume.bin"] [role=progressbar]')?.getAttribute('aria-valuenow')) > 0, null, { timeout: 15000 });
  const storedBefore = await progressOf(page, 'resume.bin');

  // Another file with the same name, size and modification time: a new upload of its own.
  const otherDir = mkdtempSync(join(dir, 'other-'));
  const otherBytes = randomBytes(80 * MIB);
  const otherPath = join(otherDir, 'resume.bin');
  writeFileSync(otherPath, otherBytes);
  utimesSync(otherPath, mtime, mtime);
  await throttleUploads(page, -1);
  await page.setInputFiles('input[type=file]', [otherPath]);
  await page.waitForFunction(() => document.querySelector('[data-file-name="resume.bin"][data-status="done"]'), null, { timeout: 120000 });
  const all = await rows(page);
  const other = all.find(r => r.name === 'resume.bin' && r.status === 'done');
  assert.notEqual(other.key, key, 'merged into the unfinished upload');
  assert.ok(otherBytes.equals(await stack.object(other.key)));
  assert.ok(all.some(r => r.name === 'resume.bin' && r.status === 'unfinished'), 'the unfinished upload is still listed');

  // The right file: only the parts S3 does not hold go up.
  const parts = watchParts(page);
  await page.setInputFiles('input[type=file]', [path]);
  await page.waitForFunction(k => document.querySelector(`[data-key="${k}"][data-status="done"]`), key, { timeout: 120000 });
  assert.ok(bytes.equals(await stack.object(key)));
  const storedParts = Math.floor((storedBefore / 100) * 10);
  assert.ok(parts.started.length <= 10 - storedParts + 1, `sent ${parts.started.length} parts, ${storedBefore}% was stored`);
  assert.ok(parts.started.length < 10, 'every part was sent again');
  assert.equal((await rows(page)).filter(r => r.status === 'unfinished').length, 0);
  // Nothing left to resume after another reload.
  await page.reload();
  await page.waitForSelector('input[type=file]');
  await page.waitForTimeout(1500);
  assert.equal((await rows(page)).length, 0);
  assert.deepEqual(page.errors, []);
});

test('M6. a tab in the background longer than the stall timeout while a big file uploads: done, in one attempt', async () => {
  const page = await stack.open({ init: BACKGROUND_TAB });
  await throttleUploads(page, 1.5 * MIB);
  const bytes = randomBytes(72 * MIB);
  await page.setInputFiles('input[type=file]', [file('background-big.bin', bytes)]);
  await page.waitForFunction(() => Number(document.querySelector('[data-file-name="background-big.bin"] [role=progressbar]')?.getAttribute('aria-valuenow')) > 0, null, { timeout: 30000 });
  await page.evaluate(() => window.__hide());
  await page.waitForTimeout(40000);
  assert.equal(await page.evaluate(() => document.visibilityState), 'hidden');
  await page.evaluate(() => window.__show());
  await waitForStatus(page, ['background-big.bin'], ['done', 'failed'], 120000);
  const done = await row(page, 'background-big.bin');
  assert.equal(done.status, 'done', done.error);
  assert.equal(done.attempt, 1);
  assert.ok(bytes.equals(await stack.object(done.key)));
  await throttleUploads(page, -1);
  assert.deepEqual(page.errors, []);
});

test('M13. files picked while the tab is in the background: their MD5s wait on no timer (a hidden tab\'s run once a second at most), so they go up at full speed', async (t) => {
  const page = await stack.open({ init: BACKGROUND_TAB });
  await page.evaluate(() => window.__hide());
  const before = new Set(await stack.keys());
  // 12 parts of 8 MiB, each hashed in two 4 MiB steps, and a 15 MiB single POST hashed in four:
  // a timer between steps would cost about a second each here, as in a real background tab.
  const big = randomBytes(96 * MIB);
  const small = randomBytes(15 * MIB);
  const started = Date.now();
  await page.setInputFiles('input[type=file]', [file('m13-hidden-big.bin', big), file('m13-hidden-small.bin', small)]);
  // The page draws nothing while hidden, so the store tells when both have arrived.
  await waitFor(async () => (await stack.keys()).filter(k => !before.has(k) && k.includes('m13-hidden-')).length === 2, 120000, 'both objects stored');
  const took = Date.now() - started;
  const hidden = await page.evaluate(() => ({ state: document.visibilityState, timeouts: window.__hiddenTimeouts() }));
  assert.equal(hidden.state, 'hidden');
  // The waits a background tab stretches to a second (not the test driver's 30 s script
  // timeouts in WebKit): before, each of the 15 hashing steps after a file's or a part's first
  // waited on one. Yew's scheduler still yields with one when a batch of its work runs past
  // 16 ms, a few times an upload on a busy machine.
  const waits = hidden.timeouts.filter(ms => ms < 1000);
  t.diagnostic(`${BROWSER}: 111 MiB stored from a hidden tab in ${took} ms; timers set while hidden: ${JSON.stringify(hidden.timeouts)}`);
  assert.ok(waits.length <= 8, `${waits.length} short timers set while hidden`);
  await page.evaluate(() => window.__show());
  await waitForStatus(page, ['m13-hidden-big.bin', 'm13-hidden-small.bin'], ['done', 'failed'], 60000);
  for (const [name, bytes] of [['m13-hidden-big.bin', big], ['m13-hidden-small.bin', small]]) {
    const done = await row(page, name);
    assert.equal(done.status, 'done', done.error);
    assert.equal(done.attempt, 1);
    assert.ok(bytes.equals(await stack.object(done.key)));
  }
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('M14. a file changed or deleted on disk mid-upload: stored as picked or failed at once with why, never other bytes; Remove leaves no upload behind', async (t) => {
  const page = await stack.open();
  await throttleUploads(page, 2 * MIB);
  const outcomes = {};
  for (const how of ['rewritten', 'removed', 'appended']) {
    const name = `m14-${how}.bin`;
    const path = join(dir, name);
    // Six parts: four in flight at first, two read after the change.
    const bytes = randomBytes(48 * MIB);
    writeFileSync(path, bytes);
    await page.setInputFiles('input[type=file]', [path]);
    await waitForProgress(page, name, 5);
    if (how === 'rewritten') writeFileSync(path, randomBytes(48 * MIB));
    if (how === 'removed') rmSync(path);
    if (how === 'appended') appendFileSync(path, 'more');
    // Not retried for minutes as a network or CORS failure.
    await waitForStatus(page, [name], ['failed', 'done'], 60000).catch(async e => {
      throw new Error(`${how}: ${JSON.stringify(await row(page, name))}: ${e.message}`);
    });
    const ended = await row(page, name);
    outcomes[how] = `${ended.status} ${ended.error}`;
    if (ended.status === 'done') {
      // What the browser still reads as picked (WebKit reads on from a deleted file it holds
      // open, Firefox and WebKit a grown file up to its picked size): the bytes picked.
      assert.ok(bytes.equals(await stack.object(ended.key)), `${how}: not the bytes picked`);
      continue;
    }
    // Chromium refuses every read of a file changed since it was picked; Firefox and WebKit
    // read a rewritten file's new bytes, which S3 refuses under the MD5 in the part's URL.
    assert.equal(ended.status, 'failed');
    const reason = await page.textContent(`[data-file-name="${name}"] .reason`);
    if (ended.error === 'BadDigest') assert.match(reason, /changed after it was chosen/);
    else {
      assert.equal(ended.error, 'FileUnreadable', `${how}: ${reason}`);
      assert.match(reason, /can no longer be read/);
    }
    assert.equal(await stack.object(ended.key), null);
    await page.click(`[data-file-name="${name}"] button:text-is("Remove")`);
  }
  t.diagnostic(`${BROWSER}: ${JSON.stringify(outcomes)}`);
  // Every browser fails a deleted file (before, its parts were retried for five minutes as a
  // refused CORS rule, or stalled and were sent again); Chromium also a grown one, whose reads it
  // refuses from then on (a rewritten one ends as either, by when the parts were read).
  assert.equal(outcomes.removed, 'failed FileUnreadable');
  if (BROWSER === 'chromium') assert.equal(outcomes.appended, 'failed FileUnreadable');
  await throttleUploads(page, -1);
  // Each failed upload's parts went with its row (aborted, as a cancel is).
  await waitFor(async () => (await stack.unfinishedUploads()).length === 0, 20000, 'no unfinished upload left');
  // Firefox logs a cross-origin request it could not send as blocked: the browser's words about
  // its own request, not an error of the page.
  assert.deepEqual(page.errors.filter(e => !e.startsWith('Cross-Origin Request Blocked')), []);
  await page.context().close();
});

test('M7. the laptop asleep for 40 s mid-upload (no script runs, no network): done, re-sending at most the parts in flight', { skip: needs('debugger') }, async () => {
  const page = await stack.open();
  const parts = watchParts(page);
  await throttleUploads(page, 1.5 * MIB);
  const bytes = randomBytes(40 * MIB);
  await page.setInputFiles('input[type=file]', [file('asleep-big.bin', bytes)]);
  await waitForProgress(page, 'asleep-big.bin', 5);
  // Longer than the 30 s stall timeout.
  const ran = await asleep(page, 40000, 1.5 * MIB);
  // Awake, 400; the pause takes hold a few ticks late on a busy machine.
  assert.ok(ran <= 5, `the page ran ${ran} timer ticks while asleep`);
  await waitForStatus(page, ['asleep-big.bin'], ['done', 'failed'], 180000);
  const done = await row(page, 'asleep-big.bin');
  assert.equal(done.status, 'done', done.error);
  assert.ok(bytes.equals(await stack.object(done.key)));
  // Five parts, each stored once; at most the four in flight sent again.
  assert.deepEqual([...new Set(parts.finished)].sort((a, b) => a - b), [1, 2, 3, 4, 5]);
  assert.ok(parts.started.length <= 5 + 4, `part requests: ${parts.started}`);
  assert.deepEqual(await stack.unfinishedUploads(), []);
  await throttleUploads(page, -1);
  assert.deepEqual(page.errors, []);
});

test('M8. a second tab of the page does not list the upload the first is running (its Remove would end it); once the first is closed, it does, and resumes it', async () => {
  const first = await stack.open();
  await throttleUploads(first, 1.5 * MIB);
  const bytes = randomBytes(40 * MIB);
  const path = file('two-tabs.bin', bytes);
  await first.setInputFiles('input[type=file]', [path]);
  // Created, and its resume record stored.
  await first.waitForFunction(() => new Promise(resolve => {
    const open = indexedDB.open('uploader');
    open.onerror = () => resolve(false);
    open.onsuccess = () => {
      const db = open.result;
      if (!db.objectStoreNames.contains('uploads')) return resolve(false);
      const count = db.transaction('uploads').objectStore('uploads').count();
      count.onsuccess = () => { db.close(); resolve(count.result === 1); };
    };
  }), null, { timeout: 30000, polling: 250 });
  // A second tab of the page, in the same browser: it reads the same records.
  const second = await stack.open({ context: first.context() });
  await second.waitForTimeout(2000);
  assert.deepEqual(await rows(second), [], 'the second tab lists the first tab\'s upload');
  assert.equal((await row(first, 'two-tabs.bin')).status, 'uploading');
  // The first tab closed mid-upload: the upload is the second tab's to resume.
  await first.close();
  await second.reload();
  await waitForStatus(second, ['two-tabs.bin'], ['unfinished'], 10000);
  await second.setInputFiles('input[type=file]', [path]);
  await waitForStatus(second, ['two-tabs.bin'], ['done', 'failed'], 120000);
  // One row: the unfinished one became this upload.
  const all = await rows(second);
  assert.equal(all.length, 1, JSON.stringify(all));
  const [done] = all;
  assert.equal(done.status, 'done', done.error);
  assert.ok(bytes.equals(await stack.object(done.key)));
  assert.deepEqual(await stack.unfinishedUploads(), []);
  assert.deepEqual(first.errors, []);
  assert.deepEqual(second.errors, []);
});

test('M9. a laptop clock nine hours ahead: a big file and small ones still upload, with no part URL signed over and over', async () => {
  const page = await stack.open({ init: CLOCK_NINE_HOURS_AHEAD });
  let signParts = 0;
  let signs = 0;
  // POSTs only: Firefox reports the CORS preflights too.
  page.on('request', r => {
    if (r.method() !== 'POST') return;
    if (r.url().endsWith('/multipart/sign-parts')) signParts += 1;
    if (/\/sign(\/batch)?$/.test(r.url())) signs += 1;
  });
  const parts = watchParts(page);
  const big = randomBytes(40 * MIB);
  const small = Array.from({ length: 12 }, () => randomBytes(64 * 1024));
  await page.setInputFiles('input[type=file]', [
    file('skewed-big.bin', big),
    ...small.map((bytes, i) => file(`skewed-${i}.bin`, bytes)),
  ]);
  const names = ['skewed-big.bin', ...small.map((_, i) => `skewed-${i}.bin`)];
  await waitForStatus(page, names, ['done', 'failed'], 120000);
  const all = await rows(page);
  for (const r of all) assert.equal(r.status, 'done', `${r.name}: ${r.error}`);
  assert.ok(big.equals(await stack.object(all.find(r => r.name === 'skewed-big.bin').key)));
  for (const [i, bytes] of small.entries()) {
    assert.ok(bytes.equals(await stack.object(all.find(r => r.name === `skewed-${i}.bin`).key)));
  }
  // Five parts, each sent once, their URLs signed in a few requests, not again and again; each
  // small file signed once (in batches), not once ahead and once more at its turn.
  assert.deepEqual([...parts.started].sort((a, b) => a - b), [1, 2, 3, 4, 5]);
  assert.ok(signParts <= 5, `sign-parts requests: ${signParts}`);
  assert.ok(signs <= 12, `sign requests: ${signs}`);
  assert.deepEqual(await stack.unfinishedUploads(), []);
  assert.deepEqual(page.errors, []);
});

test('M10. files picked before the rules arrive wait for them: the refused one is refused before any request, the big one goes up in parts', async () => {
  // A signer whose /rules answers 3 s late (the page talks to it through this proxy), keeping
  // every file name it was asked to sign and how.
  const asked = [];
  const proxy = createServer((req, res) => {
    const chunks = [];
    req.on('data', c => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const path = new URL(req.url, 'http://x').pathname;
      for (const name of body.toString().matchAll(/"filename":"([^"]*)"/g)) asked.push(`${path} ${name[1]}`);
      if (path.endsWith('/rules')) await new Promise(r => setTimeout(r, 3000));
      const upstream = httpRequest(`${stack.signerUrl}${req.url}`, { method: req.method, headers: req.headers }, answer => {
        res.writeHead(answer.statusCode, answer.headers);
        answer.pipe(res);
      });
      upstream.end(body);
    });
  });
  await new Promise(resolve => proxy.listen(0, '127.0.0.1', resolve));
  stack.pageConfig.signerUrl = `http://127.0.0.1:${proxy.address().port}`;
  try {
    const page = await stack.open({ rules: false });
    const bytes = randomBytes(20 * MIB);
    // At once, long before the rules answer.
    await page.setInputFiles('input[type=file]:not([webkitdirectory])', [
      file('m10-report.pdf', bytes), file('m10-page.html', Buffer.from('<!DOCTYPE html><p>hi')), file('m10-cat.png', randomBytes(1024)),
    ]);
    assert.equal(await page.evaluate(() => document.querySelector('.limits')?.textContent.length ?? 0), 0, 'the rules came too early for the test');
    await waitForStatus(page, ['m10-report.pdf', 'm10-cat.png'], ['done'], 60000);
    await waitForStatus(page, ['m10-page.html'], ['refused']);
    assert.equal((await row(page, 'm10-page.html')).error, 'ContentTypeNotAllowed');
    assert.ok(!asked.some(a => a.includes('m10-page.html')), `the refused file reached the signer: ${asked}`);
    assert.deepEqual(asked.filter(a => a.includes('m10-report.pdf')), ['/multipart/create m10-report.pdf']);
    assert.ok(bytes.equals(await stack.object((await row(page, 'm10-report.pdf')).key)));
    assert.deepEqual(page.errors, []);
    await page.context().close();
  } finally {
    delete stack.pageConfig.signerUrl;
    await new Promise(resolve => proxy.close(resolve));
  }
});

test('M11. left mid-upload and come back: a page kept in the back-forward cache (Safari) goes on under its lock, one loaded again lists the upload; one another tab took over meanwhile is left to it', async () => {
  const SHOWN = `addEventListener('pageshow', e => { window.__restored = e.persisted; });`;
  const held = page => page.evaluate(async () => (await navigator.locks.query()).held.filter(l => l.name.startsWith('uploader:')).length);
  const away = async page => {
    // After the script has returned: a navigation during it can leave WebDriver's Execute
    // Script without an answer (it hung once in WebKit).
    await page.evaluate(() => { setTimeout(() => { location.href = '/__e2e/blank'; }, 50); });
    await page.waitForFunction(() => location.pathname === '/__e2e/blank', null, { timeout: 10000 });
  };
  const back = async page => {
    await page.evaluate(() => { setTimeout(() => history.back(), 50); });
    await page.waitForFunction(() => location.pathname !== '/__e2e/blank' && document.querySelector('input[type=file]'), null, { timeout: 10000 });
    await page.waitForTimeout(1500);
    return page.evaluate(() => window.__restored === true);
  };
  const bytes = randomBytes(48 * MIB);
  const path = file('m11-away.bin', bytes);
  const page = await stack.open({ init: SHOWN });
  page.on('dialog', d => d.accept());
  await throttleUploads(page, 2 * MIB);
  await page.setInputFiles('input[type=file]', [path]);
  await page.waitForFunction(() => Number(document.querySelector('[data-file-name="m11-away.bin"] [role=progressbar]')?.getAttribute('aria-valuenow')) >= 10, null, { timeout: 60000 });
  await waitFor(() => stack.partsStored(), 60000, 'a part stored');
  const key = (await row(page, 'm11-away.bin')).key;

  // Away and back, nothing else in between.
  await away(page);
  const restored = await back(page);
  const again = await row(page, 'm11-away.bin');
  assert.equal(again.key, key);
  if (restored) {
    // Safari let go of the page's locks when it left: the page took its lock again.
    assert.notEqual(again.status, 'failed', again.error);
    assert.equal(await held(page), 1, 'the lock was not taken again');
  } else {
    assert.equal(again.status, 'unfinished');
  }

  // A second tab of the page, opened now, lists nothing (the first holds the upload's lock).
  // Away again, and meanwhile the second tab is reloaded: it lists the upload (nothing holds
  // it: listing it takes its lock) and resumes it.
  const second = await stack.open({ context: page.context() });
  assert.deepEqual(await rows(second), []);
  await away(page);
  await second.reload();
  await waitForStatus(second, ['m11-away.bin'], ['unfinished'], 10000);
  await throttleUploads(second, -1);
  await second.setInputFiles('input[type=file]', [path]);
  if (await back(page)) {
    // The first page, shown again, finds the lock taken: it leaves the upload to that tab.
    await waitForStatus(page, ['m11-away.bin'], ['refused'], 10000);
    const left = await row(page, 'm11-away.bin');
    assert.equal(left.error, 'OtherTab');
    assert.match(await page.textContent('[data-file-name="m11-away.bin"] .reason'), /Another tab took this upload over/);
  } else {
    assert.deepEqual(await rows(page), [], 'both tabs list the upload');
  }
  // The second tab finishes it. (In WebKit it is a tab in the background, which keeps uploading
  // but draws nothing until shown: the store says when it is done, then the first tab closes.)
  await waitFor(async () => (await stack.object(key).catch(() => null))?.equals(bytes), 120000, 'the object stored');
  assert.deepEqual(page.errors, []);
  await page.close();
  await waitForStatus(second, ['m11-away.bin'], ['done', 'failed'], 30000);
  const done = await row(second, 'm11-away.bin');
  assert.equal(done.status, 'done', done.error);
  assert.equal(done.key, key);
  assert.deepEqual(await stack.unfinishedUploads(), []);
  assert.deepEqual(second.errors, []);
  await second.context().close();
});

test('M12. storage full (localStorage at the browser\'s quota, IndexedDB refusing every write): files still upload, a big one in parts, with no error', async () => {
  // IndexedDB at its quota refuses a write with QuotaExceededError; localStorage is really filled.
  const FULL = `{ const put = IDBObjectStore.prototype.put;
  IDBObjectStore.prototype.put = function () { window.__refused = (window.__refused || 0) + 1; throw new DOMException('The quota has been exceeded.', 'QuotaExceededError'); }; }`;
  const page = await stack.open({ init: FULL });
  const filled = await page.evaluate(() => {
    const chunk = 'x'.repeat(64 * 1024);
    let n = 0;
    try { for (; n < 10000; n++) localStorage.setItem(`filler-${n}`, chunk); } catch (e) { return { n, name: e.name }; }
    return { n, name: null };
  });
  assert.equal(filled.name, 'QuotaExceededError', JSON.stringify(filled));
  const big = randomBytes(20 * MIB);
  const small = randomBytes(64 * 1024);
  await page.setInputFiles('input[type=file]', [file('m12-big.bin', big), file('m12-small.bin', small)]);
  await waitForStatus(page, ['m12-big.bin', 'm12-small.bin'], ['done', 'failed'], 60000);
  for (const [name, bytes] of [['m12-big.bin', big], ['m12-small.bin', small]]) {
    const done = await row(page, name);
    assert.equal(done.status, 'done', done.error);
    assert.ok(bytes.equals(await stack.object(done.key)));
  }
  assert.ok(await page.evaluate(() => window.__refused) >= 1, 'the resume record was never written');
  assert.deepEqual(page.errors, []);
  await page.evaluate(() => localStorage.clear());
  await page.context().close();
});
