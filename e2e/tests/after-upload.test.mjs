// End-to-end, building on the uploader (issue #20): what a site that embeds the page hears, and
// what the after-upload hook writes beside each stored file. The page is framed by host pages on
// two other origins (one listed in config.json's `embedOrigins`, one not) and opened on its own.

import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RADOSGW, Stack, needs, rows, waitForStatus, test } from '../stack.mjs';

let stack;
let dir;
/// Host pages, each on its own origin: `listed` is in embedOrigins, `unlisted` is not.
const hosts = {};

/// A whole 1x1 PNG.
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000a49444154789c63000100000500010d0a2db40000000049454e44ae426082', 'hex');
const HTML = Buffer.from('<!DOCTYPE html>\n<html><body><script>alert(document.cookie)</script></body></html>\n');

/// A page on its own origin that frames the uploader and keeps every message it receives.
async function hostPage() {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<!doctype html><title>host</title>
<script>window.received = []; addEventListener('message', e => window.received.push({ origin: e.origin, data: e.data }));</script>
<iframe title="Upload files" src="${stack.pageUrl}" width="900" height="700"></iframe>`);
  });
  await new Promise(resolve => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${server.address().port}` };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'uploader-after-files-'));
  // The hosts' origins go into the page's config.json; their pages name the stack's page.
  hosts.listed = await hostPage();
  hosts.unlisted = await hostPage();
  stack = await Stack.start({ pageConfig: { embedOrigins: [hosts.listed.origin, 'https://example.com'] } });
});

