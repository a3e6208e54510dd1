// The x509 function's cold-start baseline of `npm run bench` (bench/cold.ts), reported as context,
// no target: bench/cold-baseline-stack.ts's handler (the fixed stack, the first calls made raw)
// after validating the request's certificate chain with pkijs, the library fedbroker uses for
// X.509 path validation (docs/x509.md), imported the same way (statically bundled). Nothing of
// fedbroker: no signature on the request, no profile or anchor checks, no policy. The issue's
// baseline has no certificate work at all, so the ratio to this one shows how much of the
// function's cold start is the path validation any certificate broker must do.
import * as pkijs from 'pkijs';
import { handler as stack } from './cold-baseline-stack.ts';

// As lib/x509/pkijs.ts sets it: Node's WebCrypto verifies the signatures.
pkijs.setEngine('node', new pkijs.CryptoEngine({ name: 'node', crypto: globalThis.crypto }));

const certificate = (b64: string) => pkijs.Certificate.fromBER(Buffer.from(b64, 'base64'));

/** `event.chain`: base64 DER, leaf first, then intermediates; `event.anchor`: the trusted root's. */
export async function handler(
  event: { chain?: string[]; anchor?: string; calls?: Record<string, number> },
  context: unknown,
): Promise<{ statusCode: number; body: string }> {
  const [leaf, ...intermediates] = (event.chain ?? []).map(certificate);
  if (!leaf || !event.anchor) return { statusCode: 400, body: 'no chain' };
  const engine = new pkijs.CertificateChainValidationEngine({
    trustedCerts: [certificate(event.anchor)],
    certs: [...intermediates, leaf],
    checkDate: new Date(),
  });
  const { result } = await engine.verify();
  if (!result) return { statusCode: 403, body: 'path invalid' };
  return stack(event, context as never);
}
