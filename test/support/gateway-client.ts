// A tenant's principal talking to the broker's HTTP API through the local gateway: an access token
// for an upstream `sub` (RFC 8693 with the upstream ID token), then JSON calls with that token.
import { expect } from 'vitest';
import { postExchange, TOKEN_TYPE } from './exchange-client.ts';
import type { JsonBody } from './json-body.ts';
import type { UpstreamIssuer } from './upstream-issuer.ts';

/**
 * `base` and `upstream` are read at each call, so suites can build the client at module level and
 * start the gateway and the upstream issuer later, in `beforeAll`.
 */
export function gatewayClient(base: () => string, upstream: () => UpstreamIssuer) {
  return {
    /** The access token of tenant `tenant` for the upstream subject `sub`; expects the exchange to succeed. */
    async tokenFor(tenant: string, sub: string): Promise<string> {
      const res = await postExchange(base(), {
        subject_token: await upstream().token({ sub }),
        subject_token_type: TOKEN_TYPE.idToken,
        tenant,
      });
      expect(res.status, res.text).toBe(200);
      return res.body.access_token as string;
    },
    /** Calls `path` with an optional bearer token; `body` is sent as JSON, or as is when a string. */
    async api(method: string, path: string, token: string | undefined, body?: unknown, headers: Record<string, string> = {}) {
      const res = await fetch(`${base()}${path}`, {
        method,
        headers: {
          ...(token ? { Authorization: `Bearer ${token}` } : {}),
          ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
          ...headers,
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, headers: res.headers, text, body: (text ? JSON.parse(text) : undefined) as JsonBody };
    },
  };
}
