import { TOKEN_EXCHANGE_GRANT } from '../../lib/oidc/discovery.ts';
import { TOKEN_TYPE } from '../../lib/tokens/types.ts';
import type { JsonBody } from './json-body.ts';

export { TOKEN_TYPE };

/** Posts an RFC 8693 request to `<base>/v1/token`; `params` override the defaults. */
export async function postExchange(
  base: string,
  params: Record<string, string | undefined>,
  init: { contentType?: string; rawBody?: string } = {},
) {
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries({ grant_type: TOKEN_EXCHANGE_GRANT, ...params })) if (v !== undefined) form.set(k, v);
  const res = await fetch(`${base}/v1/token`, {
    method: 'POST',
    headers: { 'Content-Type': init.contentType ?? 'application/x-www-form-urlencoded' },
    body: init.rawBody ?? form.toString(),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: (text ? JSON.parse(text) : {}) as JsonBody };
}
