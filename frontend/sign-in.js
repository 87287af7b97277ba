// The page's sign-in: see frontend/src/browser/auth.rs and the README (Signed-in uploads).
(() => {
  const SESSION = 'uploader.signIn';
  const PENDING = 'uploader.pkce';
  const POPUP = 'uploader-sign-in';
  const b64url = bytes => btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  const random = n => b64url(crypto.getRandomValues(new Uint8Array(n)));
  const read = key => {
    try { return JSON.parse(localStorage.getItem(key)); } catch { return null; }
  };
  const json = async answer => {
    const body = await answer.json().catch(() => ({}));
    if (!answer.ok) throw new Error(`${answer.url}: HTTP ${answer.status}${body.error ? ` (${body.error})` : ''}`);
    return body;
  };
  let lastError = null;
  const api = {
    error: () => lastError,
    hasHook: () => typeof window.uploaderAuthToken === 'function',
    token: () => (api.hasHook() ? window.uploaderAuthToken() : read(SESSION)?.token ?? null),
    session: () => read(SESSION),
    signOut: () => localStorage.removeItem(SESSION),
    signIn: (issuer, clientId) => report(start(issuer, clientId), false),
  };
  // Tells the page (the `uploader-signin` event) that the session or the error changed.
  const report = (work, always) => work.then(
    () => { lastError = null; if (always) dispatchEvent(new Event('uploader-signin')); },
    e => { lastError = e.message; dispatchEvent(new Event('uploader-signin')); });

  async function start(issuer, clientId) {
    // A page served over plain http from another machine is not a secure context: the browser
    // keeps crypto.subtle (the PKCE digest) from it. Said before any popup opens.
    if (!window.isSecureContext || !window.crypto?.subtle) {
      throw new Error('sign-in needs this page at its https:// address.');
    }
    // The popup opens now, while the click still counts as the user's: Safari blocks a
    // window.open that comes after an await (the discovery fetch, the digest) and the page would
    // leave for the provider instead. It is pointed at the provider once the URL is known.
    const popup = window.open('', POPUP, 'popup,width=480,height=640');
    try {
      await begin(issuer, clientId, popup);
    } catch (error) {
      popup?.close();
      throw error;
    }
  }

  async function begin(issuer, clientId, popup) {
    const discovery = await json(await fetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`));
    const verifier = random(32);
    const state = random(16);
    const challenge = b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
    const redirectUri = location.origin + location.pathname;
    const pending = { state, verifier, tokenEndpoint: discovery.token_endpoint, redirectUri, clientId };
    localStorage.setItem(PENDING, JSON.stringify(pending));
    const url = new URL(discovery.authorization_endpoint);
    Object.entries({
      response_type: 'code', client_id: clientId, redirect_uri: redirectUri, scope: 'openid',
      state, code_challenge: challenge, code_challenge_method: 'S256',
    }).forEach(([name, value]) => url.searchParams.set(name, value));
    if (popup && !popup.closed) {
      localStorage.setItem(PENDING, JSON.stringify({ ...pending, popup: true }));
      popup.location.href = url.href;
    } else {
      location.assign(url);
    }
  }

  // Back from the provider with a code: the token for it, kept as the session.
  async function finish(code, state) {
    history.replaceState(null, '', location.pathname);
    const pending = read(PENDING);
    if (!pending || pending.state !== state) throw new Error('this sign-in was not started here; sign in again');
    localStorage.removeItem(PENDING);
    const tokens = await json(await fetch(pending.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code', code, redirect_uri: pending.redirectUri,
        client_id: pending.clientId, code_verifier: pending.verifier,
      }),
    }));
    const token = tokens.id_token || tokens.access_token;
    if (!token) throw new Error('the provider sent no token');
    const payload = atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'));
    const claims = JSON.parse(new TextDecoder().decode(Uint8Array.from(payload, c => c.charCodeAt(0))));
    localStorage.setItem(SESSION, JSON.stringify({
      token, name: claims.email || claims.preferred_username || claims.name || claims.sub || '',
      // The token's lifetime from now on this machine's clock, which may be hours off the
      // provider's (the signer checks `exp` on its own clock).
      expires: claims.exp && claims.iat < claims.exp ? Math.floor(Date.now() / 1000) + claims.exp - claims.iat : claims.exp || 0,
    }));
    if (pending.popup || window.name === POPUP) window.close();
  }

  window.uploaderSignIn = api;
  const params = new URLSearchParams(location.search);
  if (params.get('code') && params.get('state')) report(finish(params.get('code'), params.get('state')), true);
})();
