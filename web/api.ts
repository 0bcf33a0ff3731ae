/** The admin API from the page: same origin, the session cookie rides along; a lost login goes back to the form. */
export class ApiError extends Error {
  constructor(message: string, readonly status: number, readonly body: Record<string, unknown>) {
    super(message);
  }
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method, credentials: 'same-origin',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json().catch(() => ({})) as Record<string, unknown>;
  if (res.status === 401 || (res.status === 403 && String(json.error ?? '').includes('log in'))) {
    location.assign('/');
    throw new ApiError('login needed', res.status, json);
  }
  if (!res.ok) throw new ApiError(String(json.error ?? `HTTP ${res.status}`), res.status, json);
  return json as T;
}

export const get = <T>(path: string) => call<T>('GET', path);
export const post = <T>(path: string, body: unknown = {}) => call<T>('POST', path, body);
export const del = <T>(path: string) => call<T>('DELETE', path);
