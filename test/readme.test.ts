/**
 * The README's code, checked against the built package (dist/, as `npm test` builds it first):
 *
 * - every ```ts block is a complete module: all of them are type-checked in one `tsc` run
 *   (strict, nodenext), and errors are reported at their README line;
 * - ```ts blocks marked `<!-- readme-test: runs -->` also run (esbuild, then node): exit code 0,
 *   nothing on stderr;
 * - ```ts blocks marked `<!-- readme-test: serves -->` (servers on port 3000) run on a free port
 *   instead until they answer HTTP, with nothing on stderr;
 * - the ```sh block marked `<!-- readme-test: curl -->` runs, command by command, against the
 *   server `npm start` starts, and each answer has the status the README shows.
 *
 * Files go under .vitest-tmp/readme/, inside the package, so `import 'async-invoker'` and its
 * subpaths resolve to the built package by its own name (package.json `exports`).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { transform } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './helpers.js';
import { anchorLinks, codeBlocks, fileOf, headingAnchors, toReadmePositions, type Block } from './readme/blocks.js';
import { curlSteps, parseAnswer } from './readme/curl.js';

const root = resolve(import.meta.dirname, '..');
const dir = join(root, '.vitest-tmp', 'readme');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const blocks = codeBlocks(readme);
const tsBlocks = blocks.filter((b) => b.lang === 'ts');
const runnable = tsBlocks.filter((b) => b.mark === 'runs');
const serving = tsBlocks.filter((b) => b.mark === 'serves');
/** Languages of blocks that are not code to check: shell transcripts, JSON and type shapes. */
const UNCHECKED = ['sh', 'json', 'text'];

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], options: { cwd: string; timeout: number; env?: NodeJS.ProcessEnv }): Promise<Ran> {
  return new Promise((done) => {
    execFile(file, args, { ...options, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      done({ code, stdout, stderr: error?.killed ? `${stderr}\n(killed after ${options.timeout} ms)` : stderr });
    });
  });
}

/** The block as an ES module to run, and a working directory of its own (for the ./data it writes). */
async function prepare(block: Block, code = block.code): Promise<{ file: string; cwd: string }> {
  const js = await transform(code, { loader: 'ts', format: 'esm', target: 'node20', sourcefile: `README.md:${block.line}` });
  const file = join(dir, fileOf(block, 'mjs'));
  writeFileSync(file, js.code);
  const cwd = join(dir, `cwd-${block.line}`);
  mkdirSync(cwd, { recursive: true });
  return { file, cwd };
}

/** A port nothing listens on now, on loopback. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** A block's first import of the package, to name its test. */
const title = (block: Block) =>
  `README.md:${block.line} (${/from '(async-invoker[^']*)'/.exec(block.code)?.[1] ?? block.code.split('\n')[0]!.slice(0, 40)})`;

