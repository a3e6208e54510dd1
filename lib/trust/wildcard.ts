/**
 * `StringLike` patterns as a linear-time matcher over code points: no RegExp, no backtracking.
 *
 * IAM User Guide, "IAM JSON policy elements: Condition operators" → String condition operators:
 * `*` matches any run of characters (possibly empty), `?` exactly one character, everything else
 * is literal. "IAM policy elements: Variables and tags" → special characters: `${*}`, `${?}` and
 * `${$}` stand for a literal `*`, `?` and `$`. Any other `${` is a policy variable, which fedbroker
 * does not substitute; such values are refused when stored ({@link policyVariableProblem}).
 *
 * The matcher is a bit-parallel simulation of the pattern's NFA (Shift-And, Baeza-Yates–Gonnet,
 * with Navarro–Raffinot's self-loops for `*`). A pattern of m non-star tokens has states 0..m;
 * state j means "the first j tokens are matched". Reading code point c moves every live state j to
 * j+1 when token j+1 accepts c (one shift and one AND with c's mask) and keeps state j alive when a
 * `*` follows token j (one AND with the loop mask). Consecutive stars collapse into one loop. All
 * values of one condition pair share one bit vector (each pattern's start state has no incoming
 * edge, so no transition crosses from one pattern into the next), so a claim is read once per pair.
 * Cost: one pass over the claim, ⌈bits/32⌉ word operations per code point, O(n·⌈m/32⌉); every table
 * is built when the relationship is compiled, in O(m) memory (literal positions are stored sparse).
 */
import { charge, type Budget } from './limits.ts';

const STAR = -1;
const ANY = -2;
/** A parsed policy value: code points, {@link STAR} and {@link ANY}; escapes already resolved. */
type Token = number;

/**
 * Why a policy string value cannot be stored, if it cannot: `${` starts a policy variable unless it
 * is one of AWS's three escapes. Refused rather than matched as literal text, because a negated
 * operator on an unsubstituted variable (`StringNotEquals ref "refs/heads/${aws:username}"`) would
 * grant every ordinary value where AWS, substituting it, would refuse the one it names.
 */
export function policyVariableProblem(value: string): string | undefined {
  for (let i = value.indexOf('${'); i !== -1; i = value.indexOf('${', i)) {
    const literal = value.slice(i, i + 4);
    if (literal !== '${*}' && literal !== '${?}' && literal !== '${$}') {
      return (
        'must not contain a policy variable ("${…}"): fedbroker does not substitute them; write ${*}, ${?} ' +
        'or ${$} for a literal *, ? or $'
      );
    }
    i += 4;
  }
  return undefined;
}

/** Tokens of a validated `StringLike` value; wildcards unless escaped. */
function tokenize(value: string): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < value.length; ) {
    if (value.startsWith('${', i) && value[i + 3] === '}') {
      out.push(value.charCodeAt(i + 2));
      i += 4;
      continue;
    }
    const cp = value.codePointAt(i) as number;
    out.push(cp === 0x2a ? STAR : cp === 0x3f ? ANY : cp);
    i += cp > 0xffff ? 2 : 1;
  }
  return out;
}

/** The literal text a `StringLike` value starts with, up to its first (unescaped) wildcard. */
export function literalPrefix(value: string): { prefix: string; wildcard: boolean } {
  const tokens = tokenize(value);
  const end = tokens.findIndex((t) => t < 0);
  const literal = end === -1 ? tokens : tokens.slice(0, end);
  return { prefix: String.fromCodePoint(...literal), wildcard: end !== -1 };
}

/** Bits a set of patterns needs: one per non-star token plus one start state per pattern. */
export function wildcardBits(values: readonly string[]): number {
  return values.reduce((n, v) => n + 1 + tokenize(v).filter((t) => t !== STAR).length, 0);
}

/** A compiled set of `StringLike` values; {@link WildcardSet.test} is true when any one matches. */
export interface WildcardSet {
  /** 32-bit words per code point read: the steps charged per code point of a claim. */
  readonly words: number;
  /** 32-bit entries in its tables (memory), O(tokens + words) whatever the alphabet. */
  readonly tableSize: number;
  test(s: string, budget?: Budget): boolean;
}

/** Compiles the values of one condition pair (already validated) into one matcher. */
export function compileWildcards(values: readonly string[]): WildcardSet {
  const bits = wildcardBits(values);
  const words = Math.max(1, Math.ceil(bits / 32));
  const start = new Uint32Array(words);
  const loops = new Uint32Array(words);
  const accept = new Uint32Array(words);
  const any = new Uint32Array(words);
  const set = (mask: Uint32Array, bit: number) => {
    mask[bit >>> 5] = ((mask[bit >>> 5] as number) | (1 << (bit & 31))) >>> 0;
  };
  // A literal's positions are kept sparse, as (word, bits) entries: a dense mask per distinct code
  // point would take distinct code points × words (50 values of 512 distinct CJK characters: 80 MB
  // for one pair); sparse, the tables are O(tokens + words).
  const byLiteral = new Map<number, Map<number, number>>();
  let state = 0;
  for (const value of values) {
    set(start, state);
    for (const t of tokenize(value)) {
      if (t === STAR) {
        set(loops, state); // `**` sets the same loop twice: collapsed
        continue;
      }
      state++;
      if (t === ANY) set(any, state);
      else {
        let entries = byLiteral.get(t);
        if (!entries) {
          entries = new Map();
          byLiteral.set(t, entries);
        }
        entries.set(state >>> 5, ((entries.get(state >>> 5) ?? 0) | (1 << (state & 31))) >>> 0);
      }
    }
    set(accept, state);
    state++;
  }
  const literal = new Map<number, { at: Uint32Array; bits: Uint32Array }>();
  for (const [cp, entries] of byLiteral)
    literal.set(cp, { at: Uint32Array.from(entries.keys()), bits: Uint32Array.from(entries.values()) });
  const live = new Uint32Array(words);
  const shifted = new Uint32Array(words);
  let tableSize = 6 * words;
  for (const entry of literal.values()) tableSize += 2 * entry.at.length;
  return Object.freeze({
    words,
    tableSize,
    test(s: string, budget?: Budget): boolean {
      live.set(start);
      for (let i = 0; i < s.length; ) {
        const cp = s.codePointAt(i) as number;
        i += cp > 0xffff ? 2 : 1;
        charge(budget, words);
        let alive = 0;
        // High word first, so the carry read from word w-1 is still the previous state.
        for (let w = words - 1; w >= 0; w--) {
          const d = live[w] as number;
          const carry = w > 0 ? (live[w - 1] as number) >>> 31 : 0;
          const sh = ((d << 1) | carry) >>> 0;
          shifted[w] = sh;
          const next = ((sh & (any[w] as number)) | (d & (loops[w] as number))) >>> 0;
          live[w] = next;
          alive |= next;
        }
        // The transitions on this code point: at most one entry per word.
        const entry = literal.get(cp);
        if (entry) {
          for (let k = 0; k < entry.at.length; k++) {
            const w = entry.at[k] as number;
            const add = ((shifted[w] as number) & (entry.bits[k] as number)) >>> 0;
            live[w] = ((live[w] as number) | add) >>> 0;
            alive |= add;
          }
        }
        // No live state: nothing later can match (the remaining code points are not read).
        if (alive === 0) return false;
      }
      for (let w = 0; w < words; w++) if (((live[w] as number) & (accept[w] as number)) !== 0) return true;
      return false;
    },
  });
}
