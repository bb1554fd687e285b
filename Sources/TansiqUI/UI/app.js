import { ApiError, changedAfter, get, signIn, signOut, token } from './api.js';
import { audit } from './audit.js';
import { el, show } from './dom.js';
import { apply, currentLanguage, loadMessages, setLanguage, t, time } from './i18n.js';
import { guarded, ministries, ministry } from './ministry.js';
import { node, nodes } from './nodes.js';
import { overview } from './overview.js';
import { remember, session } from './session.js';

/** The page the hash names: #/overview, #/ministries[/NAME], #/nodes[/NAME], #/audit. */
function route() {
  const parts = (location.hash.replace(/^#\/?/, '') || 'overview').split('/').map(decodeURIComponent);
  return { page: parts[0], name: parts[1] };
}

let notice = null;
let version = 0;
let watching = false;

let drawing = Promise.resolve();

/**
 * Renders the current page; `message` (an action's result) is shown above it. One render at a
 * time, in the order asked: a page still loading when the address changed (a refresh, the
 * navigation) would otherwise finish after the next page and draw over it.
 */
function render(message) {
  const next = drawing.then(() => draw(message));
  drawing = next.catch(() => {});  // a failed render does not stop the ones after it
  return next;
}

async function draw(message) {
  if (message !== undefined) notice = message;
  if (!token()) return signInPage();
  const hash = location.hash || '#/overview';
  const { page, name } = route();
  for (const link of document.querySelectorAll('#nav a')) {
    link.toggleAttribute('aria-current', false);
    if (link.getAttribute('href').split('/')[1] === page) link.setAttribute('aria-current', 'page');
  }
  try {
    if (page === 'overview') await overview();
    else if (page === 'ministries' && name) await ministry(name, render);
    else if (page === 'ministries') await ministries();
    else if (page === 'nodes' && name) await node(name, render);
    else if (page === 'nodes') await nodes();
    else if (page === 'audit') await audit();
    else show(el('h1', {}, t('notFound')));
    const main = document.getElementById('main');
    if (notice) main.prepend(el('p', { class: 'notice', role: 'status' }, notice));
    main.append(el('p', { class: 'live', id: 'live' }, t('updated', { time: time(new Date()) })));
    hideError();
    document.body.dataset.rendered = `${hash} ${currentLanguage()}`;
  } catch (error) {
    showError(error);
  }
}

function signInPage() {
  document.getElementById('nav').hidden = true;
  document.getElementById('sign-out').hidden = true;
  document.getElementById('who').textContent = '';
  const form = el('form', { class: 'stack signin', id: 'signin' },
    el('h1', {}, t('signInTitle')),
    el('p', {}, t('signInHelp')),
    el('label', { for: 'token' }, t('tokenLabel'), el('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off', required: true })),
    el('div', { class: 'actions' }, el('button', { type: 'submit', id: 'signin-submit' }, t('signIn'))));
  form.addEventListener('submit', guarded(async (event) => {
    event.preventDefault();
    signIn(document.getElementById('token').value.trim());
    try {
      await start();
    } catch (error) {
      signOut();
      throw error;
    }
  }));
  show(form);
  document.getElementById('token').focus();
}

/** Signed in: who the token is, the navigation its role may use, the page, and the live refresh. */
async function start() {
  remember(await get('/v1/whoami'));
  document.getElementById('nav').hidden = false;
  document.getElementById('nav-audit').hidden = !(session.role === 'operator' || session.role === 'auditor');
  document.getElementById('sign-out').hidden = false;
  document.getElementById('who').textContent = t('signedInAs', { subject: session.subject, role: t(`role.${session.role}`) });
  if (session.ministry && (location.hash === '' || location.hash === '#/overview')) {
    location.hash = `#/ministries/${encodeURIComponent(session.ministry)}`;
  }
  await render();
  if (!watching) watch();
}

/** Refreshes the page whenever the cluster changes (the API's long poll), not on a timer. */
async function watch() {
  watching = true;
  while (token()) {
    try {
      const next = await changedAfter(version, 30);
      if (next !== version) {
        version = next;
        const editing = document.activeElement?.closest?.('form') && document.activeElement !== document.body;
        if (!editing) await render();
      }
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) break;
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
  watching = false;
}

function showError(error) {
  const box = document.getElementById('error');
  box.textContent = error instanceof ApiError && error.status !== 0
    ? t('errRefused', { message: error.message, code: error.code })
    : t('errUnreachable', { message: error.message ?? String(error) });
  box.hidden = false;
  if (error instanceof ApiError && error.status === 401 && token()) {
    signOut();
    signInPage();
  }
}

function hideError() { document.getElementById('error').hidden = true; }

async function main() {
  await loadMessages();
  const select = document.getElementById('language');
  select.value = currentLanguage();
  select.addEventListener('change', () => {
    setLanguage(select.value);
    apply();
    if (token()) {
      document.getElementById('who').textContent = t('signedInAs', { subject: session.subject, role: t(`role.${session.role}`) });
    }
    render();
  });
  document.getElementById('sign-out').addEventListener('click', () => {
    signOut();
    notice = null;
    location.hash = '';
    signInPage();
  });
  window.addEventListener('hashchange', () => { notice = null; render(); });
  window.addEventListener('tansiq-error', (event) => showError(event.detail));
  if (token()) {
    try { await start(); } catch (error) { showError(error); signOut(); signInPage(); }
  } else {
    signInPage();
  }
}

main();