after(async () => {
  await stack?.stop();
  for (const host of Object.values(hosts)) await new Promise(resolve => host.server.close(resolve));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function file(name, bytes) {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

const sha256 = bytes => createHash('sha256').update(bytes).digest('hex');

/// The host page at `origin` with the uploader framed in it, ready (rules loaded).
async function framed(host) {
  const context = await stack.browser.newContext({ viewport: { width: 1000, height: 900 } });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', e => page.errors.push(e.message));
  await page.goto(`${host.origin}/`);
  const frame = page.frames().find(f => f.url().startsWith(stack.pageUrl)) ?? (await (await page.waitForSelector('iframe')).contentFrame());
  await frame.waitForSelector('input[type=file]');
  await frame.waitForFunction(() => document.querySelector('.limits')?.textContent.length > 0, null, { timeout: 10000 });
  return { page, frame };
}

/// Three files: a PNG and a text file the rules allow, and an HTML document they refuse.
function threeFiles(tag) {
  return {
    [`${tag}-cat.png`]: PNG,
    [`${tag}-notes.txt`]: randomBytes(2048),
    [`${tag}-page.html`]: HTML,
  };
}

test('H1. a listed host hears one upload-done per stored file, with the key its row shows, one upload-failed with the reason and one all-done', async () => {
  const { page, frame } = await framed(hosts.listed);
  const files = threeFiles('h1');
  await frame.setInputFiles('input[type=file]:not([webkitdirectory])', Object.entries(files).map(([name, bytes]) => file(name, bytes)));
  await waitForStatus(frame, ['h1-cat.png', 'h1-notes.txt'], ['done']);
  await waitForStatus(frame, ['h1-page.html'], ['refused', 'failed']);
  await page.waitForFunction(() => window.received.some(m => m.data?.type === 'all-done'), null, { timeout: 10000 });
  // A moment for anything told twice to arrive too.
  await new Promise(r => setTimeout(r, 500));
  const received = await page.evaluate(() => window.received);
  assert.ok(received.every(m => m.origin === new URL(stack.pageUrl).origin), JSON.stringify(received));
  const shown = Object.fromEntries((await rows(frame)).map(r => [r.name, r]));
  const done = received.filter(m => m.data.type === 'upload-done').map(m => m.data);
  assert.deepEqual(
    done.sort((a, b) => a.name.localeCompare(b.name)),
    [
      { type: 'upload-done', name: 'h1-cat.png', size: PNG.length, contentType: 'image/png', key: shown['h1-cat.png'].key },
      { type: 'upload-done', name: 'h1-notes.txt', size: 2048, contentType: 'text/plain', key: shown['h1-notes.txt'].key },
    ],
  );
  const failed = received.filter(m => m.data.type === 'upload-failed').map(m => m.data);
  assert.deepEqual(failed, [{ type: 'upload-failed', name: 'h1-page.html', size: HTML.length, contentType: 'text/html', reason: 'ContentTypeNotAllowed' }]);
  const allDone = received.filter(m => m.data.type === 'all-done').map(m => m.data);
  assert.deepEqual(allDone, [{ type: 'all-done', done: 2, failed: 1 }]);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('H2. an unlisted host hears nothing; the page on its own posts nothing and fires DOM events in its own document', async () => {
  const { page, frame } = await framed(hosts.unlisted);
  const files = threeFiles('h2');
  await frame.setInputFiles('input[type=file]:not([webkitdirectory])', Object.entries(files).map(([name, bytes]) => file(name, bytes)));
  await waitForStatus(frame, ['h2-cat.png', 'h2-notes.txt'], ['done']);
  await new Promise(r => setTimeout(r, 1000));
  assert.deepEqual(await page.evaluate(() => window.received), []);
  await page.context().close();

  const own = await stack.open({
    init: `window.posted = []; addEventListener('message', e => window.posted.push(e.data));
      window.heard = []; for (const type of ['upload-done', 'upload-failed', 'all-done'])
        document.addEventListener(type, e => window.heard.push(e.detail));`,
  });
  const more = threeFiles('h2own');
  await own.setInputFiles('input[type=file]:not([webkitdirectory])', Object.entries(more).map(([name, bytes]) => file(name, bytes)));
  await waitForStatus(own, ['h2own-cat.png', 'h2own-notes.txt'], ['done']);
  await own.waitForFunction(() => window.heard.some(m => m.type === 'all-done'), null, { timeout: 10000 });
  assert.deepEqual(await own.evaluate(() => window.posted), []);
  const heard = await own.evaluate(() => window.heard);
  const shown = Object.fromEntries((await rows(own)).map(r => [r.name, r]));
  assert.deepEqual(heard.filter(m => m.type === 'upload-done').map(m => [m.name, m.key]).sort(),
    [['h2own-cat.png', shown['h2own-cat.png'].key], ['h2own-notes.txt', shown['h2own-notes.txt'].key]]);
  assert.deepEqual(heard.filter(m => m.type === 'upload-failed').map(m => m.reason), ['ContentTypeNotAllowed']);
  // The page mounts into its own element: the document's other nodes stay.
  assert.ok(await own.evaluate(() => document.getElementById('uploader')?.contains(document.querySelector('input[type=file]'))));
  await own.context().close();
});

test('H3. after each upload the hook writes its result beside it: a real PNG ok, an HTML document named and typed as PNG a mismatch, tagged', async () => {
  const page = await stack.open();
  const fake = HTML;
  await page.setInputFiles('input[type=file]:not([webkitdirectory])', [file('h3-real.png', PNG), file('h3-fake.png', fake)]);
  await waitForStatus(page, ['h3-real.png', 'h3-fake.png'], ['done']);
  const shown = Object.fromEntries((await rows(page)).map(r => [r.name, r]));
  const real = await stack.result(shown['h3-real.png'].key);
  assert.deepEqual(
    { ...real, etag: undefined },
    { key: shown['h3-real.png'].key, size: PNG.length, etag: undefined, sha256: sha256(PNG), declaredType: 'image/png', detectedType: 'image/png', verdict: 'ok' },
  );
  const forged = await stack.result(shown['h3-fake.png'].key);
  assert.equal(forged?.verdict, 'mismatch', JSON.stringify(forged));
  assert.equal(forged.detectedType, 'text/html');
  assert.equal(forged.sha256, sha256(fake));
  assert.ok(RADOSGW || forged.etag.length > 0);
  await page.context().close();
});
