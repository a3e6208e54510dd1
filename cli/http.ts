import type { ExchangeResponse } from '../lib/app/exchange.ts';
import { PATHS, TOKEN_EXCHANGE_GRANT } from '../lib/oidc/discovery.ts';
import { CliError, usageError } from './errors.ts';

/** Hosts where plain http is acceptable: nothing leaves the machine. */
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);
const TIMEOUT_MS = 30_000;

/**
 * Validates and normalises the broker endpoint (no trailing slash). Plain http is refused except
 * on loopback, because every request carries a bearer token or a subject token.
 */
export function normalizeEndpoint(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw usageError(`--endpoint ${JSON.stringify(raw)} is not an absolute URL`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
    throw usageError('--endpoint must use https (plain http only for localhost)');
  }
  if (url.search || url.hash || url.username || url.password)
    throw usageError('--endpoint must not have credentials, a query or a fragment');
  return url.href.replace(/\/+$/, '');
}

export interface BrokerResponse {
  status: number;
  headers: Headers;
  body: unknown;
}

export interface BrokerRequest {
  method: string;
  headers?: Record<string, string>;
  body?: string;
}

/**
 * Sends one request to the broker and returns the parsed JSON answer of a 2xx. Any other answer
 * becomes a {@link CliError} carrying the server's RFC 6749 §5.2 `error` and `error_description`;
 * network failures become `network_error`. Redirects are not followed: a bearer token must only
 * ever go to the endpoint that was named.
 */
export async function callBroker(endpoint: string, path: string, request: BrokerRequest): Promise<BrokerResponse> {
  let res: Response;
  try {
    res = await fetch(`${endpoint}${path}`, {
      method: request.method,
      headers: { Accept: 'application/json', ...request.headers },
      body: request.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (e) {
    throw networkError(endpoint, e);
  }
  const text = await res.text().catch(() => '');
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (res.status >= 300 && res.status < 400) {
    throw new CliError('unexpected_redirect', `${endpoint} answered with a redirect (HTTP ${res.status}); check --endpoint`);
  }
  if (!res.ok) throw refusal(res, body);
  return { status: res.status, headers: res.headers, body };
}

function refusal(res: Response, body: unknown): CliError {
  const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const error = typeof fields.error === 'string' && /^[\w.-]{1,64}$/.test(fields.error) ? fields.error : `http_${res.status}`;
  let description = typeof fields.error_description === 'string' ? fields.error_description : `HTTP ${res.status} ${res.statusText}`.trim();
  const retryAfter = res.headers.get('retry-after');
  if (res.status === 503 && retryAfter) description += ` (retry after ${retryAfter}s)`;
  return new CliError(error, description);
}

function networkError(endpoint: string, e: unknown): CliError {
  if (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError')) {
    return new CliError('network_error', `no answer from ${endpoint} within ${TIMEOUT_MS / 1000}s`);
  }
  // undici reports "fetch failed" and keeps the reason (ECONNREFUSED, ENOTFOUND, …) in `cause`.
  const cause = e instanceof Error ? (e.cause as { code?: string; message?: string } | undefined) : undefined;
  const reason = cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : 'request failed');
  return new CliError('network_error', `cannot reach ${endpoint}: ${reason}`);
}

/** RFC 8693 §2.1 token exchange at `POST /v1/token`; undefined parameters are left out. */
export async function exchangeToken(endpoint: string, params: Record<string, string | undefined>): Promise<ExchangeResponse> {
  const form = new URLSearchParams({ grant_type: TOKEN_EXCHANGE_GRANT });
  for (const [key, value] of Object.entries(params)) if (value !== undefined) form.set(key, value);
  const res = await callBroker(endpoint, PATHS.token, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  });
  const body = res.body as Partial<ExchangeResponse> | undefined;
  if (typeof body?.access_token !== 'string' || typeof body.expires_in !== 'number') {
    throw new CliError('invalid_response', `${endpoint} answered the token exchange without a token`);
  }
  return body as ExchangeResponse;
}
