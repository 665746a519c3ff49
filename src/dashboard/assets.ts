/**
 * The page's built files (`npm run build` writes them to dist/dashboard/assets/ with a
 * manifest.json listing them). Only the files of that list are ever served, read once into memory
 * with a gzip copy: a request names an entry of the list or gets a 404, so no path from a request
 * ever reaches the file system.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { SECURITY_HEADERS } from './reply.js';
import type { BodyReply } from './types.js';

/** The entry files the page names; the build adds content-named chunks (`charts-<hash>.js`). */
export type AssetName = 'app.js' | 'app.css';
const ENTRIES: readonly AssetName[] = ['app.js', 'app.css'];
/** What a manifest may list: plain names of scripts and style sheets, nothing with a path. */
const FILE_NAME = /^[A-Za-z0-9_-]+\.(js|css)$/;
const TYPES = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' } as const;

interface Asset {
  readonly type: string;
  readonly raw: Buffer;
  readonly gzip: Buffer;
  readonly etag: string;
}

export interface Assets {
  /** A short content hash per entry file, for the page's `?v=` cache busting. */
  readonly versions: Readonly<Record<AssetName, string>>;
  /** Chunks app.js imports at once: the page preloads them. */
  readonly preload: readonly string[];
  reply(name: string, acceptEncoding: string | undefined, ifNoneMatch: string | undefined): BodyReply | undefined;
}

/** Built next to this module in the package; from src/ (tests), the build's output in dist/. */
function assetDir(): string {
  const candidates = [new URL('./assets/', import.meta.url), new URL('../../dist/dashboard/assets/', import.meta.url)];
  for (const url of candidates) {
    const dir = fileURLToPath(url);
    if (existsSync(dir + 'manifest.json')) return dir;
  }
  throw new Error("async-invoker dashboard: its assets are missing (dist/dashboard/assets/): build the package with 'npm run build'");
}

let loaded: { assets: Map<string, Asset>; versions: Record<AssetName, string>; preload: string[] } | undefined;

function load(): NonNullable<typeof loaded> {
  if (loaded) return loaded;
  const dir = assetDir();
  const manifest = JSON.parse(readFileSync(dir + 'manifest.json', 'utf8')) as { files?: unknown; preload?: unknown };
  const files = Array.isArray(manifest.files) ? manifest.files.filter((f): f is string => typeof f === 'string' && FILE_NAME.test(f)) : [];
  const assets = new Map<string, Asset>();
  const versions = {} as Record<AssetName, string>;
  for (const name of files) {
    const raw = readFileSync(dir + name);
    const hash = createHash('sha256').update(raw).digest('base64url').slice(0, 12);
    const type = TYPES[name.endsWith('.css') ? 'css' : 'js'];
    assets.set(name, { type, raw, gzip: gzipSync(raw, { level: 9 }), etag: `"${hash}"` });
  }
  for (const name of ENTRIES) {
    const asset = assets.get(name);
    if (!asset) throw new Error(`async-invoker dashboard: ${name} is missing from its built assets: rebuild the package with 'npm run build'`);
    versions[name] = asset.etag.slice(1, -1);
  }
  const preload = Array.isArray(manifest.preload) ? manifest.preload.filter((f): f is string => typeof f === 'string' && assets.has(f)) : [];
  return (loaded = { assets, versions, preload });
}

export function loadAssets(): Assets {
  const { assets, versions, preload } = load();
  return {
    versions,
    preload,
    reply(name, acceptEncoding, ifNoneMatch) {
      // A lookup in a Map of the built names: `../x`, `%2e%2e`, `app.js/..` are simply not keys.
      const asset = assets.get(name);
      if (!asset) return undefined;
      const headers: Record<string, string> = {
        ...SECURITY_HEADERS,
        'content-type': asset.type,
        etag: asset.etag,
        vary: 'accept-encoding',
        // Private: behind `authorize`, shared caches must not keep it. The URL changes with the content.
        'cache-control': 'private, max-age=31536000, immutable',
      };
      if (ifNoneMatch === asset.etag) return { status: 304, headers, body: '' };
      if (acceptEncoding !== undefined && /\bgzip\b/.test(acceptEncoding)) {
        return { status: 200, headers: { ...headers, 'content-encoding': 'gzip' }, body: asset.gzip };
      }
      return { status: 200, headers, body: asset.raw };
    },
  };
}

/** Sizes of the built files, raw and gzipped (for the README's figures and a test's budget). */
export function assetSizes(): Record<string, { raw: number; gzip: number }> {
  const { assets } = load();
  const out: Record<string, { raw: number; gzip: number }> = {};
  for (const [name, asset] of assets) out[name] = { raw: asset.raw.length, gzip: asset.gzip.length };
  return out;
}
