// The local stack for the end-to-end tests, as real processes on 127.0.0.1: the S3 server, the
// signer in local mode, and a static server for the release build of the page (dist/) whose
// config.json points at this signer. Each can be stopped and started again on the same port (the
// signer-down and S3-down scenarios). Everything started here is stopped by `stop()`.
//
// The S3 server is local-s3 (s3s-fs, verifies POST policies; our own CORS layer), or with
// UPLOADER_S3=radosgw the gateway of a Ceph cluster that `cargo xtask test` started: the stack
// runs the gateway process itself (so it can stop it), sets the bucket's CORS rule for the page's
// origin (the page is on another origin, so the rule is what lets it read S3's answers), reads
// objects back with SigV4-signed GETs, and gives the signer STS session credentials.
//
// The after-upload hook runs too (`hook: false` leaves it out, as the benchmark does): local-s3
// announces each stored object to it (`--notify`), and on radosgw the bucket's own notifications
// push to it on UPLOADER_HOOK_PORT (`cargo xtask test` configured them); it writes
// `results/<key>.json` into the bucket (`stack.result(key)`).
//
// Needs: UPLOADER_S3_BIN, UPLOADER_SIGNER_BIN, UPLOADER_HOOK_BIN, UPLOADER_ISSUER_BIN (built binaries) and UPLOADER_DIST (trunk's output);
// for radosgw also UPLOADER_RGW_{CONF,NAME,PORT,BUCKET,ACCESS_KEY,SECRET_KEY}, UPLOADER_HOOK_PORT and
// UPLOADER_SIGNER_{ACCESS_KEY,SECRET_KEY,SESSION_TOKEN}. `cargo xtask test` sets them.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, request as httpRequest } from 'node:http';
import { createReadStream, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Socket, createServer as netServer } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import aws4 from 'aws4';
import { BROWSER, Front, WEBKIT_WATCH, launch } from './browsers.mjs';
import { test as nodeTest } from 'node:test';

/// A scenario: node:test's `test` with a five-minute timeout of its own, so one that hangs (a
/// WebDriver command never answered) fails alone instead of holding the run. (Node's
/// `--test-timeout` would also time each test file as a whole, and a file of scenarios takes
/// longer than one scenario may.)
export function test(name, options, fn) {
  if (typeof options === 'function') [options, fn] = [{}, options];
  return nodeTest(name, { timeout: 300000, ...options }, fn);
}

export { BROWSER, needs } from './browsers.mjs';

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the end-to-end tests with \`cargo xtask test\``);
  return value;
}

/// Against Ceph radosgw: AWS's status codes (the tests expect them exactly).
export const RADOSGW = process.env.UPLOADER_S3 === 'radosgw';
export const BUCKET = RADOSGW ? required('UPLOADER_RGW_BUCKET') : 'e2e-uploads';
export const MAX_BYTES = 80 * 1024 * 1024;
export const AUTH_CLIENT = 'e2e-page';
export const ALLOWED_TYPES = 'text/*,image/*,application/octet-stream,application/pdf';
const ACCESS_KEY = RADOSGW ? required('UPLOADER_RGW_ACCESS_KEY') : 'e2ekey';
const SECRET_KEY = RADOSGW ? required('UPLOADER_RGW_SECRET_KEY') : 'e2e/secret';
/// What the signer signs with: on radosgw, temporary credentials (as a Lambda role's are).
const SIGNER_CREDENTIALS = RADOSGW
  ? { AWS_ACCESS_KEY_ID: required('UPLOADER_SIGNER_ACCESS_KEY'), AWS_SECRET_ACCESS_KEY: required('UPLOADER_SIGNER_SECRET_KEY'),
      AWS_SESSION_TOKEN: required('UPLOADER_SIGNER_SESSION_TOKEN') }
  : { AWS_ACCESS_KEY_ID: ACCESS_KEY, AWS_SECRET_ACCESS_KEY: SECRET_KEY };

