// The page's host: see frontend/src/browser/host.rs and the README (Embed the uploader).
(() => {
  // config.json's embedOrigins: exact origins (`https://example.com`), never `*`. Until
  // config.json has said them (`embed`), what the page tells and what the parent sends waits.
  let origins = null;
  let toSend = [];
  let received = [];
  const framed = () => window.parent !== window;
  const root = () => document.getElementById('uploader') || document;
  // The parent's origin where the browser names it (`location.ancestorOrigins`: Chromium,
  // Safari, Firefox 153 as tested); a browser without that list (older Firefox) has the
  // referrer of the frame's document name it (under every referrer policy but no-referrer).
  const parentOrigin = () => {
    const listed = location.ancestorOrigins?.[0];
    if (listed) return listed;
    try { return new URL(document.referrer).origin; } catch { return null; }
  };
  // To the parent when it is on a listed origin. Not known, to each listed origin: the browser
  // delivers the message only when the parent is on that origin (Firefox reports each other
  // one as an error in the console), so an unlisted parent receives nothing.
  const post = message => {
    if (!origins) return void toSend.push(message);
    const parent = parentOrigin();
    for (const origin of origins) if (!parent || origin === parent) window.parent.postMessage(message, origin);
  };
  const tell = message => {
    // For a site that serves the page itself: events on the page's element, bubbling to the document.
    root().dispatchEvent(new CustomEvent(message.type, { detail: message, bubbles: true }));
    if (framed()) post(message);
  };
  // The one message a listed parent may send: its user's sign-in token, which the page then
  // sends to the signer like any other (the signer verifies it). Nothing else is taken.
  let hostToken = null;
  const take = event => {
    const data = event.data;
    if (event.source !== window.parent || !origins.includes(event.origin)) return;
    if (data?.type !== 'sign-in-token' || typeof data.token !== 'string') return;
    hostToken = data.token;
    if (typeof window.uploaderAuthToken !== 'function') window.uploaderAuthToken = () => hostToken;
    dispatchEvent(new Event('uploader-signin'));
  };
  addEventListener('message', event => {
    if (!framed()) return;
    if (origins) take(event); else received.push(event);
  });
  window.uploaderHost = {
    embed: config => {
      let list = [];
      try { list = JSON.parse(config).embedOrigins; } catch {}
      origins = (Array.isArray(list) ? list : []).filter(o => { try { return new URL(o).origin === o; } catch { return false; } });
      // A listed parent learns the page is there and may send its token now.
      if (framed()) post({ type: 'ready' });
      toSend.splice(0).forEach(post);
      received.splice(0).forEach(take);
    },
    file: (type, name, size, contentType, detail) => tell(type === 'upload-done'
      ? { type, name, size, contentType, key: detail }
      : { type, name, size, contentType, reason: detail }),
    allDone: (done, failed) => tell({ type: 'all-done', done, failed }),
  };
})();
