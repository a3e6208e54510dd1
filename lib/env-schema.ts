// The rules environment variables are read by: a declarative table (lib/config.ts `envSchema`)
// that the configuration, the CLI and docs/configuration.md share. Hand-written rather than zod:
// every function reads its configuration on its first request, and building and running a zod
// object schema of 30 variables, plus loading zod itself, was about 6 ms of each cold start
// (`npm run bench`, cold start rows); these rules need only strings, choices and bounded integers.

/** One variable's rule; `T` is the value the configuration receives. */
export interface EnvRule<T> {
  readonly kind: 'string' | 'choice' | 'integer';
  /** Used when the variable is unset (not when it is set to an empty string). */
  readonly default?: T;
  /** Unset is a problem (no default). */
  readonly required?: boolean;
  /** The allowed values of a choice. */
  readonly choices?: readonly string[];
  readonly min?: number;
  readonly max?: number;
  /** Reads a set value: the value, or the problem with it (without the variable's name). */
  read(raw: string): { value: T } | { problem: string };
}

/** A string, optional when it has no default and no pattern requires it. */
export function text(options: { default: string; pattern?: RegExp; message?: string }): EnvRule<string>;
export function text(options: { required: true; pattern?: RegExp; message?: string }): EnvRule<string>;
export function text(options?: { pattern?: RegExp; message?: string }): EnvRule<string | undefined>;
export function text(options: { default?: string; required?: true; pattern?: RegExp; message?: string } = {}): EnvRule<string | undefined> {
  const { pattern, message = `must match ${String(pattern)}` } = options;
  return {
    kind: 'string',
    ...(options.default !== undefined ? { default: options.default } : {}),
    ...(options.required ? { required: true } : {}),
    read: (raw) => (pattern && !pattern.test(raw) ? { problem: message } : { value: raw }),
  } as EnvRule<string | undefined>;
}

/** One of a fixed set of strings. */
export function choice<const V extends readonly string[]>(choices: V, fallback: V[number]): EnvRule<V[number]> {
  return {
    kind: 'choice',
    default: fallback,
    choices,
    read: (raw) =>
      choices.includes(raw) ? { value: raw as V[number] } : { problem: `must be one of ${choices.map((c) => `"${c}"`).join(', ')}` },
  };
}

/**
 * A whole number in decimal digits within [min, max]. Stricter than `Number()`: no sign, exponent,
 * hex, blanks or fraction, so `1e3`, `0x10` or ` 5` are refused rather than guessed at.
 */
export function integer(fallback: number, bounds: { min: number; max?: number }): EnvRule<number> {
  const { min, max = Number.MAX_SAFE_INTEGER } = bounds;
  return {
    kind: 'integer',
    default: fallback,
    min,
    max,
    read: (raw) => {
      const value = /^\d{1,15}$/.test(raw) ? Number(raw) : Number.NaN;
      if (Number.isNaN(value)) return { problem: 'must be a whole number' };
      if (value < min) return { problem: `must be at least ${min}` };
      if (value > max) return { problem: `must be at most ${max}` };
      return { value };
    },
  };
}

type Rules = Record<string, EnvRule<unknown>>;
export type EnvValues<S extends Rules> = { [K in keyof S]: S[K] extends EnvRule<infer T> ? T : never };

/**
 * Reads every variable the rules name, reporting every problem at once as `NAME: problem` lines.
 * An unset variable takes its rule's default; a required one without a value is a problem.
 */
export function readEnv<S extends Rules>(
  rules: S,
  env: Record<string, string | undefined>,
): { values: EnvValues<S>; issues: [] } | { values?: undefined; issues: string[] } {
  const values: Record<string, unknown> = {};
  const issues: string[] = [];
  for (const [name, rule] of Object.entries(rules)) {
    // Own properties only: a name like `constructor` must not read Object.prototype.
    const raw = Object.hasOwn(env, name) ? env[name] : undefined;
    if (raw === undefined) {
      if (rule.required) issues.push(`${name}: is required`);
      else values[name] = rule.default;
      continue;
    }
    const read = rule.read(raw);
    if ('problem' in read) issues.push(`${name}: ${read.problem}`);
    else values[name] = read.value;
  }
  return issues.length ? { issues } : { values: values as EnvValues<S>, issues: [] };
}
