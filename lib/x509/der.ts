/**
 * A minimal DER reader (X.690 §8.1, definite lengths, single-byte tags) for reading back what was
 * already checked when stored: the subject of an anchor's CA certificates and the issuer, date and
 * serials of its CRLs (binding.ts). Never used to decide whether a certificate is trusted: that is
 * pkijs's and path.ts's job. Any input it does not understand throws.
 */

export interface Tlv {
  readonly tag: number;
  /** Offset of the tag byte. */
  readonly start: number;
  /** Offset of the first content byte. */
  readonly content: number;
  /** Offset just past the content. */
  readonly end: number;
}

/** The element at `at`, which must end by `limit`. */
export function readTlv(bytes: Uint8Array, at: number, limit: number = bytes.length): Tlv {
  if (at + 2 > limit) throw new Error('DER: truncated');
  const tag = bytes[at] as number;
  if ((tag & 0x1f) === 0x1f) throw new Error('DER: multi-byte tag');
  let length = bytes[at + 1] as number;
  let content = at + 2;
  if (length & 0x80) {
    const n = length & 0x7f;
    if (n === 0 || n > 4 || content + n > limit) throw new Error('DER: bad length');
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + (bytes[content + i] as number);
    content += n;
  }
  if (content + length > limit) throw new Error('DER: truncated');
  return { tag, start: at, content, end: content + length };
}

/** The elements inside a constructed element. */
export function children(bytes: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.content; at < parent.end; ) {
    const child = readTlv(bytes, at, parent.end);
    out.push(child);
    at = child.end;
  }
  return out;
}

/** A whole element's bytes (tag, length and content) as hex. */
export function elementHex(bytes: Uint8Array, tlv: Tlv): string {
  return Buffer.from(bytes.subarray(tlv.start, tlv.end)).toString('hex');
}

/** An INTEGER's content as fedbroker writes serials (certificate.ts): hex, leading zero bytes dropped, at least "00". */
export function serialHex(bytes: Uint8Array, tlv: Tlv): string {
  let start = tlv.content;
  while (start < tlv.end - 1 && bytes[start] === 0) start++;
  return Buffer.from(bytes.subarray(start, tlv.end)).toString('hex') || '00';
}

/** UTCTime (0x17, YYMMDDHHMMSSZ, RFC 5280 §4.1.2.5.1) or GeneralizedTime (0x18, YYYYMMDDHHMMSSZ), in epoch ms. */
export function timeOf(bytes: Uint8Array, tlv: Tlv): number {
  const text = Buffer.from(bytes.subarray(tlv.content, tlv.end)).toString('latin1');
  const m = tlv.tag === 0x17 ? /^(\d{2})(\d{10})Z$/.exec(text) : tlv.tag === 0x18 ? /^(\d{4})(\d{10})Z$/.exec(text) : null;
  if (!m) throw new Error('DER: not a time');
  const year = tlv.tag === 0x17 ? (Number(m[1]) >= 50 ? 1900 : 2000) + Number(m[1]) : Number(m[1]);
  const rest = m[2] as string;
  const [mo, d, h, mi, s] = [0, 2, 4, 6, 8].map((i) => Number(rest.slice(i, i + 2))) as [number, number, number, number, number];
  return Date.UTC(year, mo - 1, d, h, mi, s);
}
