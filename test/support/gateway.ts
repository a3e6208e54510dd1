// A test-only HTTP front for the handlers, so that real HTTP clients (jose's createRemoteJWKSet,
// openid-client, the CLI) can reach them. Routes come from serverless.yml — the one declaration —
// and requests become API Gateway payload 2.0 events, as serverless-offline and API Gateway do.
import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { parse } from 'yaml';
import { lambdaContext } from './events.ts';
import { listen, readBody } from './http-server.ts';

type Handler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
interface Route {
  method: string;
  pattern: RegExp;
  params: string[];
  module: string;
}

export function routesFromServerlessYml(path = 'serverless.yml'): { routes: Route[]; fallback: string | undefined } {
  const doc = parse(readFileSync(path, 'utf8'), { logLevel: 'silent' }) as {
    functions: Record<string, { handler: string; events?: { httpApi?: string | { method: string; path: string } }[] }>;
  };
  const routes: Route[] = [];
  let fallback: string | undefined;
  for (const fn of Object.values(doc.functions)) {
    const module = fn.handler.replace(/\.handler$/, '.ts');
    for (const event of fn.events ?? []) {
      if (event.httpApi === '*') fallback = module;
      else if (event.httpApi && typeof event.httpApi === 'object') {
        const params: string[] = [];
        const source = event.httpApi.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{(\w+)\\?\}/g, (_m, name: string) => {
          params.push(name);
          return '([^/]+)';
        });
        routes.push({ method: event.httpApi.method.toUpperCase(), pattern: new RegExp(`^${source}$`), params, module });
      }
    }
  }
  return { routes, fallback };
}

/**
 * Serves the handlers on 127.0.0.1. `load` imports a handler module (so the caller controls the
 * module graph, e.g. after `vi.resetModules()`).
 */
export async function startGateway(load: (module: string) => Promise<{ handler: Handler }>) {
  const { routes, fallback } = routesFromServerlessYml();
  return listen(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = (req.method ?? 'GET').toUpperCase();
    let module = fallback;
    let pathParameters: Record<string, string> | undefined;
    for (const route of routes) {
      const m = route.pattern.exec(url.pathname);
      if (m && (route.method === '*' || route.method === method)) {
        module = route.module;
        pathParameters = Object.fromEntries(route.params.map((p, i) => [p, decodeURIComponent(m[i + 1] ?? '')]));
        break;
      }
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : v;
    const body = await readBody(req);
    const event: APIGatewayProxyEventV2 = {
      version: '2.0',
      routeKey: `${method} ${url.pathname}`,
      rawPath: url.pathname,
      rawQueryString: url.search.slice(1),
      headers,
      queryStringParameters: url.search ? Object.fromEntries(url.searchParams) : undefined,
      pathParameters,
      requestContext: {
        accountId: 'anonymous',
        apiId: 'local',
        domainName: 'localhost',
        domainPrefix: 'localhost',
        http: { method, path: url.pathname, protocol: 'HTTP/1.1', sourceIp: req.socket.remoteAddress ?? '127.0.0.1', userAgent: headers['user-agent'] ?? '' },
        requestId: crypto.randomUUID(),
        routeKey: `${method} ${url.pathname}`,
        stage: '$default',
        time: new Date().toISOString(),
        timeEpoch: Date.now(),
      },
      body: body || undefined,
      isBase64Encoded: false,
    };
    if (!module) {
      res.writeHead(404).end();
      return;
    }
    const { handler } = await load(module);
    const result = await handler(event, lambdaContext());
    res.writeHead(result.statusCode ?? 200, result.headers as Record<string, string>);
    res.end(method === 'HEAD' ? undefined : (result.body ?? ''));
  });
}
