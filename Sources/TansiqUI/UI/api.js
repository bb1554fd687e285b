// The public API and nothing else: the token from sessionStorage as a bearer token.
const TOKEN = 'tansiq.token';

export function token() { return sessionStorage.getItem(TOKEN); }
export function signIn(value) { sessionStorage.setItem(TOKEN, value); }
export function signOut() { sessionStorage.removeItem(TOKEN); }

/** An error answer of the API: its status, code and message; or the controller unreachable. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** One call; the decoded answer, or an ApiError with the envelope's code and message. */
export async function call(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (token()) headers.Authorization = `Bearer ${token()}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (error) {
    throw new ApiError(0, 'unreachable', String(error.message || error));
  }
  const text = await response.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  if (!response.ok) {
    throw new ApiError(response.status, json?.error?.code || String(response.status), json?.error?.message || text);
  }
  return json;
}

export const get = (path) => call('GET', path);
export const post = (path, body) => call('POST', path, body ?? {});

/** Waits for the next change after version `after` (a list's long poll), at most `wait` seconds. */
export async function changedAfter(after, wait = 30) {
  const page = await get(`/v1/nodes?watch=true&after=${after}&wait=${wait}`);
  return page.resourceVersion ?? after;
}

export const escape = (part) => encodeURIComponent(part);
