import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Request, Response } from 'express';
import { HttpError } from '../errors';

/** The console's own scripts and styles, shipped in src/http/console/assets (found from src/ and from dist/). */
function ownAssets(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const candidate = join(dir, 'src', 'http', 'console', 'assets');
    if (existsSync(join(candidate, 'console.css'))) return candidate;
  }
  throw new Error('src/http/console/assets is missing from the installation');
}

const TYPES = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' } as const;

/** Every file /ui/assets/ serves, by the name in its URL: nothing else can be asked for. */
const FILES: Readonly<Record<string, () => string>> = {
  'console.css': () => join(ownAssets(), 'console.css'),
  'chart.js': () => join(ownAssets(), 'chart.js'),
  'proof.js': () => join(ownAssets(), 'proof.js'),
  // uPlot from the installed package, never a CDN.
  'uPlot.iife.min.js': () => require.resolve('uplot/dist/uPlot.iife.min.js'),
  'uPlot.min.css': () => require.resolve('uplot/dist/uPlot.min.css'),
};

const loaded = new Map<string, Buffer>();

/** GET /ui/assets/:file */
export function serveAsset(request: Request, response: Response): void {
  const name = String(request.params.file);
  const locate = Object.hasOwn(FILES, name) ? FILES[name] : undefined;
  if (!locate) throw new HttpError(404, 'not_found', 'no such asset');
  let body = loaded.get(name);
  if (!body) {
    body = readFileSync(locate());
    loaded.set(name, body);
  }
  response.set('Cache-Control', 'no-cache').type(TYPES[name.endsWith('.css') ? 'css' : 'js']).send(body);
}
