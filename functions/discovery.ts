import { loadConfig, type Config } from '../lib/config.ts';
import { httpHandler } from '../lib/http/handler.ts';
import { json } from '../lib/http/response.ts';
import { discoveryDocument } from '../lib/oidc/discovery.ts';

// Discovery needs only the configuration: no SDK client is bundled or built for it.
let config: Config | undefined;

/** GET /.well-known/openid-configuration */
export const handler = httpHandler(
  async () => {
    config ??= loadConfig();
    return json(200, discoveryDocument(config), { 'Cache-Control': `public, max-age=${config.discoveryMaxAge}` });
  },
  { methods: ['GET', 'HEAD'] },
);
