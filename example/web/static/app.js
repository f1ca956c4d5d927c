// The ihoprauth example page: a single-page app on the ihoprauth API.
//
// It talks to the API as any SPA would: JSON over fetch, a public client
// (no client_secret: a browser cannot keep one) and PKCE S256 computed here
// with WebCrypto. The tokens live in the `state` object below and nowhere
// else: not in localStorage, not in a cookie a script can read, so
// reloading the page forgets them. After a login the page asks the server
// for a session cookie (HttpOnly, so this script never sees it), which
// opens the server-rendered /account page.
'use strict';

const state = {
  config: { projects: [], inbox: false },
  project: null, // { client_id, type }
  tab: 'signup',
  // pending is a login or reset waiting for its mailed code:
  // { kind: 'two-step' | 'otp' | 'reset', token, verifier, email }.
  pending: null,
  tokens: null, // { access, refresh, expiresAt }
  user: null,
  // mfa is a login waiting for its second factor:
  // { token, methods, verifier, email }.
  mfa: null,
  totp: null, // an authenticator app being set up: { secret, qr_code }
  recoveryCodes: null, // shown once, after the app is confirmed
  passkeys: null, // the security card's list, once loaded
  adminUsers: null, // the admin card's list, once loaded
  deleting: null, // the user_id whose Delete was clicked once
};

const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

const projectHelp = {
  'none': 'password; the login answers with a code at once',
  'two-step': 'password, then a code mailed to you',
  'otp': 'no password: a code mailed to you is the login',
};

// ---- PKCE (RFC 7636) with WebCrypto

