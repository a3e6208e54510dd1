import { exchangeToken } from '../lib/app/exchange.ts';
import { auditedExchange } from '../lib/handlers/audit.ts';
import { runtime } from '../lib/handlers/runtime.ts';
import { parseForm } from '../lib/http/form.ts';
import { httpHandler } from '../lib/http/handler.ts';
import { requestInfo } from '../lib/http/request-info.ts';
import { json } from '../lib/http/response.ts';

/** POST /v1/token — OAuth 2.0 Token Exchange (RFC 8693); every outcome leaves one audit record. */
export const handler = httpHandler(
  async (event, context) => {
    const { exchangeDeps, exchangeAuditDeps } = runtime();
    const { response } = await auditedExchange(
      exchangeAuditDeps,
      requestInfo(event, context),
      () => parseForm(event),
      // fedbroker:SourceIp (lib/trust/context.ts) is API Gateway's address, never a header the client sets.
      (params) => exchangeToken({ ...exchangeDeps, sourceIp: event.requestContext?.http?.sourceIp }, params),
    );
    // RFC 6749 §5.1: token responses are never cached.
    return json(200, response, { Pragma: 'no-cache' });
  },
  { methods: ['POST'] },
);
