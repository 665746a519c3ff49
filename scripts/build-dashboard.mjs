// Builds the dashboard's page (ui/) into dist/dashboard/assets/: one script and one style sheet,
// minified, with everything they use bundled in (nothing is loaded from another host). The server
// serves exactly these two files (src/dashboard/assets.ts).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const outdir = 'dist/dashboard/assets';
mkdirSync(outdir, { recursive: true });
const result = await build({
  entryPoints: { app: 'ui/main.tsx' },
  outdir,
  bundle: true,
  minify: true,
  format: 'esm',
  // The charts are imported when shown: their code (uPlot) goes in a chunk of its own, named by
  // its content so it can be cached for good; app.js and app.css keep fixed names.
  splitting: true,
  entryNames: '[name]',
  chunkNames: '[name]-[hash]',
  metafile: true,
  target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  tsconfig: 'ui/tsconfig.json',
  // The licences of what is bundled (Preact, uPlot) stay in the file.
  legalComments: 'eof',
  logLevel: 'warning',
});

// The server serves exactly the files listed here (src/dashboard/assets.ts), nothing else.
const files = Object.keys(result.metafile.outputs).map((path) => basename(path)).sort();
// What app.js imports at once: the page asks for it alongside (modulepreload), not after.
const app = Object.entries(result.metafile.outputs).find(([path]) => basename(path) === 'app.js')[1];
const preload = app.imports.filter((i) => i.kind === 'import-statement').map((i) => basename(i.path));
writeFileSync(`${outdir}/manifest.json`, `${JSON.stringify({ files, preload }, null, 2)}\n`);

let total = 0;
for (const name of files) {
  const raw = readFileSync(`${outdir}/${name}`);
  const gz = gzipSync(raw, { level: 9 }).length;
  total += gz;
  console.log(`dashboard ${name}: ${(raw.length / 1024).toFixed(1)} KB, ${(gz / 1024).toFixed(1)} KB gzipped`);
}
console.log(`dashboard assets: ${(total / 1024).toFixed(1)} KB gzipped in all`);
