import { RouteNotFound } from '../lib/errors.ts';
import { httpHandler } from '../lib/http/handler.ts';

/** API Gateway's `$default` route: a JSON 404 instead of the gateway's own body. */
export const handler = httpHandler(
  async () => {
    throw new RouteNotFound('no such route');
  },
  { methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] },
);
