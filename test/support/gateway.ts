// The tests' HTTP front, so that real HTTP clients (jose's createRemoteJWKSet, openid-client, the
// CLI) can reach the handlers: the same API Gateway HTTP API stand-in as `npm start`
// (lib/local/http-api.ts), routes from serverless.yml.
import { startHttpApi, type LambdaHandler } from '../../lib/local/http-api.ts';
import { routesFromServerlessYml } from '../../lib/local/http-api-routes.ts';

/**
 * Serves the handlers on 127.0.0.1. `load` imports a handler module on every request, so the
 * caller controls the module graph (after `vi.resetModules()`, requests reach fresh modules).
 */
export async function startGateway(load: (module: string) => Promise<Record<string, unknown>>) {
  const api = await startHttpApi({
    routes: routesFromServerlessYml(),
    load: async (route) => (await load(route.module))[route.exportName] as LambdaHandler,
  });
  return { url: api.url, server: api.server, close: api.close };
}
