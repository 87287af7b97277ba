// The browser the end-to-end suite drives: `UPLOADER_BROWSER` = chromium (the default), firefox or
// webkit. Chromium is Playwright's own; Playwright cannot drive Debian's Firefox or WebKit (it
// needs its own patched builds), so for those two this file gives the suite the part of
// Playwright's page API it uses, over the driver each one has here:
// - Firefox: `firefox-esr` through WebDriver BiDi (puppeteer-core);
// - WebKit, Safari's engine: WebKitGTK's MiniBrowser through `WebKitWebDriver` (W3C WebDriver,
//   selenium-webdriver) under Xvfb.
// Both run the same page facade: everything in the document is read and done by scripts the page
// runs (`evaluate`), clicks, keys and file picks go through the driver. What a driver cannot do is
// named in FACILITIES: a scenario that needs it is skipped there with that reason (`needs`).

import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createServer } from 'node:net';

export const BROWSER = process.env.UPLOADER_BROWSER || 'chromium';
if (!['chromium', 'firefox', 'webkit'].includes(BROWSER)) throw new Error(`UPLOADER_BROWSER=${BROWSER}: chromium, firefox or webkit`);

/// What some scenarios need and which browsers give it to the suite here, with the reason the
/// others cannot.
const FACILITIES = {
  debugger: { in: ['chromium'], why: 'pausing every script (a laptop asleep) needs the Chrome DevTools Protocol\'s debugger' },
  dialogs: { in: ['chromium', 'firefox'], why: 'WebKitWebDriver cannot read a beforeunload prompt' },
  folderPick: { in: ['chromium'], why: 'picking a folder: BiDi\'s input.setFiles refuses one in Firefox (NS_ERROR_FILE_IS_DIRECTORY); in WebKit, Element Send Keys with a folder\'s path picks nothing' },
};

/// undefined when this browser gives the suite every facility named, else why not (node:test's
/// `skip` option).
export function needs(...names) {
  const missing = names.filter(n => !FACILITIES[n].in.includes(BROWSER));
  return missing.length ? `${BROWSER}: ${missing.map(n => FACILITIES[n].why).join('; ')}` : undefined;
}

/// Starts this run's browser: an object with `newContext({ viewport })` and `close()`, each
/// context a fresh profile (its own storage) with `newPage()`, `addInitScript()` and `close()`.
/// `initScripts`: the page server's registry of scripts WebKit's pages run first (WebKitContext).
export async function launch({ initScripts } = {}) {
  if (BROWSER === 'chromium') {
    const { chromium } = await import('playwright-core');
    return chromium.launch({
      executablePath: process.env.UPLOADER_CHROMIUM || '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
             '--disable-component-update', '--no-first-run', '--disable-sync'],
    });
  }
  if (BROWSER === 'firefox') {
    const puppeteer = (await import('puppeteer-core')).default;
    const browser = await puppeteer.launch({
      browser: 'firefox', headless: true, executablePath: process.env.UPLOADER_FIREFOX || '/usr/bin/firefox-esr',
      // beforeunload prompts reach the suite as `dialog` events.
      extraPrefsFirefox: { 'dom.disable_beforeunload': false },
    });
    return {
      async newContext({ viewport } = {}) { return new FirefoxContext(await browser.createBrowserContext(), viewport); },
      close: () => browser.close(),
    };
  }
  return WebKit.start(initScripts);
}

// ---- The page facade ------------------------------------------------------------------------

