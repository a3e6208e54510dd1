import { auditedExchange } from '../lib/app/record-exchange.ts';
import { requestInfo } from '../lib/http/request-info.ts';
import { exchangeToken } from '../lib/app/exchange.ts';
import { parseForm } from '../lib/http/form.ts';
import { httpHandler } from '../lib/http/handler.ts';
import { json } from '../lib/http/response.ts';
import { runtime } from '../lib/handlers/runtime.ts';

/** POST /v1/token — OAuth 2.0 Token Exchange (RFC 8693); every outcome leaves one audit record. */
export const handler = httpHandler(
  async (event, context) => {
    const rt = runtime();
    const deps = {
      audit: rt.audit,
      issuer: rt.config.issuer,
      tenantExists: async (t: string) => (await rt.directory.get(t)).tenant !== undefined,
    };
    const { response } = await auditedExchange(
      deps,
      requestInfo(event, context),
      () => parseForm(event),
      (params) => exchangeToken({ ...rt, issuer: rt.config.issuer, sourceIp: event.requestContext?.http?.sourceIp }, params),
    );
    // RFC 6749 §5.1: token responses are never cached.
    return json(200, response, { Pragma: 'no-cache' });
  },
  { methods: ['POST'] },
);
