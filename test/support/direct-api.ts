// Calls the broker's handlers in-process with API Gateway payload 2.0 events, without an HTTP hop:
// for suites that make thousands of calls (the stateful model test), where a loopback round trip per
// call would cost more than the handler itself. Same handlers, same events as the gateway builds.
import { TOKEN_EXCHANGE_GRANT } from '../../lib/oidc/discovery.ts';
import type { TestBroker } from './broker.ts';
import { httpEvent, lambdaContext } from './events.ts';
import { fromHandler, type Reply } from './refusal.ts';

type Handler = (event: unknown, context: unknown) => Promise<{ statusCode?: number; headers?: Record<string, unknown>; body?: string }>;

/** Routes as serverless.yml declares them: module and the path parameters it reads. */
const ROUTES = {
  token: 'functions/token.ts',
  trustRelationships: 'functions/trust-relationships.ts',
  trustRelationship: 'functions/trust-relationship.ts',
  revocations: 'functions/revocations.ts',
} as const;

export interface DirectApi {
  /** POST /v1/token with the token-exchange grant and these parameters. */
  exchange(params: Record<string, string | undefined>): Promise<Reply>;
  /** Calls a tenant route (`trustRelationships`, `trustRelationship`, `revocations`) with an optional bearer token and JSON body. */
  call(
    route: Exclude<keyof typeof ROUTES, 'token'>,
    method: string,
    params: { tenant: string; id?: string },
    token: string | undefined,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<Reply>;
}

export function directApi(broker: TestBroker): DirectApi {
  const handler = async (route: keyof typeof ROUTES) => (await broker.load<{ handler: Handler }>(ROUTES[route])).handler;
  return {
    async exchange(params) {
      const form = new URLSearchParams();
      for (const [k, v] of Object.entries({ grant_type: TOKEN_EXCHANGE_GRANT, ...params })) if (v !== undefined) form.set(k, v);
      const event = httpEvent('POST', '/v1/token', {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
      });
      return fromHandler(await (await handler('token'))(event, lambdaContext()));
    },
    async call(route, method, params, token, body, headers = {}) {
      const collection = route === 'revocations' ? 'revocations' : 'trust-relationships';
      const path = `/v1/tenants/${params.tenant}/${collection}${params.id ? `/${params.id}` : ''}`;
      const event = httpEvent(method, path, {
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        pathParameters: { tenant: params.tenant, ...(params.id ? { id: params.id } : {}) },
      });
      return fromHandler(await (await handler(route))(event, lambdaContext()));
    },
  };
}
