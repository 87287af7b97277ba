// End-to-end, the signer's authenticated mode: the test OIDC issuer (local-s3's `test-issuer`)
// as the sign-in provider, the page signing users in with PKCE in a popup, the signer verifying
// their tokens itself (as locally; API Gateway's authorizer does it under Lambda).

import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLOCK_NINE_HOURS_AHEAD, Stack, needs, rows, waitForStatus, test, keptByPage, putResumeRecord } from '../stack.mjs';

let stack;
let dir;
/// Sites framing the page that hand it their user's sign-in token (`?token=`): `listed` (in
/// `embedOrigins`) when the page says it is ready, `unlisted` unasked, again and again.
const hosts = {};

async function tokenHost(listed) {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    const send = listed
      ? `addEventListener('message', e => { if (e.data?.type === 'ready') e.source.postMessage({ type: 'sign-in-token', token }, e.origin); });`
      : `setInterval(() => document.querySelector('iframe').contentWindow.postMessage({ type: 'sign-in-token', token }, '*'), 100);`;
    res.end(`<!doctype html><title>host</title>
<script>const token = new URLSearchParams(location.search).get('token'); ${send}</script>
<iframe title="Upload files" src="${stack.pageUrl}" width="900" height="700"></iframe>`);
  });
  await new Promise(resolve => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${server.address().port}` };
}

before(async () => {
  hosts.listed = await tokenHost(true);
  hosts.unlisted = await tokenHost(false);
  stack = await Stack.start({ auth: true, pageConfig: { embedOrigins: [hosts.listed.origin] } });
  dir = mkdtempSync(join(tmpdir(), 'uploader-auth-files-'));
});

after(async () => {
  await stack?.stop();
  for (const host of Object.values(hosts)) await new Promise(resolve => host.server.close(resolve));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function file(name, bytes = randomBytes(64 * 1024)) {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return { path, bytes };
}

async function pick(page, ...paths) {
  await page.setInputFiles('input[type=file]:not([webkitdirectory])', paths);
}

/// Signs `name` in through the provider's login in a popup, which closes.
async function signIn(page, name) {
  const [popup] = await Promise.all([
    page.waitForEvent('popup'),
    page.getByRole('button', { name: 'Sign in' }).click(),
  ]);
  await popup.getByLabel('Sign in as').fill(name);
  await popup.getByRole('button', { name: 'Sign in' }).click();
  await popup.waitForEvent('close', { timeout: 20000 });
}

test('A1. signed out: a file stops with words to sign in; signing in (PKCE, popup) uploads it into the user\'s own space', async () => {
  await stack.deleteAll();
  const page = await stack.open();
  await page.getByText('Sign in to upload files here.').waitFor();
  const { path, bytes } = file('a1.bin');
  await pick(page, path);
  await waitForStatus(page, ['a1.bin'], ['failed']);
  let [row] = await rows(page);
  assert.equal(row.error, 'SignInRequired');
  assert.match(await page.locator('[data-file-name="a1.bin"]').innerText(), /sign in, then press Retry/);
  assert.deepEqual(await stack.keys(), []);

  // The provider's login opens in a popup; the user signs in as alice; the popup closes.
  await signIn(page, 'alice');
  await page.getByText('Signed in as alice').waitFor();
  // The file stopped by the missing sign-in goes on by itself.
  await waitForStatus(page, ['a1.bin'], ['done']);
  [row] = await rows(page);
  assert.match(row.key, /^uploads\/alice\/[0-9a-f]{32}\/a1\.bin$/);
  assert.deepEqual(await stack.object(row.key), bytes);
  // What runs after the upload knows who uploaded it (the signer pinned it in the form).
  const result = await stack.result(row.key);
  assert.equal(result?.uploader, 'alice', JSON.stringify(result));
  // The address bar keeps no code; a reload keeps the session.
  assert.equal(new URL(await page.url()).search, '');
  await page.reload();
  await page.getByText('Signed in as alice').waitFor();
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('A2. an ended session is told, and its upload stops with words to sign in again; a forged token is refused', async () => {
  await stack.deleteAll();
  const expired = await stack.mint('alice', { seconds: -300 });
  const name = JSON.stringify({ token: expired, name: 'alice', expires: Math.floor(Date.now() / 1000) - 300 });
  const page = await stack.open({ init: `localStorage.setItem('uploader.signIn', ${JSON.stringify(name)})` });
  await page.getByText('Your sign-in has ended.').waitFor();
  await pick(page, file('a2.bin').path);
  await waitForStatus(page, ['a2.bin'], ['failed']);
  let [row] = await rows(page);
  assert.equal(row.error, 'SessionExpired');
  assert.match(await page.locator('[data-file-name="a2.bin"]').innerText(), /sign-in has ended: sign in again/);

  // A token for another client (audience) of the same provider: refused, nothing stored.
  const foreign = await stack.mint('mallory', { aud: 'another-client' });
  await page.evaluate(t => localStorage.setItem('uploader.signIn',
    JSON.stringify({ token: t, name: 'mallory', expires: Math.floor(Date.now() / 1000) + 600 })), foreign);
  await page.getByRole('button', { name: 'Retry a2.bin' }).click();
  await page.waitForFunction(() => document.querySelector('[data-file-name]').dataset.attempt === '2');
  await waitForStatus(page, ['a2.bin'], ['failed']);
  [row] = await rows(page);
  assert.equal(row.error, 'SignInRequired');
  // The signer refused the stored sign-in: the page offers to sign in again.
  await page.getByText('Your sign-in has ended.').waitFor();
  assert.deepEqual(await stack.keys(), []);
  await page.context().close();
});

test('A3. the embedding site\'s hook (window.uploaderAuthToken) provides the token; one user never gets another\'s key', async () => {
  await stack.deleteAll();
  const bob = await stack.mint('bob');
  const page = await stack.open({ init: `window.uploaderAuthToken = async () => ${JSON.stringify(bob)};` });
  // The site signs its users in itself: the page shows no sign-in of its own.
  assert.equal(await page.getByRole('button', { name: 'Sign in' }).count(), 0);
  const { path, bytes } = file('a3.bin');
  await pick(page, path);
  await waitForStatus(page, ['a3.bin'], ['done']);
  const [row] = await rows(page);
  assert.match(row.key, /^uploads\/bob\/[0-9a-f]{32}\/a3\.bin$/);
  assert.deepEqual(await stack.object(row.key), bytes);

  // Alice asks the signer to sign Bob's key again with Bob's upload token: refused.
  const alice = await stack.mint('alice');
  const first = await fetch(`${stack.signerUrl}/sign`, {
    method: 'POST', headers: { authorization: `Bearer ${bob}`, 'content-type': 'application/json' },
    body: JSON.stringify({ filename: 'x.bin', contentType: 'application/octet-stream', size: 10 }),
  }).then(r => r.json());
  const stolen = await fetch(`${stack.signerUrl}/sign`, {
    method: 'POST', headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' },
    body: JSON.stringify({ filename: 'x.bin', contentType: 'application/octet-stream', size: 10, token: first.token }),
  });
  assert.equal(stolen.status, 403);
  assert.equal((await stolen.json()).error.code, 'InvalidToken');
  const none = await fetch(`${stack.signerUrl}/sign`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ filename: 'x.bin', contentType: 'application/octet-stream', size: 10 }),
  });
  assert.equal(none.status, 401);
  assert.equal(none.headers.get('www-authenticate'), 'Bearer');
  await page.context().close();
});

test('A4. a laptop clock nine hours ahead of the provider\'s: the sign-in holds and the file uploads', async () => {
  await stack.deleteAll();
  // The popup runs on the same clock as the page.
  const context = await stack.browser.newContext({ viewport: { width: 1000, height: 900 } });
  await context.addInitScript(CLOCK_NINE_HOURS_AHEAD);
  const page = await stack.open({ context });
  await signIn(page, 'bob');
  // Judged by the token's expiry as written, the hour-long sign-in had ended eight hours ago.
  await page.getByText('Signed in as bob').waitFor();
  const { path, bytes } = file('a4.bin');
  await pick(page, path);
  await waitForStatus(page, ['a4.bin'], ['done', 'failed']);
  const [row] = await rows(page);
  assert.equal(row.status, 'done', row.error);
  assert.match(row.key, /^uploads\/bob\/[0-9a-f]{32}\/a4\.bin$/);
  assert.deepEqual(await stack.object(row.key), bytes);
  assert.deepEqual(page.errors, []);
  await context.close();
});

test('A5. a listed site that frames the page hands it its user\'s sign-in token; an unlisted one cannot', async () => {
  await stack.deleteAll();
  for (const [host, user, expected] of [[hosts.listed, 'carol', 'done'], [hosts.unlisted, 'mallory', 'failed']]) {
    const context = await stack.browser.newContext({ viewport: { width: 1000, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${host.origin}/?token=${await stack.mint(user)}`);
    const frame = await (await page.waitForSelector('iframe')).contentFrame();
    await frame.waitForSelector('input[type=file]');
    await frame.waitForFunction(() => document.querySelector('.limits')?.textContent.length > 0, null, { timeout: 10000 });
    const { path, bytes } = file(`a5-${user}.bin`);
    await frame.setInputFiles('input[type=file]:not([webkitdirectory])', path);
    await waitForStatus(frame, [`a5-${user}.bin`], [expected]);
    const [row] = await rows(frame);
    if (expected === 'done') {
      assert.match(row.key, new RegExp(`^uploads/${user}/[0-9a-f]{32}/a5-${user}\\.bin$`));
      assert.deepEqual(await stack.object(row.key), bytes);
    } else {
      assert.equal(row.error, 'SignInRequired');
    }
    await context.close();
  }
  assert.deepEqual((await stack.keys()).filter(k => k.startsWith('uploads/mallory/')), []);
});

