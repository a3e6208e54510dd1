// The HTTP API's routes, read from serverless.yml (the one declaration) and compiled once into a
// lookup that follows API Gateway's route selection ("Routing API requests" in "Create routes
// for HTTP APIs in API Gateway"): a full match of route and method first, then a greedy path
// variable ({proxy+}), then the $default route. serverless.yml's `method: '*'` is the `ANY` method.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';

/** One HTTP API route and the Lambda function behind it. */
export interface HttpApiRoute {
  /** API Gateway's route key: `ANY /v1/token`, `GET /x/{id}`, or `$default`. */
  routeKey: string;
  /** `ANY` or an upper-case method; undefined for `$default`. */
  method: string | undefined;
  /** The path template; undefined for `$default`. */
  path: string | undefined;
  /** The function's key in serverless.yml (e.g. `token`). */
  functionKey: string;
  /** The deployed function name: `<service>-<stage>-<key>`, as the Serverless Framework names it. */
  functionName: string;
  /** The handler module, relative to serverless.yml's directory (e.g. `functions/token.ts`). */
  module: string;
  /** The module's export to invoke (e.g. `handler`). */
  exportName: string;
  timeoutSeconds: number;
  memorySizeMb: number;
}

/** A matched route and the path parameters it binds (undefined when it binds none). */
export interface RouteMatch {
  route: HttpApiRoute;
  pathParameters: Record<string, string> | undefined;
}

/** Routes compiled for lookup. */
export interface RouteTable {
  routes: readonly HttpApiRoute[];
  /** The route API Gateway selects for `method` and the decoded `path`, or undefined (no `$default`). */
  match(method: string, path: string): RouteMatch | undefined;
}

type HttpApiEvent = string | { method?: string; path?: string };
interface ServerlessYml {
  service: string | { name: string };
  provider?: { timeout?: number; memorySize?: number };
  functions?: Record<string, { handler: string; timeout?: number; memorySize?: number; events?: { httpApi?: HttpApiEvent }[] }>;
}

// The Serverless Framework's defaults when serverless.yml sets neither (its provider reference).
const DEFAULT_TIMEOUT_SECONDS = 6;
const DEFAULT_MEMORY_MB = 1024;

/** Reads the `httpApi` events of serverless.yml's functions; parsed once, at start-up. */
export function routesFromServerlessYml(ymlPath = 'serverless.yml', stage = 'local'): RouteTable {
  const doc = parse(readFileSync(ymlPath, 'utf8'), { logLevel: 'silent' }) as ServerlessYml;
  const service = typeof doc.service === 'string' ? doc.service : doc.service.name;
  const root = dirname(ymlPath);
  const routes: HttpApiRoute[] = [];
  for (const [key, fn] of Object.entries(doc.functions ?? {})) {
    for (const event of fn.events ?? []) {
      if (event.httpApi === undefined) continue;
      const [method, path] = routeOf(event.httpApi);
      const dot = fn.handler.lastIndexOf('.');
      routes.push({
        routeKey: path === undefined ? '$default' : `${method} ${path}`,
        method,
        path,
        functionKey: key,
        functionName: `${service}-${stage}-${key}`,
        module: moduleFile(root, unresolved(fn.handler.slice(0, dot), `functions.${key}.handler`)),
        exportName: fn.handler.slice(dot + 1),
        timeoutSeconds: numberOr(fn.timeout ?? doc.provider?.timeout, DEFAULT_TIMEOUT_SECONDS),
        memorySizeMb: numberOr(fn.memorySize ?? doc.provider?.memorySize, DEFAULT_MEMORY_MB),
      });
    }
  }
  return compileRoutes(routes);
}

/** `httpApi: '*'` and `{ method: '*', path: '*' }` are the $default route; `'GET /x'` and `{ method, path }` are routes. */
function routeOf(event: HttpApiEvent): [string | undefined, string | undefined] {
  const [rawMethod, rawPath] =
    typeof event === 'string' ? (event === '*' ? ['*', '*'] : event.split(' ', 2)) : [event.method ?? '*', event.path];
  const method = unresolved(rawMethod ?? '*', 'httpApi method');
  const path = unresolved(rawPath ?? '*', 'httpApi path');
  if (path === '*') return [undefined, undefined];
  return [method === '*' ? 'ANY' : method.toUpperCase(), path];
}

/** serverless.yml variables (`${...}`) are not resolved here: refuse them rather than serve a wrong route. */
function unresolved(value: string, where: string): string {
  if (value.includes('${'))
    throw new Error(`serverless.yml ${where} uses a variable (${value}); the local HTTP API does not resolve those`);
  return value;
}

/** The handler's source file: serverless-esbuild resolves `functions/token` to its .ts (or .js) file. */
function moduleFile(root: string, base: string): string {
  for (const ext of ['.ts', '.mts', '.js', '.mjs']) if (existsSync(join(root, base + ext))) return base + ext;
  throw new Error(`serverless.yml names handler module ${base}, which does not exist`);
}

function numberOr(value: unknown, fallback: number): number {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

interface Compiled {
  route: HttpApiRoute;
  pattern: RegExp;
  params: string[];
  /** Higher is more specific: non-greedy, then literal segments, then an explicit method. */
  rank: [number, number, number];
}

/** Compiles routes into a lookup: literal paths by map, templated paths by regex in priority order. */
export function compileRoutes(routes: readonly HttpApiRoute[]): RouteTable {
  const literal = new Map<string, Map<string, HttpApiRoute>>();
  const templated: Compiled[] = [];
  let fallback: HttpApiRoute | undefined;
  for (const route of routes) {
    if (route.path === undefined || route.method === undefined) {
      fallback = route;
      continue;
    }
    if (!route.path.includes('{')) {
      const byMethod = literal.get(route.path) ?? new Map<string, HttpApiRoute>();
      byMethod.set(route.method, route);
      literal.set(route.path, byMethod);
      continue;
    }
    const params: string[] = [];
    let greedy = 0;
    const source = route.path.split('/').map((segment) => {
      // A variable is a whole segment; `{name+}` (greedy) must be the last one.
      const variable = /^\{(\w+)(\+?)\}$/.exec(segment);
      if (!variable) return segment.replace(/[.*+?^$()|[\]\\{}]/g, '\\$&');
      params.push(variable[1]!);
      if (variable[2]) greedy = 1;
      return variable[2] ? '(.+)' : '([^/]+)';
    });
    const literals = route.path.split('/').filter((s) => s && !s.startsWith('{')).length;
    templated.push({
      route,
      pattern: new RegExp(`^${source.join('/')}$`),
      params,
      rank: [1 - greedy, literals, route.method === 'ANY' ? 0 : 1],
    });
  }
  templated.sort((a, b) => b.rank[0] - a.rank[0] || b.rank[1] - a.rank[1] || b.rank[2] - a.rank[2]);

  return {
    routes,
    match(method, path) {
      // A path with extra leading slashes selects its route as if it had one.
      const key = path.startsWith('//') ? `/${path.replace(/^\/+/, '')}` : path;
      const exact = literal.get(key);
      const hit = exact?.get(method) ?? exact?.get('ANY');
      if (hit) return { route: hit, pathParameters: undefined };
      for (const c of templated) {
        if (c.route.method !== method && c.route.method !== 'ANY') continue;
        const m = c.pattern.exec(key);
        if (!m) continue;
        const pathParameters: Record<string, string> = {};
        c.params.forEach((name, i) => {
          pathParameters[name] = m[i + 1]!;
        });
        return { route: c.route, pathParameters };
      }
      return fallback && { route: fallback, pathParameters: undefined };
    },
  };
}
