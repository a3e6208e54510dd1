import { API_ROUTES } from '../lib/api-paths.ts';
import type { ExchangeResponse } from '../lib/app/exchange.ts';
import { TOKEN_EXCHANGE_GRANT } from '../lib/oidc/discovery.ts';
import { TOKEN_TYPE } from '../lib/tokens/types.ts';
import { formatDuration } from './duration.ts';
import { CliError, usageError } from './errors.ts';

/** Hosts where plain http is acceptable: nothing leaves the machine. */
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);
const TIMEOUT_MS = 30_000;

/**
 * Validates and normalises the broker endpoint (no trailing slash). Plain http is refused except
 * on loopback, because every request carries a bearer token or a subject token.
 */
export function normalizeEndpoint(raw: string, o: { insecure?: boolean } = {}): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw usageError(`--endpoint ${JSON.stringify(raw)} is not an absolute URL`);
  }
  const plainHttpAllowed = url.protocol === 'http:' && (LOOPBACK.has(url.hostname) || o.insecure === true);
  if (url.protocol !== 'https:' && !plainHttpAllowed) {
    throw usageError(
      url.protocol === 'http:'
        ? `--endpoint must use https (plain http only for localhost): add --insecure to send tokens unencrypted to ${url.host}`
        : '--endpoint must use https (plain http only for localhost)',
    );
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
  for (let attempt = 1; ; attempt++) {
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
      const failure = networkError(endpoint, e);
      if (attempt < MAX_ATTEMPTS && notSent(e)) {
        await sleep(backoff(attempt));
        continue;
      }
      throw failure;
    }
    const wait = attempt < MAX_ATTEMPTS ? retryWait(res, attempt) : undefined;
    if (wait === undefined) return answer(endpoint, res);
    await res.body?.cancel().catch(() => {});
    await sleep(wait);
  }
}

/**
 * Attempts per request. Retried are only the answers a retry can change: the broker or its
 * gateway busy or briefly down (429, 502, 503, 504), and a connection refused, which the request
 * never reached. Never a refusal (4xx: an expired or refused token stays so), never a timeout
 * (30 s already waited), so a retry never doubles a change the broker made.
 */
const MAX_ATTEMPTS = 3;
const RETRY_STATUS = new Set([429, 502, 503, 504]);
/** The longest Retry-After honoured; a longer one is reported instead of waited for. */
const MAX_RETRY_AFTER_S = 10;
const backoff = (attempt: number) => 250 * 2 ** (attempt - 1);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function retryWait(res: Response, attempt: number): number | undefined {
  if (!RETRY_STATUS.has(res.status)) return undefined;
  const header = res.headers.get('retry-after');
  if (header === null) return backoff(attempt);
  const seconds = /^\d{1,6}$/.test(header.trim()) ? Number(header) : undefined;
  return seconds !== undefined && seconds <= MAX_RETRY_AFTER_S ? seconds * 1000 : undefined;
}

/** True when the request cannot have reached the broker: nothing it did can be repeated by a retry. */
function notSent(e: unknown): boolean {
  const code = e instanceof Error ? (e.cause as { code?: string } | undefined)?.code : undefined;
  return code === 'ECONNREFUSED';
}

async function answer(endpoint: string, res: Response): Promise<BrokerResponse> {
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

/**
 * A `--duration` over the broker's cap names the cap and what raises it: the smaller of the trust
 * relationship's max_duration_seconds (its tenant's admin) and the broker setting (its operator).
 */
function withDurationHint(e: unknown, setting: string): unknown {
  const cap = e instanceof CliError ? /duration_seconds exceeds the maximum of (\d+)/.exec(e.message)?.[1] : undefined;
  if (!(e instanceof CliError) || cap === undefined) return e;
  return new CliError(
    e.error,
    `${e.message}: ask for --duration ${formatDuration(Number(cap))} or less, or have the cap raised — the trust relationship's ` +
      `max_duration_seconds (fedbroker auth trust-relationships update, by a tenant admin) or the broker's ${setting} (by its operator)`,
  );
}

/** RFC 8693 §2.1 token exchange at `POST /v1/token`; undefined parameters are left out. */
export async function exchangeToken(endpoint: string, params: Record<string, string | undefined>): Promise<ExchangeResponse> {
  const form = new URLSearchParams({ grant_type: TOKEN_EXCHANGE_GRANT });
  for (const [key, value] of Object.entries(params)) if (value !== undefined) form.set(key, value);
  let res: BrokerResponse;
  try {
    res = await callBroker(endpoint, API_ROUTES.token, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
  } catch (e) {
    throw withDurationHint(
      e,
      params.requested_token_type === TOKEN_TYPE.idToken ? 'FEDBROKER_ID_TOKEN_MAX_TTL' : 'FEDBROKER_ACCESS_TOKEN_MAX_TTL',
    );
  }
  const body = res.body as Partial<ExchangeResponse> | undefined;
  if (typeof body?.access_token !== 'string' || typeof body.expires_in !== 'number') {
    throw new CliError('invalid_response', `${endpoint} answered the token exchange without a token`);
  }
  return body as ExchangeResponse;
}