function base64url(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

// newVerifier returns 43 base64url characters from 32 random bytes.
function newVerifier() {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

async function challengeOf(verifier) {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

// ---- the API

class APIError extends Error {
  constructor(status, body, retryAfter) {
    super(body.message || `HTTP ${status}`);
    this.status = status;
    this.fields = body.errors || {};
    this.retryAfter = retryAfter;
  }
}

async function api(method, path, body, token) {
  const headers = { Accept: 'application/json' };
  if (body) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = 'Bearer ' + token;
  let res;
  try {
    res = await fetch(path, {
      method, headers, body: body ? JSON.stringify(body) : undefined,
      credentials: 'same-origin', cache: 'no-store',
    });
  } catch (err) {
    throw new Error(`Could not reach the server (${err.message}).`);
  }
  let data = {};
  try {
    data = await res.json();
  } catch {
    data = { message: `HTTP ${res.status} without a JSON body` };
  }
  logCall(method, path, body, res.status, data);
  if (!res.ok) throw new APIError(res.status, data, res.headers.get('Retry-After'));
  return data;
}

const client = () => ({ client_id: state.project.client_id });

// startLogin sends a signup or login with a fresh PKCE challenge and goes
// on by the project type: a code at once (none), or a mailed code first.
async function startLogin(path, fields) {
  const verifier = newVerifier();
  const answer = await api('POST', path, {
    ...client(), ...fields,
    code_challenge: await challengeOf(verifier), code_challenge_method: 'S256',
  });
  if (answer.code) return exchange(answer.code, verifier);
  if (answer.mfa_token) return secondStep(answer, verifier, fields.email);
  state.pending = answer.two_step_auth_token
    ? { kind: 'two-step', token: answer.two_step_auth_token, verifier, email: fields.email }
    : { kind: 'otp', token: answer.otp_token, verifier, email: fields.email };
  notify('info', answer.message);
  render();
  $('#code-form').reset();
  $('#code-form input[name=code]').focus();
}

async function submitCode(code) {
  const p = state.pending;
  const answer = p.kind === 'two-step'
    ? await api('POST', '/api/v1/two-step-auth-code', { two_step_auth_code: code, two_step_auth_token: p.token })
    : await api('POST', '/api/v1/otp-code', { otp_code: code, otp_token: p.token });
  state.pending = null;
  if (answer.mfa_token) return secondStep(answer, p.verifier, p.email);
  await exchange(answer.code, p.verifier);
}

// ---- second factors (docs/design.md, D34-D41)

// secondStep shows the form of the second factor: the login's password
// (or mailed code) passed, and the user has an app or a passkey.
function secondStep(answer, verifier, email) {
  state.mfa = { token: answer.mfa_token, methods: answer.methods, verifier, email };
  notify('info', answer.message);
  render();
  $('#mfa-form').reset();
}

async function submitMFA(code) {
  const proof = /^[0-9]{6}$/.test(code) ? { totp_code: code } : { recovery_code: code };
  await finishMFA(await api('POST', '/api/v1/mfa-code', { mfa_token: state.mfa.token, ...proof }));
}

// mfaPasskey passes the second step with a passkey: the options come from
// mfa-passkey, bound to the mfa_token.
async function mfaPasskey() {
  const begin = await api('POST', '/api/v1/mfa-passkey', { mfa_token: state.mfa.token });
  const cred = await navigator.credentials.get(requestOptions(begin.options));
  await finishMFA(await api('POST', '/api/v1/mfa-code', {
    mfa_token: state.mfa.token, webauthn_assertion: credentialJSON(cred),
  }));
}

async function finishMFA(answer) {
  const verifier = state.mfa.verifier;
  state.mfa = null;
  await exchange(answer.code, verifier);
}

// passkeyLogin signs in with a passkey alone (usernameless): the browser
// offers the passkeys it has for this site, and the server finds the user
// from the one picked.
async function passkeyLogin() {
  const verifier = newVerifier();
  const begin = await api('POST', '/api/v1/passkey-login', {
    ...client(), code_challenge: await challengeOf(verifier), code_challenge_method: 'S256',
  });
  const cred = await navigator.credentials.get(requestOptions(begin.options));
  const answer = await api('POST', '/api/v1/passkey-code', {
    passkey_token: begin.passkey_token, passkey_assertion: credentialJSON(cred),
  });
  await exchange(answer.code, verifier);
}

async function startTOTP() {
  const answer = await authed('POST', '/api/v1/user/mfa/totp');
  state.totp = { secret: answer.secret, qr: answer.qr_code };
  state.recoveryCodes = null;
  notify('info', 'Scan the QR code with your authenticator app, then enter the code it shows.');
}

async function confirmTOTP(code) {
  const answer = await authed('POST', '/api/v1/user/mfa/totp/confirm', { totp_code: code });
  state.totp = null;
  state.recoveryCodes = answer.recovery_codes;
  notify('success', 'Authenticator app set up: logins now ask for its code. Keep the recovery codes somewhere safe.');
}

async function addPasskey() {
  const begin = await authed('POST', '/api/v1/user/mfa/passkey');
  const cred = await navigator.credentials.create(creationOptions(begin.options));
  await authed('POST', '/api/v1/user/mfa/passkey/confirm', {
    passkey_token: begin.passkey_token, passkey_credential: credentialJSON(cred), name: 'This browser',
  });
  notify('success', 'Passkey added: sign in with it alone, or use it as the second step after your password.');
  await loadPasskeys();
}

async function loadPasskeys() {
  state.passkeys = (await authed('GET', '/api/v1/user/mfa/passkeys')).passkeys;
  render();
}

// ---- WebAuthn's binary fields as the API's JSON carries them (base64url)

function fromBase64url(s) {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

function withIDs(list) {
  return (list || []).map((c) => ({ ...c, id: fromBase64url(c.id) }));
}

function creationOptions(options) {
  const pk = options.publicKey;
  return { publicKey: { ...pk, challenge: fromBase64url(pk.challenge), user: { ...pk.user, id: fromBase64url(pk.user.id) },
    excludeCredentials: withIDs(pk.excludeCredentials) } };
}

function requestOptions(options) {
  const pk = options.publicKey;
  const out = { ...pk, challenge: fromBase64url(pk.challenge) };
  if (pk.allowCredentials) out.allowCredentials = withIDs(pk.allowCredentials);
  return { publicKey: out };
}

// credentialJSON is a PublicKeyCredential as its toJSON() makes it, for
// browsers that lack toJSON.
function credentialJSON(cred) {
  const r = cred.response;
  const bytes = (buf) => base64url(new Uint8Array(buf));
  const response = { clientDataJSON: bytes(r.clientDataJSON) };
  if (r.attestationObject) {
    response.attestationObject = bytes(r.attestationObject);
    if (r.getTransports) response.transports = r.getTransports();
  } else {
    response.authenticatorData = bytes(r.authenticatorData);
    response.signature = bytes(r.signature);
    if (r.userHandle) response.userHandle = bytes(r.userHandle);
  }
  return { id: cred.id, rawId: bytes(cred.rawId), type: cred.type, response,
    clientExtensionResults: cred.getClientExtensionResults() };
}

// ---- sign-in with another provider (docs/design.md, D42)
//
// The browser leaves this page for the provider and comes back to / with
// ?code=…&state=… (or error=…). The state and the PKCE verifier wait for
// the return in sessionStorage, which only this tab and this origin read.

async function startProviderSignIn() {
  const verifier = newVerifier();
  const nonce = base64url(crypto.getRandomValues(new Uint8Array(16)));
  sessionStorage.setItem('provider-signin', JSON.stringify({ state: nonce, verifier, project: state.project }));
  const q = new URLSearchParams({
    client_id: state.project.client_id, redirect_uri: location.origin + '/', state: nonce,
    code_challenge: await challengeOf(verifier), code_challenge_method: 'S256',
  });
  location.assign(`/api/v1/oauth/${encodeURIComponent(state.config.provider)}/start?${q}`);
}

// finishProviderSignIn completes a sign-in that the provider sent back to
// this page, if it is the one this tab started.
async function finishProviderSignIn() {
  const q = new URLSearchParams(location.search);
  if (!q.has('state')) return;
  history.replaceState(null, '', '/');
  const saved = JSON.parse(sessionStorage.getItem('provider-signin') || 'null');
  sessionStorage.removeItem('provider-signin');
  if (!saved || saved.state !== q.get('state')) {
    notify('error', 'A sign-in came back that this tab did not start: ignored.');
    return;
  }
  state.project = state.config.projects.find((p) => p.client_id === saved.project.client_id) || state.project;
  $$('#projects input').forEach((input) => { input.checked = input.value === state.project.client_id; });
  if (q.get('error')) {
    notify('error', `The provider sign-in failed (${q.get('error')}): ${q.get('error_description') || ''}`);
  } else if (q.get('mfa_token')) {
    secondStep({ mfa_token: q.get('mfa_token'), methods: (q.get('methods') || '').split(' '),
      message: 'Second factor required.' }, saved.verifier, '');
    return;
  } else {
    await exchange(q.get('code'), saved.verifier);
  }
  render();
}

// exchange trades the auth code for tokens, proving with the verifier that
// this page started the login, then asks for the session cookie. Only once
// the cookie is set (or refused) does the page show the user as signed in,
// so that the account page opened from there lets them in.
async function exchange(code, verifier) {
  const answer = await api('POST', '/api/v1/api-tauth-token', { ...client(), code, code_verifier: verifier });
  let noSession = null;
  try {
    await api('POST', '/api/v1/session', null, answer.access_token);
  } catch (err) {
    noSession = err;
  }
  setTokens(answer);
  if (noSession) {
    notify('error', `Signed in as ${state.user.email}, but with no session cookie: ` +
      'the account page will refuse you. ' + noSession.message);
    return;
  }
  notify('success', `Signed in as ${state.user.email}.`);
}

function setTokens(answer) {
  state.tokens = { access: answer.access_token, refresh: answer.refresh_token, expiresAt: answer.expires_at };
  if (answer.user) state.user = answer.user;
  render();
}

// authed calls the API with the access token. When the token is refused
// (expired, or its login ended elsewhere) it refreshes the tokens once and
// tries again; when that fails too, the login is over and the page forgets
// it.
async function authed(method, path, body) {
  try {
    return await api(method, path, body, state.tokens.access);
  } catch (err) {
    if (!(err instanceof APIError) || err.status !== 401) throw err;
  }
  try {
    setTokens(await api('POST', '/api/v1/refresh-token', { ...client(), refresh_token: state.tokens.refresh }));
  } catch (err) {
    if (!(err instanceof APIError) || err.status !== 401) throw err;
    signedOut();
    throw new Error('Your login has ended (logged out elsewhere, or expired): log in again.');
  }
  return api(method, path, body, state.tokens.access);
}

async function loadUser() {
  state.user = (await authed('GET', '/api/v1/user')).user;
  render();
}

async function refresh() {
  setTokens(await api('POST', '/api/v1/refresh-token', { ...client(), refresh_token: state.tokens.refresh }));
  notify('success', 'New access and refresh tokens; the old refresh token is spent.');
}

// logout ends the login of the tokens, and with it the session cookie's.
// With an expired access token it logs out with the cookie alone.
async function logout() {
  try {
    await api('POST', '/api/v1/logout', null, state.tokens.access);
  } catch (err) {
    if (!(err instanceof APIError) || err.status !== 401) throw err;
    await api('POST', '/api/v1/logout').catch(() => {});
  } finally {
    signedOut();
  }
  notify('success', 'Logged out: the tokens and the session cookie no longer work, and the account page refuses you.');
}

// signedOut forgets the tokens and what was typed into the forms.
function signedOut() {
  state.tokens = null;
  state.user = null;
  state.mfa = null;
  state.totp = null;
  state.recoveryCodes = null;
  state.passkeys = null;
  state.adminUsers = null;
  $$('form').forEach((form) => form.reset());
  render();
}

async function requestReset(email) {
  const answer = await api('POST', '/api/v1/send-reset-password-code', { ...client(), email });
  state.pending = { kind: 'reset', token: answer.reset_password_token, email };
  notify('info', answer.message);
  render();
  $('#reset-form').reset();
  $('#reset-form input[name=code]').focus();
}

async function resetPassword(code, password) {
  await api('POST', '/api/v1/reset-password', {
    reset_password_code: code, reset_password_token: state.pending.token, password,
  });
  const email = state.pending.email;
  state.pending = null;
  state.tab = 'login';
  render();
  $('#login-form input[name=email]').value = email;
  notify('success', 'Password changed, and every login of the account ended. Log in with the new password.');
}

// ---- what the page shows

function render() {
  const signedIn = state.tokens !== null;
  const waiting = state.pending && state.pending.kind !== 'reset';
  $('#signed-out').hidden = signedIn || waiting || state.mfa !== null;
  $('#provider-signin').hidden = !state.config.provider;
  $('#code-step').hidden = signedIn || !waiting || state.mfa !== null;
  $('#mfa-step').hidden = signedIn || state.mfa === null;
  $('#mfa-passkey').hidden = !(state.mfa && state.mfa.methods.includes('webauthn'));
  $$('.needs-passkeys').forEach((el) => { el.hidden = !state.config.passkeys; });
  $('#signed-in').hidden = !signedIn;
  $$('#projects input').forEach((input) => { input.disabled = signedIn || state.pending !== null; });
  const otp = state.project && state.project.type === 'otp';
  $$('.needs-password').forEach((el) => { el.hidden = otp; });
  $$('.needs-password input').forEach((input) => { input.disabled = otp; });
  if (otp && state.tab === 'reset') state.tab = 'signup';
  $$('.tabs [role=tab]').forEach((tab) => tab.setAttribute('aria-selected', String(tab.dataset.tab === state.tab)));
  const resetting = state.pending && state.pending.kind === 'reset';
  $$('form[data-panel]').forEach((form) => { form.hidden = form.dataset.panel !== state.tab || resetting; });
  $('#reset-form').hidden = !resetting;
  $$('.pending-email').forEach((el) => { el.textContent = state.pending ? state.pending.email : ''; });
  $$('.inbox-hint').forEach((el) => { el.hidden = !state.config.inbox; });
  if (signedIn) renderUser();
  $('#security-card').hidden = !signedIn;
  if (signedIn) renderSecurity();
  if (signedIn && state.passkeys === null && state.config.passkeys) {
    state.passkeys = [];
    loadPasskeys().catch(notifyError);
  }
  const admin = signedIn && state.user && String(state.user.role).toLowerCase() === 'admin';
  $('#admin-card').hidden = !admin;
  if (admin && state.adminUsers === null) {
    state.adminUsers = [];
    loadAdminUsers().catch(notifyError);
  }
}

// ---- the admin card: the admin API (GET /api/v1/admin/users and the
// per-user actions), open to users whose role is admin.

async function loadAdminUsers() {
  state.adminUsers = (await authed('GET', '/api/v1/admin/users?limit=100')).users;
  renderAdminUsers();
}

function renderAdminUsers() {
  $('#admin-users').replaceChildren(...state.adminUsers.map((u) => {
    const tr = document.createElement('tr');
    tr.dataset.email = u.email;
    const status = u.disabled_at ? 'disabled' : 'enabled';
    const actions = document.createElement('td');
    actions.className = 'row-actions';
    if (u.user_id !== state.user.user_id) {
      actions.append(
        adminButton(u.disabled_at ? 'Enable' : 'Disable', u.disabled_at ? 'enable' : 'disable', u.user_id),
        adminButton(state.deleting === u.user_id ? 'Really delete?' : 'Delete', 'delete', u.user_id, 'danger'));
    }
    tr.append(el('td', u.email), el('td', `${u.first_name} ${u.last_name}`), el('td', u.role),
      Object.assign(el('td', status), { className: 'state' }), actions);
    return tr;
  }));
}

function adminButton(label, action, userID, className = '') {
  const b = el('button', label);
  Object.assign(b, { type: 'button', className });
  b.dataset.action = action;
  b.dataset.user = userID;
  return b;
}

// adminAction runs the action of a button of the admin card; Delete needs
// a second click.
async function adminAction(button) {
  const { action, user } = button.dataset;
  if (action === 'delete' && state.deleting !== user) {
    state.deleting = user;
    renderAdminUsers();
    return;
  }
  state.deleting = null;
  const path = `/api/v1/admin/users/${encodeURIComponent(user)}`;
  if (action === 'delete') {
    await authed('DELETE', path);
    notify('success', 'User deleted: the account and its logins are gone.');
  } else {
    await authed('POST', `${path}/${action}`);
    notify('success', action === 'disable' ? 'User disabled: their logins ended at once.' : 'User enabled.');
  }
  await loadAdminUsers();
}

function renderUser() {
  const u = state.user || {};
  const rows = [
    ['Name', `${u.first_name || ''} ${u.last_name || ''}`],
    ['Email', u.email], ['Role', u.role], ['Mobile', u.mobile_number],
    ['user_id', u.user_id], ['Project', state.project.client_id], ['Created', u.created_at],
    ...(u.provider ? [['Provider', u.provider]] : []),
  ];
  $('#user').replaceChildren(...rows.flatMap(([k, v]) => [el('dt', k), el('dd', v == null ? '' : String(v))]));
  $('#token-info').textContent = `Access token valid until ${state.tokens.expiresAt} UTC. ` +
    'The tokens live in this page\'s memory only: reloading the page forgets them ' +
    '(the session cookie for the account page stays until you log out).';
}

function renderSecurity() {
  $('#totp-setup').hidden = state.totp === null;
  if (state.totp) {
    $('#totp-qr').src = state.totp.qr;
    $('#totp-secret').textContent = state.totp.secret;
  }
  $('#recovery-codes').hidden = state.recoveryCodes === null;
  $('#recovery-list').textContent = (state.recoveryCodes || []).join('\n');
  $('#passkey-list').replaceChildren(...(state.passkeys || []).map((k) => {
    const li = el('li', `${k.name}, added ${k.created_at}` + (k.last_used_at ? `, last used ${k.last_used_at}` : ''));
    li.className = 'passkey';
    return li;
  }));
}

function el(tag, text) {
  const e = document.createElement(tag);
  e.textContent = text;
  return e;
}

function notify(kind, message, fields = {}) {
  const box = $('#notice');
  box.className = 'notice ' + kind;
  const list = Object.entries(fields).flatMap(([name, msgs]) => msgs.map((m) => el('li', `${name}: ${m}`)));
  const ul = document.createElement('ul');
  ul.replaceChildren(...list);
  box.replaceChildren(el('p', message), ...(list.length ? [ul] : []));
  box.hidden = false;
}

function notifyError(err) {
  if (!(err instanceof APIError)) {
    notify('error', err.message);
    return;
  }
  const wait = err.retryAfter ? ` Try again in ${err.retryAfter} s.` : '';
  notify('error', err.message + wait, err.fields);
}

const secretKeys = new Set(['password', 'access_token', 'refresh_token', 'otp_token', 'two_step_auth_token',
  'reset_password_token', 'code', 'code_verifier', 'code_challenge', 'mfa_token', 'passkey_token', 'secret',
  'otpauth_uri', 'qr_code']);

// shorten replaces passwords and tokens in a logged body, so that the log
// teaches the flow without showing what would let someone in.
function shorten(value) {
  if (Array.isArray(value)) return value.map(shorten);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => {
    if (k === 'password' || k === 'current_password') return [k, '••••••••'];
    if (/_code$/.test(k)) return [k, '••••••'];
    if (k === 'recovery_codes' && Array.isArray(v)) return [k, v.map(() => '••••')];
    if (secretKeys.has(k) && typeof v === 'string' && v.length > 10) return [k, v.slice(0, 8) + '…'];
    return [k, shorten(v)];
  }));
}

function logCall(method, path, body, status, answer) {
  const item = document.createElement('li');
  item.className = status < 400 ? 'ok' : 'failed';
  const head = el('div', `${method} ${path} → ${status}`);
  head.className = 'call';
  item.append(head);
  if (body) item.append(el('pre', JSON.stringify(shorten(body))));
  item.append(el('pre', JSON.stringify(shorten(answer))));
  $('#log').prepend(item);
  loadMetrics();
}

// loadMetrics shows the server's request and event counters from /metrics
// (the Prometheus text format).
async function loadMetrics() {
  try {
    const res = await fetch('/metrics', { cache: 'no-store' });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const lines = (await res.text()).split('\n')
      .filter((l) => /^ihoprauth_(requests|events|refusals)_total/.test(l))
      .map((l) => l.replace(/^ihoprauth_/, ''));
    $('#metrics').textContent = lines.join('\n') || 'Nothing counted yet.';
  } catch (err) {
    $('#metrics').textContent = 'The metrics could not be read: ' + err.message;
  }
}

// ---- wiring

function formValues(form) {
  const values = {};
  for (const [k, v] of new FormData(form)) values[k] = typeof v === 'string' ? v.trim() : v;
  if ('password' in values) values.password = form.elements.password.value; // spaces count
  return values;
}

// handle runs an async action for an event, showing its error and keeping
// the buttons disabled meanwhile.
function handle(action) {
  return async (event) => {
    event.preventDefault();
    const buttons = $$('button');
    buttons.forEach((b) => { b.disabled = true; });
    try {
      await action(event);
    } catch (err) {
      notifyError(err);
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
      render();
    }
  };
}

function renderProjects() {
  const box = $('#projects');
  if (state.config.projects.length === 0) {
    box.replaceChildren(el('p', 'This server has no public project, which the page needs. ' +
      'Start it with -project TYPE:CLIENT_ID::public, or with no -project for the demo ones.'));
    $('#signed-out').hidden = true;
    return;
  }
  box.replaceChildren(...state.config.projects.map((p, i) => {
    const label = document.createElement('label');
    label.className = 'project';
    const input = document.createElement('input');
    Object.assign(input, { type: 'radio', name: 'project', value: p.client_id, checked: i === 0 });
    input.addEventListener('change', () => { state.project = p; render(); });
    const text = document.createElement('span');
    text.append(el('b', p.client_id), el('small', `${p.type}: ${projectHelp[p.type] || ''}`));
    label.append(input, text);
    return label;
  }));
  state.project = state.config.projects[0];
}

function wire() {
  $$('.tabs [role=tab]').forEach((tab) => tab.addEventListener('click', () => {
    state.tab = tab.dataset.tab;
    render();
  }));
  $('#signup-form').addEventListener('submit', handle((e) => startLogin('/api/v1/signup', formValues(e.target))));
  $('#login-form').addEventListener('submit', handle((e) => startLogin('/api/v1/login', formValues(e.target))));
  $('#code-form').addEventListener('submit', handle((e) => submitCode(formValues(e.target).code)));
  $('#reset-request-form').addEventListener('submit', handle((e) => requestReset(formValues(e.target).email)));
  $('#reset-form').addEventListener('submit', handle((e) => {
    const v = formValues(e.target);
    return resetPassword(v.code, v.password);
  }));
  $$('.cancel').forEach((b) => b.addEventListener('click', () => {
    state.pending = null;
    state.mfa = null;
    $('#notice').hidden = true;
    render();
  }));
  $('#mfa-form').addEventListener('submit', handle((e) => submitMFA(formValues(e.target).code)));
  $('#mfa-passkey').addEventListener('click', handle(mfaPasskey));
  $('#passkey-login').addEventListener('click', handle(passkeyLogin));
  $('#totp-start').addEventListener('click', handle(startTOTP));
  $('#totp-form').addEventListener('submit', handle((e) => confirmTOTP(formValues(e.target).code)));
  $('#passkey-add').addEventListener('click', handle(addPasskey));
  $('#provider-button').addEventListener('click', handle(startProviderSignIn));
  $('#reload-user').addEventListener('click', handle(loadUser));
  $('#refresh').addEventListener('click', handle(refresh));
  $('#logout').addEventListener('click', handle(logout));
  $('#admin-reload').addEventListener('click', handle(loadAdminUsers));
  $('#admin-users').addEventListener('click', (event) => {
    const button = event.target.closest('button[data-action]');
    if (button) handle(() => adminAction(button))(event);
  });
}

async function start() {
  wire();
  if (!window.isSecureContext || !crypto.subtle) {
    notify('error', 'This page needs WebCrypto for PKCE, which browsers offer only on https:// ' +
      'and on http://localhost or 127.0.0.1: open it there.');
  }
  try {
    const res = await fetch('/config.json', { cache: 'no-store' });
    state.config = await res.json();
  } catch (err) {
    notify('error', 'Could not read /config.json: ' + err.message);
  }
  $('#inbox-link').hidden = !state.config.inbox;
  renderProjects();
  render();
  await finishProviderSignIn().catch(notifyError);
  loadMetrics();
  document.body.dataset.ready = 'true';
}

start();