beforeAll(() => {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('README code blocks', () => {
  it('are TypeScript, or a shell transcript, JSON or a type shape', () => {
    const other = blocks.filter((b) => b.lang !== 'ts' && !UNCHECKED.includes(b.lang));
    expect(other.map((b) => `README.md:${b.line} \`\`\`${b.lang}`)).toEqual([]);
    const known = (b: Block) => (b.lang === 'ts' && (b.mark === 'runs' || b.mark === 'serves')) || (b.lang === 'sh' && b.mark === 'curl');
    expect(blocks.filter((b) => b.mark !== undefined && !known(b)).map((b) => `README.md:${b.line} ${b.mark}`)).toEqual([]);
    expect(runnable.length).toBeGreaterThanOrEqual(5);
  });

  it("link only to the README's own headings", () => {
    const anchors = headingAnchors(readme);
    expect(anchorLinks(readme).filter((a) => !anchors.has(a))).toEqual([]);
  });

  it('has each top-level section once', () => {
    const sections = [...readme.matchAll(/^## (.+)$/gm)].map((m) => m[1]!);
    expect(sections.filter((name, i) => sections.indexOf(name) !== i)).toEqual([]);
  });

  it('type-check as complete modules (tsc, strict, nodenext)', async () => {
    const check = join(dir, 'check');
    mkdirSync(check, { recursive: true });
    for (const block of tsBlocks) writeFileSync(join(check, fileOf(block, 'ts')), block.code);
    const tsconfig = {
      compilerOptions: {
        strict: true,
        module: 'nodenext',
        moduleResolution: 'nodenext',
        target: 'ES2022',
        noEmit: true,
        types: ['node'],
        // Each block is a module of its own, even one that imports nothing.
        moduleDetection: 'force',
        // As `tsc --init` sets it: @types/koa's own declarations do not check against their dependencies'.
        skipLibCheck: true,
      },
      files: tsBlocks.map((b) => fileOf(b, 'ts')),
    };
    writeFileSync(join(check, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
    const tsc = await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', check, '--pretty', 'false'], { cwd: check, timeout: 180_000 });
    expect(toReadmePositions(tsc.stdout + tsc.stderr)).toEqual([]);
    expect(tsc.code).toBe(0);
  }, 200_000);

  describe('blocks marked `runs` run with no output on stderr', () => {
    for (const block of runnable) {
      it(title(block), async () => {
        const { file, cwd } = await prepare(block);
        const ran = await run(process.execPath, [file], { cwd, timeout: 20_000 });
        expect({ stderr: ran.stderr, code: ran.code }).toEqual({ stderr: '', code: 0 });
      }, 30_000);
    }
  });

  describe('blocks marked `serves` start a server that answers, with no output on stderr', () => {
    for (const block of serving) {
      it(title(block), async () => {
        expect(block.code, 'a server on port 3000, as the README shows it').toMatch(/\b3000\b/);
        const port = await freePort();
        const { file, cwd } = await prepare(block, block.code.replaceAll(/\b3000\b/g, String(port)));
        const child = spawn(process.execPath, [file], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
        try {
          await waitFor(
            async () => {
              if (child.exitCode !== null) throw new Error(`README.md:${block.line} exited with ${child.exitCode}:\n${stderr}`);
              return fetch(`http://127.0.0.1:${port}/`).then(
                async (res) => (await res.arrayBuffer(), true),
                () => false,
              );
            },
            { timeoutMs: 20_000, intervalMs: 50, what: `README.md:${block.line} to answer on port ${port}` },
          );
        } finally {
          await stop(child);
        }
        expect(stderr).toBe('');
      }, 30_000);
    }
  });
});

describe('README curl examples against `npm start`', () => {
  const block = blocks.find((b) => b.lang === 'sh' && b.mark === 'curl');
  const steps = block ? curlSteps(block.code, block.line) : [];
  /** Where the README sends them: `npm start`'s default port, on loopback. */
  const readmeUrl = 'http://127.0.0.1:3000';
  let server: ChildProcess | undefined;
  let url = '';
  let output = '';

  beforeAll(async () => {
    // `npm start` runs this (after building, which `npm test` has done): run it on a free port.
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    const script = /^node (\S+)$/.exec(pkg.scripts.start ?? '')?.[1];
    if (!script) throw new Error(`package.json's start script is not \`node <file>\`: ${pkg.scripts.start}`);
    const cwd = join(dir, 'npm-start');
    mkdirSync(cwd, { recursive: true });
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0' };
    delete env.ADMIN_TOKEN; // the README uses the example's default token
    server = spawn(process.execPath, [join(root, script)], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    server.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    server.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    await waitFor(
      () => {
        if (server!.exitCode !== null) throw new Error(`npm start's server exited:\n${output}`);
        url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1] ?? '';
        return url !== '';
      },
      { timeoutMs: 15_000, intervalMs: 20, what: "npm start's server to listen" },
    );
  }, 30_000);

  afterAll(async () => {
    if (server) await stop(server);
  });

  it("the README's URLs are npm start's defaults", () => {
    expect(steps.length).toBeGreaterThanOrEqual(5);
    const source = readFileSync(join(root, 'examples/express/server.js'), 'utf8');
    expect(source).toContain('process.env.PORT ?? 3000');
    for (const step of steps) expect(step.command, `README.md:${step.line}`).toContain(`'${readmeUrl}/`);
  });

  it('each command gets the status the README shows', async () => {
    /** Request ids the README shows → the ids this server gave. */
    const ids = new Map<string, string>();
    for (const step of steps) {
      const where = `README.md:${step.line}: ${step.command.split('\n')[0]}`;
      expect(step.status, `${where}: no "# HTTP/1.1 <status>" line under the command`).toBeDefined();
      let command = step.command.replaceAll(readmeUrl, url);
      for (const [shown, real] of ids) command = command.replaceAll(shown, real);
      const ran = await run('sh', ['-c', command], { cwd: dir, timeout: 15_000 });
      const answer = parseAnswer(ran.stdout);
      const shown = ran.code === 0 ? ran.stdout : `${ran.stdout}${ran.stderr}`; // curl's progress meter goes to stderr
      expect({ status: answer.status, curlExit: ran.code }, `${where}\n${shown}`).toEqual({ status: step.status, curlExit: 0 });
      step.shownIds.forEach((shown, i) => {
        const real = answer.ids[i];
        expect(real, `${where}: the answer has no requestId #${i + 1}\n${ran.stdout}`).toBeDefined();
        if (ids.has(shown)) expect(real, `${where}: ${shown} stands for ${ids.get(shown)} above`).toBe(ids.get(shown));
        else ids.set(shown, real!);
      });
    }
  }, 60_000);
});
