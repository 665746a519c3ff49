// Copies non-TypeScript assets the stores load at run time (Lua scripts, SQL files) into dist/,
// and makes the command line's entry executable (tsc writes it 0644; npm links it as a bin).
import { chmodSync, cpSync, existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const assetPattern = /\.(lua|sql)$/;
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (assetPattern.test(name)) cpSync(path, join('dist', relative('src', path)));
  }
}
if (existsSync('src')) walk('src');
if (existsSync('dist/cli.js')) chmodSync('dist/cli.js', 0o755);