/// Finds elements by CSS, with Playwright's `:text-is("...")` at the end (the whole text, trimmed).
const FIND = `(selector, all) => {
  const m = selector.match(/^(.*):text-is\\("(.*)"\\)$/);
  let els = [...document.querySelectorAll(m ? m[1] : selector)];
  if (m) els = els.filter(e => e.textContent.replace(/\\s+/g, ' ').trim() === m[2]);
  return all ? els : (els[0] ?? null);
}`;
/// Playwright's getByText (the innermost element containing the text), getByRole('button', {name})
/// and getByLabel, as selectors of this facade.
const BY = `(by) => {
  const norm = t => (t ?? '').replace(/\\s+/g, ' ').trim();
  if (by.css) return (${FIND})(by.css, true);
  if (by.text) return [...document.body.querySelectorAll('*')].filter(e => norm(e.textContent).includes(by.text)
    && ![...e.children].some(c => norm(c.textContent).includes(by.text)));
  if (by.role === 'button') {
    const named = [...document.querySelectorAll('button, [role=button], input[type=button], input[type=submit]')]
      .map(e => [e, norm(e.getAttribute('aria-label') ?? e.textContent ?? e.value)]);
    const exact = named.filter(([, n]) => n.toLowerCase() === by.name.toLowerCase());
    return (exact.length ? exact : named.filter(([, n]) => n.toLowerCase().includes(by.name.toLowerCase()))).map(([e]) => e);
  }
  if (by.label) return [...document.querySelectorAll('label')].filter(l => norm(l.textContent).includes(by.label))
    .map(l => l.control).concat([...document.querySelectorAll('[aria-label]')].filter(e => e.getAttribute('aria-label') === by.label))
    .filter(Boolean);
  return [];
}`;

const sleep = ms => new Promise(r => setTimeout(r, ms));

