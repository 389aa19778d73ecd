// Builds the web UI into ../internal/webui/dist, which the Go binary embeds:
// index.html, app-HASH.js, app-HASH.css and favicon-HASH.svg. Content-hashed
// names let the server cache assets for good and never cache the page.
//
//   node build.mjs            minified build (make web)
//   node build.mjs --check    also fail if the bundle grows past its budget
import { createHash } from 'node:crypto';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
export const outdir = join(here, '..', 'internal', 'webui', 'dist');

// Budgets (bytes, minified, before compression): the app with the AG Grid
// modules it registers, and the grid's static theme CSS with the page's own.
const BUDGET = { js: 900_000, css: 400_000 };

export async function build({ quiet = false } = {}) {
  // Empty the output, keeping its .gitignore (the placeholder go:embed needs).
  for (const f of await readdir(outdir)) {
    if (f !== '.gitignore') await rm(join(outdir, f), { recursive: true, force: true });
  }
  const result = await esbuild.build({
    absWorkingDir: here,
    entryPoints: { app: 'src/main.js' },
    bundle: true,
    format: 'esm',
    minify: true,
    target: ['chrome111', 'edge111', 'firefox115', 'safari16.4'],
    outdir,
    entryNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    metafile: true,
    legalComments: 'eof',
    logLevel: quiet ? 'warning' : 'info',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  const outputs = Object.keys(result.metafile.outputs).map((p) => join(here, p));
  const js = outputs.find((p) => p.endsWith('.js'));
  const css = outputs.find((p) => p.endsWith('.css'));
  if (!js || !css) throw new Error(`esbuild produced no ${js ? 'CSS' : 'JS'} bundle`);

  const icon = await readFile(join(here, 'src', 'favicon.svg'));
  const iconName = `favicon-${createHash('sha256').update(icon).digest('hex').slice(0, 8)}.svg`;
  await writeFile(join(outdir, iconName), icon);

  const page = (await readFile(join(here, 'src', 'index.html'), 'utf8'))
    .replace('{{js}}', `/${basename(js)}`)
    .replace('{{css}}', `/${basename(css)}`)
    .replace('{{favicon}}', `/${iconName}`);
  if (page.includes('{{')) throw new Error('index.html has a placeholder the build does not fill');
  await writeFile(join(outdir, 'index.html'), page);

  const sizes = { js: result.metafile.outputs[relative(here, js)].bytes, css: result.metafile.outputs[relative(here, css)].bytes };
  return { js: basename(js), css: basename(css), sizes };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { js, css, sizes } = await build();
  console.log(`web: ${js} ${(sizes.js / 1024).toFixed(0)} KiB, ${css} ${(sizes.css / 1024).toFixed(0)} KiB -> ${relative(process.cwd(), outdir)}`);
  if (process.argv.includes('--check')) {
    for (const k of /** @type {const} */ (['js', 'css'])) {
      if (sizes[k] > BUDGET[k]) {
        console.error(`web: the ${k} bundle is ${sizes[k]} bytes, over its budget of ${BUDGET[k]}`);
        process.exit(1);
      }
    }
  }
}
