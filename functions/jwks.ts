import { httpHandler } from '../lib/http/handler.ts';
import { jwksDocument, notModified } from '../lib/oidc/jwks.ts';
import { runtime } from '../lib/handlers/runtime.ts';

/** GET /.well-known/jwks.json — every key a verifier may meet, with ETag revalidation. */
export const handler = httpHandler(
  async (event) => {
    const { config, keyRing } = runtime();
    const { body, etag } = jwksDocument(await keyRing.publishedKeys());
    const headers = {
      'Content-Type': 'application/json',
      'Cache-Control': `public, max-age=${config.jwksMaxAge}`,
      ETag: etag,
    };
    if (notModified(event.headers?.['if-none-match'], etag)) return { statusCode: 304, headers, body: '' };
    return { statusCode: 200, headers, body };
  },
  { methods: ['GET', 'HEAD'] },
);