/// Polls `check` until it gives a truthy value; Playwright's default timeout.
async function poll(check, { timeout = 30000, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timeout ${timeout}ms exceeded waiting for ${what}`);
    await sleep(100);
  }
}

/// A locator: a way to find elements, resolved each time it is used.
class Locator {
  constructor(target, by) { this.target = target; this.by = by; }
  count() { return this.target.evaluate(`(by) => (${BY})(by).length`, this.by); }
  /// (A document still loading, as a popup's first one, counts as no element yet.)
  async waitFor({ timeout } = {}) { await poll(() => this.count().catch(() => 0), { timeout, what: JSON.stringify(this.by) }); }
  innerText() { return this.target.evaluate(`(by) => (${BY})(by)[0].innerText`, this.by); }
  async click() { await this.waitFor(); await this.target.driver.click(this.by); }
  async fill(value) {
    await this.waitFor();
    await this.target.evaluate(`([by, value]) => { const e = (${BY})(by)[0]; e.focus(); e.value = value;
      e.dispatchEvent(new Event('input', { bubbles: true })); e.dispatchEvent(new Event('change', { bubbles: true })); }`, [this.by, value]);
  }
}

/// A page or a frame, for the suite: Playwright's method names, done by `driver` (one per browser).
class Target extends EventEmitter {
  constructor(driver) { super(); this.driver = driver; this.errors = []; }

  /// Runs `fn` (a function or its source) with `arg` in the document; its JSON-able result.
  async evaluate(fn, arg) { return this.driver.evaluate(typeof fn === 'function' ? fn.toString() : fn, arg); }
  /// Until `fn` gives a truthy value (an element counts as true: elements do not leave the page).
  async waitForFunction(fn, arg, { timeout } = {}) {
    const source = typeof fn === 'function' ? fn.toString() : fn;
    return poll(() => this.evaluate(`async (arg) => { const value = await (${source})(arg); return value instanceof Node ? true : value; }`, arg),
      { timeout, what: 'function' });
  }
  async waitForSelector(selector, { timeout, state = 'visible' } = {}) {
    await poll(() => this.evaluate(`([s, state]) => { const e = (${FIND})(s);
      const shown = !!e && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden';
      return state === 'attached' ? !!e : state === 'detached' ? !e : state === 'hidden' ? !shown : shown; }`, [selector, state]),
    { timeout, what: selector });
    return { contentFrame: () => this.driver.frame(this, selector) };
  }
  async waitForTimeout(ms) { await sleep(ms); await this.evaluate('() => 0'); }
  async $(selector) { return (await this.evaluate(`(s) => !!(${FIND})(s)`, selector)) ? new Locator(this, { css: selector }) : null; }
  async $$eval(selector, fn, arg) { return this.evaluate(`([s, arg]) => (${fn})((${FIND})(s, true), arg)`, [selector, arg]); }
  async textContent(selector) { return this.evaluate(`(s) => (${FIND})(s)?.textContent ?? null`, selector); }
  async getAttribute(selector, name) { return this.evaluate(`([s, n]) => (${FIND})(s)?.getAttribute(n) ?? null`, [selector, name]); }
  async focus(selector) { await this.evaluate(`(s) => (${FIND})(s).focus()`, selector); }
  async click(selector) { await this.waitForSelector(selector); await this.driver.click({ css: selector }); }
  async setInputFiles(selector, files) {
    await this.waitForSelector(selector, { state: 'attached' });
    await this.driver.setFiles(selector, [files].flat());
  }
  async addScriptTag({ path }) {
    const { readFile } = await import('node:fs/promises');
    await this.evaluate('(source) => { (0, eval)(source); }', await readFile(path, 'utf8'));
  }
  locator(css) { return new Locator(this, { css }); }
  getByText(text) { return new Locator(this, { text }); }
  getByRole(role, { name }) { return new Locator(this, { role, name }); }
  getByLabel(label) { return new Locator(this, { label }); }
  url() { return this.driver.url(); }
  frames() { return []; }
}

class Page extends Target {
  constructor(driver, context) {
    super(driver);
    this._context = context;
    this.keyboard = { press: key => this.driver.press(key) };
  }
  context() { return this._context; }
  async goto(url) { await this.driver.goto(url); }
  async reload() { await this.driver.reload(); }
  async addInitScript(source) { await this.driver.addInitScript(typeof source === 'function' ? `(${source})()` : source); }
  async close(options) { await this.driver.close(options); }
  /// Playwright's route for an exact URL: `handler(route)` continues the request or fulfills it.
  async route(url, handler) { await this.driver.route(url, handler); }
  async waitForEvent(name, { timeout } = {}) {
    if (name === 'popup') return this.driver.popup({ timeout });
    if (name === 'close') return poll(() => this.driver.closed(), { timeout, what: 'the page to close' });
    throw new Error(`waitForEvent(${name}) is not in this facade`);
  }
}

// ---- Firefox: puppeteer-core over WebDriver BiDi -----------------------------------------------

class FirefoxContext {
  constructor(context, viewport) { this.context = context; this.viewport = viewport; this.init = []; }
  async newPage() { return this.wrap(await this.context.newPage()); }
  async wrap(native) {
    if (this.viewport) await native.setViewport(this.viewport);
    for (const source of this.init) await native.evaluateOnNewDocument(source);
    const page = new Page(null, this);
    page.driver = new FirefoxDriver(native, page, this);
    return page;
  }
  async addInitScript(source) { this.init.push(source); }
  async close() { await this.context.close(); }
}

/// Requests as Playwright names them: `request`, `requestfinished` (an answer came),
/// `requestfailed`.
class FirefoxDriver {
  constructor(native, page, context, frame) {
    this.native = native; this.page = page; this.context = context; this.scope = frame ?? native;
    if (frame) return;
    native.on('pageerror', e => page.emit('pageerror', e));
    native.on('request', r => page.emit('request', r));
    native.on('requestfinished', r => page.emit('requestfinished', r));
    native.on('requestfailed', r => page.emit('requestfailed', r));
    native.on('response', r => page.emit('response', r));
    native.on('dialog', d => page.emit('dialog', d));
    native.on('close', () => { this.isClosed = true; });
  }
  evaluate(source, arg) { return this.scope.evaluate(`(${source})(${JSON.stringify(arg) ?? 'undefined'})`); }
  async element(by) {
    const handle = await this.scope.evaluateHandle(`(${BY})(${JSON.stringify(by)})[0]`);
    const element = handle.asElement();
    if (!element) throw new Error(`no element for ${JSON.stringify(by)}`);
    return element;
  }
  async click(by) { await (await this.element(by)).click(); }
  async setFiles(selector, paths) { await (await this.element({ css: selector })).uploadFile(...paths); }
  press(key) { return this.native.keyboard.press(key); }
  goto(url) { return this.native.goto(url); }
  reload() { return this.native.reload(); }
  url() { return this.scope.url(); }
  close(options) { return this.native.close(options); }
  closed() { return this.isClosed || this.native.isClosed(); }
  addInitScript(source) { return this.native.evaluateOnNewDocument(source); }
  async route(url, handler) {
    if (!this.routes) {
      this.routes = new Map();
      await this.native.setRequestInterception(true);
      this.native.on('request', request => {
        const handle = this.routes.get(request.url());
        if (!handle) return request.continue();
        handle({
          request: () => request,
          continue: () => request.continue(),
          fulfill: ({ status = 200, headers = {}, contentType, body = '' }) => request.respond({
            status, headers, body, ...(contentType && { contentType }),
          }),
        });
      });
    }
    this.routes.set(url, handler);
  }
  async popup({ timeout = 30000 } = {}) {
    // The first page of this context opened after now (BiDi gives puppeteer no opener).
    const before = new Set(this.native.browserContext().targets());
    const target = await this.native.browserContext().waitForTarget(t => t.type() === 'page' && !before.has(t), { timeout });
    return this.context.wrap(await target.page());
  }
  async frame(parent, selector) {
    const handle = await this.element({ css: selector });
    const native = await handle.contentFrame();
    const frame = new Target(null);
    frame.driver = new FirefoxDriver(this.native, parent, this.context, native);
    return frame;
  }
}

// ---- WebKit: WebKitWebDriver (W3C WebDriver) and MiniBrowser under Xvfb --------------------------

/// A free loopback port.
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => { const { port } = server.address(); server.close(() => resolve(port)); });
  });
}

/// Scripts every WebKit page runs first (the page server puts them at the top of the document,
/// before the page's own: see `initScripts`): what the page throws and the requests it makes
/// (XMLHttpRequest and fetch), kept for the facade to read, since WebDriver classic sends no events.
export const WEBKIT_WATCH = `(() => {
  const log = window.__e2e = { errors: [], requests: [] };
  addEventListener('error', e => log.errors.push(e.message));
  addEventListener('unhandledrejection', e => log.errors.push(String(e.reason?.message ?? e.reason)));
  const open = XMLHttpRequest.prototype.open, send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.open = function (method, url, ...rest) { this.__e2e = { method, url: new URL(url, location.href).href }; return open.call(this, method, url, ...rest); };
  XMLHttpRequest.prototype.send = function (...args) {
    const r = this.__e2e;
    log.requests.push(['request', r.method, r.url]);
    this.addEventListener('loadend', () => log.requests.push([this.status ? 'requestfinished' : 'requestfailed', r.method, r.url]));
    return send.apply(this, args);
  };
  const fetch = window.fetch;
  window.fetch = function (input, init) {
    const method = (init?.method ?? input?.method ?? 'GET').toUpperCase(), url = new URL(input?.url ?? input, location.href).href;
    log.requests.push(['request', method, url]);
    return fetch.apply(this, arguments).then(r => {
      log.requests.push(['requestfinished', method, url]);
      // The bodies of JSON answers only (the signer's), not the page's own wasm and scripts.
      if (r.headers.get('content-type')?.includes('json')) {
        r.clone().text().then(body => log.requests.push(['response', method, url, r.status, body]), () => {});
      }
      return r;
    },
      e => { log.requests.push(['requestfailed', method, url]); throw e; });
  };
})();`;

class WebKit {
  /// Xvfb on a display of its own, then one WebKitWebDriver per context (a fresh MiniBrowser
  /// profile each). `initScripts`: the page server's registry of scripts to put first in the
  /// page (a Map id -> source; the browser asks for them with the `e2e-init` cookie).
  static async start(initScripts) {
    const webkit = new WebKit();
    webkit.initScripts = initScripts;
    // Xvfb picks a free display itself and writes its number to fd 3.
    webkit.xvfb = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'],
      { stdio: ['ignore', 'ignore', 'inherit', 'pipe'], detached: true });
    webkit.display = await new Promise((resolve, reject) => {
      let text = '';
      const timer = setTimeout(() => reject(new Error('Xvfb did not start')), 10000);
      webkit.xvfb.stdio[3].on('data', chunk => {
        text += chunk;
        if (text.includes('\n')) { clearTimeout(timer); resolve(`:${text.trim()}`); }
      });
      webkit.xvfb.once('exit', code => reject(new Error(`Xvfb exited with ${code}`)));
    });
    webkit.contexts = new Set();
    return webkit;
  }
  async newContext({ viewport } = {}) {
    const context = await WebKitContext.start(this, viewport);
    this.contexts.add(context);
    return context;
  }
  async close() {
    for (const context of this.contexts) await context.close();
    if (this.xvfb.exitCode === null) { const exited = new Promise(r => this.xvfb.once('exit', r)); this.xvfb.kill('SIGKILL'); await exited; }
  }
}

class WebKitContext {
  static async start(webkit, viewport = { width: 1000, height: 900 }) {
    const { Builder } = await import('selenium-webdriver');
    const context = new WebKitContext();
    context.webkit = webkit;
    context.init = [];
    const port = await freePort();
    context.server = spawn('WebKitWebDriver', [`--port=${port}`, '--host=127.0.0.1'],
      { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DISPLAY: webkit.display }, detached: true });
    await poll(async () => fetch(`http://127.0.0.1:${port}/status`).then(r => r.ok, () => false), { timeout: 10000, what: 'WebKitWebDriver' });
    const session = new Builder().usingServer(`http://127.0.0.1:${port}`).withCapabilities({
      browserName: 'MiniBrowser',
      'webkitgtk:browserOptions': { binary: process.env.UPLOADER_MINIBROWSER || '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser', args: ['--automation'] },
      unhandledPromptBehavior: 'accept',
    }).build();
    // A browser that cannot start is an error, not a suite waiting for ever.
    let timer;
    context.driver = await Promise.race([session, new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error('WebKit\'s MiniBrowser did not start within 30 s')), 30000);
    })]).finally(() => clearTimeout(timer));
    await context.driver.manage().window().setRect({ ...viewport, x: 0, y: 0 }).catch(() => {});
    context.pages = [];
    return context;
  }
  async addInitScript(source) { this.init.push(source); }
  async newPage() {
    const page = new Page(null, this);
    const handle = this.pages.length ? (await this.driver.switchTo().newWindow('tab'), await this.driver.getWindowHandle())
      : await this.driver.getWindowHandle();
    page.driver = new WebKitDriver(this, page, handle);
    this.pages.push(page);
    return page;
  }
  /// Makes `handle` the window the driver's commands go to.
  async use(handle) {
    if (this.current !== handle) { await this.driver.switchTo().window(handle); this.current = handle; }
  }
  async close() {
    if (this.closed) return;
    this.closed = true;
    this.webkit.contexts.delete(this);
    await this.driver.quit().catch(() => {});
    if (this.server.exitCode === null) {
      const exited = new Promise(r => this.server.once('exit', r));
      try { process.kill(-this.server.pid, 'SIGKILL'); } catch { this.server.kill('SIGKILL'); }
      await exited;
    }
  }
}

