/** The README's fenced code blocks, with where they are and how the README test treats them. */

export interface Block {
  /** The fence's info string: `ts`, `sh`, `json`, `text`. */
  readonly lang: string;
  readonly code: string;
  /** README line of the block's first line of code (1-based). */
  readonly line: number;
  /** From a `<!-- readme-test: … -->` comment on the line before the fence (`runs`, `curl`). */
  readonly mark: string | undefined;
}

/** Every fenced block of `markdown` (fences at the start of a line, as the README writes them). */
export function codeBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && /^```\s*$/.test(l));
    if (end < 0) throw new Error(`README.md:${i + 1}: a code block that is never closed`);
    let before = i - 1;
    while (before >= 0 && lines[before]!.trim() === '') before--;
    const mark = /^<!-- readme-test: (\S+) -->$/.exec(lines[before]?.trim() ?? '')?.[1];
    blocks.push({ lang: open[1]!, code: lines.slice(i + 1, end).join('\n') + '\n', line: i + 2, mark });
    i = end;
  }
  return blocks;
}

/** The file name a block is checked under: its README line, so errors point back to it. */
export const fileOf = (block: Block, ext: string): string => `readme-line-${block.line}.${ext}`;

/**
 * tsc's diagnostics (`readme-line-12.ts(3,5): error TS…`) as README positions
 * (`README.md:14:5: error TS…`); lines that name no block file are kept as they are.
 */
export function toReadmePositions(output: string): string[] {
  return output
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) =>
      l.replace(/(?:^|\S*\/)readme-line-(\d+)\.ts\((\d+),(\d+)\)/, (_m, start: string, line: string, col: string) => `README.md:${Number(start) + Number(line) - 1}:${col}`),
    );
}

/** The anchors GitHub gives the headings of `markdown` (outside code blocks), duplicates numbered. */
export function headingAnchors(markdown: string): Set<string> {
  const text = markdown.replace(/^```[\s\S]*?^```/gm, '');
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const [, heading] of text.matchAll(/^#{1,6} (.*)$/gm)) {
    const slug = heading!.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/ /g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

/** The `#anchor` targets of the links in `markdown` (outside code blocks). */
export function anchorLinks(markdown: string): string[] {
  const text = markdown.replace(/^```[\s\S]*?^```/gm, '');
  return [...text.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]!);
}
