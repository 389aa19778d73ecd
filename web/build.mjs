// Builds the web UI into ../internal/webui/dist, which the Go binary embeds:
// index.html, app-HASH.js, app-HASH.css and favicon-HASH.svg, each with a
// brotli (.br) and a gzip (.gz) copy beside it that internal/webui serves by
// Accept-Encoding. Content-hashed names let the server cache assets for good
// and never cache the page.
//
//   node build.mjs            minified build (make web)
//   node build.mjs --check    also fail if the bundle grows past its budget
import { createHash } from 'node:crypto';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
export const outdir = join(here, '..', 'internal', 'webui', 'dist');

// Budgets (bytes): the app with the AG Grid modules it registers, and the
// grid's static theme CSS with the page's own, minified before compression;
// and what a first load transfers (page, script, styles and icon, brotli):
// the target is at most 300 KB.
const BUDGET = { js: 900_000, css: 400_000, br: 300_000 };

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

  // The compressed copies, at the slowest settings: built once, served often.
  const sizes = { js: result.metafile.outputs[relative(here, js)].bytes, css: result.metafile.outputs[relative(here, css)].bytes, br: 0, gzip: 0 };
  for (const f of await readdir(outdir)) {
    if (f.startsWith('.') || f.endsWith('.map')) continue;
    const body = await readFile(join(outdir, f));
    const br = brotliCompressSync(body, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_SIZE_HINT]: body.length } });
    const gz = gzipSync(body, { level: 9 });
    await writeFile(join(outdir, `${f}.br`), br);
    await writeFile(join(outdir, `${f}.gz`), gz);
    sizes.br += br.length;
    sizes.gzip += gz.length;
  }
  return { js: basename(js), css: basename(css), sizes };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { js, css, sizes } = await build();
  const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;
  console.log(`web: ${js} ${kib(sizes.js)}, ${css} ${kib(sizes.css)}; a first load transfers ${kib(sizes.br)} (brotli), ` +
    `${kib(sizes.gzip)} (gzip) -> ${relative(process.cwd(), outdir)}`);
  if (process.argv.includes('--check')) {
    for (const k of /** @type {const} */ (['js', 'css', 'br'])) {
      if (sizes[k] > BUDGET[k]) {
        console.error(`web: the ${k} bundle is ${sizes[k]} bytes, over its budget of ${BUDGET[k]}`);
        process.exit(1);
      }
    }
  }
}
