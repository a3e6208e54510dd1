// Markdown for `npm run bench` / `npm run load`, and the one writer of bench/RESULTS.md: each
// command owns a marked section, so running one keeps the other's last measured output.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, type machine } from './support.ts';

export const RESULTS = join(ROOT, 'bench/RESULTS.md');

const HEADER = `# fedbroker benchmark results

Measured output of \`npm run bench\` (bench/run.ts) and \`npm run load\` (bench/load.ts), written by
those scripts. Numbers are from one run on the machine named in each section; ratios compare
things measured in the same run on the same machine. Re-run to refresh.
`;

/** Replaces (or appends) the section between `<!-- name:start -->` and `<!-- name:end -->`. */
export function writeSection(name: 'bench' | 'load', markdown: string): void {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const block = `${start}\n${markdown.trim()}\n${end}`;
  let text = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : HEADER;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  text = from >= 0 && to > from ? text.slice(0, from) + block + text.slice(to + end.length) : `${text.trimEnd()}\n\n${block}\n`;
  // The bench section first, then load, whatever order the commands ran in.
  const bench = /<!-- bench:start -->[\s\S]*?<!-- bench:end -->/.exec(text)?.[0];
  const load = /<!-- load:start -->[\s\S]*?<!-- load:end -->/.exec(text)?.[0];
  if (bench && load && text.indexOf(load) < text.indexOf(bench)) {
    text = `${text.replace(bench, '').replace(load, '').trimEnd()}\n\n${bench}\n\n${load}\n`;
  }
  writeFileSync(RESULTS, text.replace(/\n{3,}/g, '\n\n'));
}

export const ms = (x: number) => (x < 1 ? `${Math.round(x * 1000)} µs` : `${x.toFixed(x < 10 ? 2 : 1)} ms`);
export const times = (x: number) => `${x.toFixed(2)}×`;
export { verdict } from './verdicts.ts';
export const kb = (bytes: number) => `${(bytes / 1000).toFixed(0)} kB`;

export function table(head: string[], rows: (string | number)[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export function machineLine(m: ReturnType<typeof machine>, extra = ''): string {
  const suffix = extra ? ` ${extra}` : '';
  return `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB RAM, ${m.os}, Node ${m.node}. Date: ${m.date}.${suffix}`;
}
