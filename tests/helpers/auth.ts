/**
 * Authentication for the tests. The global setup registers one ADMIN token in the run's database
 * (`inject('adminToken')`); every helper that talks to /graphql sends it by default, so tests act
 * as an administrator unless they say otherwise.
 *
 * `token` options everywhere mean the same thing:
 * - left out (undefined): the run's ADMIN token;
 * - a string: `Authorization: Bearer <that string>` (a scoped, revoked or malformed token);
 * - null: no Authorization header at all.
 */
import { inject } from 'vitest';

/** Which token a request carries: undefined = the run's ADMIN token, null = none, else that token. */
export type TokenOption = string | null | undefined;

/** The run's ADMIN token (registered by tests/setup/global-setup.ts). */
export function adminToken(): string {
  return inject('adminToken');
}

/** The token a `TokenOption` stands for: null when no header is to be sent. */
export function resolveToken(token: TokenOption = undefined): string | null {
  return token === undefined ? adminToken() : token;
}

/** `{ authorization: 'Bearer <token>' }` for the chosen token (default: ADMIN), `{}` for null. */
export function authHeaders(token: TokenOption = undefined): Record<string, string> {
  const chosen = resolveToken(token);
  return chosen === null ? {} : { authorization: `Bearer ${chosen}` };
}

export interface AuthOptions {
  /** Default: the run's ADMIN token; null: no Authorization header. */
  token?: TokenOption;
}

/**
 * `fetch` with `Authorization: Bearer <token>` added (default: the ADMIN token). An authorization
 * header already in `init.headers` is kept as it is, so a test can send any header it likes.
 */
export function fetchWithToken(
  url: string | URL,
  init: RequestInit = {},
  options: AuthOptions = {},
): Promise<Response> {
  const headers = new Headers(init.headers);
  for (const [name, value] of Object.entries(authHeaders(options.token))) {
    if (!headers.has(name)) headers.set(name, value);
  }
  return fetch(url, { ...init, headers });
}

/** A GraphQL POST of `query` with the run's ADMIN token: the response and its parsed body. */
export async function graphqlAsAdmin(url: string, query: string, headers: Record<string, string> = {}) {
  const response = await fetchWithToken(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query }),
  });
  return {
    response,
    body: (await response.json()) as {
      data?: Record<string, unknown> | null;
      errors?: { message: string; extensions?: Record<string, unknown> }[];
    },
  };
}
