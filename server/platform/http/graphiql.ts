/**
 * GraphiQL without the internet: the page and every asset it loads (script, styles, the editor's
 * web workers, the icon) are served by this service from `@graphql-yoga/render-graphiql`, which
 * bundles yoga's GraphiQL. The page runs no inline script, so its Content-Security-Policy allows
 * scripts and workers from 'self' only.
 *
 * The assets (about 9 MB of text) are loaded on the first request for them, not at start, and
 * sent gzip-compressed to browsers that accept it.
 */
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import type { Express, NextFunction, Request, Response } from 'express';
import type { GraphiQLOptions } from 'graphql-yoga';
import helmet from 'helmet';

const VERSION: string = (
  createRequire(import.meta.url)('@graphql-yoga/render-graphiql/package.json') as { version: string }
).version;

/** Where the assets are served; versioned, so browsers may keep them for good. */
export const GRAPHIQL_ASSETS_PATH = `/graphiql/${VERSION}`;

/** The Content-Security-Policy of GraphiQL's page: everything from this service. */
export const graphiqlPageHeaders = helmet({
  contentSecurityPolicy: {
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      workerSrc: ["'self'"],
      // The editor sets styles on its elements at run time.
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      fontSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      // The page calls this server over plain http on localhost: do not upgrade it to https.
      upgradeInsecureRequests: null,
    },
  },
});

interface Asset {
  type: string;
  body: Buffer;
  gzipped?: Buffer;
}

type Bundle = typeof import('@graphql-yoga/render-graphiql/graphiql');

/** Sets up the editor's workers before GraphiQL's script runs (it reads MonacoEnvironment). */
const ENVIRONMENT_JS = `(function () {
  var base = ${JSON.stringify(GRAPHIQL_ASSETS_PATH)};
  var workers = {
    editorWorkerService: base + '/workers/editorWorkerService.js',
    json: base + '/workers/json.js',
    graphql: base + '/workers/graphql.js',
  };
  self.MonacoEnvironment = {
    globalAPI: false,
    getWorkerUrl: function (_moduleId, label) {
      return workers[label];
    },
  };
})();
`;

/** Starts GraphiQL with the options the page carries as JSON data (not as a script). */
const START_JS = `(function () {
  var options = JSON.parse(document.getElementById('graphiql-options').textContent || '{}');
  YogaGraphiQL.renderYogaGraphiQL(document.getElementById('root'), options);
})();
`;

let bundle: Promise<Map<string, Asset>> | undefined;

function loadAssets(): Promise<Map<string, Asset>> {
  bundle ??= import('@graphql-yoga/render-graphiql/graphiql').then((m: Bundle) => {
    const js = 'application/javascript; charset=utf-8';
    const text = (body: string) => Buffer.from(body, 'utf8');
    return new Map<string, Asset>([
      ['environment.js', { type: js, body: text(ENVIRONMENT_JS) }],
      ['graphiql.js', { type: js, body: text(m.js) }],
      ['start.js', { type: js, body: text(START_JS) }],
      ['graphiql.css', { type: 'text/css; charset=utf-8', body: text(m.css) }],
      ['workers/editorWorkerService.js', { type: js, body: text(m.editorWorkerService) }],
      ['workers/json.js', { type: js, body: text(m.jsonWorker) }],
      ['workers/graphql.js', { type: js, body: text(m.graphqlWorker) }],
      [
        'favicon.ico',
        { type: 'image/x-icon', body: Buffer.from(m.favicon.slice(m.favicon.indexOf(',') + 1), 'base64') },
      ],
    ]);
  });
  return bundle;
}

/** GET <GRAPHIQL_ASSETS_PATH>/<file>: GraphiQL's assets. */
export function graphiqlAssetRoutes(app: Express): void {
  app.get(`${GRAPHIQL_ASSETS_PATH}/*file`, async (req: Request, res: Response, next: NextFunction) => {
    const file = ([] as string[]).concat((req.params as { file?: string | string[] }).file ?? []).join('/');
    let asset: Asset | undefined;
    try {
      asset = (await loadAssets()).get(file);
    } catch (error) {
      return next(error);
    }
    if (!asset) return next();
    res.set('content-type', asset.type);
    res.set('cache-control', 'public, max-age=31536000, immutable');
    res.vary('accept-encoding');
    if (/\bgzip\b/.test(req.get('accept-encoding') ?? '') && asset.body.length > 1024) {
      asset.gzipped ??= gzipSync(asset.body);
      res.set('content-encoding', 'gzip');
      return res.send(asset.gzipped);
    }
    res.send(asset.body);
  });
}

function escapeHtml(value: string): string {
  return value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

/** GraphiQL's page (yoga's `renderGraphiQL` option): assets from this service, no inline script. */
export function renderGraphiQLPage(options?: GraphiQLOptions): string {
  const title = escapeHtml(options?.title || 'GraphiQL');
  // JSON inside a script element: `<` escaped so no `</script>` can end it early.
  const data = JSON.stringify(options ?? {}).replace(/</g, '\\u003c');
  const asset = (file: string) => `${GRAPHIQL_ASSETS_PATH}/${file}`;
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>${title}</title>
    <link rel="icon" href="${asset('favicon.ico')}" />
    <link rel="stylesheet" href="${asset('graphiql.css')}" />
  </head>
  <body id="body" class="no-focus-outline">
    <noscript>You need to enable JavaScript to run this app.</noscript>
    <div id="root"></div>
    <script type="application/json" id="graphiql-options">${data}</script>
    <script src="${asset('environment.js')}"></script>
    <script src="${asset('graphiql.js')}"></script>
    <script src="${asset('start.js')}"></script>
  </body>
</html>
`;
}