/// RFC 3986 percent-encoding (a path's segments, a query's values).
const encode = text => encodeURIComponent(text).replace(/[!'()*]/g, c => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/// One S3 request to 127.0.0.1:port with SigV4 headers (path-style), signed by `aws4` (the test
/// suite's SigV4 is a well-kept package's, not a second copy of the signer's): { status, body }.
export function s3Request(port, method, path, { query = '', headers = {}, body = Buffer.alloc(0) } = {}) {
  const target = path.split('/').map(encode).join('/') + (query ? `?${query}` : '');
  const signed = aws4.sign(
    { host: `127.0.0.1:${port}`, method, path: target, service: 's3', region: 'us-east-1', headers: { ...headers }, body },
    { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
  );
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path: target, headers: signed.headers }, res => {
      const chunks = [];
      res.on('data', c => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = netServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port, child, name) {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`);
    const open = await new Promise(resolve => {
      const socket = new Socket();
      socket.once('connect', () => { socket.destroy(); resolve(true); });
      socket.once('error', () => resolve(false));
      socket.connect(port, '127.0.0.1');
    });
    if (open) return;
    await new Promise(r => setTimeout(r, 50));
  }
  throw new Error(`${name} did not listen on ${port}`);
}

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css', '.json': 'application/json' };

export class Stack {
  /// `extraPages`: more files for the page server, by name (the benchmark's bare page);
  /// `maxBytes`: the signer's size limit.
  /// `multipartThreshold`: files over it go multipart (by default none of those under `maxBytes`).
  /// `auth`: the signer's authenticated mode, with the test OIDC issuer (local-s3's
  /// `test-issuer`) as the provider (the page learns it from the signer's rules).
  /// `hook`: the after-upload hook runs (it reads every stored object once).
  static async start({ extraPages = {}, maxBytes = MAX_BYTES, multipartThreshold = maxBytes, pageConfig = {}, auth = false, hook = true } = {}) {
    const stack = new Stack();
    stack.auth = auth;
    stack.extraPages = extraPages;
    stack.maxBytes = maxBytes;
    stack.multipartThreshold = multipartThreshold;
    stack.pageConfig = pageConfig;
    stack.initScripts = new Map();
    stack.root = mkdtempSync(join(tmpdir(), 'uploader-e2e-'));
    stack.dist = required('UPLOADER_DIST');
    stack.s3Port = RADOSGW ? Number(required('UPLOADER_RGW_PORT')) : await freePort();
    stack.signerPort = await freePort();
    await stack.startPage();
    if (auth) {
      stack.issuerPort = await freePort();
      stack.issuer = spawn(required('UPLOADER_ISSUER_BIN'), ['--addr', `127.0.0.1:${stack.issuerPort}`],
        { stdio: ['ignore', 'ignore', 'inherit'] });
      await waitForPort(stack.issuerPort, stack.issuer, 'test-issuer');
    }
    if (hook) {
      stack.hookPort = RADOSGW ? Number(required('UPLOADER_HOOK_PORT')) : await freePort();
      await stack.startHook();
    }
    await stack.startS3();
    if (RADOSGW) await stack.allowPageOrigin();
    // Outside Chromium (no DevTools network emulation) the page reaches S3 through a proxy here
    // that slows or cuts its uploads (`throttleUploads`).
    if (BROWSER !== 'chromium') stack.proxy = await Link.start(stack.s3Port);
    // WebDriver classic cannot intercept the page's requests: in WebKit the page reaches the
    // signer through a front here that answers the routes a scenario sets (`page.route`).
    if (BROWSER === 'webkit') stack.front = await SignerFront.start(stack);
    await stack.startSigner();
    stack.browser = await launch({ initScripts: stack.initScripts });
    return stack;
  }

  get s3Url() { return `http://127.0.0.1:${this.s3Port}`; }
  /// The signer as the page reaches it (in WebKit, through the front).
  get signerUrl() { return this.front?.url ?? `http://127.0.0.1:${this.signerPort}`; }
  get issuerUrl() { return `http://127.0.0.1:${this.issuerPort}`; }

  /// A sign-in token from the test issuer: for `sub`, for `aud` (the page's client by default),
  /// valid for `seconds` (negative: expired that long ago).
  async mint(sub, { aud = AUTH_CLIENT, seconds = 600 } = {}) {
    const res = await fetch(`${this.issuerUrl}/mint`, { method: 'POST', body: JSON.stringify({ sub, aud, seconds }) });
    return (await res.json()).token;
  }
  get pageUrl() { return `http://127.0.0.1:${this.pagePort}/`; }
  get origin() { return `http://127.0.0.1:${this.pagePort}`; }

  /// The page, with config.json answered here so it points at this stack's signer.
  async startPage() {
    this.page = createServer(async (req, res) => {
      const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
      const extra = this.extraPages[path.slice(1)];
      if (extra) {
        res.writeHead(200, { 'content-type': TYPES[extname(path)] || 'text/html' });
        return res.end(extra);
      }
      // WebKit's init scripts (browsers.mjs): a blank page of this origin to set the cookie
      // naming them on, the scripts, and the page's document with them first.
      if (path === '/__e2e/blank') { res.writeHead(200, { 'content-type': 'text/html' }); return res.end('<!doctype html>'); }
      if (path.startsWith('/__e2e/init/')) {
        res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' });
        return res.end(path === '/__e2e/init/watch.js' ? WEBKIT_WATCH : this.initScripts.get(path.slice('/__e2e/init/'.length, -'.js'.length)) ?? '');
      }
      const init = req.headers.cookie?.match(/(?:^|; )e2e-init=([^;]*)/);
      if (init && path === '/') {
        const scripts = ['watch', ...init[1].split('.').filter(Boolean)].map(id => `<script src="/__e2e/init/${id}.js"></script>`).join('');
        const html = (await readFile(join(this.dist, 'index.html'), 'utf8')).replace(/<meta charset=[^>]*>/, charset => charset + scripts);
        res.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-store' });
        return res.end(html);
      }
      if (path === '/config.json') {
        if (this.failConfig > 0) {
          this.failConfig -= 1;
          res.writeHead(503, { 'content-type': 'text/plain' });
          return res.end('config unavailable');
        }
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        const concurrency = process.env.UPLOADER_CONCURRENCY;
        return res.end(JSON.stringify({ signerUrl: this.signerUrl, ...(concurrency && { concurrency: Number(concurrency) }), ...this.pageConfig }));
      }
      const file = normalize(join(this.dist, path === '/' ? 'index.html' : path));
      if (!file.startsWith(this.dist)) { res.writeHead(403); return res.end(); }
      try {
        statSync(file);
        res.writeHead(200, { 'content-type': TYPES[extname(file)] || 'application/octet-stream' });
        createReadStream(file).pipe(res);
      } catch {
        res.writeHead(404); res.end();
      }
    });
    await new Promise(resolve => this.page.listen(0, '127.0.0.1', resolve));
    this.pagePort = this.page.address().port;
  }

  /// `allowOrigin`: the page origin S3's CORS rule allows (another one makes the page's requests
  /// fail the browser's CORS check).
  async startS3({ allowOrigin = this.origin } = {}) {
    if (RADOSGW) {
      this.s3 = spawn('radosgw', ['-f', '-c', required('UPLOADER_RGW_CONF'), '-n', required('UPLOADER_RGW_NAME')],
        { stdio: ['ignore', 'ignore', 'inherit'] });
      return waitForPort(this.s3Port, this.s3, 'radosgw');
    }
    this.s3 = spawn(required('UPLOADER_S3_BIN'), [
      '--addr', `127.0.0.1:${this.s3Port}`, '--root', this.root, '--bucket', BUCKET,
      '--access-key', ACCESS_KEY, '--secret-key', SECRET_KEY, '--allow-origin', allowOrigin,
      ...(this.hookPort ? ['--notify', `http://127.0.0.1:${this.hookPort}/`] : []),
    ], { stdio: ['ignore', 'ignore', 'inherit'] });
    await waitForPort(this.s3Port, this.s3, 'local-s3');
  }

  async startSigner() {
    this.signer = spawn(required('UPLOADER_SIGNER_BIN'), [], {
      env: {
        PATH: process.env.PATH, RUST_LOG: 'warn',
        UPLOAD_BUCKET: BUCKET, AWS_REGION: 'us-east-1', ...SIGNER_CREDENTIALS,
        S3_ENDPOINT: this.proxy?.url ?? this.s3Url, ALLOWED_ORIGINS: this.origin,
        SIGNER_ADDR: `127.0.0.1:${this.signerPort}`,
        MAX_UPLOAD_BYTES: String(this.maxBytes), ALLOWED_CONTENT_TYPES: ALLOWED_TYPES,
        MULTIPART_THRESHOLD_BYTES: String(this.multipartThreshold),
        // Fixed, as under Lambda: tokens stay valid when the signer is restarted.
        UPLOAD_TOKEN_SECRET: 'e2e-upload-token-secret-0123456789abcdef',
        ...(this.auth && { AUTH_ISSUER: this.issuerUrl, AUTH_AUDIENCE: AUTH_CLIENT }),
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await waitForPort(this.signerPort, this.signer, 'signer');
  }

  /// The after-upload hook's local endpoint, reading and writing the bucket as the signer does.
  async startHook() {
    this.hook = spawn(required('UPLOADER_HOOK_BIN'), [], {
      env: {
        PATH: process.env.PATH, RUST_LOG: 'warn',
        UPLOAD_BUCKET: BUCKET, AWS_REGION: 'us-east-1', ...SIGNER_CREDENTIALS,
        S3_ENDPOINT: this.s3Url, HOOK_ADDR: `127.0.0.1:${this.hookPort}`,
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await waitForPort(this.hookPort, this.hook, 'hook');
  }

  /// What the hook wrote for `key` (`results/<key>.json`), once it has written it (for the bytes
  /// with `etag`, when given), or null after `timeout` ms.
  async result(key, { etag, timeout = 20000 } = {}) {
    const deadline = Date.now() + timeout;
    while (Date.now() < deadline) {
      const body = await this.object(`results/${key}.json`);
      if (body) {
        const result = JSON.parse(body.toString());
        if (!etag || result.etag === etag) return result;
      }
      await new Promise(r => setTimeout(r, 100));
    }
    return null;
  }

  async stopProcess(child) {
    if (!child || child.exitCode !== null) return;
    const exited = new Promise(resolve => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async stopS3() { await this.stopProcess(this.s3); }
  async stopSigner() { await this.stopProcess(this.signer); }

  async stop() {
    await this.browser?.close();
    await this.proxy?.stop();
    await this.front?.stop();
    await this.stopSigner();
    await this.stopS3();
    await this.stopProcess(this.hook);
    await this.stopProcess(this.issuer);
    await new Promise(resolve => this.page ? this.page.close(resolve) : resolve());
    rmSync(this.root, { recursive: true, force: true });
  }

  /// S3's CORS rule allows `origin` only: local-s3 is started again with it, radosgw's bucket
  /// gets a new rule.
  async setS3Origin(origin) {
    if (RADOSGW) return this.allowPageOrigin(origin);
    await this.stopS3();
    await this.startS3({ allowOrigin: origin });
  }

  /// The bucket's CORS rule on radosgw: this page's origin may POST forms and PUT parts, and read
  /// the answers.
  async allowPageOrigin(origin = this.origin) {
    const rule = Buffer.from(`<CORSConfiguration><CORSRule><AllowedOrigin>${origin}</AllowedOrigin>` +
      '<AllowedMethod>POST</AllowedMethod><AllowedMethod>PUT</AllowedMethod><AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader>' +
      '<MaxAgeSeconds>600</MaxAgeSeconds></CORSRule></CORSConfiguration>');
    const md5 = createHash('md5').update(rule).digest('base64');
    const { status, body } = await s3Request(this.s3Port, 'PUT', `/${BUCKET}`,
      { query: 'cors=', headers: { 'content-md5': md5, 'content-type': 'application/xml' }, body: rule });
    if (status !== 200) throw new Error(`PutBucketCors answered ${status}: ${body}`);
  }

  /// The stored object's bytes, or null.
  async object(key) {
    if (RADOSGW) {
      const { status, body } = await s3Request(this.s3Port, 'GET', `/${BUCKET}/${key}`);
      if (status === 404) return null;
      if (status !== 200) throw new Error(`GET ${key} answered ${status}: ${body}`);
      return body;
    }
    try { return await readFile(join(this.root, BUCKET, key)); } catch { return null; }
  }

  /// The multipart uploads S3 still holds parts of (ListMultipartUploads): their keys.
  /// (s3s-fs has no ListMultipartUploads: its parts and upload records are files in its root.)
  async unfinishedUploads() {
    if (!RADOSGW) return readdirSync(this.root).filter(name => name.startsWith('.upload'));
    const { status, body } = await s3Request(this.s3Port, 'GET', `/${BUCKET}`, { query: 'uploads=' });
    if (status !== 200) throw new Error(`ListMultipartUploads answered ${status}: ${body}`);
    return [...body.toString().matchAll(/<Upload>[\s\S]*?<Key>(.*?)<\/Key>/g)].map(m => m[1]);
  }

  /// How many parts of unfinished multipart uploads S3 holds (ListParts of each upload).
  async partsStored() {
    if (!RADOSGW) return readdirSync(this.root).filter(name => /^\.upload_id-.*\.part-\d+$/.test(name)).length;
    const { body } = await s3Request(this.s3Port, 'GET', `/${BUCKET}`, { query: 'uploads=' });
    let parts = 0;
    for (const [, key, id] of body.toString().matchAll(/<Upload>[\s\S]*?<Key>(.*?)<\/Key>[\s\S]*?<UploadId>(.*?)<\/UploadId>/g)) {
      const listed = await s3Request(this.s3Port, 'GET', `/${BUCKET}/${key}`, { query: `uploadId=${encode(id)}` });
      parts += [...listed.body.toString().matchAll(/<Part>/g)].length;
    }
    return parts;
  }

  /// Deletes every object under `prefix` (the benchmark's big files: radosgw's memstore holds
  /// them in memory).
  async deleteAll(prefix = 'uploads/') {
    for (const key of await this.keys(prefix)) {
      if (RADOSGW) await s3Request(this.s3Port, 'DELETE', `/${BUCKET}/${key}`);
      else rmSync(join(this.root, BUCKET, key), { force: true });
    }
  }

  /// Every key in the bucket under `prefix`.
  async keys(prefix = 'uploads/') {
    if (RADOSGW) {
      const keys = [];
      let token = '';
      for (;;) {
        const query = `list-type=2&prefix=${encode(prefix)}` + (token ? `&continuation-token=${encode(token)}` : '');
        const sorted = query.split('&').sort().join('&');
        const { status, body } = await s3Request(this.s3Port, 'GET', `/${BUCKET}`, { query: sorted });
        if (status !== 200) throw new Error(`ListObjectsV2 answered ${status}: ${body}`);
        const text = body.toString();
        const unescape = t => t.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
        keys.push(...[...text.matchAll(/<Key>(.*?)<\/Key>/g)].map(m => unescape(m[1])));
        token = text.match(/<NextContinuationToken>(.*?)<\/NextContinuationToken>/)?.[1];
        if (!token) return keys.sort();
        token = unescape(token);
      }
    }
    const base = join(this.root, BUCKET);
    const keys = [];
    const walk = dir => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else keys.push(path.slice(base.length + 1));
      }
    };
    try { walk(base); } catch { return []; }
    return keys.filter(k => k.startsWith(prefix)).sort();
  }

  /// A fresh page on the uploader, with the page's errors collected. By default it waits for the
  /// signer's rules (pre-validation on); with `{ rules: false }` it does not (signer down).
  /// `init`: a script run in the page before its own (the background-tab simulation). `context`:
  /// a browser context to open it in (another tab of a page already open), else a new one.
  async open({ rules = true, init, context } = {}) {
    // A new browser context starts on an unthrottled network, as with DevTools' throttling.
    if (!context) {
      this.proxy?.set(-1);
      this.front?.routes.clear();
    }
    context ??= await this.browser.newContext({ viewport: { width: 1000, height: 900 } });
    const page = await context.newPage();
    if (init) await page.addInitScript(init);
    page.errors = [];
    page.on('pageerror', e => page.errors.push(e.message));
    await page.goto(this.pageUrl);
    await page.waitForSelector('input[type=file]');
    if (rules) {
      await page.waitForFunction(() => document.querySelector('.limits')?.textContent.length > 0, null, { timeout: 10000 });
    }
    return page;
  }
}

/// A laptop whose clock runs nine hours ahead (a dual-boot machine whose hardware clock keeps
/// local time is that far off in Seoul): an init script for `Date.now()`, which the page's clock is.
export const CLOCK_NINE_HOURS_AHEAD = `{ const now = Date.now.bind(Date); Date.now = () => now() + ${9 * 3600 * 1000}; }`;

/// Every file row: name, status, attempt, key, error.
export async function rows(page) {
  return page.$$eval('[data-file-name]', els => els.map(e => ({
    name: e.dataset.fileName, status: e.dataset.status, attempt: Number(e.dataset.attempt),
    key: e.dataset.key ?? null, error: e.dataset.error ?? null,
  })));
}

/// Waits until every named file is in one of `statuses`.
export async function waitForStatus(page, names, statuses, timeout = 60000) {
  await page.waitForFunction(([names, statuses]) => names.every(n => {
    const row = [...document.querySelectorAll('[data-file-name]')].find(e => e.dataset.fileName === n);
    return row && statuses.includes(row.dataset.status);
  }), [names, statuses], { timeout });
}

/// What a browser does to a background tab, which headless Chromium never does by itself: run
/// before the page's scripts (`stack.open({ init: BACKGROUND_TAB })`), then `window.__hide()` and
/// `window.__show()`. While hidden: `document.visibilityState` is 'hidden' (with a
/// `visibilitychange` event), no `requestAnimationFrame` callback runs (they run once shown
/// again), interval timers fire at most once every 10 seconds, and a `setTimeout` runs at the
/// next whole second at the earliest, as Chromium, Firefox and Safari align a hidden page's
/// timers (`window.__hiddenTimeouts()`: the delays of those set while hidden).
export const BACKGROUND_TAB = `(() => {
  let hidden = false;
  const hiddenTimeouts = [];
  const held = [];
  const raf = window.requestAnimationFrame.bind(window);
  const interval = window.setInterval.bind(window);
  const timeout = window.setTimeout.bind(window);
  window.setTimeout = (fn, ms, ...args) => {
    if (!hidden) return timeout(fn, ms, ...args);
    hiddenTimeouts.push(Number(ms) || 0);
    const now = performance.now();
    return timeout(fn, Math.ceil((now + Math.max(0, Number(ms) || 0)) / 1000) * 1000 - now, ...args);
  };
  Object.defineProperty(Document.prototype, 'visibilityState', { configurable: true, get: () => hidden ? 'hidden' : 'visible' });
  Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get: () => hidden });
  window.requestAnimationFrame = cb => { if (hidden) { held.push(cb); return held.length; } return raf(cb); };
  window.setInterval = (fn, ms, ...args) => {
    let last = 0;
    return interval(() => {
      const now = performance.now();
      if (hidden && now - last < 10000) { window.__throttled = (window.__throttled || 0) + 1; return; }
      last = now;
      fn(...args);
    }, ms);
  };
  window.__hide = () => { hidden = true; document.dispatchEvent(new Event('visibilitychange')); };
  window.__show = () => {
    hidden = false;
    document.dispatchEvent(new Event('visibilitychange'));
    for (const cb of held.splice(0)) raf(cb);
  };
  window.__heldFrames = () => held.length;
  window.__hiddenTimeouts = () => hiddenTimeouts.slice();
})();`;

/// Slows the page's uploads down (bytes per second), or back to normal with -1; `offline`: no
/// network at all.
export async function throttleUploads(page, bytesPerSecond, { offline = false } = {}) {
  if (Link.current) return Link.current.set(bytesPerSecond, offline);
  page.cdp ??= await page.context().newCDPSession(page);
  await page.cdp.send('Network.enable');
  await page.cdp.send('Network.emulateNetworkConditions', {
    offline, latency: 0, downloadThroughput: -1, uploadThroughput: offline ? -1 : bytesPerSecond,
  });
}

/// A TCP proxy on loopback between the page and S3 (the signer's S3 endpoint, so every URL it signs
/// names it): passes bytes through untouched (so SigV4 signatures, which name its host, hold),
/// and can slow what the page sends to a rate (one budget for every connection, as DevTools'
/// throttling) or cut every connection and refuse new ones (offline).
class Link {
  static async start(port) {
    const link = new Link();
    link.rate = -1;
    link.offline = false;
    link.next = 0;
    link.sockets = new Set();
    link.server = netServer(client => {
      if (link.offline) return client.destroy();
      const upstream = new Socket();
      for (const socket of [client, upstream]) {
        link.sockets.add(socket);
        socket.on('close', () => link.sockets.delete(socket));
        socket.on('error', () => {});
      }
      upstream.on('close', () => client.destroy());
      client.on('close', () => upstream.destroy());
      upstream.connect(port, '127.0.0.1');
      let post = false;
      upstream.on('data', chunk => {
        if (link.lose && post && chunk.toString('latin1', 0, 9) === 'HTTP/1.1 ') {
          // S3 has answered a POST: the answer is lost, as a reset connection loses it.
          link.lose(Number(chunk.toString('latin1', 9, 12)));
          client.destroy();
          return upstream.destroy();
        }
        client.write(chunk);
      });
      client.on('data', chunk => {
        const head = chunk.toString('latin1', 0, 8);
        if (/^[A-Z]+ /.test(head)) post = head.startsWith('POST ');
        if (link.rate < 0) return upstream.write(chunk);
        // Each chunk leaves at its turn in one budget for every connection.
        const now = Date.now();
        const start = Math.max(now, link.next);
        link.next = start + (chunk.length * 1000) / link.rate;
        client.pause();
        setTimeout(() => { if (!upstream.destroyed) upstream.write(chunk); client.resume(); }, start - now);
      });
    });
    await new Promise(resolve => link.server.listen(0, '127.0.0.1', resolve));
    link.url = `http://127.0.0.1:${link.server.address().port}`;
    Link.current = link;
    return link;
  }

  /// The answers to the POSTs the page sends S3 never reach the page (the connection is reset
  /// once S3 has answered), until `loseAnswers(null)`; `then(status)` is told each status S3
  /// answered. (A browser may send a request again by itself on a connection reset before any
  /// answer, unseen by the page: Firefox does.)
  loseAnswers(then) { this.lose = then; }

  /// `bytesPerSecond` (-1: as fast as it goes); `offline`: every connection cut, new ones refused.
  set(bytesPerSecond, offline = false) {
    this.rate = offline ? -1 : bytesPerSecond;
    this.next = 0;
    this.offline = offline;
    if (offline) for (const socket of this.sockets) socket.destroy();
  }

  async stop() {
    this.set(-1, true);
    Link.current = undefined;
    await new Promise(resolve => this.server.close(resolve));
  }
}

/// An HTTP front to the signer (WebKit's `page.route`): passes each request on, unless a route
/// for its URL answers it (`fulfill`), holds it (never answers) or passes it on (`continue`). A
/// signer that is down is a connection the page sees cut, as without the front.
class SignerFront {
  static async start(stack) {
    const front = new SignerFront();
    front.routes = new Map();
    front.server = createServer((req, res) => {
      const chunks = [];
      req.on('data', c => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const forward = async () => {
          const upstream = httpRequest(`http://127.0.0.1:${stack.signerPort}${req.url}`, { method: req.method, headers: req.headers }, answer => {
            res.writeHead(answer.statusCode, answer.headers);
            answer.pipe(res);
          });
          upstream.on('error', () => req.socket.destroy());
          upstream.end(body);
        };
        const url = `${front.url}${req.url}`;
        const route = front.routes.get(url);
        if (!route) return forward();
        route({
          request: () => ({ method: () => req.method, url: () => url }),
          continue: forward,
          fulfill: async ({ status = 200, headers = {}, contentType, body = '' }) => {
            res.writeHead(status, { ...headers, ...(contentType && { 'content-type': contentType }) });
            res.end(body);
          },
        });
      });
    });
    await new Promise(resolve => front.server.listen(0, '127.0.0.1', resolve));
    front.url = `http://127.0.0.1:${front.server.address().port}`;
    Front.current = front;
    return front;
  }

  route(url, handler) { this.routes.set(url, handler); }

  async stop() {
    Front.current = undefined;
    this.server.closeAllConnections();
    await new Promise(resolve => this.server.close(resolve));
  }
}

/// Waits until file `name`'s progress bar is past `percent`.
export async function waitForProgress(page, name, percent, timeout = 60000) {
  await page.waitForFunction(([name, percent]) => Number(document.querySelector(`[data-file-name="${name}"] [role=progressbar]`)
    ?.getAttribute('aria-valuenow')) > percent, [name, percent], { timeout });
}

/// What a laptop's sleep does to a page, as far as CDP can make it: no script runs (the page's
/// JavaScript paused in the debugger at its next statement: no timers, no events until it wakes,
/// and then the clock has jumped) and the network is gone. (`Page.setWebLifecycleState` frozen
/// leaves a visible headless page's timers running: measured.) Woken after `ms`, with uploads
/// throttled to `bytesPerSecond` again (-1: not throttled). Returns how many times a 100 ms
/// interval timer ran meanwhile, read as the page wakes (asleep: at most the one due on waking;
/// awake it would be `ms / 100`).
export async function asleep(page, ms, bytesPerSecond = -1) {
  await page.evaluate(() => { window.__awakeTimer ??= setInterval(() => { window.__awake += 1; }, 100); });
  await throttleUploads(page, bytesPerSecond, { offline: true });
  await page.cdp.send('Debugger.enable');
  // Counted from just before the pause: the set-up above takes a few round trips, longer than a
  // tick on a busy machine.
  await page.evaluate(() => { window.__awake = 0; });
  await page.cdp.send('Debugger.pause');
  await new Promise(resolve => setTimeout(resolve, ms));
  await throttleUploads(page, bytesPerSecond);
  await page.cdp.send('Debugger.resume').catch(() => {});
  await page.cdp.send('Debugger.disable');
  return page.evaluate(() => window.__awake);
}

/// The README's Uppy glue, the js block of its section "Using the signer from an Uppy page", as it
/// stands there (its imports: @uppy/core, @uppy/aws-s3 and spark-md5 from npm) but for `SIGNER`,
/// which it reads from `window.SIGNER_URL`: one script, bundled by esbuild, that sets
/// `window.uppy`. The e2e suite and the bench run it. `md5: false` (the bench only) leaves out the
/// file's MD5, to measure what it costs.
export async function uppyWithReadmeGlue({ md5 = true } = {}) {
  const { build } = await import('esbuild');
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('## Using the signer from an Uppy page'));
  const glue = section.match(/```js\n([\s\S]*?)```/)[1];
  const signer = /^const SIGNER = .*$/m;
  if (!signer.test(glue)) throw new Error('the README\'s Uppy glue no longer sets SIGNER');
  const md5Line = /^\s*contentMd5: await md5\(file\.data\),\n/m;
  if (!md5 && !md5Line.test(glue)) throw new Error('the README\'s Uppy glue no longer sends contentMd5');
  const source = (md5 ? glue : glue.replace(md5Line, '')).replace(signer, 'const SIGNER = window.SIGNER_URL');
  const bundle = await build({
    stdin: { contents: `${source}\nwindow.uppy = uppy\n`, resolveDir: new URL('.', import.meta.url).pathname },
    bundle: true, format: 'iife', minify: true, write: false, logLevel: 'silent',
  });
  return bundle.outputFiles[0].text;
}

/// Loads `script` (a bundle of `uppyWithReadmeGlue`) with `SIGNER` set to config.json's signer;
/// `window.uppy` once it ran.
export const uppyLoader = (script = 'uppy.js') => `<script type="module">
window.SIGNER_URL = (await (await fetch('config.json')).json()).signerUrl;
const script = document.createElement('script');
script.src = '${script}';
document.head.append(script);
</script>`;
export const UPPY_LOADER = uppyLoader();

/// What the page keeps in this browser: its files' upload tokens (`localStorage`) and the number
/// of resume records (IndexedDB).
export function keptByPage(page) {
  return page.evaluate(() => new Promise(resolve => {
    const sent = Object.keys(localStorage).filter(k => k.startsWith('uploader-sent '));
    const open = indexedDB.open('uploader');
    open.onsuccess = () => {
      const db = open.result;
      if (!db.objectStoreNames.contains('uploads')) { db.close(); return resolve({ sent, records: 0 }); }
      const count = db.transaction('uploads').objectStore('uploads').count();
      count.onsuccess = () => { db.close(); resolve({ sent, records: count.result }); };
    };
  }));
}

/// Puts a resume record in the page's IndexedDB, as a reload mid-upload leaves one.
export function putResumeRecord(page, record) {
  return page.evaluate(record => new Promise((resolve, reject) => {
    const open = indexedDB.open('uploader');
    open.onsuccess = () => {
      const put = open.result.transaction('uploads', 'readwrite').objectStore('uploads').put(record);
      put.onsuccess = () => { open.result.close(); resolve(); };
      put.onerror = () => reject(put.error);
    };
  }), record);
}