/// Where the suite's front to the signer registers routes (stack.mjs sets it).
export const Front = { current: undefined };

class WebKitDriver {
  constructor(context, page, handle) {
    this.context = context; this.page = page; this.handle = handle; this.init = [];
  }
  /// Points the driver's commands at this page (a frame: at that frame in its page).
  async enter() { await this.context.use(this.handle); }
  async evaluate(source, arg) {
    await this.enter();
    const { result, error, errors, requests } = await this.context.driver.executeAsyncScript(`
      const [source, arg, done] = arguments;
      const log = window.__e2e ?? { errors: [], requests: [] };
      const drain = () => ({ errors: log.errors.splice(0), requests: log.requests.splice(0) });
      Promise.resolve().then(() => (0, eval)('(' + source + ')')(arg))
        .then(result => done({ result: result === undefined ? null : result, ...drain() }),
              e => done({ error: String(e && e.stack || e), ...drain() }));`, source, arg ?? null);
    for (const message of errors ?? []) this.page.emit('pageerror', new Error(message));
    for (const [event, method, url, status, body] of requests ?? []) {
      this.page.emit(event, { method: () => method, url: () => url, status: () => status, json: async () => JSON.parse(body) });
    }
    if (error) throw new Error(`in the page: ${error}`);
    return result;
  }
  async element(by) {
    await this.enter();
    const element = await this.context.driver.executeScript(`return (${BY})(arguments[0])[0] ?? null`, by);
    if (!element) throw new Error(`no element for ${JSON.stringify(by)}`);
    return element;
  }
  /// Element Click; an element WebKitWebDriver calls not interactable (outside its viewport)
  /// is scrolled into view first and clicked again.
  async click(by) {
    const element = await this.element(by);
    try {
      await element.click();
    } catch (error) {
      if (error.name !== 'ElementNotInteractableError') throw error;
      await this.context.driver.executeScript('arguments[0].scrollIntoView({ block: "center" })', element);
      await element.click();
    }
  }
  /// Element Send Keys on a file input: one path per line picks several files.
  /// Element Send Keys with the paths one per line. Sent as the raw command: selenium's sendKeys
  /// spreads the text into arguments, which overflows the stack for 10,000 paths.
  async setFiles(selector, paths) {
    const { Command, Name } = await import('selenium-webdriver/lib/command.js');
    const text = paths.join('\n');
    const element = await this.element({ css: selector });
    await element.execute_(new Command(Name.SEND_KEYS_TO_ELEMENT).setParameter('text', text).setParameter('value', Array.from(text)));
  }
  async press(key) {
    const { Key } = await import('selenium-webdriver');
    await this.context.use(this.handle);
    await this.context.driver.actions().sendKeys(Key[key.toUpperCase()] ?? key).perform();
  }
  /// The init scripts go in as a cookie naming them: the page server puts them first in the
  /// document (WebDriver classic has no script-before-the-page's).
  async goto(url) {
    await this.context.use(this.handle);
    const ids = [...this.context.init, ...this.init].map(source => {
      const id = String(this.context.webkit.initScripts.size);
      this.context.webkit.initScripts.set(id, source);
      return id;
    });
    const origin = new URL(url).origin;
    if (this.origin !== origin) {
      await this.context.driver.get(`${origin}/__e2e/blank`);
      this.origin = origin;
    }
    await this.context.driver.executeScript(`document.cookie = 'e2e-init=' + arguments[0] + '; path=/'`, ids.join('.'));
    await this.context.driver.get(url);
  }
  async reload() { await this.context.use(this.handle); await this.context.driver.navigate().refresh(); }
  async url() { await this.context.use(this.handle); return this.context.driver.getCurrentUrl(); }
  async close() {
    await this.context.use(this.handle);
    if (this.context.pages.length === 1) return this.context.close();
    await this.context.driver.close();
    this.context.pages = this.context.pages.filter(p => p !== this.page);
    this.context.current = undefined;
    await this.context.use(this.context.pages[0].driver.handle);
  }
  async closed() { return !(await this.context.driver.getAllWindowHandles()).includes(this.handle); }
  /// Through the stack's front to the signer (`SignerFront` in stack.mjs): WebDriver classic
  /// cannot intercept the page's requests.
  async route(url, handler) {
    if (!Front.current) throw new Error('WebKit: page.route needs the stack\'s front to the signer');
    Front.current.route(url, handler);
  }
  async addInitScript(source) { this.init.push(source); }
  /// The next window the page opens.
  async popup({ timeout = 30000 } = {}) {
    const before = new Set(await this.context.driver.getAllWindowHandles());
    const handle = await poll(async () => (await this.context.driver.getAllWindowHandles()).find(h => !before.has(h)),
      { timeout, what: 'a popup' });
    const page = new Page(null, this.context);
    page.driver = new WebKitDriver(this.context, page, handle);
    this.context.pages.push(page);
    return page;
  }
  /// The frame `selector` names in this page.
  async frame(parent, selector) {
    const frame = new Target(null);
    frame.driver = new WebKitFrame(this.context, parent, this.handle, selector);
    return frame;
  }
}

/// A frame of a WebKit page: each command enters it from its page's top.
class WebKitFrame extends WebKitDriver {
  constructor(context, page, handle, selector) { super(context, page, handle); this.selector = selector; }
  async enter() {
    const { By } = await import('selenium-webdriver');
    await this.context.driver.switchTo().window(this.handle);
    await this.context.driver.switchTo().frame(await this.context.driver.findElement(By.css(this.selector)));
    this.context.current = undefined;
  }
  async url() { await this.enter(); return this.context.driver.executeScript('return location.href'); }
}