test('A6. a page served over plain http from another machine (no crypto.subtle): signing in says why at once and opens no popup', async () => {
  await stack.deleteAll();
  // What a browser does on an insecure origin, which 127.0.0.1 never is: no `crypto.subtle`,
  // `isSecureContext` false. (And every window.open counted.)
  const INSECURE = `Object.defineProperty(Crypto.prototype, 'subtle', { configurable: true, get: () => undefined });
Object.defineProperty(window, 'isSecureContext', { configurable: true, get: () => false });
{ const open = window.open; window.__opened = 0; window.open = (...args) => { window.__opened++; return open.apply(window, args); }; }`;
  const page = await stack.open({ init: INSECURE });
  await page.getByText('Sign in to upload files here.').waitFor();
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('Sign-in did not work: sign-in needs this page at its https:// address.').waitFor({ timeout: 10000 });
  assert.equal(await page.getAttribute('.signin', 'role'), 'alert');
  assert.equal(await page.evaluate(() => window.__opened), 0, 'a popup opened');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('A7. API Gateway\'s own 401 (its JWT authorizer, {"message":"Unauthorized"}): the file stops at once with words to sign in again, not retried', async () => {
  await stack.deleteAll();
  const token = await stack.mint('alice');
  const session = JSON.stringify({ token, name: 'alice', expires: Math.floor(Date.now() / 1000) + 600 });
  const page = await stack.open({ init: `localStorage.setItem('uploader.signIn', ${JSON.stringify(session)})` });
  await page.getByText('Signed in as alice').waitFor();
  let refused = 0;
  // What the authorizer answers before the signer runs (readable: the page and the API on one
  // origin behind CloudFront, as the template deploys them).
  for (const path of ['/sign', '/sign/batch']) {
    await page.route(`${stack.signerUrl}${path}`, route => {
      if (route.request().method() !== 'POST') return route.continue();
      refused += 1;
      return route.fulfill({
        status: 401,
        headers: { 'access-control-allow-origin': stack.origin, 'content-type': 'application/json', 'www-authenticate': 'Bearer' },
        body: '{"message":"Unauthorized"}',
      });
    });
  }
  await pick(page, file('a7.bin').path);
  await waitForStatus(page, ['a7.bin'], ['failed'], 10000);
  const [row] = await rows(page);
  assert.equal(row.error, 'SessionExpired');
  assert.equal(row.attempt, 1);
  assert.equal(refused, 1);
  assert.match(await page.locator('[data-file-name="a7.bin"]').innerText(), /sign-in has ended: sign in again/);
  assert.deepEqual(await stack.keys(), []);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('A8. signing out forgets what the page kept for the user: the list, the files\' upload tokens and the unfinished uploads\' records', async () => {
  await stack.deleteAll();
  const token = await stack.mint('alice');
  const session = JSON.stringify({ token, name: 'alice', expires: Math.floor(Date.now() / 1000) + 600 });
  const page = await stack.open({ init: `if (!sessionStorage.getItem('a8')) { sessionStorage.setItem('a8', '1'); localStorage.setItem('uploader.signIn', ${JSON.stringify(session)}); }` });
  await page.getByText('Signed in as alice').waitFor();
  await pick(page, file('a8-private-name.bin').path);
  await waitForStatus(page, ['a8-private-name.bin'], ['done']);
  const kept = () => keptByPage(page);
  // An unfinished upload's record, as a reload mid-upload leaves one.
  await putResumeRecord(page, { uploadId: 'a8-upload', key: 'uploads/alice/x/a8-big.bin' });
  const before = await kept();
  assert.equal(before.sent.length, 1, JSON.stringify(before));
  assert.equal(before.records, 1);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByText('Sign in to upload files here.').waitFor();
  await page.waitForFunction(() => !document.querySelector('[data-file-name]'), null, { timeout: 5000 });
  await page.waitForFunction(() => !Object.keys(localStorage).some(k => k.startsWith('uploader-sent ')), null, { timeout: 5000 });
  for (let tries = 0; (await kept()).records !== 0; tries++) {
    assert.ok(tries < 25, 'the records were not cleared');
    await page.waitForTimeout(200);
  }
  // The next person on this browser: nothing listed after a reload either.
  await page.reload();
  await page.getByText('Sign in to upload files here.').waitFor();
  await page.waitForTimeout(1000);
  assert.deepEqual(await rows(page), []);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
