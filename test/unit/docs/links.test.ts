// Every relative link in README.md and docs/**/*.md points to a file that exists, and every
// #anchor into a Markdown file names one of its headings (GitHub's slugs): moved text cannot
// leave a dead link behind.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Markdown outside fenced code blocks and inline code spans. */
function prose(markdown: string): string[] {
  const lines: string[] = [];
  let fence = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*```/.test(line)) {
      fence = !fence;
      continue;
    }
    if (!fence) lines.push(line);
  }
  return lines;
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes, repeats numbered. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const line of prose(markdown)) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m?.[1]) continue;
    const base = m[1]
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n ? `${base}-${n}` : base);
  }
  return out;
}

/** The relative link targets of a Markdown file (no scheme, not protocol-relative). */
function relativeLinks(markdown: string): string[] {
  const links: string[] = [];
  for (const line of prose(markdown)) {
    const text = line.replace(/`[^`]*`/g, (code) => (code.includes('](') ? code : ''));
    for (const m of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      const target = m[1] ?? '';
      if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) continue;
      links.push(target);
    }
  }
  return links;
}

/** Dead links of one file, as `file: target` lines. */
function deadLinks(file: string, read: (path: string) => string | undefined): string[] {
  const markdown = read(file);
  if (markdown === undefined) return [`${file}: missing`];
  const dead: string[] = [];
  for (const link of relativeLinks(markdown)) {
    const [path, anchor] = link.split('#', 2) as [string, string | undefined];
    const target = path === '' ? file : normalize(join(dirname(file), decodeURIComponent(path)));
    const content = target.endsWith('.md') ? read(target) : undefined;
    if (!target.endsWith('.md') ? !existsSync(target) : content === undefined) {
      dead.push(`${file}: ${link} (no ${target})`);
    } else if (anchor !== undefined && content !== undefined && !anchors(content).has(anchor)) {
      dead.push(`${file}: ${link} (no heading #${anchor} in ${target})`);
    }
  }
  return dead;
}

function markdownFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return markdownFiles(path);
    return name.endsWith('.md') ? [path] : [];
  });
}

const readIfExists = (path: string) => (existsSync(path) && statSync(path).isFile() ? readFileSync(path, 'utf8') : undefined);

describe('documentation links', () => {
  const files = ['README.md', ...markdownFiles('docs')];

  it('covers the README and every file under docs/', () => {
    expect(files).toContain('docs/configuration.md');
    expect(files).toContain('docs/security/threat-model.md');
    expect(files.flatMap((f) => relativeLinks(readFileSync(f, 'utf8'))).length).toBeGreaterThan(20);
  });

  it('every relative link points to an existing file, and every anchor to a heading there', () => {
    expect(files.flatMap((f) => deadLinks(f, readIfExists))).toEqual([]);
  });

  it('reports a dead link, a dead anchor and a link moved text left relative to the old place', () => {
    const pages: Record<string, string> = {
      'docs/a.md':
        '# A\n\n## `POST /v1/token` (RFC 8693)\n\nSee [b](b.md), [gone](gone.md), [here](#post-v1token-rfc-8693), [there](#nope).\n',
      'docs/b.md': '# B\n\n[schema](schemas/x.json) and [ok](../README.md) [web](https://example.com)\n```\n[in code](nowhere.md)\n```\n',
      'README.md': '# R\n',
    };
    const read = (p: string) => pages[p];
    expect(deadLinks('docs/a.md', read)).toEqual([
      'docs/a.md: gone.md (no docs/gone.md)',
      'docs/a.md: #nope (no heading #nope in docs/a.md)',
    ]);
    expect(deadLinks('docs/b.md', read)).toEqual(['docs/b.md: schemas/x.json (no docs/schemas/x.json)']);
  });
});
