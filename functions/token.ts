import { exchangeToken } from '../lib/exchange/exchange.ts';
import { parseForm } from '../lib/http/form.ts';
import { httpHandler } from '../lib/http/handler.ts';
import { json } from '../lib/http/response.ts';
import { runtime } from '../lib/runtime.ts';

/** POST /v1/token — OAuth 2.0 Token Exchange (RFC 8693). */
export const handler = httpHandler(
  async (event) => {
    const rt = runtime();
    const { response } = await exchangeToken({ ...rt, issuer: rt.config.issuer }, parseForm(event));
    // RFC 6749 §5.1: token responses are never cached.
    return json(200, response, { Pragma: 'no-cache' });
  },
  { methods: ['POST'] },
);
