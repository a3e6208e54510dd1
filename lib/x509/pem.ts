/**
 * PEM and base64 decoding for certificates and CRLs, apart from certificate.ts so that code which
 * only reads stored anchors (the standing of certificate-bound tokens, binding.ts) never reaches pkijs.
 */

/** PEM or base64 DER blocks of one type, decoded; anything else in the text is refused. */
export function pemBlocks(text: string, label: string): Uint8Array[] {
  const re = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+?)-----END ${label}-----`, 'g');
  const out: Uint8Array[] = [];
  let rest = text;
  for (const m of text.matchAll(re)) {
    out.push(new Uint8Array(Buffer.from((m[1] as string).replace(/\s+/g, ''), 'base64')));
    rest = rest.replace(m[0], '');
  }
  if (rest.trim() !== '') throw new Error(`unexpected text outside ${label} blocks`);
  return out;
}

/** One CRL as stored (a PEM `X509 CRL` block or base64 DER), decoded; undefined when it is neither. */
export function crlBytes(text: string): Uint8Array | undefined {
  const trimmed = text.trim();
  if (trimmed.startsWith('-----BEGIN')) {
    let blocks: Uint8Array[];
    try {
      blocks = pemBlocks(trimmed, 'X509 CRL');
    } catch {
      return undefined;
    }
    return blocks.length === 1 ? blocks[0] : undefined;
  }
  if (!/^[A-Za-z0-9+/=\s]+$/.test(trimmed)) return undefined;
  return new Uint8Array(Buffer.from(trimmed.replace(/\s+/g, ''), 'base64'));
}
