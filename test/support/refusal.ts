// The one assertion every adversarial test ends with: the broker refused with the exact RFC error
// code, issued nothing, and echoed nothing an attacker could learn from.
import { expect } from 'vitest';
import type { JsonBody } from './json-body.ts';

export interface Reply {
  status: number;
  headers: Headers | Record<string, string | undefined>;
  text: string;
  body: JsonBody;
}

const header = (headers: Reply['headers'], name: string): string | undefined | null =>
  headers instanceof Headers ? headers.get(name) : Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1];

/** Shapes a handler result (`{ statusCode, headers, body }`) like a fetched reply. */
export function fromHandler(result: { statusCode?: number; headers?: Record<string, unknown>; body?: string }): Reply {
  const text = result.body ?? '';
  return {
    status: result.statusCode ?? 200,
    headers: (result.headers ?? {}) as Record<string, string>,
    text,
    body: text ? JSON.parse(text) : {},
  };
}

// Stack frames, source locations, PEM blocks and JWK members: none belong in an error body.
const LEAKS = /-----BEGIN|\\?"kty\\?"|\\?"d\\?"\s*:|\bat [\w$.<>]+ \(|node:internal|\.[cm]?[jt]s:\d+|\bstack\b/;

/**
 * Asserts a safe refusal: `status` (default 400) with `error` (default `invalid_request`), no
 * issued token, `Cache-Control: no-store`, no compact JWS (`eyJ`), no key material or stack, and
 * none of `presented` (the attacker's token and other inputs) or `secrets` (e.g. the upstream's
 * host) in the body, in whole or as a token segment.
 */
export function expectSafeRefusal(
  res: Reply,
  opts: { status?: number; error?: string; presented?: string[]; secrets?: string[] } = {},
): void {
  const status = opts.status ?? 400;
  expect(res.status, res.text).toBe(status);
  expect(res.status).toBeLessThan(500);
  expect(res.body.error, res.text).toBe(opts.error ?? 'invalid_request');
  expect(res.body.access_token).toBeUndefined();
  expect(res.text).not.toMatch(/access_token"\s*:/);
  expect(header(res.headers, 'cache-control')).toBe('no-store');
  expect(res.text).not.toMatch(/eyJ/);
  expect(res.text).not.toMatch(LEAKS);
  for (const value of opts.presented ?? []) {
    if (value.length >= 8) expect(res.text).not.toContain(value);
    for (const segment of value.split('.')) if (segment.length >= 16) expect(res.text).not.toContain(segment.slice(0, 64));
  }
  for (const secret of opts.secrets ?? []) expect(res.text).not.toContain(secret);
}

/** Asserts a 503 `temporarily_unavailable` with a positive integer Retry-After and no token. */
export function expectUnavailable(res: Reply, opts: { presented?: string[]; secrets?: string[] } = {}): void {
  expect(res.status, res.text).toBe(503);
  expect(res.body.error, res.text).toBe('temporarily_unavailable');
  expect(res.body.access_token).toBeUndefined();
  expect(Number(header(res.headers, 'retry-after'))).toBeGreaterThanOrEqual(1);
  expect(header(res.headers, 'retry-after')).toMatch(/^\d+$/);
  expect(res.text).not.toMatch(/eyJ/);
  expect(res.text).not.toMatch(LEAKS);
  for (const value of opts.presented ?? []) if (value.length >= 8) expect(res.text).not.toContain(value);
  for (const secret of opts.secrets ?? []) expect(res.text).not.toContain(secret);
}
